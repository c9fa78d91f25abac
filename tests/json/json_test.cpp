#include "gateway/json/json.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string_view>
#include <vector>

namespace gw::json {
namespace {

Document must_parse(std::string text) {
  auto doc = Document::parse(std::move(text));
  EXPECT_TRUE(doc) << (doc ? "" : doc.error().to_string());
  return doc ? std::move(*doc) : Document();
}

TEST(JsonParse, ObjectsArraysAndScalars) {
  Document doc = must_parse(R"({"a": [1, 2.50, "x"], "b": {"c": true, "d": null}, "e": false})");
  Value root = doc.root();
  ASSERT_TRUE(root.is_object());
  ASSERT_EQ(root.size(), 3u);
  EXPECT_EQ(root.key(0), "a");
  Value a = root.find("a");
  ASSERT_TRUE(a.is_array());
  ASSERT_EQ(a.size(), 3u);
  EXPECT_TRUE(a[0].is_number());
  EXPECT_EQ(a[1].str(), "2.50");  // decimals keep their literal text
  EXPECT_EQ(a[2].str(), "x");
  EXPECT_FALSE(a[3]);
  Value b = root.find("b");
  EXPECT_TRUE(b.find("c").boolean());
  EXPECT_TRUE(b.find("d").is_null());
  EXPECT_FALSE(b.find("zz"));
  EXPECT_TRUE(root.find("e").is_bool());
  EXPECT_FALSE(root.find("e").boolean());
  EXPECT_EQ(b.find("c").key(), "c");
  int n = 0;
  for (Value v : a.items()) {
    EXPECT_TRUE(v);
    ++n;
  }
  EXPECT_EQ(n, 3);
}

TEST(JsonParse, EscapesAreDecoded) {
  Document doc = must_parse(R"({"k\u0065y": "line\nbreak \"q\" \u00e9"})");
  Value v = doc.root().find("key");
  ASSERT_TRUE(v.is_string());
  EXPECT_EQ(v.str(), "line\nbreak \"q\" \xC3\xA9");
}

TEST(JsonParse, PositionsPointAtValueStart) {
  Document doc = must_parse("{\n  \"a\": \"x\\\"y\",\n  \"b\": [\n    12, {\"c\": 1}\n  ]\n}");
  Value root = doc.root();
  EXPECT_EQ(root.position(), (Position{1, 1}));
  EXPECT_EQ(root.find("a").position(), (Position{2, 8}));
  EXPECT_EQ(root.find("b").position(), (Position{3, 8}));
  EXPECT_EQ(root.find("b")[0].position(), (Position{4, 5}));
  EXPECT_EQ(root.find("b")[1].position(), (Position{4, 9}));
  EXPECT_EQ(root.find("b")[1].find("c").position(), (Position{4, 15}));
}

// Every value of a document, depth first.
std::vector<Value> all_values(const Document& doc) {
  std::vector<Value> all;
  std::vector<Value> work{doc.root()};
  while (!work.empty()) {
    Value v = work.back();
    work.pop_back();
    all.push_back(v);
    for (Value c : v.items()) work.push_back(c);
  }
  return all;
}

// The first positions asked are counted directly, later ones come from a
// line table: both must give the same answer for every value, whichever is
// asked first (CRLF lines, an empty line, a value at the very start).
TEST(JsonParse, DirectAndTablePositionsAgree) {
  std::string text = "{\r\n  \"a\": [1, 2,\n\n 3],\n\t\"b\": {\"c\": \"x\\ny\", \"d\": [[], {}]},\n";
  for (int i = 0; i < 30; ++i) text += "  \"k" + std::to_string(i) + "\": " + std::to_string(i) + ",\n";
  text += "  \"z\": null}";
  std::vector<Position> forward, backward;
  {
    Document doc = must_parse(text);
    std::vector<Value> all = all_values(doc);
    ASSERT_GT(all.size(), 2 * detail::Storage::kDirectPositions);
    for (Value v : all) forward.push_back(v.position());
    Document again = must_parse(text);
    std::vector<Value> all2 = all_values(again);
    backward.resize(all2.size());
    for (std::size_t i = all2.size(); i-- > 0;) backward[i] = all2[i].position();
  }
  EXPECT_EQ(forward, backward);
  EXPECT_EQ(forward[0], (Position{1, 1}));
}

// Line and column by counting, for the positions test below.
Position naive_position(std::string_view text, std::uint32_t offset) {
  Position p{1, 1};
  for (std::uint32_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

// Positions are counted on from the last one asked when asked in document
// order, from the start or from a line table otherwise: every order of
// asking gives every value the position a plain count gives.
TEST(JsonParse, PositionsInAnyOrderMatchAPlainCount) {
  std::string text = "{\r\n  \"a\": [1, 2,\n\n 3],\n\t\"b\": {\"c\": \"x\\ny\", \"d\": [[], {}]},\n";
  for (int i = 0; i < 40; ++i) text += "  \"k" + std::to_string(i) + "\": [" + std::to_string(i) + ",\n  " + std::to_string(i) + "],\n";
  text += "  \"z\": null}";
  auto values_of = [](const Document& doc) {
    std::vector<Value> all = all_values(doc);
    std::sort(all.begin(), all.end(), [](Value a, Value b) { return a.offset() < b.offset(); });
    return all;
  };
  std::vector<std::vector<std::size_t>> orders;
  const std::size_t n = values_of(must_parse(text)).size();
  ASSERT_GT(n, 4 * detail::Storage::kDirectPositions);
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  orders.push_back(order);                                // document order
  orders.emplace_back(order.rbegin(), order.rend());      // backwards
  std::vector<std::size_t> mixed;                         // forwards, with jumps back
  for (std::size_t i = 0; i < n; ++i) mixed.push_back(i % 3 == 2 ? i / 2 : i);
  orders.push_back(mixed);
  for (const auto& o : orders) {
    Document doc = must_parse(text);
    std::vector<Value> all = values_of(doc);
    for (std::size_t i : o) {
      EXPECT_EQ(all[i].position(), naive_position(text, all[i].offset())) << "value " << i;
    }
    EXPECT_EQ(doc.position_of(static_cast<std::uint32_t>(text.size())), naive_position(text, static_cast<std::uint32_t>(text.size())));
    EXPECT_EQ(doc.position_of(0), (Position{1, 1}));
  }
}

// Strings are decoded in place in a private copy: the source stays as it
// came, and values after escaped strings keep their offsets.
TEST(JsonParse, InSituDecodingKeepsSourceAndOffsets) {
  const std::string text = "{\"a\\u0062\": \"x\\n\\u00e9y\", \"n\": -1.50e3, \"s\": \"caf\xC3\xA9 \xF0\x9F\x98\x80\"}";
  Document doc = must_parse(text);
  EXPECT_EQ(doc.source(), text);
  Value root = doc.root();
  EXPECT_EQ(root.key(0), "ab");
  EXPECT_EQ(root.find("ab").str(), "x\n\xC3\xA9y");
  EXPECT_EQ(root.find("ab").offset(), text.find("\"x"));
  EXPECT_EQ(root.find("n").str(), "-1.50e3");
  EXPECT_EQ(root.find("n").offset(), text.find("-1.50e3"));
  EXPECT_EQ(root.find("s").str(), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(root.find("s").offset(), text.find("\"caf"));
}

// Strings with and without escapes mixed, as keys and as values, many of
// them, and a text made of nothing but escapes, all decode right (also
// when found by a decoded key) and leave the source unchanged; a text
// that is a single string ends at the end of its buffer. Each text is
// given in a buffer of exactly its size, so that a read past its end is a
// heap overflow the sanitizer build reports.
TEST(JsonParse, EscapedAndPlainStringsMixedLeaveTheSourceUnchanged) {
  auto exact = [](const std::string& t) {
    std::string copy(t.begin(), t.end());
    copy.shrink_to_fit();
    return copy;
  };
  std::string text = "{";
  std::vector<std::pair<std::string, std::string>> want;
  for (int i = 0; i < 200; ++i) {
    const std::string n = std::to_string(i);
    const bool key_escaped = i % 3 == 0;
    const bool value_escaped = i % 2 == 0;
    if (i > 0) text += ",";
    text += "\"" + std::string(key_escaped ? "k\\u00e9" : "k") + n + "\":";
    text += "\"" + std::string(value_escaped ? "v\\t" : "v") + n + "\"";
    want.emplace_back((key_escaped ? "k\xC3\xA9" : "k") + n, (value_escaped ? "v\t" : "v") + n);
  }
  text += "}";
  Document doc = must_parse(exact(text));
  EXPECT_EQ(doc.source(), text);
  ASSERT_EQ(doc.root().size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(doc.root().key(i), want[i].first);
    EXPECT_EQ(doc.root()[i].str(), want[i].second);
    EXPECT_EQ(doc.root().find(want[i].first).str(), want[i].second) << "find by a decoded key";
  }
  std::string escapes = "[";
  for (int i = 0; i < 300; ++i) escapes += std::string(i ? "," : "") + "\"\\\"\\n\\u00e9\\ud83d\\ude00\"";
  escapes += "]";
  Document only = must_parse(exact(escapes));
  EXPECT_EQ(only.source(), escapes);
  ASSERT_EQ(only.root().size(), 300u);
  for (Value v : only.root().items()) EXPECT_EQ(v.str(), "\"\n\xC3\xA9\xF0\x9F\x98\x80");
  // A text that is one string, ending at the end of the buffer.
  for (std::size_t len = 0; len <= 40; ++len) {
    const std::string plain(len, 'p');
    EXPECT_EQ(must_parse(exact("\"" + plain + "\"")).root().str(), plain);
    EXPECT_EQ(must_parse(exact("\"" + plain + "\\n\"")).root().str(), plain + "\n");
    EXPECT_FALSE(Document::parse(exact("\"" + plain))) << len;
  }
}

// Plain string bytes are scanned eight at a time (json.cpp,
// ScanCopyUnescapedString). Every string length 0-40, with an escape, a
// raw control byte or the end of the text at every offset, must decode
// exactly as a byte-at-a-time reader would: the bytes after an escape are
// moved back over it, so the run that follows one is checked too.
TEST(JsonParse, WordAtATimeStringScanAtEveryOffset) {
  const std::string alphabet = "abcdefghij~!klmnopqrstuvwxyz0123456789ABCDEFGHIJ";
  for (std::size_t len = 0; len <= 40; ++len) {
    const std::string plain = alphabet.substr(0, len);
    // As key and as value, the string cut anywhere by the end of the text.
    Document doc = must_parse("{\"" + plain + "\": \"" + plain + "\"}");
    EXPECT_EQ(doc.root().key(0), plain);
    EXPECT_EQ(doc.root()[0].str(), plain);
    EXPECT_FALSE(Document::parse("[\"" + plain)) << "unterminated string of length " << len;
    // A two-byte UTF-8 character at the end of the run and past a word.
    Document u = must_parse("[\"" + plain + "\xC3\xA9\"]");
    EXPECT_EQ(u.root()[0].str(), plain + "\xC3\xA9");
    for (std::size_t at = 0; at <= len; ++at) {
      std::string escaped = plain;
      escaped.insert(at, "\\n");
      std::string decoded = plain;
      decoded.insert(at, "\n");
      Document e = must_parse("[\"" + escaped + "\", \"" + escaped + escaped + "\"]");
      EXPECT_EQ(e.root()[0].str(), decoded) << "escape at " << at << " of " << len;
      EXPECT_EQ(e.root()[1].str(), decoded + decoded) << "two escapes, " << at << " of " << len;
      EXPECT_EQ(e.root()[1].offset(), 3 + escaped.size() + 2) << "offsets come from the source";
      for (char raw : {'\x01', '\x1f', '\t', '\n', '\0'}) {
        std::string bad = plain;
        bad.insert(at, 1, raw);
        auto r = Document::parse("[\"" + bad + "\"]");
        EXPECT_FALSE(r) << "raw byte " << int(raw) << " at " << at << " of " << len;
      }
    }
  }
}

// Overlong forms, surrogates, bytes above U+10FFFF and truncated sequences
// are refused wherever they are (inside or outside strings).
TEST(JsonParse, StrictUtf8) {
  for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xE0\x80\x80",
                          "\xC3", "\xE2\x82", "\x80"}) {
    auto in_string = Document::parse(std::string("{\"a\": \"x") + bad + "y\"}");
    EXPECT_FALSE(in_string);
    auto outside = Document::parse(std::string("{\"a\": 1") + bad + "}");
    EXPECT_FALSE(outside);
  }
  // A lead byte at the very end of the input, inside an unclosed string:
  // the validating reader looks past it (json.cpp pads its buffer for that).
  for (const char* end : {"\"x\xF4", "\"x\xF4y", "\"x\xE2", "[\"\xF0\x90"}) {
    EXPECT_FALSE(Document::parse(end));
  }
  for (const char* good : {"\xC2\x80", "\xED\x9F\xBF", "\xEE\x80\x80", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(Document::parse(std::string("{\"a\": \"") + good + "\"}")) << "sequence accepted by RFC 3629";
  }
}

// Escapes must decode to characters: a pair of surrogates is one, a lone
// surrogate is none (RapidJSON 1.1.0 decoded a lone low one into bytes that
// are not UTF-8; found by json_parse_fuzz).
TEST(JsonParse, SurrogateEscapesDecodeOnlyInPairs) {
  Document pair = must_parse(R"({"a": "x\ud83d\ude00y"})");
  EXPECT_EQ(pair.root().find("a").str(), "x\xF0\x9F\x98\x80y");
  for (const char* lone : {R"({"a": "\udc00"})", R"({"a": "x\ude00 y"})", R"({"a": "\ud07d\udfff"})",
                           R"({"\udc00": 1})", R"({"a": "\ud800"})", R"({"a": "\ud800\u0041"})"}) {
    auto doc = Document::parse(lone);
    ASSERT_FALSE(doc) << lone;
    EXPECT_EQ(doc.error().code(), ErrorCode::kParse);
    EXPECT_EQ(doc.error().location().rfind("line 1, column", 0), 0u) << doc.error().to_string();
  }
  auto located = Document::parse("{\n  \"a\": 1,\n  \"b\": \"\\udc00\"\n}");
  ASSERT_FALSE(located);
  EXPECT_EQ(located.error().location(), "line 3, column 8") << located.error().to_string();
  // Characters next to the surrogate block stay accepted.
  EXPECT_TRUE(Document::parse(R"({"a": "\ud7ff\ue000"})"));
  // The per-string scan runs only for texts with a \uD escape (either
  // case); raw ED bytes of valid UTF-8 (U+D7FF) are never one.
  EXPECT_FALSE(Document::parse(R"({"a": "\uDC00"})"));
  EXPECT_FALSE(Document::parse(R"({"a": "ok", "b": "\uDFFF"})"));
  Document hangul = must_parse("{\"a\": \"\xED\x9F\xBF\", \"b\": \"\\\"q\\\"\"}");
  EXPECT_EQ(hangul.root().find("a").str(), "\xED\x9F\xBF");
}

TEST(JsonParse, MalformedInputReportsLineAndColumn) {
  auto doc = Document::parse("{\n  \"a\": 1,\n  \"b\": tru\n}");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code(), ErrorCode::kParse);
  EXPECT_EQ(doc.error().location().rfind("line 3, column", 0), 0u) << doc.error().to_string();
}

TEST(JsonParse, DuplicateKeysAreRejected) {
  auto doc = Document::parse("{\"a\": 1,\n \"a\": 2}");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().location(), "line 2, column 7");
  EXPECT_NE(doc.error().message().find("duplicate key 'a'"), std::string::npos);

  std::string big = "{";
  for (int i = 0; i < 40; ++i) big += "\"k" + std::to_string(i) + "\": 1,";
  big += "\"k7\": 2}";
  auto doc2 = Document::parse(big);
  ASSERT_FALSE(doc2);
  EXPECT_NE(doc2.error().message().find("'k7'"), std::string::npos);
}

TEST(JsonParse, InvalidUtf8IsRejected) {
  auto doc = Document::parse(std::string("{\"a\": \"\xC3\x28\"}"));
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code(), ErrorCode::kParse);
}

