// Parsing: RapidJSON's SAX reader drives a handler that builds our flat node
// array. Why SAX rather than RapidJSON's own DOM: we need the start offset of
// every value (for OperationOutcome locations), duplicate-key detection, a
// depth limit, and a layout whose handles are two pointers.
//
// The reader runs in situ on a private copy of the source (`work`): strings
// are decoded in place, so a decoded string starts one byte after its
// opening quote and its start offset is known from the pointer RapidJSON
// hands over, and no string is copied anywhere else. In-situ streams also
// let RapidJSON keep its read position in a register (StreamTraits
// copyOptimization). The untouched bytes stay in `source`.
//
// Layout: the children of each container are stored contiguously, so
// `operator[]` is O(1). SAX delivers values in pre-order, where siblings are
// interleaved with their descendants; a scratch stack collects each open
// container's children and moves them into the final array when the
// container closes. Grandchildren are already in place by then, so their
// indices stay valid. The root is appended last.
#include "gateway/json/json.hpp"

#include "gateway/core/swar.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>
#include <rapidjson/stream.h>

#include <bit>

namespace gw::json::detail {

// RapidJSON's in-situ stream under its own name, so that the string scan
// below applies to our parse and nowhere else.
struct InsituScanStream : rapidjson::InsituStringStream {
  explicit InsituScanStream(char* text) : rapidjson::InsituStringStream(text) {}
};

// Nonzero at the first byte of `w` (in memory order) that is a quote, a
// backslash or below 0x20: what ends a run of plain string bytes (the
// lowest set bit is exact; gateway/core/swar.hpp).
inline std::uint64_t string_stop_bytes(std::uint64_t w) {
  return swar::bytes_equal(w, '"') | swar::bytes_equal(w, '\\') | swar::bytes_below(w, 0x20);
}

}  // namespace gw::json::detail

namespace rapidjson {

template <>
struct StreamTraits<gw::json::detail::InsituScanStream> {
  enum { copyOptimization = 1 };
};

// RapidJSON copies a string's plain bytes one at a time (without
// RAPIDJSON_SSE2; its SSE2 scans measured slower here: they walk byte by
// byte to a 16-byte boundary first, and most keys and values end before
// one). Here they go eight at a time with unaligned loads, and nothing is
// copied while a string has had no escape yet (in situ, its bytes are
// already where they belong). Reads run at most 7 bytes past the text's
// terminating NUL (a byte below 0x20 ends the scan); Document::parse pads
// the buffer for that. RapidJSON's own loop then handles the byte found.
template <>
template <>
inline void GenericReader<UTF8<>, UTF8<>, CrtAllocator>::ScanCopyUnescapedString(
    gw::json::detail::InsituScanStream& is, gw::json::detail::InsituScanStream& os) {
  (void)os;  // in situ: the same stream
  char* p = is.src_;
  if constexpr (std::endian::native == std::endian::little) {
    for (;;) {
      if (std::uint64_t stop = gw::json::detail::string_stop_bytes(gw::swar::load_word(p))) {
        p += std::countr_zero(stop) >> 3;
        break;
      }
      p += 8;
    }
  } else {
    while (*p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20) ++p;
  }
  const auto n = static_cast<std::size_t>(p - is.src_);
  if (is.dst_ != is.src_) std::memmove(is.dst_, is.src_, n);
  is.src_ = p;
  is.dst_ += n;
}

}  // namespace rapidjson

