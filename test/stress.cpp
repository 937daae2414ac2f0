// Concurrency stress for the context tree: cancel racing derive, after_func, stop,
// handle destruction and deadlines, from several threads. Meant to run clean under
// ThreadSanitizer; every check also holds without it.
#include <asioctx.hpp>
#include <asioctx/asio/detail/context_service.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <barrier>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

#if defined(__SANITIZE_THREAD__)
constexpr int rounds = 60;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr int rounds = 60;
#else
constexpr int rounds = 400;
#endif
#else
constexpr int rounds = 400;
#endif

constexpr int threads = 4;

// An io_context run by two threads until destroyed.
struct io_runners
{
    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(ioc);
    std::vector<std::jthread> threads;

    io_runners()
    {
        for(int i = 0; i < 2; ++i)
            threads.emplace_back([this] { ioc.run(); });
    }

    // Lets the threads finish what is queued, then joins them.
    void join()
    {
        work.reset();
        for(auto& t : threads)
            t.join();
        threads.clear();
    }

    ~io_runners()
    {
        if(!threads.empty())
            join();
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(stress)

// Each round: a parent; every thread derives children (some through values and
// deadlines), registers after_funcs, stops some, drops handles; one thread cancels
// the parent in the middle. Every after_func runs exactly once or is stopped.
BOOST_AUTO_TEST_CASE(cancel_races_derive_register_stop_and_release)
{
    io_runners io;
    auto& ioc = io.ioc;

    static constexpr asioctx::key<int> number{"number"};
    std::atomic<long> registered{0}, stopped{0}, ran{0}, expected_done{0}, seen_done{0};

    for(int round = 0; round < rounds; ++round)
    {
        auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
        auto parent = std::make_unique<asioctx::cancellable>(asioctx::with_cancel(root));
        asioctx::context parent_ctx = parent->ctx;
        std::barrier sync(threads + 1);
        std::vector<std::jthread> workers;
        for(int t = 0; t < threads; ++t)
        {
            workers.emplace_back([&, t] {
                std::mt19937 rng(round * 131 + t);
                std::vector<asioctx::cancellable> kept;
                std::vector<asioctx::after_func_handle> stops;
                std::vector<asioctx::context> watched;
                sync.arrive_and_wait();
                for(int i = 0; i < 200; ++i)
                {
                    asioctx::context base = parent_ctx;
                    if(rng() % 3 == 0)
                        base = asioctx::with_value(base, number, i);
                    auto c = rng() % 4 == 0 ? asioctx::with_timeout(base, std::chrono::microseconds(rng() % 2000))
                                            : asioctx::with_cancel(base);
                    stops.push_back(asioctx::after_func(c.ctx, [&ran] { ran.fetch_add(1); }));
                    registered.fetch_add(1);
                    if(rng() % 5 == 0 && stops.back().stop())
                        stopped.fetch_add(1);
                    watched.push_back(c.ctx);
                    switch(rng() % 3)
                    {
                    case 0: c.cancel(); break;                 // explicit cancel
                    case 1: break;                             // released at end of scope
                    default: kept.push_back(std::move(c));     // cancelled by the parent
                    }
                }
                sync.arrive_and_wait(); // the parent is cancelled here
                sync.arrive_and_wait();
                for(auto& w : watched)
                    if(w.done())
                        seen_done.fetch_add(1);
                expected_done.fetch_add(static_cast<long>(watched.size()));
                for(auto& s : stops)
                    if(s.stop())
                        stopped.fetch_add(1);
            });
        }
        sync.arrive_and_wait();
        std::this_thread::sleep_for(std::chrono::microseconds(50 * (round % 7)));
        parent.reset(); // cancels and releases while workers may still be deriving
        sync.arrive_and_wait();
        BOOST_TEST(parent_ctx.done());
        sync.arrive_and_wait();
        for(auto& w : workers)
            w.join();
        BOOST_TEST(asioctx::detail::child_count(asioctx::detail::access::state_of(parent_ctx)) == 0u);
    }

    // Let every posted after_func run.
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while(ran.load() + stopped.load() < registered.load() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    io.join();
    BOOST_TEST(ran.load() + stopped.load() == registered.load());
    BOOST_TEST(seen_done.load() == expected_done.load());
}

// Many threads cancel the same context and its children at once: exactly one
// cancellation wins, every descendant agrees on it.
BOOST_AUTO_TEST_CASE(concurrent_cancels_agree_on_one_cause)
{
    for(int round = 0; round < rounds * 5; ++round)
    {
        auto parent = asioctx::with_cancel(asioctx::background());
        std::vector<asioctx::cancellable> children;
        for(int i = 0; i < 8; ++i)
            children.push_back(asioctx::with_cancel(parent.ctx));
        std::barrier sync(threads);
        std::vector<std::jthread> ts;
        for(int t = 0; t < threads; ++t)
        {
            ts.emplace_back([&, t] {
                sync.arrive_and_wait();
                if(t == 0)
                    parent.cancel(boost::system::error_code(100 + t, boost::system::generic_category()));
                else
                    children[t].cancel(boost::system::error_code(100 + t, boost::system::generic_category()));
            });
        }
        for(auto& t : ts)
            t.join();
        auto const why = asioctx::cause(parent.ctx);
        BOOST_TEST(why.value() == 100);
        for(int i = 0; i < 8; ++i)
        {
            auto c = asioctx::cause(children[i].ctx);
            BOOST_TEST(children[i].ctx.done());
            BOOST_TEST((c.value() == 100 || c.value() == 100 + i));
        }
    }
}

// Deadlines firing on io_context threads while other threads derive and cancel.
BOOST_AUTO_TEST_CASE(deadlines_race_cancel_from_other_threads)
{
    io_runners io;
    auto& ioc = io.ioc;
    std::atomic<long> fired{0}, cancelled{0};
    std::vector<std::jthread> ts;
    for(int t = 0; t < threads; ++t)
    {
        ts.emplace_back([&, t] {
            std::mt19937 rng(t);
            for(int i = 0; i < rounds * 20; ++i)
            {
                auto c = asioctx::with_timeout(ioc.get_executor(), asioctx::background(),
                    std::chrono::microseconds(rng() % 300));
                auto [grandchild, gc_cancel] = asioctx::with_cancel(c.ctx);
                std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
                c.cancel();
                if(grandchild.err() == asioctx::error::deadline_exceeded)
                    fired.fetch_add(1);
                else if(grandchild.err() == asioctx::error::canceled)
                    cancelled.fetch_add(1);
            }
        });
    }
    for(auto& t : ts)
        t.join();
    io.join();
    BOOST_TEST(fired.load() + cancelled.load() == long(threads) * rounds * 20);
    BOOST_TEST(asioctx::detail::service_for(ioc.get_executor()).deadlines()->size() == 0u);
}

// Deadlines derived while another thread cancels their parent: the cancel may reach a
// new deadline node after it is linked and before it is in its queue (which it enters
// outside the node's lock). Whatever the interleaving, every child ends done and the
// queue ends empty: no done node is left in it.
BOOST_AUTO_TEST_CASE(deriving_deadlines_races_the_parents_cancel)
{
    io_runners io;
    auto& ioc = io.ioc;
    long not_done = 0;
    for(int round = 0; round < rounds; ++round)
    {
        auto parent = asioctx::with_cancel(asioctx::background());
        std::vector<asioctx::cancellable> children;
        children.reserve(64);
        std::atomic<bool> go{false};
        std::jthread canceller([&] {
            while(!go.load(std::memory_order_acquire))
                ;
            std::this_thread::sleep_for(std::chrono::microseconds(round % 50));
            parent.cancel();
        });
        go.store(true, std::memory_order_release);
        for(int i = 0; i < 64; ++i)
            children.push_back(asioctx::with_timeout(ioc.get_executor(), parent.ctx, 1h));
        canceller.join();
        for(auto const& c : children)
            not_done += !c.ctx.done();
        BOOST_TEST(asioctx::detail::service_for(ioc.get_executor()).deadlines()->size() == 0u);
    }
    BOOST_TEST(not_done == 0);
    io.join();
}

// Bound timer waits and socket reads in flight on a two-thread io_context (each on its
// strand), cancelled from other threads at random moments: every operation completes
// exactly once, with success or the context's error, and nothing stays registered.
BOOST_AUTO_TEST_CASE(bound_operations_cancelled_from_other_threads)
{
    io_runners io;
    auto& ioc = io.ioc;

    asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::address_v4::loopback(), 0});
    std::atomic<long> started{0}, completed{0}, wrong{0};
    std::vector<std::jthread> ts;
    for(int t = 0; t < threads; ++t)
    {
        ts.emplace_back([&, t] {
            std::mt19937 rng(1000 + t);
            auto strand = asio::make_strand(ioc);
            asio::ip::tcp::socket client(strand), server(ioc);
            static std::mutex accept_mutex;
            {
                std::lock_guard<std::mutex> g(accept_mutex);
                client.connect(acceptor.local_endpoint());
                acceptor.accept(server);
            }
            asio::steady_timer timer(strand);
            auto root = asioctx::with_executor(asioctx::background(), strand);
            auto [parent, cancel_parent] = asioctx::with_cancel(root);
            for(int i = 0; i < rounds * 5; ++i)
            {
                auto c = asioctx::with_cancel(parent);
                std::promise<void> both;
                std::atomic<int> left{2};
                auto finish = [&](boost::system::error_code ec) {
                    if(ec && ec != asioctx::error::canceled)
                        wrong.fetch_add(1);
                    completed.fetch_add(1);
                    if(left.fetch_sub(1) == 1)
                        both.set_value();
                };
                static char buf[1];
                auto const expiry = std::chrono::microseconds(rng() % 200);
                asio::post(strand, [&, expiry] {
                    started.fetch_add(2);
                    timer.expires_after(expiry);
                    timer.async_wait(asioctx::bind(c.ctx, finish));
                    asio::async_read(client, asio::buffer(buf),
                        asioctx::bind(c.ctx, [&](boost::system::error_code ec, std::size_t) { finish(ec); }));
                });
                std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
                c.cancel(); // from this thread, while the operations run on the io threads
                both.get_future().wait();
                if(asioctx::detail::registration_count(asioctx::detail::access::state_of(c.ctx)) != 0u)
                    wrong.fetch_add(1); // (Boost.Test assertions are for the main thread only)
            }
        });
    }
    for(auto& t : ts)
        t.join();
    io.join();
    BOOST_TEST(started.load() == completed.load());
    BOOST_TEST(wrong.load() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
