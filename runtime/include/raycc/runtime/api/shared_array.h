#pragma once

/// \file
/// raycc::SharedArray<T>: an immutable array of plain values (double,
/// float, int64_t, ...: any trivially copyable T) that can be read where it
/// lies, as SharedBytes is for bytes. On a cluster, Get of an object holding
/// a SharedArray, on the node whose shared-memory store holds it, and a
/// task's SharedArray argument there, point into the store: no copy and no
/// deserialization, whatever the size; the view keeps the object pinned
/// while any copy of it lives. Elsewhere (another node, the embedded
/// runtime, inside another value) it owns its elements, as a std::vector
/// would. A std::vector<T> is moved in without a copy.
///
/// Its msgpack form is a `bin` whose first byte says how many bytes precede
/// the elements (1 to 16; the rest of them are zero), chosen so that the
/// elements of an object that is a SharedArray start 8-byte aligned in the
/// store (objects start on cache lines); then the elements, as the host
/// lays them out in memory (little-endian on every platform raycc builds
/// for).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <msgpack.hpp>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "raycc/runtime/api/shared_bytes.h"

namespace raycc {

template <typename T>
class SharedArray {
  static_assert(std::is_trivially_copyable_v<T> && !std::is_pointer_v<T>,
                "SharedArray holds plain values (trivially copyable, not pointers)");
  static_assert(alignof(T) <= 8, "SharedArray elements are at most 8-byte aligned");

 public:
  using value_type = T;
  SharedArray() = default;
  /// Owns `values` (moved in: no copy).
  explicit SharedArray(std::vector<T> values) {
    auto owned = std::make_shared<const std::vector<T>>(std::move(values));
    data_ = owned->data();
    size_ = owned->size();
    keep_ = std::move(owned);
  }
  SharedArray(std::initializer_list<T> values) : SharedArray(std::vector<T>(values)) {}
  /// A view of `size` elements at `data`, kept valid by `keep` (the runtime
  /// makes these: a pinned object in the node's store).
  SharedArray(std::shared_ptr<const void> keep, const T* data, size_t size)
      : keep_(std::move(keep)), data_(data), size_(size) {}

  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](size_t i) const { return data_[i]; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  std::span<const T> span() const { return {data_, size_}; }
  /// A copy the caller owns.
  std::vector<T> vec() const { return std::vector<T>(begin(), end()); }
  friend bool operator==(const SharedArray& a, const SharedArray& b) {
    return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.data_, b.data_, a.size_ * sizeof(T)) == 0);
  }

  /// How many bytes precede the elements in the `bin` body of `size`
  /// elements, so that they start 8-byte aligned after the `bin` header.
  static size_t Pad(size_t size) {
    const size_t data = size * sizeof(T);
    // (Near a header size's edge the pad that would align may push the body
    // over it: 16 choices always leave one.)
    for (size_t pad = 1; pad <= 16; ++pad) {
      const size_t body = pad + data;
      const size_t header = body < 256 ? 2 : body < 65536 ? 3 : 5;
      if ((header + pad) % 8 == 0) return pad;
    }
    return 16;  // (unreachable)
  }
  /// What precedes the elements in the msgpack form of `size` of them: the
  /// `bin` header and the pad (Put writes it and then the elements where
  /// the object goes, with no buffer in between).
  static std::string Head(size_t size) {
    const size_t pad = Pad(size);
    const uint64_t body = pad + size * sizeof(T);
    std::string head;
    if (body < 256) {
      head = {static_cast<char>(0xc4), static_cast<char>(body)};
    } else if (body < 65536) {
      head = {static_cast<char>(0xc5), static_cast<char>(body >> 8), static_cast<char>(body)};
    } else {
      head = {static_cast<char>(0xc6), static_cast<char>(body >> 24), static_cast<char>(body >> 16),
              static_cast<char>(body >> 8), static_cast<char>(body)};
    }
    head.push_back(static_cast<char>(pad));
    head.append(pad - 1, '\0');
    return head;
  }
  /// The array a `bin` body holds, viewed where it lies when its elements
  /// are aligned (`body` keeps them valid), else copied; false when `body`
  /// is not a SharedArray<T>'s.
  static bool FromBody(const SharedBytes& body, SharedArray* out) {
    size_t pad = 0, n = 0;
    if (!Layout(body.data(), body.size(), &pad, &n)) return false;
    const char* at = body.data() + pad;
    if (reinterpret_cast<uintptr_t>(at) % alignof(T) == 0) {
      *out = SharedArray(std::make_shared<const SharedBytes>(body), reinterpret_cast<const T*>(at), n);
    } else {
      *out = Copied(at, n);
    }
    return true;
  }
  /// Where the elements of a `bin` body of `size` bytes start (its pad) and
  /// how many there are; false when it is not a SharedArray<T>'s.
  static bool Layout(const char* body, size_t size, size_t* pad, size_t* n) {
    if (size == 0) return false;
    *pad = static_cast<unsigned char>(body[0]);
    if (*pad < 1 || *pad > 16 || *pad > size || (size - *pad) % sizeof(T) != 0) return false;
    *n = (size - *pad) / sizeof(T);
    return true;
  }
  /// `n` elements at `at` (aligned or not), copied into an array of its own.
  static SharedArray Copied(const char* at, size_t n) {
    std::vector<T> copy(n);
    if (n > 0) std::memcpy(copy.data(), at, n * sizeof(T));
    return SharedArray(std::move(copy));
  }

 private:
  std::shared_ptr<const void> keep_;
  const T* data_ = nullptr;
  size_t size_ = 0;
};

namespace internal {
template <typename T>
struct IsSharedArray : std::false_type {};
template <typename T>
struct IsSharedArray<SharedArray<T>> : std::true_type {};
template <typename T>
inline constexpr bool kIsSharedArray = IsSharedArray<T>::value;
}  // namespace internal

}  // namespace raycc

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {
  template <typename T>
  struct convert<raycc::SharedArray<T>> {
    const msgpack::object& operator()(const msgpack::object& o, raycc::SharedArray<T>& v) const {
      // (The msgpack object's bytes go with it: the elements are copied out.)
      size_t pad = 0, n = 0;
      if (o.type != msgpack::type::BIN ||
          !raycc::SharedArray<T>::Layout(o.via.bin.ptr, o.via.bin.size, &pad, &n))
        throw msgpack::type_error();
      v = raycc::SharedArray<T>::Copied(o.via.bin.ptr + pad, n);
      return o;
    }
  };
  template <typename T>
  struct pack<raycc::SharedArray<T>> {
    template <typename Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o, const raycc::SharedArray<T>& v) const {
      const size_t pad = raycc::SharedArray<T>::Pad(v.size());
      if (pad + v.size() * sizeof(T) > UINT32_MAX) throw msgpack::type_error();  // (`bin`: 4 GiB at most)
      const char prefix[16] = {static_cast<char>(pad)};
      o.pack_bin(static_cast<uint32_t>(pad + v.size() * sizeof(T)));
      o.pack_bin_body(prefix, static_cast<uint32_t>(pad));
      if (!v.empty())
        o.pack_bin_body(reinterpret_cast<const char*>(v.data()), static_cast<uint32_t>(v.size() * sizeof(T)));
      return o;
    }
  };
  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE
}  // namespace msgpack
