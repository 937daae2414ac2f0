//
// asioctx: Go's context package for Boost.Asio
//
// Distributed under the Boost Software License, Version 1.0.
//

#ifndef ASIOCTX_CORE_IMPL_CONTEXT_HPP
#define ASIOCTX_CORE_IMPL_CONTEXT_HPP

namespace asioctx {

template<class T>
T const* context::value(key<T> const& k) const noexcept
{
    auto v = detail::find_value(node_, &k);
    if(!v)
        return nullptr;
    return &static_cast<detail::value_node<T> const*>(v)->value_;
}

} // namespace asioctx

#endif
