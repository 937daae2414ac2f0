// Tests for <asioctx/asio/bind.hpp>: every completion token against every way an operation
// can end, a tracker executor, a cancel-after-k-handlers loop, and a bound socket read.
#include <asioctx.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace {

enum class ending
{
    pre_cancelled,
    cancelled_same_thread,
    cancelled_other_thread,
    deadline,
    ancestor_cancelled,
    finished_first,
    cancelled_in_handler,
};

char const* name(ending e)
{
    switch(e)
    {
    case ending::pre_cancelled: return "pre_cancelled";
    case ending::cancelled_same_thread: return "cancelled_same_thread";
    case ending::cancelled_other_thread: return "cancelled_other_thread";
    case ending::deadline: return "deadline";
    case ending::ancestor_cancelled: return "ancestor_cancelled";
    case ending::finished_first: return "finished_first";
    case ending::cancelled_in_handler: return "cancelled_in_handler";
    }
    return "?";
}

constexpr ending all_endings[] = {ending::pre_cancelled, ending::cancelled_same_thread,
    ending::cancelled_other_thread, ending::deadline, ending::ancestor_cancelled,
    ending::finished_first, ending::cancelled_in_handler};

inline constexpr asioctx::key<int> tag{"tag"};

// One scenario: a timer wait bound to a context, started through `start`, which
// reports the operation's error through `report`.
struct scenario
{
    asio::io_context ioc;
    asioctx::context root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    std::optional<error_code> result;
    std::function<void()> on_handler; // run inside the handler (cancelled_in_handler)

    void report(error_code ec)
    {
        result = ec;
        if(on_handler)
            on_handler();
    }

    // `start(ctx, timer)` starts timer.async_wait bound to ctx with some token.
    // `after_run` collects results that only exist after the io_context has run.
    void run(ending e, std::function<void(asioctx::context const&, asio::steady_timer&)> start,
        std::function<void()> after_run = {})
    {
        BOOST_TEST_CONTEXT("ending " << name(e))
        {
            auto [parent, cancel_parent] = asioctx::with_cancel(root);
            auto valued = asioctx::with_value(parent, tag, 1);
            auto dctx = e == ending::deadline ? asioctx::with_timeout(valued, 20ms) : asioctx::with_cancel(valued);
            auto& ctx = dctx.ctx;
            asio::steady_timer timer(ioc, e == ending::finished_first || e == ending::cancelled_in_handler ? 1ms : 1h);
            std::jthread canceller;
            if(e == ending::pre_cancelled)
                dctx.cancel();
            if(e == ending::cancelled_in_handler)
                on_handler = [&] { dctx.cancel(); };
            start(ctx, timer);
            BOOST_TEST(!result.has_value()); // never completes inside the initiating call
            switch(e)
            {
            case ending::cancelled_same_thread:
                asio::post(ioc, [&] { dctx.cancel(); });
                break;
            case ending::cancelled_other_thread:
                canceller = std::jthread([&] {
                    std::this_thread::sleep_for(10ms);
                    dctx.cancel();
                });
                break;
            case ending::ancestor_cancelled:
                asio::post(ioc, [&cancel_parent = cancel_parent] { cancel_parent(); });
                break;
            default:
                break;
            }
            auto const start_time = clock_type::now();
            ioc.run_for(20s);
            if(canceller.joinable())
                canceller.join();
            if(after_run)
                after_run();
            BOOST_TEST((clock_type::now() - start_time < 10s)); // nothing waited for the hour
            if(e == ending::finished_first)
            {
                dctx.cancel(); // afterwards: no effect, no crash
                ioc.restart();
                ioc.run();
            }
            BOOST_TEST_REQUIRE(result.has_value());
            error_code expected;
            if(e == ending::deadline)
                expected = asioctx::error::deadline_exceeded;
            else if(e != ending::finished_first && e != ending::cancelled_in_handler)
                expected = asioctx::error::canceled;
            BOOST_TEST((*result == expected), "got " << result->message() << ", expected '" << expected.message() << "'");
            if(expected)
                BOOST_TEST((*result == (e == ending::deadline ? asioctx::condition::deadline_exceeded : asioctx::condition::canceled)));
            // Unbound on completion: the context lists nothing any more.
            BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx)) == 0u);
            result.reset();
            on_handler = nullptr;
            ioc.restart();
        }
    }
};

// An executor that records every handler it runs, so tests can assert that handlers
// run on their associated executor and never inside the initiating call.
thread_local bool in_initiation = false;
thread_local int on_tracker = 0;

