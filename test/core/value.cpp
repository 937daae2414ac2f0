// Tests for <asioctx/core/value.hpp>: typed keys and immutable values.
#include <asioctx/core/cancel.hpp>
#include <asioctx/core/value.hpp>
#include <asioctx/core/without_cancel.hpp>

#include "../support.hpp"

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <type_traits>

namespace {
inline constexpr asioctx::key<std::string> request_id{"request_id"};
inline constexpr asioctx::key<std::string> other_string{"request_id"}; // same name, same type
using test::number;

struct counted
{
    static inline int live = 0;
    int v;
    explicit counted(int x) : v(x) { ++live; }
    counted(counted const& o) : v(o.v) { ++live; }
    ~counted() { --live; }
};
inline constexpr asioctx::key<counted> counted_key{"counted"};
} // namespace

BOOST_AUTO_TEST_SUITE(value)

BOOST_AUTO_TEST_CASE(value_travels_through_derived_contexts)
{
    auto ctx1 = asioctx::with_value(asioctx::background(), request_id, "abc");
    auto [ctx2, cancel] = asioctx::with_cancel(ctx1);
    auto ctx3 = asioctx::with_value(ctx2, number, 7);
    auto ctx4 = asioctx::without_cancel(ctx3);
    for(auto const* c : {&ctx1, &ctx2, &ctx3, &ctx4})
    {
        auto v = c->value(request_id);
        BOOST_TEST_REQUIRE(v != nullptr);
        BOOST_TEST(*v == "abc");
    }
    BOOST_TEST(*asioctx::value(ctx4, number) == 7);
}

BOOST_AUTO_TEST_CASE(keys_are_identified_by_address_not_name_or_type)
{
    auto ctx = asioctx::with_value(asioctx::background(), request_id, "abc");
    BOOST_TEST(ctx.value(other_string) == nullptr);
    BOOST_TEST(ctx.value(number) == nullptr);
    static_assert(std::is_same_v<decltype(ctx.value(request_id)), std::string const*>);
}

BOOST_AUTO_TEST_CASE(missing_means_nullptr)
{
    asioctx::context ctx;
    BOOST_TEST(ctx.value(request_id) == nullptr);
    BOOST_TEST(asioctx::todo().value(request_id) == nullptr);
}

BOOST_AUTO_TEST_CASE(nearest_value_shadows)
{
    auto a = asioctx::with_value(asioctx::background(), number, 1);
    auto b = asioctx::with_value(a, number, 2);
    BOOST_TEST(*b.value(number) == 2);
    BOOST_TEST(*a.value(number) == 1); // the parent is unchanged
}

BOOST_AUTO_TEST_CASE(value_is_a_copy_the_caller_cannot_change)
{
    std::string id = "abc";
    auto ctx = asioctx::with_value(asioctx::background(), request_id, id);
    id = "changed";
    BOOST_TEST(*ctx.value(request_id) == "abc");
}

BOOST_AUTO_TEST_CASE(value_lives_as_long_as_a_context_refers_to_it)
{
    {
        asioctx::context keep;
        {
            auto ctx = asioctx::with_value(asioctx::background(), counted_key, counted(5));
            auto [child, cancel] = asioctx::with_cancel(ctx);
            keep = child;
        }
        BOOST_TEST(counted::live == 1);
        BOOST_TEST(keep.value(counted_key)->v == 5);
    }
    BOOST_TEST(counted::live == 0);
}

BOOST_AUTO_TEST_CASE(deep_chains_release_without_recursion)
{
    asioctx::context ctx;
    for(int i = 0; i < 200000; ++i)
        ctx = asioctx::with_value(ctx, number, i);
    BOOST_TEST(*ctx.value(number) == 199999);
    ctx = asioctx::context(); // frees 200000 nodes iteratively
}

BOOST_AUTO_TEST_SUITE_END()
