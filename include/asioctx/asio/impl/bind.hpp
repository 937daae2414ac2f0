//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_ASIO_IMPL_BIND_HPP
#define ASIOCTX_ASIO_IMPL_BIND_HPP

#include <asioctx/asio/detail/binding.hpp>
#include <asioctx/core/error.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <tuple>

namespace asioctx::detail {

// Replaces an "operation aborted" result with the context's error.
inline boost::system::error_code translate(
    boost::system::error_code const& ec, boost::system::error_code const& ctx_err) noexcept
{
    if(ec && ec == condition::canceled)
        return ctx_err;
    return ec;
}

inline std::exception_ptr translate(std::exception_ptr const& ep, boost::system::error_code const& ctx_err)
{
    if(!ep)
        return ep;
    try
    {
        std::rethrow_exception(ep);
    }
    catch(boost::system::system_error const& e)
    {
        if(e.code() == condition::canceled)
            return std::make_exception_ptr(boost::system::system_error(ctx_err));
    }
    catch(...)
    {
    }
    return ep;
}

template<class T>
    requires(!std::is_same_v<std::decay_t<T>, boost::system::error_code> &&
             !std::is_same_v<std::decay_t<T>, std::exception_ptr>)
decltype(auto) translate(T&& v, boost::system::error_code const&) noexcept
{
    return static_cast<T&&>(v);
}

// Forwards an outer slot's emits (say, a coroutine's) to the operation's signal.
struct outer_forwarder
{
    explicit outer_forwarder(binding* b) noexcept
        : b_(b)
    {
        b_->add_ref();
    }
    outer_forwarder(outer_forwarder const&) = delete;
    ~outer_forwarder()
    {
        b_->release();
    }
    void operator()(boost::asio::cancellation_type type) noexcept
    {
        b_->emit(type, false);
    }
    binding* b_;
};

// The completion handler of a bound operation: unbinds in O(1), then calls the user's
// handler with the context's error in place of "operation aborted".
template<class Handler>
class bound_handler
{
public:
    bound_handler(Handler h, binding* b, boost::asio::cancellation_slot outer) noexcept(
        std::is_nothrow_move_constructible_v<Handler>)
        : handler_(std::move(h))
        , b_(b)
        , outer_(outer)
    {
    }

    bound_handler(bound_handler&& other) noexcept(std::is_nothrow_move_constructible_v<Handler>)
        : handler_(std::move(other.handler_))
        , b_(std::exchange(other.b_, nullptr))
        , outer_(other.outer_)
    {
    }

    bound_handler& operator=(bound_handler&&) = delete;

    ~bound_handler()
    {
        // Destroyed without being called (its execution context shut down).
        if(b_)
            unbind();
    }

    template<class... Args>
    void operator()(Args&&... args)
    {
        auto const err = unbind();
        if(err)
            std::move(handler_)(translate(static_cast<Args&&>(args), err)...);
        else
            std::move(handler_)(static_cast<Args&&>(args)...);
    }

    Handler const& get() const noexcept
    {
        return handler_;
    }

private:
    // Settles against any emit in progress, unlinks the registration, clears the
    // outer slot (we run on the handler's executor, where that is allowed). Returns the
    // context's error if the context cancelled the operation, else nothing.
    boost::system::error_code unbind() noexcept
    {
        auto b = std::exchange(b_, nullptr);
        boost::system::error_code err;
        if(b->complete())
            err = b->ctx().err();
        // Unlisted: the list's reference and ours go together.
        bool const listed = unlist_registration(detail::access::state_of(b->ctx()), b);
        if(outer_.is_connected())
            outer_.clear();
        b->release(listed ? 2 : 1);
        return err;
    }

    Handler handler_;
    binding* b_;
    boost::asio::cancellation_slot outer_;
};

template<class Signature>
struct early_completion
{
    static constexpr bool possible = false;
};

template<class R, class... Rest>
struct early_completion<R(boost::system::error_code, Rest...)>
{
    static constexpr bool possible = (std::is_default_constructible_v<std::decay_t<Rest>> && ...);

    template<class Handler>
    static auto make(Handler&& h, boost::system::error_code const& err)
    {
        return boost::asio::append(static_cast<Handler&&>(h), err, std::decay_t<Rest>()...);
    }
};

template<class R, class... Rest>
struct early_completion<R(std::exception_ptr, Rest...)>
{
    static constexpr bool possible = (std::is_default_constructible_v<std::decay_t<Rest>> && ...);

    template<class Handler>
    static auto make(Handler&& h, boost::system::error_code const& err)
    {
        return boost::asio::append(static_cast<Handler&&>(h),
            std::make_exception_ptr(boost::system::system_error(err)), std::decay_t<Rest>()...);
    }
};

template<class Initiation>
auto io_executor_of(Initiation const& init) noexcept
{
    if constexpr(requires { init.get_executor(); })
        return init.get_executor();
    else
        return boost::asio::system_executor();
}

template<class Initiation, class Signature, class... Signatures>
class bound_initiation
{
public:
    bound_initiation(Initiation init, context ctx, boost::asio::cancellation_type type)
        : init_(std::move(init))
        , ctx_(std::move(ctx))
        , type_(type)
    {
    }

