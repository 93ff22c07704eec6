// tierkv::Span<T>: a pointer and a length, the view type of tierkv's public
// C++ API.
//
// The public headers compile as C++17 (engines such as TensorRT-LLM and
// llama.cpp build with it), where std::span does not exist, and one type must
// appear in the library's symbols whatever standard its caller uses. So the
// API takes and returns this small span instead. It converts implicitly from
// anything with data() and size() (std::vector, std::array, std::string,
// std::span), from a C array, and from a (pointer, size) pair; under C++20 it
// is a borrowed contiguous range, so a std::span can be made from it.
//
// A Span never owns what it points at; it is valid while that memory is.
#pragma once

#include <cstddef>
#include <iterator>
#include <type_traits>
#include <utility>

#if __cplusplus >= 202002L
#include <ranges>
#endif

namespace tierkv {

template <typename T>
class Span;

namespace span_internal {

// C is a contiguous container (or array) whose elements are Ts, or non-const
// Ts when T is const.
template <typename C, typename T, typename = void>
struct IsContainerOf : std::false_type {};
template <typename C, typename T>
struct IsContainerOf<C, T,
                     std::void_t<decltype(std::data(std::declval<C&>())),
                                 decltype(std::size(std::declval<C&>()))>>
    : std::is_convertible<std::remove_pointer_t<decltype(std::data(std::declval<C&>()))> (*)[],
                          T (*)[]> {};
}  // namespace span_internal

template <typename T>
class Span {
 public:
  using element_type = T;
  using value_type = std::remove_cv_t<T>;
  using size_type = size_t;
  using pointer = T*;
  using reference = T&;
  using iterator = T*;

  constexpr Span() noexcept = default;
  constexpr Span(T* data, size_t size) noexcept : data_(data), size_(size) {}
  template <typename C, typename = std::enable_if_t<
                            span_internal::IsContainerOf<std::remove_reference_t<C>, T>::value>>
  constexpr Span(C&& container) noexcept  // NOLINT: implicit by design
      : data_(std::data(container)), size_(std::size(container)) {}

  constexpr T* data() const noexcept { return data_; }
  constexpr size_t size() const noexcept { return size_; }
  constexpr size_t size_bytes() const noexcept { return size_ * sizeof(T); }
  constexpr bool empty() const noexcept { return size_ == 0; }
  constexpr T& operator[](size_t i) const noexcept { return data_[i]; }
  constexpr T& front() const noexcept { return data_[0]; }
  constexpr T& back() const noexcept { return data_[size_ - 1]; }
  constexpr T* begin() const noexcept { return data_; }
  constexpr T* end() const noexcept { return data_ + size_; }

  // Elements [offset, offset + count), or [offset, size()) without a count.
  // The caller keeps offset <= size() and offset + count <= size().
  constexpr Span subspan(size_t offset, size_t count = static_cast<size_t>(-1)) const noexcept {
    return {data_ + offset, count == static_cast<size_t>(-1) ? size_ - offset : count};
  }
  constexpr Span first(size_t count) const noexcept { return {data_, count}; }
  constexpr Span last(size_t count) const noexcept { return {data_ + size_ - count, count}; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tierkv

#if __cplusplus >= 202002L
// A Span refers to memory it does not own, so views of a temporary Span stay valid.
template <typename T>
inline constexpr bool std::ranges::enable_borrowed_range<tierkv::Span<T>> = true;
#endif