namespace gw::json {
namespace {

using detail::Node;
using detail::Storage;


// Newlines in [begin, end): a plain loop that the compiler vectorizes.
std::uint32_t count_newlines(const char* begin, const char* end) {
  std::uint32_t n = 0;
  for (const char* p = begin; p < end; ++p) n += *p == '\n';
  return n;
}

Position position_in(const Storage& s, std::uint32_t offset) {
  const char* base = s.source.data();
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(s.source.size()));
  // From the line of the last position asked (see Storage::last_line); the
  // atomic keeps concurrent readers of one document correct: any value it
  // holds is a true (line start, line) pair.
  const std::uint64_t last = s.last_line.load(std::memory_order_relaxed);
  auto from = static_cast<std::uint32_t>(last >> 32);
  auto line = static_cast<std::uint32_t>(last);
  if (line == 0 || offset < from) {
    if (s.positions_asked.fetch_add(1, std::memory_order_relaxed) >= Storage::kDirectPositions) {
      std::call_once(s.lines_once, [&s] {
        s.line_starts.push_back(0);
        for (const char* p = s.source.data(), *end = p + s.source.size();
             (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p))));) {
          ++p;
          s.line_starts.push_back(static_cast<std::uint32_t>(p - s.source.data()));
        }
      });
      auto it = std::upper_bound(s.line_starts.begin(), s.line_starts.end(), offset);
      auto n = static_cast<std::uint32_t>(it - s.line_starts.begin());  // 1-based
      std::uint32_t start = n == 0 ? 0 : s.line_starts[n - 1];
      return Position{n == 0 ? 1 : n, offset - start + 1};
    }
    from = 0;
    line = 1;
  }
  const void* nl = offset > from ? memrchr(base + from, '\n', offset - from) : nullptr;
  const std::uint32_t start = nl ? static_cast<std::uint32_t>(static_cast<const char*>(nl) - base) + 1 : from;
  line += count_newlines(base + from, base + start);
  s.last_line.store(std::uint64_t{start} << 32 | line, std::memory_order_relaxed);
  return Position{line, offset - start + 1};
}

std::string location_of(const Storage& s, std::uint32_t offset) {
  Position p = position_in(s, offset);
  return "line " + std::to_string(p.line) + ", column " + std::to_string(p.column);
}

using InStream = detail::InsituScanStream;

// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF), ASCII in 32- and 8-byte steps. Accepts exactly the byte
// sequences RapidJSON's UTF8::Validate accepts.
bool is_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  while (p < end) {
    // ASCII runs: 32 bytes per step, then 8.
    while (end - p >= 32) {
      std::uint64_t w[4];
      std::memcpy(w, p, 32);
      if (((w[0] | w[1] | w[2] | w[3]) & swar::kHighs) != 0) break;
      p += 32;
    }
    if (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & swar::kHighs) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t n;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < n) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (std::size_t k = 2; k < n; ++k) {
      if (p[k] < 0x80 || p[k] > 0xBF) return false;
    }
    p += n;
  }
  return true;
}

// SAX handler building the node array. Returns false from a callback to stop
// the parse; `error_` then says why.
class Builder {
 public:
  Builder(Storage& s, const InStream& in, const ParseOptions& opt)
      : s_(s), in_(in), work_(s.work.data()), opt_(opt), surrogate_escapes_(may_escape_surrogate(s.source)) {}

