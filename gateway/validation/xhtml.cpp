// A small, strict XML reader for FHIR narrative. It does not build a tree:
// it scans tags and text once, keeps a stack of open element names, and
// checks every element and attribute name against the lists HL7's
// validator uses for the R4 narrative rules (txt-1). Character data is
// only inspected for well-formedness (no raw '<', '&' only in entities) and
// for having some non-whitespace content (txt-2).
#include "gateway/validation/detail/xhtml.hpp"

#include "gateway/core/core.hpp"
#include "gateway/core/flat_index.hpp"
#include "gateway/core/swar.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gw::validation::detail {
namespace {

constexpr std::string_view kXhtmlNs = "http://www.w3.org/1999/xhtml";

constexpr std::array<std::string_view, 52> kElements{
    "p",     "br",   "div",     "h1",   "h2",         "h3",     "h4",   "h5",  "h6",
    "a",     "span", "b",       "em",   "i",          "strong", "small", "big", "tt",
    "dfn",   "q",    "var",     "abbr", "acronym",    "cite",   "blockquote", "hr",
    "address", "bdo", "kbd",    "sub",  "sup",        "ul",     "ol",   "li",  "dl",
    "dt",    "dd",   "pre",     "table", "caption",   "colgroup", "col", "thead", "tr",
    "tfoot", "tbody", "th",     "td",   "code",       "samp",   "img",  "map"};
// `area` is allowed too; kept apart to keep the array size honest.
constexpr std::string_view kArea = "area";

constexpr std::array<std::string_view, 22> kAttributes{
    "title", "style", "class", "id", "lang", "xml:lang", "dir", "accesskey", "tabindex",
    "span", "width", "align", "valign", "char", "charoff", "abbr", "axis", "headers",
    "scope", "rowspan", "colspan", "xmlns"};

struct ElementAttribute {
  std::string_view element;
  std::string_view attribute;
};
constexpr std::array<ElementAttribute, 35> kElementAttributes{{
    {"a", "href"}, {"a", "name"}, {"img", "src"}, {"img", "border"}, {"div", "xmlns"},
    {"blockquote", "cite"}, {"q", "cite"}, {"a", "charset"}, {"a", "type"}, {"a", "hreflang"},
    {"a", "rel"}, {"a", "rev"}, {"a", "shape"}, {"a", "coords"}, {"img", "alt"}, {"img", "longdesc"},
    {"img", "height"}, {"img", "width"}, {"img", "usemap"}, {"img", "ismap"}, {"map", "name"},
    {"area", "shape"}, {"area", "coords"}, {"area", "href"}, {"area", "nohref"}, {"area", "alt"},
    {"table", "summary"}, {"table", "width"}, {"table", "border"}, {"table", "frame"},
    {"table", "rules"}, {"table", "cellspacing"}, {"table", "cellpadding"}, {"pre", "space"},
    {"td", "nowrap"}}};

// Names of at most 8 bytes packed into an integer (first byte lowest), so
// that the lists above become sorted integer arrays searched in six steps
// instead of a scan of up to 52 names for every tag and attribute of every
// narrative (a small part of the scanner's time, measured: 3%). Longer
// names ("blockquote", "cellspacing") take the plain scan.
constexpr std::uint64_t packed(std::string_view n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n.size() && i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(n[i])} << (8 * i);
  return v;
}

template <std::size_t N>
constexpr std::array<std::uint64_t, N> packed_sorted(const std::array<std::string_view, N>& names) {
  std::array<std::uint64_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = names[i].size() <= 8 ? packed(names[i]) : 0;
  std::sort(out.begin(), out.end());
  return out;
}

constexpr auto kPackedElements = packed_sorted(kElements);
constexpr auto kPackedAttributes = packed_sorted(kAttributes);

template <std::size_t N>
bool in_list(std::string_view name, const std::array<std::string_view, N>& names,
             const std::array<std::uint64_t, N>& packed_names) {
  if (name.empty()) return false;
  if (name.size() <= 8) return std::binary_search(packed_names.begin(), packed_names.end(), packed(name));
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// XML name characters as a table (bit 1: may start a name, bit 2: may
// continue one): every tag and attribute name is read a byte at a time,
// and the chain of range tests was a sixth of the scanner's instructions.
constexpr std::array<std::uint8_t, 256> kNameClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool start = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
    const bool more = start || (c >= '0' && c <= '9') || c == '-' || c == '.';
    t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>((start ? 1 : 0) | (more ? 2 : 0));
  }
  return t;
}();