template<class Inner>
class tracking_executor
{
public:
    tracking_executor(Inner inner, std::atomic<int>* runs) noexcept
        : inner_(std::move(inner))
        , runs_(runs)
    {
    }

    template<class Property>
        requires asio::can_query<Inner const&, Property const&>::value
    decltype(auto) query(Property const& p) const
    {
        return asio::query(inner_, p);
    }

    template<class Property>
        requires asio::can_require<Inner const&, Property const&>::value
    auto require(Property const& p) const
    {
        return tracking_executor<std::decay_t<decltype(asio::require(inner_, p))>>(asio::require(inner_, p), runs_);
    }

    template<class Property>
        requires asio::can_prefer<Inner const&, Property const&>::value
    auto prefer(Property const& p) const
    {
        return tracking_executor<std::decay_t<decltype(asio::prefer(inner_, p))>>(asio::prefer(inner_, p), runs_);
    }

    template<class F>
    void execute(F f) const
    {
        inner_.execute([f = std::move(f), runs = runs_]() mutable {
            BOOST_TEST(!in_initiation); // never run inside the initiating call
            ++on_tracker;
            runs->fetch_add(1);
            f();
            --on_tracker;
        });
    }

    friend bool operator==(tracking_executor const& a, tracking_executor const& b) noexcept
    {
        return a.inner_ == b.inner_ && a.runs_ == b.runs_;
    }
    friend bool operator!=(tracking_executor const& a, tracking_executor const& b) noexcept
    {
        return !(a == b);
    }

private:
    template<class>
    friend class tracking_executor;
    Inner inner_;
    std::atomic<int>* runs_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(bind_operation)

// The context is cancelled from outside the io_context, so the emit is queued there; the
// io_context is then destroyed without running it. The queued emit owned a reference to
// the operation's binding: it must release it (ASan reports the leak otherwise).
BOOST_AUTO_TEST_CASE(an_emit_destroyed_unrun_releases_the_binding)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    std::weak_ptr<int> handler_state;
    {
        asio::io_context ioc;
        asio::steady_timer timer(ioc, std::chrono::hours(1));
        auto owned = std::make_shared<int>(0);
        handler_state = owned;
        timer.async_wait(asioctx::bind(ctx, [owned](boost::system::error_code) {}));
        cancel();
        BOOST_TEST(!handler_state.expired());
    }
    BOOST_TEST(handler_state.expired());
}

BOOST_AUTO_TEST_CASE(handlers_run_on_their_executor_never_inline)
{
    for(auto e : {ending::pre_cancelled, ending::cancelled_same_thread, ending::deadline, ending::finished_first})
    {
        asio::io_context ioc;
        std::atomic<int> runs{0};
        tracking_executor<asio::io_context::executor_type> tracker(ioc.get_executor(), &runs);
        auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
        auto c = e == ending::deadline ? asioctx::with_timeout(root, 10ms) : asioctx::with_cancel(root);
        asio::steady_timer t(ioc, e == ending::finished_first ? 1ms : 1h);
        if(e == ending::pre_cancelled)
            c.cancel();
        std::optional<error_code> result;
        bool ran_on_tracker = false;
        in_initiation = true;
        t.async_wait(asioctx::bind(c.ctx, asio::bind_executor(tracker, [&](error_code ec) {
            ran_on_tracker = on_tracker > 0;
            result = ec;
        })));
        // The context's own wait, and a sleep, through the same executor.
        std::optional<error_code> waited, slept;
        asioctx::async_wait(c.ctx, asio::bind_executor(tracker, [&](error_code ec) { waited = ec; }));
        asioctx::async_sleep(c.ctx, 1h, asio::bind_executor(tracker, [&](error_code ec) { slept = ec; }));
        in_initiation = false;
        BOOST_TEST(!result.has_value());
        if(e == ending::cancelled_same_thread)
            asio::post(ioc, [&] { c.cancel(); });
        ioc.run_for(e == ending::finished_first ? 100ms : 10s);
        if(e == ending::finished_first)
        {
            c.cancel();
            ioc.restart();
            ioc.run();
        }
        BOOST_TEST_CONTEXT(name(e))
        {
            BOOST_TEST(result.has_value());
            BOOST_TEST(ran_on_tracker);
            BOOST_TEST(waited.has_value());
            BOOST_TEST(slept.has_value());
            BOOST_TEST(runs.load() >= 3);
        }
    }
}