  bool Null() { return scalar(Kind::kNull, 0, 0, token_start(4)); }
  bool Bool(bool b) {
    return b ? scalar(Kind::kTrue, 0, 0, token_start(4)) : scalar(Kind::kFalse, 0, 0, token_start(5));
  }
  // With kParseNumbersAsStringsFlag only RawNumber is called; the typed
  // callbacks exist to satisfy the handler concept.
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(std::int64_t) { return false; }
  bool Uint64(std::uint64_t) { return false; }
  bool Double(double) { return false; }
  // In situ, `str` points into the work buffer: at the number itself, or
  // just past the opening quote of a string (decoded in place).
  bool RawNumber(const char* str, rapidjson::SizeType len, bool) {
    auto start = static_cast<std::uint32_t>(str - work_);
    return scalar(Kind::kNumber, start, len, start);
  }
  bool String(const char* str, rapidjson::SizeType len, bool) {
    auto start = static_cast<std::uint32_t>(str - work_);
    if (surrogate_escapes_ && has_surrogate(str, len)) return lone_surrogate(start - 1);
    return scalar(Kind::kString, start, len, start - 1);
  }
  bool Key(const char* str, rapidjson::SizeType len, bool) {
    if (surrogate_escapes_ && has_surrogate(str, len)) {
      return lone_surrogate(static_cast<std::uint32_t>(str - work_) - 1);
    }
    pending_key_at_ = static_cast<std::uint32_t>(str - work_);
    pending_key_len_ = len;
    return true;
  }
  bool StartObject() { return open(Kind::kObject); }
  bool StartArray() { return open(Kind::kArray); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  const std::optional<Error>& error() const { return error_; }

 private:
  struct Open {
    Node node;
    std::size_t scratch_start;
  };

  // RapidJSON 1.1.0 decodes the escape of a lone low surrogate (\uDC00 to
  // \uDFFF; a lone high one it refuses) into its three-byte form ED B0..BF
  // xx, which is not UTF-8: the document would hand invalid text to every
  // reader and write JSON no strict parser takes back (json_parse_fuzz
  // found it). The raw text is valid UTF-8 by now, where ED is never
  // followed by A0..BF, so such a pair in a decoded string can only come
  // from an escape; a memchr per string finds it.
  // Only an escape \uD800 to \uDFFF decodes to a surrogate: a text
  // without "\ud" or "\uD" (nearly every one) skips the per-string scan.
  static bool may_escape_surrogate(std::string_view text) {
    for (std::size_t at = text.find('\\'); at != std::string_view::npos; at = text.find('\\', at + 1)) {
      if (at + 2 < text.size() && text[at + 1] == 'u' && (text[at + 2] == 'd' || text[at + 2] == 'D')) return true;
    }
    return false;
  }
  static bool has_surrogate(const char* str, std::size_t len) {
    const char* end = str + len;
    while (const void* hit = std::memchr(str, '\xED', static_cast<std::size_t>(end - str))) {
      const char* at = static_cast<const char*>(hit);
      if (at + 1 < end && static_cast<unsigned char>(at[1]) >= 0xA0) return true;
      str = at + 1;
    }
    return false;
  }
  bool lone_surrogate(std::uint32_t at) {
    error_ = Error(ErrorCode::kParse, "a \\u escape names a lone UTF-16 surrogate (not a character)",
                   location_of(s_, at));
    return false;
  }

  std::uint32_t token_start(std::size_t len) const {
    return static_cast<std::uint32_t>(in_.src_ - in_.head_ - static_cast<std::ptrdiff_t>(len));
  }

  // Literals (null, true, false) have no text: Value::str() names them.
  bool scalar(Kind kind, std::uint32_t text_at, std::uint32_t text_len, std::uint32_t offset) {
    Node n;
    n.kind = kind;
    n.a = text_at;
    n.b = text_len;
    n.offset = offset;
    return push(n);
  }

  void take_key(Node& n) const {
    if (!stack_.empty() && stack_.back().node.kind == Kind::kObject) {
      n.key_at = pending_key_at_;
      n.key_len = pending_key_len_;
    }
  }

  bool push(Node n) {
    take_key(n);
    if (stack_.empty()) {
      root_ = n;
      return true;
    }
    scratch_.push_back(n);
    return true;
  }

  bool open(Kind kind) {
    if (stack_.size() >= opt_.max_depth) {
      error_ = Error(ErrorCode::kLimit,
                     "nesting deeper than " + std::to_string(opt_.max_depth) + " levels",
                     location_of(s_, token_start(0)));
      return false;
    }
    Open o;
    o.node.kind = kind;
    // The iterative parser calls StartObject/StartArray before it takes the
    // bracket, so Tell() is the bracket itself.
    o.node.offset = token_start(0);
    take_key(o.node);
    o.scratch_start = scratch_.size();
    stack_.push_back(o);
    return true;
  }

  bool close() {
    Open o = stack_.back();
    stack_.pop_back();
    std::size_t n = scratch_.size() - o.scratch_start;
    o.node.a = static_cast<std::uint32_t>(s_.nodes.size());
    o.node.b = static_cast<std::uint32_t>(n);
    s_.nodes.insert(s_.nodes.end(), scratch_.begin() + static_cast<std::ptrdiff_t>(o.scratch_start),
                    scratch_.end());
    scratch_.resize(o.scratch_start);
    if (o.node.kind == Kind::kObject && opt_.reject_duplicate_keys && !check_keys(o.node)) {
      return false;
    }
    if (stack_.empty()) {
      root_ = o.node;
      return true;
    }
    scratch_.push_back(o.node);
    return true;
  }

  bool check_keys(const Node& obj) {
    const Node* first = s_.nodes.data() + obj.a;
    const std::uint32_t count = obj.b;
    const Storage& st = s_;
    const Node* dup = nullptr;
    if (count <= 16) {
      for (std::uint32_t i = 1; i < count && !dup; ++i) {
        for (std::uint32_t j = 0; j < i; ++j) {
          // Lengths first: most pairs differ there, without a look at
          // either key's bytes.
          if (first[i].key_len == first[j].key_len && st.key(first[i]) == st.key(first[j])) {
            dup = &first[i];
            break;
          }
        }
      }
    } else {
      std::vector<const Node*> order;
      order.reserve(count);
      for (std::uint32_t i = 0; i < count; ++i) order.push_back(first + i);
      std::stable_sort(order.begin(), order.end(),
                       [&](const Node* a, const Node* b) { return st.key(*a) < st.key(*b); });
      for (std::size_t i = 1; i < order.size(); ++i) {
        if (st.key(*order[i]) == st.key(*order[i - 1])) {
          const Node* later = std::max(order[i], order[i - 1]);
          if (!dup || later < dup) dup = later;
        }
      }
    }
    if (!dup) return true;
    // Keys are structure (element names), not data; cap the length anyway.
    std::string key(gw::utf8_prefix(st.key(*dup), 64));
    error_ = Error(ErrorCode::kParse, "duplicate key '" + key + "' in object",
                   location_of(s_, dup->offset));
    return false;
  }

 public:
  Node root_;

 private:
  Storage& s_;
  const InStream& in_;
  const char* work_;
  const ParseOptions& opt_;
  std::vector<Open> stack_;
  std::vector<Node> scratch_;
  std::uint32_t pending_key_at_ = 0;
  std::uint32_t pending_key_len_ = 0;
  std::optional<Error> error_;
  bool surrogate_escapes_;
};

// The reader's flags (STYLE.md §9): iterative (no recursion on hostile
// nesting), numbers as their literal text; in situ on the work buffer;
// encoding validation per call site (see Document::parse).
template <unsigned kExtraFlags>
rapidjson::ParseResult run_reader(InStream& in, Builder& builder) {
  rapidjson::Reader reader;
  constexpr unsigned kFlags = rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag |
                              rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseStopWhenDoneFlag |
                              kExtraFlags;
  return reader.Parse<kFlags>(in, builder);
}

}  // namespace

