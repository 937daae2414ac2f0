#include "alloc_counter.hpp"

#include <cstdlib>
#include <new>

namespace bench {
std::atomic<std::size_t> allocations{0};
std::atomic<std::size_t> allocated_bytes{0};
} // namespace bench

void* operator new(std::size_t n)
{
    bench::allocations.fetch_add(1, std::memory_order_relaxed);
    bench::allocated_bytes.fetch_add(n, std::memory_order_relaxed);
    if(auto p = std::malloc(n ? n : 1))
        return p;
    throw std::bad_alloc();
}

void* operator new[](std::size_t n)
{
    return ::operator new(n);
}

void operator delete(void* p) noexcept
{
    std::free(p);
}

void operator delete[](void* p) noexcept
{
    std::free(p);
}

void operator delete(void* p, std::size_t) noexcept
{
    std::free(p);
}

void operator delete[](void* p, std::size_t) noexcept
{
    std::free(p);
}