// Runs a composed workload (a coroutine of bound timer waits, sleeps, derived contexts,
// after_funcs and context waits) for k handlers, cancels, runs to completion; for every
// k. Under ASan this checks every interleaving point for use-after-free and leaks.
BOOST_AUTO_TEST_CASE(cancel_after_k_handlers)
{
    auto start = [](asio::io_context& ioc, asioctx::context const& ctx, std::optional<error_code>& out) {
        asioctx::co_spawn(ioc.get_executor(), ctx, [](asioctx::context c) -> asio::awaitable<void> {
            asio::steady_timer t(co_await asio::this_coro::executor);
            for(int i = 0; i < 4; ++i)
            {
                t.expires_after(0ms);
                co_await t.async_wait(asioctx::bind(c, asio::use_awaitable));
                co_await asioctx::async_sleep(c, 0ms, asio::use_awaitable);
                auto [step, cancel_step] = asioctx::with_cancel(c);
                auto cleanup = asioctx::after_func(step, [] {});
                cancel_step();
                auto [ec] = co_await asioctx::async_wait(step, asio::as_tuple(asio::use_awaitable));
                (void)ec;
            }
        }, [&out](std::exception_ptr e) {
            error_code ec;
            if(e)
            {
                try
                {
                    std::rethrow_exception(e);
                }
                catch(boost::system::system_error const& x)
                {
                    ec = x.code();
                }
            }
            out = ec;
        });
    };

    // How many handlers the whole workload takes when nothing cancels it.
    std::size_t total = 0;
    {
        asio::io_context ioc;
        auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
        std::optional<error_code> out;
        start(ioc, ctx, out);
        while(ioc.run_one())
            ++total;
        BOOST_TEST_REQUIRE(out.has_value());
        BOOST_TEST(!*out);
    }
    BOOST_TEST(total > 10u);

    for(std::size_t k = 0; k <= total; ++k)
    {
        asio::io_context ioc;
        auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
        std::optional<error_code> out;
        start(ioc, ctx, out);
        for(std::size_t i = 0; i < k; ++i)
            ioc.run_one();
        cancel();
        ioc.run();
        BOOST_TEST_CONTEXT("k = " << k)
        {
            BOOST_TEST_REQUIRE(out.has_value());
            BOOST_TEST((!*out || *out == asioctx::error::canceled), out->message());
            BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx)) == 0u);
            BOOST_TEST(asioctx::detail::child_count(asioctx::detail::access::state_of(ctx)) == 0u);
        }
    }
}

// Task 3 of the Asio integration: a 100 ms timeout bound to a read on a silent socket
// ends with deadline_exceeded close to 100 ms.
BOOST_AUTO_TEST_CASE(deadline_bound_to_a_socket_read)
{
    asio::io_context ioc;
    asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::address_v4::loopback(), 0});
    asio::ip::tcp::socket client(ioc), server(ioc);
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
    auto const start = clock_type::now(); // before the deadline is derived from "now"
    auto [ctx, cancel] = asioctx::with_timeout(root, 100ms);
    char buf[16];
    std::optional<error_code> result;
    clock_type::time_point ended;
    asio::async_read(client, asio::buffer(buf), asioctx::bind(ctx, [&](error_code ec, std::size_t n) {
        ended = clock_type::now();
        result = ec;
        BOOST_TEST(n == 0u);
    }));
    ioc.run();
    BOOST_TEST_REQUIRE(result.has_value());
    BOOST_TEST((*result == asioctx::error::deadline_exceeded));
    BOOST_TEST((*result == asio::error::timed_out) == false); // the code is ours...
    BOOST_TEST((*result == asioctx::condition::deadline_exceeded)); // ...the condition is shared
    auto const took = std::chrono::duration_cast<std::chrono::milliseconds>(ended - start);
    BOOST_TEST(took.count() >= 100);
    BOOST_TEST(took.count() < 1000); // generous: a loaded CI machine
}

BOOST_AUTO_TEST_CASE(callback)
{
    for(auto e : all_endings)
    {
        scenario s;
        s.run(e, [&](asioctx::context const& ctx, asio::steady_timer& t) {
            t.async_wait(asioctx::bind(ctx, [&](error_code ec) { s.report(ec); }));
        });
    }
}

BOOST_AUTO_TEST_CASE(use_awaitable)
{
    for(auto e : all_endings)
    {
        scenario s;
        s.run(e, [&](asioctx::context const& ctx, asio::steady_timer& t) {
            asio::co_spawn(s.ioc, [&, ctx]() -> asio::awaitable<void> {
                try
                {
                    co_await t.async_wait(asioctx::bind(ctx, asio::use_awaitable));
                    s.report({});
                }
                catch(boost::system::system_error const& ex)
                {
                    s.report(ex.code());
                }
            }, asio::detached);
        });
    }
}

