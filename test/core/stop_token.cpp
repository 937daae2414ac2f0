// Tests for <asioctx/core/stop_token.hpp>: contexts from std::stop_token, std::stop_token
// from contexts, and a context modelling C++26's stoppable_token.
#include <asioctx/core/stop_token.hpp>
#include <asioctx/core/cancel.hpp>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <functional>
#include <memory>
#include <cstring>
#include <mutex>
#include <stop_token>
#include <thread>

namespace {

// C++26's std::stoppable_token ([thread.stoptoken.intro]), written with what C++20 has:
// libstdc++ 12's std::stop_token lacks callback_type, so it does not model this.
template<template<class> class>
struct check_type_alias_exists;

template<class CallbackFn, class Token, class Initializer = CallbackFn>
concept stoppable_callback_for = std::invocable<CallbackFn> &&
    std::constructible_from<CallbackFn, Initializer> &&
    requires { typename std::integral_constant<bool, true>; } &&
    std::constructible_from<typename Token::template callback_type<CallbackFn>, Token, Initializer> &&
    std::constructible_from<typename Token::template callback_type<CallbackFn>, Token&, Initializer> &&
    std::constructible_from<typename Token::template callback_type<CallbackFn>, Token const, Initializer> &&
    std::constructible_from<typename Token::template callback_type<CallbackFn>, Token const&, Initializer>;

template<class Token>
concept stoppable_token = requires(Token const tok) {
    typename check_type_alias_exists<Token::template callback_type>;
    { tok.stop_requested() } noexcept -> std::same_as<bool>;
    { tok.stop_possible() } noexcept -> std::same_as<bool>;
    { Token(tok) } noexcept;
} && std::copyable<Token> && std::equality_comparable<Token>;

struct nothing
{
    void operator()() const noexcept {}
};

static_assert(stoppable_token<asioctx::context_token>);
static_assert(stoppable_callback_for<nothing, asioctx::context_token>);
static_assert(!stoppable_token<std::stop_token>); // libstdc++ 12: no callback_type

} // namespace

BOOST_AUTO_TEST_SUITE(stop_token_bridges)

BOOST_AUTO_TEST_CASE(a_context_is_done_when_request_stop_returns)
{
    std::stop_source source;
    auto const line = __LINE__ + 1;
    auto ctx = asioctx::with_stop_token(asioctx::background(), source.get_token());
    BOOST_TEST(!ctx.done());
    std::thread other([&] { source.request_stop(); });
    other.join();
    BOOST_TEST(ctx.done());
    BOOST_TEST((ctx.err() == asioctx::error::canceled));
    auto site = asioctx::cancelled_at(ctx);
    BOOST_TEST((site.source == asioctx::cancel_source::stop_request));
    BOOST_TEST(site.location.line() == line);
    BOOST_TEST(!site.inherited);
}

BOOST_AUTO_TEST_CASE(a_jthreads_stop_ends_its_context_and_a_parent_still_counts)
{
    auto [parent, cancel] = asioctx::with_cancel(asioctx::background());
    std::atomic<bool> saw_done{false};
    {
        std::jthread worker([&, p = parent](std::stop_token st) {
            auto ctx = asioctx::with_stop_token(p, st);
            while(!ctx.done())
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            saw_done = true;
        });
    } // the jthread's destructor requests stop and joins
    BOOST_TEST(saw_done.load());
    BOOST_TEST(!parent.done());

    std::stop_source never_stopped;
    auto ctx = asioctx::with_stop_token(parent, never_stopped.get_token());
    cancel();
    BOOST_TEST(ctx.done()); // the parent's cancel reaches a bridged context too
    BOOST_TEST((asioctx::cancelled_at(ctx).source == asioctx::cancel_source::call));
    BOOST_TEST(asioctx::cancelled_at(ctx).inherited);
}

BOOST_AUTO_TEST_CASE(a_stopped_token_gives_a_context_born_done)
{
    std::stop_source source;
    source.request_stop();
    auto ctx = asioctx::with_stop_token(asioctx::background(), source.get_token());
    BOOST_TEST(ctx.done());
    auto plain = asioctx::with_stop_token(asioctx::background(), std::stop_token());
    BOOST_TEST(!plain.done());
}

BOOST_AUTO_TEST_CASE(a_released_context_leaves_the_token)
{
    std::stop_source source;
    {
        auto ctx = asioctx::with_stop_token(asioctx::background(), source.get_token());
    }
    source.request_stop(); // the std::stop_callback is gone: nothing runs on freed memory
    BOOST_TEST(source.stop_requested());
}

BOOST_AUTO_TEST_CASE(a_bridge_wakes_a_condition_variable_any_wait)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    asioctx::stop_token_bridge bridge(ctx);
    std::mutex m;
    std::condition_variable_any cv;
    bool woken_by_stop = false;
    std::thread waiter([&, token = bridge.get_token()] {
        std::unique_lock lock(m);
        bool const pred = cv.wait(lock, token, [] { return false; });
        woken_by_stop = !pred && token.stop_requested();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    cancel();
    waiter.join();
    BOOST_TEST(woken_by_stop);
}

BOOST_AUTO_TEST_CASE(a_bridge_of_a_done_context_is_stopped_at_once)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    cancel();
    asioctx::stop_token_bridge bridge(ctx);
    BOOST_TEST(bridge.get_token().stop_requested());
    asioctx::stop_token_bridge never(asioctx::background());
    BOOST_TEST(!never.get_token().stop_requested());
}

BOOST_AUTO_TEST_CASE(a_context_token_reports_and_registers)
{
    auto [ctx, cancel] = asioctx::with_cancel(asioctx::background());
    asioctx::context_token token(ctx);
    BOOST_TEST(token.stop_possible());
    BOOST_TEST(!token.stop_requested());
    BOOST_TEST(!asioctx::context_token().stop_possible());
    BOOST_TEST((token == asioctx::context_token(ctx)));
    BOOST_TEST(!(token == asioctx::context_token()));
    int runs = 0;
    asioctx::context_token::callback_type<std::function<void()>> cb(token, [&] { ++runs; });
    cancel();
    BOOST_TEST(token.stop_requested());
    BOOST_TEST(runs == 1);
}

// Under TSan: request_stop racing the release of the bridged context, and a cancel
// racing a bridge's destruction.
BOOST_AUTO_TEST_CASE(bridges_race_their_release)
{
    for(int round = 0; round < 1000; ++round)
    {
        std::stop_source source;
        auto ctx = asioctx::with_stop_token(asioctx::background(), source.get_token());
        std::thread stopper([&] { source.request_stop(); });
        ctx = asioctx::context();
        stopper.join();

        auto [c, cancel] = asioctx::with_cancel(asioctx::background());
        auto bridge = std::make_unique<asioctx::stop_token_bridge>(c);
        auto token = bridge->get_token();
        std::thread canceller([&cancel = cancel] { cancel(); });
        bridge.reset();
        canceller.join();
        BOOST_TEST_REQUIRE(c.done());
    }
}

BOOST_AUTO_TEST_SUITE_END()
