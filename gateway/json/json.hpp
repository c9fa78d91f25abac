// gw::json — hardened JSON parsing into an immutable, position-aware tree.
//
// Every byte the gateway receives passes through here first, so the parser is
// the one place that enforces the rules of untrusted input: valid UTF-8,
// bounded nesting (RapidJSON's iterative parser, so no stack overflow),
// duplicate keys rejected, numbers kept as their literal text so FHIR decimals
// such as `1.50` stay exact. RapidJSON is an implementation detail of this
// module: no other module includes it (STYLE.md §9).
//
// The tree is a flat array of nodes owned by a `Document`; a `Value` is a
// cheap handle (two pointers) into it. Each node remembers the byte offset
// where it starts, and the document maps offsets to line and column, so a
// validator can point at the exact place of a problem.
//
// Usage:
//   auto doc = gw::json::Document::parse(std::move(bytes));
//   if (!doc) { report(doc.error()); return; }   // location "line 3, column 7"
//   gw::json::Value root = doc->root();
//   if (auto rt = root.find("resourceType"); rt && rt->is_string()) use(rt->str());
//
// Thread-safety: a Document is immutable after parse and may be read from any
// number of threads. Values are valid as long as their Document lives; moving
// a Document keeps its Values valid (the nodes live on the heap).
#pragma once

#include "gateway/core/core.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::json {

enum class Kind : std::uint8_t { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject };

/// 1-based line and column (column counts bytes, as most editors' "Col" for
/// ASCII; FHIR JSON is overwhelmingly ASCII in its structure).
struct Position {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  friend bool operator==(const Position&, const Position&) = default;
};

namespace detail {
// The tree's layout. Not API: it is here only so that Value's accessors,
// called for nearly every member the validator, FHIRPath and consent read,
// inline instead of being a call each. 24 bytes: every string a node
// names (its member key, its text) lives in Storage::work and is kept as
// offset and length. Small nodes matter for large Bundles, whose node array
// is far larger than the caches.
struct Node {
  std::uint32_t key_at = 0;   // member key when the parent is an object
  std::uint32_t key_len = 0;
  std::uint32_t a = 0;        // containers: index of the first child; strings, numbers: text offset
  std::uint32_t b = 0;        // containers: number of children; strings, numbers: text length
  std::uint32_t offset = 0;   // where the value starts in the source
  Kind kind = Kind::kNull;
};
static_assert(sizeof(Node) == 24);

struct Storage {
  std::string source;
  // The in-situ parse buffer: a copy of the source in which RapidJSON
  // decodes each string over its own raw text (never longer). Keys, strings
  // and number literals (never rewritten) are read from here.
  std::string work;
  std::vector<Node> nodes;
  // Positions (line, column) are made only for issues, and a validator
  // asks for them mostly in document order. The last answer is kept as
  // (offset of its line's first byte << 32 | line number), so the next
  // position at or after that line counts the newlines in between only:
  // a document's issues cost one pass over it in all, not one pass from
  // the start each. A position before the kept line (asked out of order)
  // is counted from the start for the first kDirectPositions such asks;
  // after that a table of line starts answers them (built once), so that
  // a document with many issues in no order pays for one table.
  static constexpr std::uint32_t kDirectPositions = 8;
  mutable std::atomic<std::uint64_t> last_line{0};  // 0: nothing asked yet
  mutable std::atomic<std::uint32_t> positions_asked{0};
  mutable std::vector<std::uint32_t> line_starts;
  mutable std::once_flag lines_once;

  std::string_view text(std::uint32_t at, std::uint32_t len) const { return {work.data() + at, len}; }
  std::string_view key(const Node& n) const { return text(n.key_at, n.key_len); }
};

inline constexpr std::string_view kLiteralText[] = {"null", "false", "true"};
}  // namespace detail

/// Handle to one JSON value inside a Document. Default-constructed handles
/// are "absent": `operator bool` is false and every accessor returns empty.
class Value {
 public:
  Value() = default;

  explicit operator bool() const noexcept { return node_ != nullptr; }
  Kind kind() const noexcept { return node_ ? node_->kind : Kind::kNull; }
  bool is_null() const noexcept { return node_ && kind() == Kind::kNull; }
  bool is_bool() const noexcept { return node_ && (kind() == Kind::kTrue || kind() == Kind::kFalse); }
  bool is_number() const noexcept { return node_ && kind() == Kind::kNumber; }
  bool is_string() const noexcept { return node_ && kind() == Kind::kString; }
  bool is_array() const noexcept { return node_ && kind() == Kind::kArray; }
  bool is_object() const noexcept { return node_ && kind() == Kind::kObject; }
  /// True for null, booleans, numbers and strings.
  bool is_scalar() const noexcept { return node_ && kind() < Kind::kArray; }

  /// Decoded string content (kString), the literal text of a number
  /// (kNumber, e.g. "1.50"), "true"/"false"/"null" for those; empty for
  /// containers.
  std::string_view str() const noexcept {
    if (!node_) return {};
    switch (node_->kind) {
      case Kind::kNull: return detail::kLiteralText[0];
      case Kind::kFalse: return detail::kLiteralText[1];
      case Kind::kTrue: return detail::kLiteralText[2];
      case Kind::kNumber:
      case Kind::kString: return doc_->text(node_->a, node_->b);
      default: return {};
    }
  }
  bool boolean() const noexcept { return node_ && kind() == Kind::kTrue; }

