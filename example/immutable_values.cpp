// Why context values must not carry mutable state, and what to do instead.
//
// In Go, storing *Counter in a context lets any goroutine do Hits++ unsynchronised.
// In asioctx the unsafe version does not compile: value() returns a pointer to const,
// and the stored object is a copy the caller cannot reach. The two sanctioned
// alternatives from the task:
//   (a) an immutable snapshot: downstream sees the value it was handed, no later;
//   (b) a thread-safe handle (here shared_ptr<atomic>): the context only carries
//       the handle; the handle owns its own concurrency.

#include <asioctx.hpp>

#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

struct snapshot
{
    std::string request_id;
    std::string tenant;
};

class safe_counter
{
public:
    void inc() noexcept { n_.fetch_add(1, std::memory_order_relaxed); }
    long load() const noexcept { return n_.load(std::memory_order_relaxed); }

private:
    std::atomic<long> n_{0};
};

constexpr asioctx::key<snapshot> snapshot_key{"snapshot"};
constexpr asioctx::key<std::shared_ptr<safe_counter>> counter_key{"counter"};

} // namespace

int main()
{
    bool ok = true;

    // (a) Immutable snapshot: later changes to the caller's copy are not seen.
    snapshot local{"req-1", "acme"};
    auto ctx = asioctx::with_value(asioctx::background(), snapshot_key, local);
    local.tenant = "changed after stamping";
    std::cout << "snapshot tenant seen downstream: " << ctx.value(snapshot_key)->tenant << "\n";
    ok = ok && ctx.value(snapshot_key)->tenant == "acme";
    // ctx.value(snapshot_key)->tenant = "x";   // does not compile: snapshot const*

    // (b) A thread-safe handle, shared by 8 threads through derived contexts.
    auto counter = std::make_shared<safe_counter>();
    auto shared = asioctx::with_value(ctx, counter_key, counter);
    std::vector<std::thread> threads;
    for(int t = 0; t < 8; ++t)
    {
        threads.emplace_back([shared] {
            auto [child, cancel] = asioctx::with_cancel(shared);
            for(int i = 0; i < 1000; ++i)
                (*child.value(counter_key))->inc();
        });
    }
    for(auto& t : threads)
        t.join();
    std::cout << "safe counter after 8 x 1000 increments: " << counter->load() << "\n";
    ok = ok && counter->load() == 8000;

    std::cout << (ok ? "immutable_values: ok" : "immutable_values: FAILED") << "\n";
    return ok ? 0 : 1;
}
