//===- Json.h - a small JSON writer and parser for the visualizer -*- C++
//-*-===//
//
// The visualizer writes one JSON model per page and reads Chrome trace files.
// Tools may not pull in a JSON library of their own, and this is all the JSON
// they need.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_TOOLS_RAYCC_VIZ_JSON_H
#define RAYCC_TOOLS_RAYCC_VIZ_JSON_H

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace raycc::tools::viz {

/// Appends `s` to `out` as a JSON string literal, quotes included. The result
/// is safe inside an HTML `<script>` element: `<`, `>` and `&` are written as
/// \u escapes, and so are U+2028, U+2029 and all control characters. Bytes
/// that are not valid UTF-8 become U+FFFD.
void appendJsonString(std::string &out, std::string_view s);

/// Builds a JSON text front to back. Commas are inserted automatically; the
/// caller is responsible for balancing begin/end and for calling key() before
/// every value inside an object.
class JsonWriter {
public:
  void beginObject();
  void endObject();
  void beginArray();
  void endArray();
  /// The key of the next object member.
  void key(std::string_view name);
  void string(std::string_view s);
  void integer(int64_t v);
  /// Finite numbers only; NaN and infinities are written as null.
  void number(double v);
  void boolean(bool v);
  void null();
  /// Inserts an already serialized JSON value as is.
  void raw(std::string_view json);

  /// The text written so far.
  const std::string &str() const { return out; }
  std::string take() { return std::move(out); }

private:
  void separate();

  std::string out;
  /// One entry per open object or array: whether it has a member yet.
  std::vector<bool> hasMember;
  bool afterKey = false;
};

/// A parsed JSON value.
struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<JsonValue> items;
  /// Object members in document order; a repeated key keeps every entry.
  std::vector<std::pair<std::string, JsonValue>> members;

  bool isObject() const { return kind == Kind::Object; }
  bool isArray() const { return kind == Kind::Array; }
  bool isNumber() const { return kind == Kind::Number; }
  bool isString() const { return kind == Kind::String; }
  /// The last member named `name` of an object, or null when there is none
  /// (or this is not an object).
  const JsonValue *find(std::string_view name) const;
};

/// Parses one JSON text (RFC 8259) into `out`. On failure returns false and
/// sets `error` to a message naming the line, column and byte offset of the
/// problem. Nesting deeper than 1000 levels is rejected rather than
/// overflowing the stack.
bool parseJson(std::string_view text, JsonValue *out, std::string *error);

} // namespace raycc::tools::viz

#endif // RAYCC_TOOLS_RAYCC_VIZ_JSON_H