// ---- Value ---------------------------------------------------------------

std::uint32_t Value::offset() const noexcept { return node_ ? node_->offset : 0; }

Position Value::position() const noexcept {
  return node_ ? position_in(*doc_, node_->offset) : Position{};
}

Value::Items Value::items() const noexcept {
  if (size() == 0) return Items{doc_, nullptr, 0};
  return Items{doc_, doc_->nodes.data() + node_->a, node_->b};
}

Value::Iterator Value::Items::begin() const noexcept { return Iterator(doc, first); }
Value::Iterator Value::Items::end() const noexcept {
  return Iterator(doc, first ? first + count : nullptr);
}
Value::Iterator& Value::Iterator::operator++() noexcept {
  ++node_;
  return *this;
}

// ---- Document ------------------------------------------------------------

Document::Document() = default;
Document::~Document() = default;
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;

Result<Document> Document::parse(std::string bytes, const ParseOptions& options) {
  auto storage = std::make_unique<Storage>();
  Storage& s = *storage;
  s.source = std::move(bytes);
  if (s.source.size() >= 0xFFFFFFF0u) {
    return fail(ErrorCode::kLimit, "JSON text larger than 4 GiB");
  }
  // NULs after the text keep the reader's reads past its end inside the
  // buffer:
  // - the validating reader takes every continuation byte a UTF-8 lead byte
  //   announces before it checks any of them (UTF8::Validate in
  //   encodings.h): up to three bytes past the end (json_parse_fuzz found
  //   that heap overflow);
  // - the string scan (ScanCopyUnescapedString above) loads 8 bytes at a
  //   time and stops at the first NUL: up to seven bytes past it.
  constexpr std::size_t kPadding = 8;
  s.work.reserve(s.source.size() + kPadding + 1);
  s.work = s.source;
  s.work.append(kPadding, '\0');
  // A rough guess that avoids most regrowth: one value per ~12 bytes.
  s.nodes.reserve(s.source.size() / 12 + 1);

  InStream in(s.work.data());
  Builder builder(s, in, options);
  // Encoding validation inside RapidJSON costs a third of the parse, byte
  // by byte in every string. Valid UTF-8 everywhere implies valid UTF-8 in
  // every string, and that is checked eight ASCII bytes at a time; only a
  // text that fails it (and so fails to parse: non-ASCII bytes outside
  // strings are never JSON) goes through the validating reader, which
  // reports the same error at the same offset as it always did.
  rapidjson::ParseResult ok = is_utf8(s.source)
                                  ? run_reader<0>(in, builder)
                                  : run_reader<rapidjson::kParseValidateEncodingFlag>(in, builder);
  if (!ok) {
    if (builder.error()) return *builder.error();
    return fail(ErrorCode::kParse, rapidjson::GetParseError_En(ok.Code()),
                location_of(s, static_cast<std::uint32_t>(ok.Offset())));
  }
  // kParseStopWhenDoneFlag stops after the root; anything but whitespace
  // after it is an error (RapidJSON's own check would also reject it, but
  // only after reading the embedded NUL our c_str() provides).
  std::size_t tail = in.Tell();
  while (tail < s.source.size() &&
         (s.source[tail] == ' ' || s.source[tail] == '\n' || s.source[tail] == '\r' ||
          s.source[tail] == '\t')) {
    ++tail;
  }
  if (tail != s.source.size()) {
    return fail(ErrorCode::kParse, "unexpected content after the JSON value",
                location_of(s, static_cast<std::uint32_t>(tail)));
  }
  s.nodes.push_back(builder.root_);
  s.nodes.shrink_to_fit();
  Document doc;
  doc.storage_ = std::move(storage);
  return doc;
}

