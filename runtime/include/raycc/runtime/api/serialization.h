#pragma once

/// \file
/// How values travel: msgpack. Builtin types, strings and standard
/// containers work out of the box; a user type opts in with
/// MSGPACK_DEFINE(field, ...) inside its definition, as with Ray.

#include <msgpack.hpp>
#include <string>
#include <string_view>

#include "raycc/runtime/api/errors.h"

namespace raycc {

namespace internal {

/// A msgpack output stream that appends to a string: packing a small value
/// costs no buffer beyond the string itself (msgpack::sbuffer starts at 8 KiB).
struct StringWriter {
  std::string* out;
  void write(const char* data, size_t size) { out->append(data, size); }
};

}  // namespace internal

/// The msgpack bytes of `value`.
template <typename T>
std::string Serialize(const T& value) {
  std::string bytes;
  internal::StringWriter writer{&bytes};
  msgpack::pack(writer, value);
  return bytes;
}

/// The value of type T in `bytes`; throws RayccError when the bytes do not
/// hold a T (a type mismatch between caller and callee).
template <typename T>
T Deserialize(std::string_view bytes) {
  try {
    // Scalars need no zone memory at all; containers grow it as they need
    // (the default first chunk is 8 KiB, whatever the value).
    msgpack::zone zone(256);
    msgpack::object object = msgpack::unpack(zone, bytes.data(), bytes.size());
    return object.as<T>();
  } catch (const std::exception& e) {
    throw RayccError(std::string("cannot deserialize a value: ") + e.what());
  }
}

namespace internal {

/// Serialize for a value held as `const void*` of type T.
template <typename T>
std::string SerializeErased(const void* value) {
  return Serialize(*static_cast<const T*>(value));
}

}  // namespace internal
}  // namespace raycc