TEST(JsonParse, DeepNestingHitsTheLimitWithoutCrashing) {
  std::string deep(100000, '[');
  auto doc = Document::parse(deep);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code(), ErrorCode::kLimit);
  std::string ok = std::string(50, '[') + std::string(50, ']');
  EXPECT_TRUE(Document::parse(ok));
}

TEST(JsonParse, TrailingGarbageAndEmptyInput) {
  EXPECT_FALSE(Document::parse("{} {}"));
  EXPECT_FALSE(Document::parse(""));
  EXPECT_FALSE(Document::parse("{\"a\":1"));
  EXPECT_TRUE(Document::parse("  {}\n"));
  EXPECT_FALSE(Document::parse(std::string("{}\0", 3)));
}

TEST(JsonParse, ValuesSurviveMovingTheDocument) {
  Document doc = must_parse(R"({"a": "b"})");
  Value a = doc.root().find("a");
  Document moved = std::move(doc);
  EXPECT_EQ(a.str(), "b");
  EXPECT_EQ(moved.root().find("a"), a);
}

TEST(JsonWriter, RoundTripsAndEscapes) {
  Document doc = must_parse(R"({"a":[1,2.50,"x\"\n\u0001"],"b":{},"c":[],"d":null,"e":true})");
  Writer w;
  w.value(doc.root());
  EXPECT_EQ(w.str(), R"({"a":[1,2.50,"x\"\n\u0001"],"b":{},"c":[],"d":null,"e":true})");
  Writer p(true);
  p.begin_object();
  p.key("k");
  p.begin_array();
  p.integer(1);
  p.boolean(false);
  p.end_array();
  p.end_object();
  EXPECT_EQ(p.str(), "{\n  \"k\": [\n    1,\n    false\n  ]\n}");
}