BOOST_AUTO_TEST_CASE(deferred)
{
    for(auto e : all_endings)
    {
        scenario s;
        s.run(e, [&](asioctx::context const& ctx, asio::steady_timer& t) {
            auto op = t.async_wait(asioctx::bind(ctx, asio::deferred));
            std::move(op)([&](error_code ec) { s.report(ec); });
        });
    }
}

BOOST_AUTO_TEST_CASE(use_future)
{
    for(auto e : all_endings)
    {
        if(e == ending::cancelled_in_handler)
            continue; // a future has no handler to run code in
        scenario s;
        std::future<void> f;
        s.run(
            e, [&](asioctx::context const& ctx, asio::steady_timer& t) {
                f = t.async_wait(asioctx::bind(ctx, asio::use_future));
            },
            [&] {
                try
                {
                    f.get();
                    s.report({});
                }
                catch(boost::system::system_error const& ex)
                {
                    s.report(ex.code());
                }
            });
    }
}

BOOST_AUTO_TEST_CASE(as_tuple)
{
    for(auto e : all_endings)
    {
        scenario s;
        s.run(e, [&](asioctx::context const& ctx, asio::steady_timer& t) {
            t.async_wait(asioctx::bind(ctx, asio::as_tuple([&](std::tuple<error_code> r) { s.report(std::get<0>(r)); })));
        });
    }
}

BOOST_AUTO_TEST_CASE(detached)
{
    // Nothing observes a detached result: the run must simply end without the hour.
    for(auto e : {ending::pre_cancelled, ending::cancelled_same_thread, ending::cancelled_other_thread,
            ending::deadline, ending::ancestor_cancelled})
    {
        asio::io_context ioc;
        auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());
        auto [parent, cancel_parent] = asioctx::with_cancel(root);
        auto c = e == ending::deadline ? asioctx::with_timeout(parent, 20ms) : asioctx::with_cancel(parent);
        asio::steady_timer t(ioc, 1h);
        if(e == ending::pre_cancelled)
            c.cancel();
        t.async_wait(asioctx::bind(c.ctx, asio::detached));
        std::jthread other;
        if(e == ending::cancelled_same_thread)
            asio::post(ioc, [&] { c.cancel(); });
        if(e == ending::ancestor_cancelled)
            asio::post(ioc, [&cancel_parent = cancel_parent] { cancel_parent(); });
        if(e == ending::cancelled_other_thread)
            other = std::jthread([&] {
                std::this_thread::sleep_for(10ms);
                c.cancel();
            });
        auto const start = clock_type::now();
        ioc.run_for(20s);
        if(other.joinable())
            other.join();
        BOOST_TEST((clock_type::now() - start < 10s), name(e));
        BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(c.ctx)) == 0u);
    }
}

BOOST_AUTO_TEST_CASE(yield_context)
{
    for(auto e : all_endings)
    {
        scenario s;
        s.run(e, [&](asioctx::context const& ctx, asio::steady_timer& t) {
            asio::spawn(s.ioc, [&, ctx](asio::yield_context yield) {
                error_code ec;
                t.async_wait(asioctx::bind(ctx, yield[ec]));
                s.report(ec);
            }, asio::detached);
        });
    }
}

