//===- Json.cpp - a small JSON writer and parser --------------------------===//

#include "viz/Json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace raycc::tools::viz {
namespace {

void appendUnicodeEscape(std::string &out, unsigned code) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\u%04x", code);
  out += buf;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// Length of the valid UTF-8 sequence starting at s[i] (and its code point),
/// or 0 when the bytes there are not one.
size_t utf8Sequence(std::string_view s, size_t i, uint32_t *cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (len == 0 || c > 0xF4 || i + len > s.size())
    return 0;
  uint32_t v = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80)
      return 0;
    v = (v << 6) | (byte(i + k) & 0x3F);
  }
  // Reject overlong forms, surrogates and values past U+10FFFF.
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[len] || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF)
    return 0;
  *cp = v;
  return len;
}

} // namespace

void appendJsonString(std::string &out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      uint32_t cp = 0;
      size_t len = utf8Sequence(s, i, &cp);
      if (len == 0) {
        appendUnicodeEscape(out, 0xFFFD);
        ++i;
      } else if (cp == 0x2028 || cp == 0x2029) {
        // Valid JSON, but line terminators in older JavaScript parsers.
        appendUnicodeEscape(out, cp);
        i += len;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '<':
    case '>':
    case '&':
      // Keeps "</script>" and "<!--" from ending or changing the HTML
      // element the JSON is embedded in.
      appendUnicodeEscape(out, c);
      break;
    default:
      if (c < 0x20 || c == 0x7F)
        appendUnicodeEscape(out, c);
      else
        out += static_cast<char>(c);
    }
    ++i;
  }
  out += '"';
}

void JsonWriter::separate() {
  if (afterKey) {
    afterKey = false;
    return;
  }
  if (!hasMember.empty()) {
    if (hasMember.back())
      out += ',';
    hasMember.back() = true;
  }
}

void JsonWriter::beginObject() {
  separate();
  out += '{';
  hasMember.push_back(false);
}

void JsonWriter::endObject() {
  out += '}';
  hasMember.pop_back();
}

void JsonWriter::beginArray() {
  separate();
  out += '[';
  hasMember.push_back(false);
}

void JsonWriter::endArray() {
  out += ']';
  hasMember.pop_back();
}

void JsonWriter::key(std::string_view name) {
  separate();
  appendJsonString(out, name);
  out += ':';
  afterKey = true;
}

void JsonWriter::string(std::string_view s) {
  separate();
  appendJsonString(out, s);
}

void JsonWriter::integer(int64_t v) {
  separate();
  out += std::to_string(v);
}

void JsonWriter::number(double v) {
  separate();
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.15g", v);
  out += buf;
}

void JsonWriter::boolean(bool v) {
  separate();
  out += v ? "true" : "false";
}

void JsonWriter::null() {
  separate();
  out += "null";
}

void JsonWriter::raw(std::string_view json) {
  separate();
  out.append(json);
}

const JsonValue *JsonValue::find(std::string_view name) const {
  for (auto it = members.rbegin(); it != members.rend(); ++it)
    if (it->first == name)
      return &it->second;
  return nullptr;
}

namespace {

/// A recursive-descent parser over one JSON text.
class Parser {
public:
  explicit Parser(std::string_view text) : text(text) {}

  bool parseDocument(JsonValue *out) {
    skipSpace();
    if (!parseValue(out, 0))
      return false;
    skipSpace();
    if (pos != text.size())
      return fail("unexpected text after the JSON value");
    return true;
  }

  /// "line L, column C (byte N): message" for the first error found.
  std::string error() const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < errorPos && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return "line " + std::to_string(line) + ", column " +
           std::to_string(column) + " (byte " + std::to_string(errorPos) +
           "): " + message;
  }

private:
  static constexpr int kMaxDepth = 1000;