Result<Document> Document::parse_file(const std::string& path, const ParseOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::kNotFound, "cannot open file", path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return fail(ErrorCode::kIo, "cannot read file", path);
  auto doc = parse(std::move(buf).str(), options);
  if (!doc) return doc.error().with_context(path);
  return doc;
}

Value Document::root() const noexcept {
  if (!storage_ || storage_->nodes.empty()) return {};
  return Value(storage_.get(), &storage_->nodes.back());
}

Position Document::position_of(std::uint32_t offset) const noexcept {
  return storage_ ? position_in(*storage_, offset) : Position{};
}

std::string_view Document::source() const noexcept {
  return storage_ ? std::string_view(storage_->source) : std::string_view{};
}

std::size_t Document::node_count() const noexcept { return storage_ ? storage_->nodes.size() : 0; }

// ---- Writer --------------------------------------------------------------

namespace {

// Whether any byte of `s` needs an escape in a JSON string. The tail is
// tested as one word too, padded with 'a' (a byte that never needs one).
bool needs_escape(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    if (detail::string_stop_bytes(swar::load_word(s.data() + i)) != 0) return true;
  }
  if (i == s.size()) return false;
  std::uint64_t tail = 0x6161616161616161ull;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  return detail::string_stop_bytes(tail) != 0;
}

}  // namespace

