#pragma once

/// \file
/// How values travel: msgpack. Builtin types, strings and standard
/// containers work out of the box; a user type opts in with
/// MSGPACK_DEFINE(field, ...) inside its definition, as with Ray.

#include <cstdint>
#include <cstring>
#include <limits>
#include <msgpack.hpp>
#include <string>
#include <string_view>
#include <type_traits>

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

namespace internal {

/// Reads one msgpack bool, integer or float that is all of `bytes`,
/// without building an object tree: `kind` 1 bool (in `i`), 2 signed (`i`),
/// 3 unsigned (`u`), 4 float (`d`). False for anything else (the general
/// path then decides, and reports errors).
inline bool DecodeScalar(std::string_view bytes, int* kind, int64_t* i, uint64_t* u, double* d) {
  if (bytes.empty()) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  auto big = [&](size_t width) {  // the `width` bytes after the tag, big-endian
    uint64_t v = 0;
    for (size_t k = 1; k <= width; ++k) v = v << 8 | p[k];
    return v;
  };
  unsigned char tag = p[0];
  if (tag <= 0x7f && n == 1) {
    *kind = 3;
    *u = tag;
    return true;
  }
  if (tag >= 0xe0 && n == 1) {
    *kind = 2;
    *i = static_cast<int8_t>(tag);
    return true;
  }
  if ((tag == 0xc2 || tag == 0xc3) && n == 1) {
    *kind = 1;
    *i = tag == 0xc3;
    return true;
  }
  size_t width = 0;
  switch (tag) {
    case 0xcc:
    case 0xd0:
      width = 1;
      break;
    case 0xcd:
    case 0xd1:
      width = 2;
      break;
    case 0xce:
    case 0xd2:
    case 0xca:
      width = 4;
      break;
    case 0xcf:
    case 0xd3:
    case 0xcb:
      width = 8;
      break;
    default:
      return false;
  }
  if (n != 1 + width) return false;
  uint64_t v = big(width);
  if (tag >= 0xcc && tag <= 0xcf) {
    *kind = 3;
    *u = v;
    return true;
  }
  if (tag >= 0xd0 && tag <= 0xd3) {
    int shift = static_cast<int>(64 - 8 * width);
    *kind = 2;
    *i = static_cast<int64_t>(v << shift) >> shift;  // sign-extend
    return true;
  }
  *kind = 4;
  if (tag == 0xca) {
    uint32_t bits = static_cast<uint32_t>(v);
    float f;
    std::memcpy(&f, &bits, 4);
    *d = f;
  } else {
    std::memcpy(d, &v, 8);
  }
  return true;
}

template <typename T>
bool TryDecodeArithmetic(std::string_view bytes, T* out) {
  int kind;  // 1 bool, 2 signed, 3 unsigned, 4 float
  int64_t i;
  uint64_t u;
  double d;
  if (!DecodeScalar(bytes, &kind, &i, &u, &d)) return false;
  if constexpr (std::is_same_v<T, bool>) {
    if (kind != 1) return false;
    *out = i != 0;
    return true;
  } else if constexpr (std::is_floating_point_v<T>) {
    if (kind == 4)
      *out = static_cast<T>(d);
    else if (kind == 2)
      *out = static_cast<T>(i);
    else if (kind == 3)
      *out = static_cast<T>(u);
    else
      return false;
    return true;
  } else {
    if (kind == 2) {
      if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          (i > 0 && static_cast<uint64_t>(i) > static_cast<uint64_t>(std::numeric_limits<T>::max())))
        return false;
      *out = static_cast<T>(i);
      return true;
    }
    if (kind == 3) {
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
      *out = static_cast<T>(u);
      return true;
    }
    return false;
  }
}

}  // namespace internal

/// The value of type T in `bytes`; throws RayccError when the bytes do not
/// hold a T (a type mismatch between caller and callee).
template <typename T>
T Deserialize(std::string_view bytes) {
  if constexpr (std::is_arithmetic_v<T>) {
    // Scalars (the common small argument) are read in place; anything the
    // fast path does not take (out of range, another type) goes the general
    // way, which reports it.
    T value;
    if (internal::TryDecodeArithmetic(bytes, &value)) return value;
  }
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

/// A value's bytes written straight where they go (a node's shared-memory
/// store), with no buffer in between: one pass measures them, a second
/// writes them into room of exactly that size.
struct CountingWriter {
  size_t size = 0;
  void write(const char*, size_t n) { size += n; }
};
struct SpanWriter {
  char* at;
  char* end;
  bool overflow = false;
  void write(const char* data, size_t n) {
    if (overflow || n > static_cast<size_t>(end - at)) {
      overflow = true;
      return;
    }
    std::memcpy(at, data, n);
    at += n;
  }
};
/// How many bytes Serialize makes of a T held as `const void*`.
template <typename T>
size_t SerializedSizeErased(const void* value) {
  CountingWriter writer;
  msgpack::pack(writer, *static_cast<const T*>(value));
  return writer.size;
}
/// Writes Serialize's bytes of a T into `out`, which holds exactly `size`
/// bytes; false when they did not fill it exactly (nothing useful written).
template <typename T>
bool SerializeIntoErased(const void* value, char* out, size_t size) {
  SpanWriter writer{out, out + size};
  msgpack::pack(writer, *static_cast<const T*>(value));
  return !writer.overflow && writer.at == writer.end;
}

}  // namespace internal
}  // namespace raycc