  bool fail(std::string what) {
    message = std::move(what);
    errorPos = pos;
    return false;
  }

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' ||
                                 text[pos] == '\r' || text[pos] == '\t'))
      ++pos;
  }

  bool consumeWord(std::string_view word) {
    if (text.substr(pos, word.size()) != word)
      return false;
    pos += word.size();
    return true;
  }

  bool parseValue(JsonValue *out, int depth) {
    if (depth > kMaxDepth)
      return fail("nesting is too deep");
    if (pos >= text.size())
      return fail("unexpected end of input, expected a value");
    char c = text[pos];
    switch (c) {
    case '{':
      return parseObject(out, depth);
    case '[':
      return parseArray(out, depth);
    case '"':
      out->kind = JsonValue::Kind::String;
      return parseString(&out->string);
    case 't':
    case 'f':
    case 'n':
      if (consumeWord("true") || consumeWord("false")) {
        out->kind = JsonValue::Kind::Bool;
        out->boolean = c == 't';
        return true;
      }
      if (consumeWord("null")) {
        out->kind = JsonValue::Kind::Null;
        return true;
      }
      return fail("invalid literal");
    default:
      if (c == '-' || (c >= '0' && c <= '9'))
        return parseNumber(out);
      return fail(std::string("unexpected character '") + c +
                  "', expected a value");
    }
  }

  bool parseObject(JsonValue *out, int depth) {
    out->kind = JsonValue::Kind::Object;
    ++pos;
    skipSpace();
    if (pos < text.size() && text[pos] == '}') {
      ++pos;
      return true;
    }
    while (true) {
      skipSpace();
      if (pos >= text.size() || text[pos] != '"')
        return fail(pos >= text.size() ? "unexpected end of input in object"
                                       : "expected a string key");
      std::string name;
      if (!parseString(&name))
        return false;
      skipSpace();
      if (pos >= text.size() || text[pos] != ':')
        return fail("expected ':' after an object key");
      ++pos;
      skipSpace();
      out->members.emplace_back(std::move(name), JsonValue());
      if (!parseValue(&out->members.back().second, depth + 1))
        return false;
      skipSpace();
      if (pos < text.size() && text[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < text.size() && text[pos] == '}') {
        ++pos;
        return true;
      }
      return fail(pos >= text.size() ? "unexpected end of input in object"
                                     : "expected ',' or '}' in object");
    }
  }

  bool parseArray(JsonValue *out, int depth) {
    out->kind = JsonValue::Kind::Array;
    ++pos;
    skipSpace();
    if (pos < text.size() && text[pos] == ']') {
      ++pos;
      return true;
    }
    while (true) {
      skipSpace();
      out->items.emplace_back();
      if (!parseValue(&out->items.back(), depth + 1))
        return false;
      skipSpace();
      if (pos < text.size() && text[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < text.size() && text[pos] == ']') {
        ++pos;
        return true;
      }
      return fail(pos >= text.size() ? "unexpected end of input in array"
                                     : "expected ',' or ']' in array");
    }
  }

  bool parseHex4(uint32_t *v) {
    if (pos + 4 > text.size())
      return fail("truncated \\u escape");
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      char h = text[pos++];
      int d = h >= '0' && h <= '9'   ? h - '0'
              : h >= 'a' && h <= 'f' ? h - 'a' + 10
              : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                     : -1;
      if (d < 0) {
        --pos;
        return fail("invalid hex digit in \\u escape");
      }
      *v = *v * 16 + d;
    }
    return true;
  }

  bool parseString(std::string *out) {
    ++pos; // opening quote
    while (true) {
      if (pos >= text.size())
        return fail("unexpected end of input in string");
      char c = text[pos];
      if (c == '"') {
        ++pos;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        return fail("control character in string");
      if (c != '\\') {
        *out += c;
        ++pos;
        continue;
      }
      if (++pos >= text.size())
        return fail("unexpected end of input in string");
      char e = text[pos++];
      switch (e) {
      case '"':
      case '\\':
      case '/':
        *out += e;
        break;
      case 'b':
        *out += '\b';
        break;
      case 'f':
        *out += '\f';
        break;
      case 'n':
        *out += '\n';
        break;
      case 'r':
        *out += '\r';
        break;
      case 't':
        *out += '\t';
        break;
      case 'u': {
        uint32_t cp;
        if (!parseHex4(&cp))
          return false;
        if (cp >= 0xD800 && cp <= 0xDBFF && text.substr(pos, 2) == "\\u") {
          size_t save = pos;
          pos += 2;
          uint32_t low;
          if (!parseHex4(&low))
            return false;
          if (low >= 0xDC00 && low <= 0xDFFF)
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          else
            pos = save;
        }
        // A lone surrogate cannot be encoded in UTF-8.
        appendUtf8(*out, cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp);
        break;
      }
      default:
        --pos;
        return fail(std::string("invalid escape '\\") + e + "'");
      }
    }
  }

  bool parseNumber(JsonValue *out) {
    size_t start = pos;
    if (text[pos] == '-')
      ++pos;
    auto digits = [&] {
      size_t from = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
        ++pos;
      return pos > from;
    };
    if (!digits())
      return fail("expected digits in number");
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      if (!digits())
        return fail("expected digits after '.'");
    }
    if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
      ++pos;
      if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
        ++pos;
      if (!digits())
        return fail("expected digits in exponent");
    }
    out->kind = JsonValue::Kind::Number;
    out->number = std::strtod(
        std::string(text.substr(start, pos - start)).c_str(), nullptr);
    return true;
  }

  std::string_view text;
  size_t pos = 0;
  size_t errorPos = 0;
  std::string message;
};

} // namespace

bool parseJson(std::string_view text, JsonValue *out, std::string *error) {
  Parser parser(text);
  *out = JsonValue();
  if (parser.parseDocument(out))
    return true;
  if (error)
    *error = parser.error();
  return false;
}

} // namespace raycc::tools::viz