bool is_name_start(char c) { return (kNameClass[static_cast<unsigned char>(c)] & 1) != 0; }
bool is_name_char(char c) { return (kNameClass[static_cast<unsigned char>(c)] & 2) != 0; }

// Element and attribute names are structure, but cap what we echo.
std::string shown(std::string_view name) { return std::string(gw::utf8_prefix(name, 40)); }

bool element_allowed(std::string_view name) {
  return name == kArea || in_list(name, kElements, kPackedElements);
}

bool attribute_allowed(std::string_view element, std::string_view attr) {
  if (in_list(attr, kAttributes, kPackedAttributes)) return true;
  return std::any_of(kElementAttributes.begin(), kElementAttributes.end(), [&](const ElementAttribute& ea) {
    return ea.attribute == attr && ea.element == element;
  });
}

bool lower_starts_with(std::string_view s, std::string_view prefix) {
  std::size_t i = 0;
  while (i < s.size() && is_ws(s[i])) ++i;
  s.remove_prefix(i);
  if (s.size() < prefix.size()) return false;
  for (std::size_t k = 0; k < prefix.size(); ++k) {
    char c = s[k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[k]) return false;
  }
  return true;
}

class Scanner {
 public:
  Scanner(std::string_view s, std::vector<XhtmlProblem>& out) : s_(s), out_(out) {
    // One allocation each for a typical narrative's nesting and attributes
    // instead of one per doubling.
    stack_.reserve(16);
    attrs_.reserve(8);
  }

  void run() {
    skip_ws();
    // An XML declaration before the div is tolerated.
    if (s_.substr(i_, 5) == "<?xml") {
      auto end = s_.find("?>", i_);
      if (end == std::string_view::npos) return bad("unterminated XML declaration");
      i_ = end + 2;
      skip_ws();
    }
    if (i_ >= s_.size() || s_[i_] != '<') return bad("the narrative must start with a <div> element");
    bool root_done = false;
    while (i_ < s_.size() && !failed_) {
      if (root_done) {
        skip_ws();
        if (i_ < s_.size()) {
          if (s_.substr(i_, 4) == "<!--") {
            if (!comment()) return;
            continue;
          }
          return bad("content after the closing </div>");
        }
        break;
      }
      char c = s_[i_];
      if (c == '<') {
        // Dispatch on the byte after '<': this runs for every tag of every
        // narrative, and most tags are plain start and end tags.
        const char next = i_ + 1 < s_.size() ? s_[i_ + 1] : '\0';
        if (next == '!' && s_.substr(i_, 4) == "<!--") {
          if (!comment()) return;
        } else if (next == '!' && s_.substr(i_, 9) == "<![CDATA[") {
          auto end = s_.find("]]>", i_);
          if (end == std::string_view::npos) return bad("unterminated CDATA section");
          if (!stack_.empty()) note_text(s_.substr(i_ + 9, end - i_ - 9));
          i_ = end + 3;
        } else if (next == '/') {
          if (!end_tag()) return;
          if (stack_.empty()) root_done = true;
        } else if (next == '!' || next == '?') {
          return bad("declarations and processing instructions are not allowed in the narrative");
        } else {
          bool self_closed = false;
          if (!start_tag(self_closed)) return;
          if (self_closed && stack_.empty()) root_done = true;
        }
      } else {
        if (stack_.empty()) return bad("text outside the root <div>");
        if (!text()) return;
      }
    }
    if (failed_) return;
    if (!stack_.empty()) return bad("element <" + shown(stack_.back()) + "> is not closed");
    if (!has_content_) {
      out_.push_back({XhtmlProblem::Rule::kEmpty, "the narrative has no non-whitespace content"});
    }
  }

 private:
  void bad(std::string msg) {
    if (failed_) return;
    failed_ = true;
    out_.push_back({XhtmlProblem::Rule::kWellFormed, "the narrative is not well-formed XHTML: " + msg});
  }