// Beyond timers: other kinds of Asio operation, each cancelled through its context.
BOOST_AUTO_TEST_CASE(operation_kinds)
{
    asio::io_context ioc;
    auto root = asioctx::with_executor(asioctx::background(), ioc.get_executor());

    // A write that blocks: the peer never reads, the socket buffers fill up.
    {
        asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::address_v4::loopback(), 0});
        asio::ip::tcp::socket client(ioc), server(ioc);
        client.connect(acceptor.local_endpoint());
        acceptor.accept(server);
        auto [ctx, cancel] = asioctx::with_timeout(root, 50ms);
        std::vector<char> big(64 << 20);
        std::optional<error_code> result;
        asio::async_write(client, asio::buffer(big), asioctx::bind(ctx, [&](error_code ec, std::size_t) { result = ec; }));
        ioc.run();
        ioc.restart();
        BOOST_TEST((*result == asioctx::error::deadline_exceeded));
    }

    // A resolver on a context already done: never started, the context's error.
    {
        asio::ip::tcp::resolver resolver(ioc);
        auto [ctx, cancel] = asioctx::with_cancel(root);
        cancel();
        std::optional<error_code> result;
        resolver.async_resolve("localhost", "80", asioctx::bind(ctx, [&](error_code ec, auto) { result = ec; }));
        BOOST_TEST(!result.has_value());
        ioc.run();
        ioc.restart();
        BOOST_TEST((*result == asioctx::error::canceled));
    }

    // A parallel_group bound as a whole: cancelling the context cancels every member.
    {
        asio::steady_timer a(ioc, 1h), b(ioc, 1h);
        auto [ctx, cancel] = asioctx::with_cancel(root);
        std::optional<std::pair<error_code, error_code>> result;
        asio::experimental::make_parallel_group(
            [&](auto token) { return a.async_wait(token); }, [&](auto token) { return b.async_wait(token); })
            .async_wait(asio::experimental::wait_for_all(),
                asioctx::bind(ctx, [&](std::array<std::size_t, 2>, error_code e1, error_code e2) { result.emplace(e1, e2); }));
        asio::post(ioc, [&cancel = cancel] { cancel(); });
        ioc.run();
        ioc.restart();
        BOOST_TEST_REQUIRE(result.has_value());
        // Every "aborted" argument is the context's doing, and says so.
        BOOST_TEST((result->first == asioctx::error::canceled));
        BOOST_TEST((result->second == asioctx::error::canceled));
    }

    // An async_compose operation (two timer waits in sequence) bound to a context.
    {
        asio::steady_timer t(ioc);
        auto [ctx, cancel] = asioctx::with_timeout(root, 30ms);
        auto two_waits = [&](auto token) {
            return asio::async_compose<decltype(token), void(error_code)>(
                [&t, step = 0](auto& self, error_code ec = {}) mutable {
                    if(ec || step == 2)
                        return self.complete(ec);
                    ++step;
                    t.expires_after(step == 1 ? 1ms : 1h);
                    t.async_wait(std::move(self));
                },
                token, t);
        };
        std::optional<error_code> result;
        two_waits(asioctx::bind(ctx, [&](error_code ec) { result = ec; }));
        ioc.run();
        ioc.restart();
        BOOST_TEST((*result == asioctx::error::deadline_exceeded));
    }
}

BOOST_AUTO_TEST_CASE(binding_to_a_never_cancelled_context_registers_nothing)
{
    asio::io_context ioc;
    asio::steady_timer t(ioc, 1ms);
    error_code result = asio::error::would_block;
    t.async_wait(asioctx::bind(asioctx::background(), [&](error_code ec) { result = ec; }));
    ioc.run();
    BOOST_TEST(!result);
}

BOOST_AUTO_TEST_CASE(outer_slot_still_cancels_and_is_not_translated)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    asio::steady_timer t(ioc, 1h);
    asio::cancellation_signal outer;
    error_code result;
    t.async_wait(asioctx::bind(ctx, asio::bind_cancellation_slot(outer.slot(), [&](error_code ec) { result = ec; })));
    asio::post(ioc, [&] { outer.emit(asio::cancellation_type::terminal); });
    ioc.run();
    BOOST_TEST((result == asio::error::operation_aborted)); // not the context's doing
    BOOST_TEST(!ctx.done());
    BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx)) == 0u);
}

BOOST_AUTO_TEST_CASE(partial_cancellation_type_is_passed_through)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    asio::steady_timer t(ioc, 1h);
    error_code result;
    t.async_wait(asioctx::bind(ctx, [&](error_code ec) { result = ec; }, asio::cancellation_type::partial));
    asio::post(ioc, [&cancel = cancel] { cancel(); });
    ioc.run();
    BOOST_TEST((result == asioctx::error::canceled));
}

BOOST_AUTO_TEST_CASE(a_long_lived_context_does_not_grow)
{
    asio::io_context ioc;
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    auto const& ctx_ = ctx; // clang before 16 cannot capture structured bindings
    int done = 0;
    asio::steady_timer t(ioc);
    std::function<void()> next = [&] {
        t.expires_after(0ms);
        t.async_wait(asioctx::bind(ctx_, [&](error_code) {
            if(++done < 20000)
                next();
        }));
    };
    next();
    ioc.run();
    BOOST_TEST(done == 20000);
    BOOST_TEST(asioctx::detail::registration_count(asioctx::detail::access::state_of(ctx)) == 0u);
}

// Code written against the older async_result protocol (Beast 1.81's ssl_stream) reads
// return_type: a bound token offers the inner token's.
static_assert(std::is_same_v<
    asio::async_result<asioctx::bound_token<asio::use_awaitable_t<>>, void(boost::system::error_code)>::return_type,
    asio::awaitable<void>>);

BOOST_AUTO_TEST_SUITE_END()