// append_quoted copies unescaped runs whole: escapes at either end, next to
// each other and between runs must all land in place.
TEST(JsonWriter, QuotesEveryEscapePosition) {
  auto quoted = [](std::string_view s) {
    std::string out = "x";
    append_quoted(out, s);
    return out;
  };
  EXPECT_EQ(quoted(""), "x\"\"");
  EXPECT_EQ(quoted("plain text"), "x\"plain text\"");
  EXPECT_EQ(quoted("\"start"), "x\"\\\"start\"");
  EXPECT_EQ(quoted("end\\"), "x\"end\\\\\"");
  EXPECT_EQ(quoted("a\t\n\rb"), "x\"a\\t\\n\\rb\"");
  EXPECT_EQ(quoted(std::string_view("\x1f\x00z", 3)), "x\"\\u001f\\u0000z\"");
  // DEL and UTF-8 pass through unchanged.
  EXPECT_EQ(quoted("\x7f caf\xc3\xa9 \xe2\x82\xac"), "x\"\x7f caf\xc3\xa9 \xe2\x82\xac\"");
  // The result parses back to the input.
  const std::string tricky = "q\"\\/\b\f\n\r\t\x01 \xc3\xa9 end";
  std::string doc = "[";
  append_quoted(doc, tricky);
  doc += "]";
  Document d = must_parse(doc);
  EXPECT_EQ(d.root()[0].str(), tricky);
}