  void skip_ws() {
    while (i_ < s_.size() && is_ws(s_[i_])) ++i_;
  }

  bool comment() {
    auto end = s_.find("-->", i_ + 4);
    if (end == std::string_view::npos) {
      bad("unterminated comment");
      return false;
    }
    i_ = end + 3;
    return true;
  }

  std::string_view name() {
    std::size_t start = i_;
    if (i_ >= s_.size() || !is_name_start(s_[i_])) return {};
    while (i_ < s_.size() && is_name_char(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }

  void note_text(std::string_view t) {
    if (!has_content_ && !std::all_of(t.begin(), t.end(), is_ws)) has_content_ = true;
  }

  // The first '<' or '&' at or after `from` (or the end), sixteen bytes
  // at a time with SSE2 and eight otherwise: one pass instead of memchr
  // for '<' and again for '&' over the same text.
  std::size_t next_markup(std::size_t from) const {
    const char* p = s_.data();
    const std::size_t n = s_.size();
    std::size_t j = from;
#if defined(__SSE2__)
    const __m128i lt = _mm_set1_epi8('<');
    const __m128i amp = _mm_set1_epi8('&');
    for (; j + 16 <= n; j += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j));
      if (const int hit = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, lt), _mm_cmpeq_epi8(v, amp)))) {
        return j + static_cast<std::size_t>(std::countr_zero(static_cast<unsigned>(hit)));
      }
    }
#else
    if constexpr (std::endian::native == std::endian::little) {
      for (; j + 8 <= n; j += 8) {
        const std::uint64_t w = gw::swar::load_word(p + j);
        if (std::uint64_t hit = gw::swar::bytes_equal(w, '<') | gw::swar::bytes_equal(w, '&')) {
          return j + static_cast<std::size_t>(std::countr_zero(hit) >> 3);
        }
      }
    }