void append_quoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Nearly every key and value needs no escape: one test of the whole
  // string, then one copy. Per call, the loop below costs a capacity check
  // per append and a byte-by-byte tail; with the short strings of FHIR
  // (keys, codes, ids) that overhead made it a top frame of the handoff
  // build and of every release.
  if (!needs_escape(s)) {
    const std::size_t at = out.size();
    out.resize(at + s.size() + 2);
    char* p = out.data() + at;
    p[0] = '"';
    if (!s.empty()) std::memcpy(p + 1, s.data(), s.size());
    p[s.size() + 1] = '"';
    return;
  }
  out.push_back('"');
  // Runs of bytes that need no escape (nearly all of them) are appended
  // whole: the writer serializes every handoff and release, and a push_back
  // per byte was the gateway's top user-space frame under push load.
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Eight bytes at a time while none needs an escape (SWAR: a byte below
    // 0x20, or equal to '"' or '\\'; the tests are exact for "any byte").
    while (i + 8 <= s.size()) {
      if (detail::string_stop_bytes(swar::load_word(s.data() + i)) != 0) break;
      i += 8;
    }
    if (i >= s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void Writer::newline() {
  if (!pretty_) return;
  out_.push_back('\n');
  out_.append(stack_.size() * 2, ' ');
}

void Writer::before_value() {
  if (stack_.empty()) return;
  auto& [is_object, count] = stack_.back();
  if (is_object) {
    GW_ASSERT(after_key_, "a value inside an object needs a key first");
    after_key_ = false;
    return;
  }
  if (count++ > 0) out_.push_back(',');
  newline();
}

void Writer::begin_object() {
  before_value();
  out_.push_back('{');
  stack_.emplace_back(true, 0);
}

void Writer::end_object() {
  GW_ASSERT(!stack_.empty() && stack_.back().first && !after_key_, "unbalanced end_object");
  bool had = stack_.back().second > 0;
  stack_.pop_back();
  if (had) newline();
  out_.push_back('}');
}

void Writer::begin_array() {
  before_value();
  out_.push_back('[');
  stack_.emplace_back(false, 0);
}

void Writer::end_array() {
  GW_ASSERT(!stack_.empty() && !stack_.back().first, "unbalanced end_array");
  bool had = stack_.back().second > 0;
  stack_.pop_back();
  if (had) newline();
  out_.push_back(']');
}

void Writer::key(std::string_view k) {
  GW_ASSERT(!stack_.empty() && stack_.back().first && !after_key_, "key outside an object");
  if (stack_.back().second++ > 0) out_.push_back(',');
  newline();
  append_quoted(out_, k);
  out_.push_back(':');
  if (pretty_) out_.push_back(' ');
  after_key_ = true;
}

void Writer::string(std::string_view s) {
  before_value();
  append_quoted(out_, s);
}

void Writer::number_text(std::string_view literal) {
  before_value();
  out_.append(literal);
}

void Writer::integer(std::int64_t v) {
  before_value();
  out_ += std::to_string(v);
}

void Writer::boolean(bool b) {
  before_value();
  out_ += b ? "true" : "false";
}

void Writer::null() {
  before_value();
  out_ += "null";
}

void Writer::value(Value v) {
  switch (v.kind()) {
    case Kind::kNull: null(); break;
    case Kind::kFalse: boolean(false); break;
    case Kind::kTrue: boolean(true); break;
    case Kind::kNumber: number_text(v.str()); break;
    case Kind::kString: string(v.str()); break;
    case Kind::kArray:
      begin_array();
      for (Value item : v.items()) value(item);
      end_array();
      break;
    case Kind::kObject:
      begin_object();
      for (std::size_t i = 0; i < v.size(); ++i) {
        key(v.key(i));
        value(v[i]);
      }
      end_object();
      break;
  }
}

}  // namespace gw::json
