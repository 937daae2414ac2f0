//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_HTTP_DETAIL_ANSWER_HPP
#define ASIOCTX_HTTP_DETAIL_ANSWER_HPP

#include <asioctx/http/handler.hpp>

namespace asioctx::http::detail {

// An awaitable that completes with `res`: for middleware that answers without awaiting
// (a coroutine frame only on that path, none on the one that calls the next handler).
boost::asio::awaitable<response> answer(response res);

} // namespace asioctx::http::detail

#endif