#endif
    while (j < n && p[j] != '<' && p[j] != '&') ++j;
    return j;
  }

  // Character data up to the next '<': entities must be well formed.
  bool text() {
    std::size_t start = i_;
    for (;;) {
      i_ = next_markup(i_);
      if (i_ >= s_.size() || s_[i_] == '<') break;
      if (!entity()) return false;
      has_content_ = true;
    }
    note_text(s_.substr(start, i_ - start));
    return true;
  }

  // &name; or &#123; or &#x1F;
  bool entity() {
    std::size_t j = i_ + 1;
    if (j < s_.size() && s_[j] == '#') {
      ++j;
      bool hex = j < s_.size() && (s_[j] == 'x' || s_[j] == 'X');
      if (hex) ++j;
      std::size_t digits = 0;
      while (j < s_.size() && (std::isxdigit(static_cast<unsigned char>(s_[j])) != 0) &&
             (hex || (s_[j] >= '0' && s_[j] <= '9'))) {
        ++j;
        ++digits;
      }
      if (digits == 0 || j >= s_.size() || s_[j] != ';') {
        bad("malformed character reference");
        return false;
      }
    } else {
      std::size_t n = 0;
      while (j < s_.size() && ((s_[j] >= 'a' && s_[j] <= 'z') || (s_[j] >= 'A' && s_[j] <= 'Z') ||
                               (s_[j] >= '0' && s_[j] <= '9'))) {
        ++j;
        ++n;
      }
      if (n == 0 || j >= s_.size() || s_[j] != ';') {
        bad("'&' must start an entity reference");
        return false;
      }
    }
    i_ = j + 1;
    return true;
  }

  bool start_tag(bool& self_closed) {
    ++i_;  // '<'
    std::string_view el = name();
    if (el.empty()) {
      bad("malformed start tag");
      return false;
    }
    bool root = stack_.empty();
    if (root && el != "div") {
      out_.push_back({XhtmlProblem::Rule::kNamespace,
                      "the narrative root element must be <div>, found <" + shown(el) + ">"});
    }
    if (!element_allowed(el)) {
      out_.push_back({XhtmlProblem::Rule::kElement,
                      "element <" + shown(el) + "> is not allowed in a narrative"});
    }
    if (el == "img" || el == "br" || el == "hr") has_content_ = true;
    std::vector<std::string_view>& seen = attrs_;
    seen.clear();
    bool has_ns = false;
    while (true) {
      skip_ws();
      if (i_ >= s_.size()) {
        bad("unterminated start tag");
        return false;
      }
      if (s_[i_] == '>') {
        ++i_;
        break;
      }
      if (s_.substr(i_, 2) == "/>") {
        i_ += 2;
        self_closed = true;
        break;
      }
      std::size_t before = i_;
      std::string_view an = name();
      if (an.empty() || before == i_) {
        bad("malformed attribute in <" + shown(el) + ">");
        return false;
      }
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != '=') {
        bad("attribute without a value in <" + shown(el) + ">");
        return false;
      }
      ++i_;
      skip_ws();
      if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) {
        bad("attribute value must be quoted in <" + shown(el) + ">");
        return false;
      }
      char q = s_[i_++];
      std::size_t vstart = i_;
      while (i_ < s_.size() && s_[i_] != q) {
        if (s_[i_] == '<') {
          bad("'<' inside an attribute value");
          return false;
        }
        if (s_[i_] == '&') {
          if (!entity()) return false;
          continue;
        }
        ++i_;
      }
      if (i_ >= s_.size()) {
        bad("unterminated attribute value");
        return false;
      }
      std::string_view value = s_.substr(vstart, i_ - vstart);
      ++i_;
      // (flat_equal: names are short, and a memcmp call per comparison
      // was a tenth of the scanner's time.)
      if (std::any_of(seen.begin(), seen.end(), [an](std::string_view o) { return gw::flat_equal(o, an); })) {
        bad("attribute repeated in <" + shown(el) + ">");
        return false;
      }
      seen.push_back(an);
      if (an == "xmlns") {
        has_ns = true;
        if (value != kXhtmlNs) {
          out_.push_back({XhtmlProblem::Rule::kNamespace,
                          "the narrative must be in the XHTML namespace " + std::string(kXhtmlNs)});
        }
        continue;
      }
      // Namespace declarations are harmless. (flat_equal: an out-of-line
      // compare per attribute otherwise.)
      if (an.size() >= 6 && gw::flat_equal(an.substr(0, 6), "xmlns:")) continue;
      if (!attribute_allowed(el, an)) {
        out_.push_back({XhtmlProblem::Rule::kAttribute, "attribute '" + shown(an) + "' on <" + shown(el) +
                                                            "> is not allowed in a narrative"});
        continue;
      }
      if ((an == "href" || an == "src") && (lower_starts_with(value, "javascript:") ||
                                            lower_starts_with(value, "vbscript:"))) {
        out_.push_back({XhtmlProblem::Rule::kAttribute,
                        "attribute '" + shown(an) + "' on <" + shown(el) + "> holds active content"});
      }
    }
    if (root && !has_ns) {
      out_.push_back({XhtmlProblem::Rule::kNamespace,
                      "the narrative <div> must declare xmlns=\"" + std::string(kXhtmlNs) + "\""});
    }
    if (!self_closed) {
      if (stack_.size() >= kMaxDepth) {
        bad("elements nested too deeply");
        return false;
      }
      stack_.push_back(el);
    }
    return true;
  }

  bool end_tag() {
    i_ += 2;
    std::string_view el = name();
    skip_ws();
    if (el.empty() || i_ >= s_.size() || s_[i_] != '>') {
      bad("malformed end tag");
      return false;
    }
    ++i_;
    if (stack_.empty() || !gw::flat_equal(stack_.back(), el)) {
      bad("end tag </" + shown(el) + "> does not match the open element");
      return false;
    }
    stack_.pop_back();
    return true;
  }

  static constexpr std::size_t kMaxDepth = 256;
  std::string_view s_;
  std::vector<XhtmlProblem>& out_;
  std::size_t i_ = 0;
  std::vector<std::string_view> stack_;
  std::vector<std::string_view> attrs_;
  bool failed_ = false;
  bool has_content_ = false;
};

}  // namespace

void check_xhtml(std::string_view text, std::vector<XhtmlProblem>& out) {
  Scanner(text, out).run();
}

}  // namespace gw::validation::detail