// append_quoted skips eight bytes at a time while none needs an escape:
// every byte value at every offset of strings from 1 to 40 bytes (so in
// each lane of a word, in the tail and at the boundaries) is quoted exactly
// as a byte-by-byte reference quotes it.
TEST(JsonWriter, QuotesEveryByteValueAtEveryOffsetLikeAByteLoop) {
  auto reference = [](std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (char ch : s) {
      auto c = static_cast<unsigned char>(ch);
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
    }
    out += '"';
    return out;
  };
  std::size_t checked = 0;
  for (std::size_t len = 1; len <= 40; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string s(len, 'a');
        s[at] = static_cast<char>(b);
        std::string got;
        append_quoted(got, s);
        ASSERT_EQ(got, reference(s)) << "length " << len << ", byte " << b << " at " << at;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 256u * 820u);
  // Two escapes in one word, at every pair of offsets.
  for (std::size_t i = 0; i < 17; ++i) {
    for (std::size_t j = i + 1; j < 17; ++j) {
      std::string s(17, 'z');
      s[i] = '"';
      s[j] = '\x01';
      std::string got;
      append_quoted(got, s);
      ASSERT_EQ(got, reference(s)) << "escapes at " << i << " and " << j;
    }
  }
}

}  // namespace
}  // namespace gw::json
