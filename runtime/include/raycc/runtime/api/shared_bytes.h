#pragma once

/// \file
/// raycc::SharedBytes: an immutable byte buffer that can be read where it
/// lies. On a cluster, Get of an object holding SharedBytes, on the node
/// whose shared-memory store holds it, hands out a view into the store: no
/// copy, whatever the size; the view keeps the object pinned while any copy
/// of it lives. Elsewhere (another node, the embedded runtime, a task
/// argument) it holds its own bytes, as a std::string would. It travels as
/// msgpack `bin`.

#include <cstddef>
#include <cstring>
#include <memory>
#include <msgpack.hpp>
#include <string>
#include <string_view>
#include <utility>

namespace raycc {

class SharedBytes {
 public:
  SharedBytes() = default;
  /// Owns `bytes` (moved in: no copy).
  explicit SharedBytes(std::string bytes) {
    auto owned = std::make_shared<const std::string>(std::move(bytes));
    data_ = owned->data();
    size_ = owned->size();
    keep_ = std::move(owned);
  }
  /// A view of `size` bytes at `data`, kept valid by `keep` (the runtime
  /// makes these: a pinned object in the node's store).
  SharedBytes(std::shared_ptr<const void> keep, const char* data, size_t size)
      : keep_(std::move(keep)), data_(data), size_(size) {}

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data_, size_}; }
  std::string str() const { return std::string(data_, size_); }
  friend bool operator==(const SharedBytes& a, const SharedBytes& b) { return a.view() == b.view(); }

 private:
  std::shared_ptr<const void> keep_;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

namespace internal {
/// Where the bytes of a SharedBytes start in its msgpack form (`bin` or
/// `str`), and how many there are; false when `packed` is not one.
bool SharedBytesPayload(std::string_view packed, size_t* offset, size_t* size);
}  // namespace internal

}  // namespace raycc

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {
  template <>
  struct convert<raycc::SharedBytes> {
    const msgpack::object& operator()(const msgpack::object& o, raycc::SharedBytes& v) const {
      if (o.type == msgpack::type::BIN) {
        v = raycc::SharedBytes(std::string(o.via.bin.ptr, o.via.bin.size));
      } else if (o.type == msgpack::type::STR) {
        v = raycc::SharedBytes(std::string(o.via.str.ptr, o.via.str.size));
      } else {
        throw msgpack::type_error();
      }
      return o;
    }
  };
  template <>
  struct pack<raycc::SharedBytes> {
    template <typename Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o, const raycc::SharedBytes& v) const {
      o.pack_bin(static_cast<uint32_t>(v.size()));
      o.pack_bin_body(v.data(), static_cast<uint32_t>(v.size()));
      return o;
    }
  };
  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE
}  // namespace msgpack
