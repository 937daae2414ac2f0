//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//
// The per-thread cache of cancel and deadline node memory (decision 83).
//
// Invariants, per thread (nothing here is shared between threads):
// - a cached block is free memory of at least its class's size, obtained from
//   ::operator new, and in exactly one list;
// - a list never holds more than `capacity` blocks, so a thread keeps at most
//   capacity * (class_bytes[0] + class_bytes[1]) bytes;
// - once the thread's drain has run (thread exit), nothing more is cached: a node freed
//   later by another thread_local's destructor goes straight back to the heap.
// A block allocated on one thread and freed on another moves to the freeing thread's
// cache; the node's reference count (released acq_rel) orders every earlier access to
// it before that free.

#include <asioctx/core/detail/node.hpp>

#include <new>
#include <utility>

namespace asioctx::detail {

namespace {

#if defined(__SANITIZE_ADDRESS__)
#define ASIOCTX_NODE_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASIOCTX_NODE_CACHE 0
#endif
#endif
#ifndef ASIOCTX_NODE_CACHE
#define ASIOCTX_NODE_CACHE 1 // AddressSanitizer keeps every node's memory its own, to see misuse
#endif

// Sized for a cancel node and a deadline node (larger where source_location is wider),
// at least 96 and 192 bytes; a merged node of two parents fits the second.
constexpr std::size_t round_up(std::size_t n) noexcept
{
    return (n + 15) / 16 * 16;
}
constexpr std::size_t class_bytes[] = {
    round_up(sizeof(cancel_node) > 96 ? sizeof(cancel_node) : 96),
    round_up(sizeof(deadline_node) > 192 ? sizeof(deadline_node) : 192),
};
constexpr unsigned capacity = 32;

struct free_block
{
    free_block* next;
};

struct thread_cache
{
    free_block* head[2];
    unsigned count[2];
    bool drain_armed;
    bool drained;
};

// Constant-initialised and trivially destructible: readable during the thread's exit.
constinit thread_local thread_cache cache{};

struct drain
{
    ~drain()
    {
        cache.drained = true;
        for(auto& head : cache.head)
            while(head)
                ::operator delete(std::exchange(head, head->next));
        cache.count[0] = cache.count[1] = 0;
    }
};

int class_of(std::size_t size) noexcept
{
    return size <= class_bytes[0] ? 0 : size <= class_bytes[1] ? 1 : -1;
}

} // namespace

void* allocate_node(std::size_t size)
{
    int const c = ASIOCTX_NODE_CACHE ? class_of(size) : -1;
    if(c < 0)
        return ::operator new(size);
    if(auto b = cache.head[c])
    {
        cache.head[c] = b->next;
        --cache.count[c];
        return b;
    }
    return ::operator new(class_bytes[c]);
}

void free_node(void* p, std::size_t size) noexcept
{
    int const c = ASIOCTX_NODE_CACHE ? class_of(size) : -1;
    if(c < 0 || cache.drained || cache.count[c] == capacity)
    {
        ::operator delete(p);
        return;
    }
    if(!cache.drain_armed)
    {
        // The first block this thread keeps: its exit must give the blocks back.
        cache.drain_armed = true;
        thread_local drain at_exit;
        (void)at_exit;
    }
    cache.head[c] = ::new(p) free_block{cache.head[c]};
    ++cache.count[c];
}

} // namespace asioctx::detail
