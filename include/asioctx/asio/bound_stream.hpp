//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_ASIO_BOUND_STREAM_HPP
#define ASIOCTX_ASIO_BOUND_STREAM_HPP

#include <asioctx/asio/bind.hpp>
#include <asioctx/core/context.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>

#include <type_traits>
#include <utility>

namespace asioctx {

/** A stream whose every read and write is bound to a context: the stream-level binding.

    Wraps a reference to an `AsyncReadStream` and/or `AsyncWriteStream` (a socket,
    `ssl::stream`, `beast::tcp_stream`, another wrapper) and is one itself, so any
    composed operation runs on it unchanged: Beast's `http::async_read` and
    `http::async_write`, `websocket` operations, `asio::async_read`, an `ssl::stream`
    layered on top.

    Each `async_read_some` and `async_write_some` is bound with `asioctx::bind`. So once
    the context is done, a composed operation on this stream completes with the
    context's error within one inner step, whatever the peer does: the step that is
    pending is cancelled, and a step started afterwards is never started (its handler is
    posted with `ctx.err()`). A step that completed before the cancellation reached it
    keeps its result, so no byte that was read or written is unaccounted for; the
    composed operation then fails at its next step.

    `bind(ctx, token)` on the composed operation alone cannot give this bound for an
    operation that keeps no cancellation state (Beast 1.81's HTTP operations): a step
    that completes at once (the data was already there) cannot be cancelled, and the
    operation goes on. See "Per-operation cancellation" in `doc/asio-integration.md`.

    The wrapper holds a reference: the stream must outlive it and every operation
    started through it. It is cheap to make (a context copy); make one per exchange.
    Thread safety: that of the wrapped stream.
*/
template<class Stream>
class bound_stream
{
public:
    /// The wrapped stream's type.
    using next_layer_type = std::remove_reference_t<Stream>;

    /// The wrapped stream's executor type.
    using executor_type = typename next_layer_type::executor_type;

    /// Binds `stream`'s reads and writes to `ctx`, cancelling with `type`.
    bound_stream(context ctx, next_layer_type& stream,
        boost::asio::cancellation_type type = boost::asio::cancellation_type::terminal) noexcept
        : ctx_(std::move(ctx))
        , stream_(&stream)
        , type_(type)
    {
    }

    /// The wrapped stream's executor.
    executor_type get_executor() noexcept
    {
        return stream_->get_executor();
    }

    /// The wrapped stream.
    next_layer_type& next_layer() noexcept
    {
        return *stream_;
    }

    /// The context every operation is bound to.
    context const& ctx() const noexcept
    {
        return ctx_;
    }

    /** The wrapped stream's `async_read_some`, bound to the context.

        Completes as the wrapped operation does, with `ctx.err()` in place of
        `operation_aborted` when the context cancelled it; never started when the
        context is already done. Never completes inside this call (as Asio's own
        operations). Per-operation cancellation: the token's own slot still cancels it,
        with the types the wrapped stream supports.
    */
    template<class MutableBufferSequence, class ReadToken>
    auto async_read_some(MutableBufferSequence const& buffers, ReadToken&& token)
    {
        return stream_->async_read_some(buffers, asioctx::bind(ctx_, static_cast<ReadToken&&>(token), type_));
    }

    /// The wrapped stream's `async_write_some`, bound to the context; as `async_read_some`.
    template<class ConstBufferSequence, class WriteToken>
    auto async_write_some(ConstBufferSequence const& buffers, WriteToken&& token)
    {
        return stream_->async_write_some(buffers, asioctx::bind(ctx_, static_cast<WriteToken&&>(token), type_));
    }

private:
    context ctx_;
    next_layer_type* stream_;
    boost::asio::cancellation_type type_;
};

/** A `bound_stream` over `stream`: `http::async_read(asioctx::bind_stream(ctx, s), ...)`
    needs an lvalue, so keep it in a variable for the duration of the operation.
*/
template<class Stream>
[[nodiscard]] bound_stream<Stream> bind_stream(context ctx, Stream& stream,
    boost::asio::cancellation_type type = boost::asio::cancellation_type::terminal) noexcept
{
    return bound_stream<Stream>(std::move(ctx), stream, type);
}

} // namespace asioctx

#endif