    template<class Handler, class... Args>
    void operator()(Handler&& handler, Args&&... args)
    {
        auto const state = detail::access::state_of(ctx_);
        if(state->kind_ == node_kind::never)
        {
            // Nothing can cancel it: no binding at all.
            std::move(init_)(static_cast<Handler&&>(handler), static_cast<Args&&>(args)...);
            return;
        }
        auto const io_ex = io_executor_of(init_);
        auto ex = boost::asio::get_associated_executor(handler, io_ex);

        using early = early_completion<Signature>;
        if constexpr(early::possible)
        {
            if(ctx_.done())
            {
                // Go's "check before the work": the operation is never started. As an
                // Asio operation would, completes through the I/O executor, which
                // dispatches to the handler's own.
                boost::asio::post(io_ex, early::make(static_cast<Handler&&>(handler), ctx_.err()));
                return;
            }
        }

        auto b = executor_binding<decltype(ex)>::create(std::move(ctx_), ex, type_);
        auto outer = boost::asio::get_associated_cancellation_slot(handler);
        if(outer.is_connected())
            outer.template emplace<outer_forwarder>(b);
        rearming_slot slot(b->slot(), b);
        try
        {
            std::move(init_)(
                boost::asio::bind_cancellation_slot(
                    slot, bound_handler<std::decay_t<Handler>>(static_cast<Handler&&>(handler), b, outer)),
                static_cast<Args&&>(args)...);
        }
        catch(...)
        {
            b->release(); // the registration's reference; the handler dropped its own
            throw;
        }

        // Registered only now that the operation has hooked its slot: an emit before
        // that would be lost (Asio's emits are edge-triggered). Until it is listed, the
        // registration's reference is ours, so `b` stays alive even if the operation
        // completes on another thread meanwhile.
        switch(adopt_registration(state, b))
        {
        case adopt_result::adopted:
            return; // from here on, `b` may be gone at any moment
        case adopt_result::node_done:
            // Done in the meantime, or already: cancel at once, through the operation's
            // executor like any other emit (inline when already on it). Emitting here
            // from a foreign thread would race the operation (co_spawn's own
            // cancellation handler, for one, forwards by posting a raw pointer).
            b->fire({}, {});
            break;
        case adopt_result::unwanted:
            break; // it completed on another thread already
        }
        b->release();
    }

private:
    Initiation init_;
    context ctx_;
    boost::asio::cancellation_type type_;
};

} // namespace asioctx::detail

template<class Handler, class Executor>
struct boost::asio::associated_executor<asioctx::detail::bound_handler<Handler>, Executor>
{
    using type = typename associated_executor<Handler, Executor>::type;
    static type get(asioctx::detail::bound_handler<Handler> const& h, Executor const& ex = Executor()) noexcept
    {
        return associated_executor<Handler, Executor>::get(h.get(), ex);
    }
};

template<class Handler, class Allocator>
struct boost::asio::associated_allocator<asioctx::detail::bound_handler<Handler>, Allocator>
{
    using type = typename associated_allocator<Handler, Allocator>::type;
    static type get(asioctx::detail::bound_handler<Handler> const& h, Allocator const& a = Allocator()) noexcept
    {
        return associated_allocator<Handler, Allocator>::get(h.get(), a);
    }
};

namespace asioctx::detail {

// Code written against the older async_result protocol (Beast 1.81's ssl_stream, for one)
// names async_result<Token, Sig>::return_type: a bound token has the inner token's.
template<class Token, class = void, class... Signatures>
struct legacy_return_type
{
};

template<class Token, class... Signatures>
struct legacy_return_type<Token,
    std::void_t<typename boost::asio::async_result<Token, Signatures...>::return_type>, Signatures...>
{
    using return_type = typename boost::asio::async_result<Token, Signatures...>::return_type;
};

} // namespace asioctx::detail

template<class Token, class Signature, class... Signatures>
struct boost::asio::async_result<asioctx::bound_token<Token>, Signature, Signatures...>
    : asioctx::detail::legacy_return_type<Token, void, Signature, Signatures...>
{
    template<class Initiation, class RawToken, class... Args>
    static auto initiate(Initiation&& init, RawToken&& token, Args&&... args)
    {
        using initiation = asioctx::detail::bound_initiation<std::decay_t<Initiation>, Signature, Signatures...>;
        // async_initiate<Token> takes the token as an lvalue and moves from it.
        if constexpr(std::is_rvalue_reference_v<RawToken&&> && !std::is_const_v<std::remove_reference_t<RawToken>>)
        {
            return boost::asio::async_initiate<Token, Signature, Signatures...>(
                initiation(static_cast<Initiation&&>(init), std::move(token.ctx), token.type),
                token.token, static_cast<Args&&>(args)...);
        }
        else
        {
            Token copy = token.token;
            return boost::asio::async_initiate<Token, Signature, Signatures...>(
                initiation(static_cast<Initiation&&>(init), token.ctx, token.type), copy,
                static_cast<Args&&>(args)...);
        }
    }
};

#endif