  /// Number of elements (array) or members (object); 0 for scalars.
  std::size_t size() const noexcept { return node_ && node_->kind >= Kind::kArray ? node_->b : 0; }
  /// i-th element of an array or i-th member value of an object, in document
  /// order. Out of range gives an absent Value.
  Value operator[](std::size_t i) const noexcept {
    if (i >= size()) return {};
    return Value(doc_, doc_->nodes.data() + node_->a + i);
  }
  /// Key of the i-th member when this value is an object.
  std::string_view key(std::size_t i) const noexcept {
    if (!is_object() || i >= node_->b) return {};
    return doc_->key(doc_->nodes[node_->a + i]);
  }
  /// Key under which this value sits in its parent object ("" otherwise).
  std::string_view key() const noexcept { return node_ ? doc_->key(*node_) : std::string_view{}; }
  /// Member lookup by key (linear: FHIR objects are small). Absent if this is
  /// not an object or the key is missing.
  Value find(std::string_view key) const noexcept;

  /// Byte offset of the first character of this value in the source.
  std::uint32_t offset() const noexcept;
  /// Line and column of offset().
  Position position() const noexcept;

  /// Identity: both handles name the same node of the same document.
  friend bool operator==(const Value& a, const Value& b) noexcept { return a.node_ == b.node_; }

  // Range over array elements / member values, for `for (Value v : obj.items())`.
  class Iterator;
  struct Items {
    const detail::Storage* doc;
    const detail::Node* first;
    std::size_t count;
    Iterator begin() const noexcept;
    Iterator end() const noexcept;
  };
  Items items() const noexcept;

 private:
  friend class Document;
  friend class Iterator;
  Value(const detail::Storage* doc, const detail::Node* node) : doc_(doc), node_(node) {}
  const detail::Storage* doc_ = nullptr;
  const detail::Node* node_ = nullptr;
};

class Value::Iterator {
 public:
  using value_type = Value;
  using difference_type = std::ptrdiff_t;
  Iterator() = default;
  Iterator(const detail::Storage* doc, const detail::Node* node) : doc_(doc), node_(node) {}
  Value operator*() const noexcept { return Value(doc_, node_); }
  Iterator& operator++() noexcept;
  Iterator operator++(int) noexcept { Iterator t = *this; ++*this; return t; }
  friend bool operator==(const Iterator& a, const Iterator& b) noexcept { return a.node_ == b.node_; }

 private:
  const detail::Storage* doc_ = nullptr;
  const detail::Node* node_ = nullptr;
};

/// Limits applied while parsing untrusted bytes.
struct ParseOptions {
  /// Maximum nesting of arrays and objects. FHIR resources rarely pass 20;
  /// the limit exists so that hostile input cannot exhaust memory or time in
  /// later recursive walks.
  std::uint32_t max_depth = 256;
  /// Reject objects that repeat a key (RFC 8259 leaves it open; FHIR forbids).
  bool reject_duplicate_keys = true;
};

/// An immutable parsed JSON document.
class Document {
 public:
  Document();
  ~Document();
  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  /// Parses `bytes` (the document keeps them). Errors: kParse with location
  /// "line L, column C" for malformed JSON, invalid UTF-8 or duplicate keys;
  /// kLimit when nesting exceeds options.max_depth. The message never quotes
  /// string content from the input (it may be patient data); it may name a
  /// key, which is structure.
  static Result<Document> parse(std::string bytes, const ParseOptions& options = {});

  /// Reads and parses a file; the error location starts with the path.
  static Result<Document> parse_file(const std::string& path, const ParseOptions& options = {});

  Value root() const noexcept;
  Position position_of(std::uint32_t offset) const noexcept;
  /// The source bytes, unchanged.
  std::string_view source() const noexcept;
  /// Number of values in the tree (for memory accounting and benchmarks).
  std::size_t node_count() const noexcept;

 private:
  std::unique_ptr<detail::Storage> storage_;
};

// Inline: the validator and the mappings make a member lookup for nearly
// every element. Length, then first byte, then the rest: most members
// differ early.
inline Value Value::find(std::string_view k) const noexcept {
  if (!is_object()) return {};
  const detail::Node* first = doc_->nodes.data() + node_->a;
  const char* work = doc_->work.data();
  for (std::uint32_t i = 0; i < node_->b; ++i) {
    const detail::Node& n = first[i];
    if (n.key_len == k.size() &&
        (k.empty() || (work[n.key_at] == k[0] && std::memcmp(work + n.key_at + 1, k.data() + 1, k.size() - 1) == 0))) {
      return Value(doc_, first + i);
    }
  }
  return {};
}

/// Streaming JSON writer producing compact, valid JSON (strings escaped per
/// RFC 8259, UTF-8 passed through). Usage:
///   Writer w; w.begin_object(); w.key("resourceType"); w.string("Patient"); w.end_object();
///   std::string out = std::move(w).take();
/// Thread-compatible. Misuse (a value without a key inside an object) is a
/// programming error caught by GW_ASSERT.
class Writer {
 public:
  explicit Writer(bool pretty = false) : pretty_(pretty) {}
  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view k);
  void string(std::string_view s);
  /// Writes a number from its literal text (kept exact, e.g. "1.50"). The
  /// text must already be a valid JSON number.
  void number_text(std::string_view literal);
  void integer(std::int64_t v);
  void boolean(bool b);
  void null();
  /// Copies a parsed value (and its subtree) verbatim.
  void value(Value v);
  const std::string& str() const noexcept { return out_; }
  std::string take() && { return std::move(out_); }

 private:
  void before_value();
  void newline();
  std::string out_;
  // One entry per open container: true when it is an object; the count of
  // values written so far decides comma placement.
  std::vector<std::pair<bool, std::size_t>> stack_;
  bool after_key_ = false;
  bool pretty_ = false;
};

/// Appends `s` to `out` as a quoted, escaped JSON string.
void append_quoted(std::string& out, std::string_view s);

}  // namespace gw::json
