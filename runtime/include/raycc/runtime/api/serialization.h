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

/// The msgpack bytes of `value`.
template <typename T>
std::string Serialize(const T& value) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, value);
  return std::string(buffer.data(), buffer.size());
}

/// The value of type T in `bytes`; throws RayccError when the bytes do not
/// hold a T (a type mismatch between caller and callee).
template <typename T>
T Deserialize(std::string_view bytes) {
  try {
    msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size());
    return handle.get().as<T>();
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
