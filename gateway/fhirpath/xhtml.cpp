// htmlChecks(): a small, strict XML reader for Narrative.div.
//
// The narrative is untrusted input that receiving clinics will render, so
// the check is a whitelist: the elements and attributes FHIR R4's txt-1
// allows (HTML 4 formatting, lists, tables, links and images), nothing that
// runs code or pulls in other documents. The reader is iterative (an
// explicit element stack with a depth bound), never recursive.
#include "gateway/fhirpath/detail/xhtml.hpp"

#include "gateway/core/core.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace gw::fhirpath::detail {

namespace {

constexpr std::string_view kXhtmlNs = "http://www.w3.org/1999/xhtml";
constexpr std::size_t kMaxDepth = 256;

constexpr std::array<std::string_view, 56> kElements = {
    "a", "abbr", "acronym", "address", "area", "b", "bdo", "big", "blockquote", "br",
    "caption", "cite", "code", "col", "colgroup", "dd", "dfn", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "kbd", "li", "map", "ol", "p", "pre", "q", "samp", "small", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "tt", "ul", "var", "ins", "del", "s"};

constexpr std::array<std::string_view, 51> kAttributes = {
    "title", "style", "class", "id", "lang", "xml:lang", "dir", "accesskey", "tabindex",
    "span", "width", "height", "align", "valign", "char", "charoff", "abbr", "axis",
    "headers", "scope", "rowspan", "colspan", "border", "cellpadding", "cellspacing",
    "frame", "rules", "summary", "href", "name", "src", "alt", "longdesc", "usemap",
    "ismap", "shape", "coords", "nohref", "start", "type", "value", "compact", "cite",
    "datetime", "hreflang", "rel", "rev", "charset", "nowrap", "bgcolor", "xmlns"};

bool contains(std::string_view list_name, std::string_view s) {
  if (list_name == "elements") return std::find(kElements.begin(), kElements.end(), s) != kElements.end();
  return std::find(kAttributes.begin(), kAttributes.end(), s) != kAttributes.end();
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// `&...;` at s[i]: a character reference or a named entity. Returns the
// length consumed, 0 if malformed.
std::size_t entity_length(std::string_view s, std::size_t i) {
  std::size_t j = i + 1;
  if (j < s.size() && s[j] == '#') {
    ++j;
    bool hex = j < s.size() && (s[j] == 'x' || s[j] == 'X');
    if (hex) ++j;
    std::size_t digits = 0;
    while (j < s.size() && digits < 8 &&
           ((s[j] >= '0' && s[j] <= '9') || (hex && ((s[j] >= 'a' && s[j] <= 'f') || (s[j] >= 'A' && s[j] <= 'F'))))) {
      ++j;
      ++digits;
    }
    if (digits == 0 || j >= s.size() || s[j] != ';') return 0;
    return j + 1 - i;
  }
  std::size_t start = j;
  while (j < s.size() && j - start < 32 &&
         ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= '0' && s[j] <= '9'))) {
    ++j;
  }
  if (j == start || j >= s.size() || s[j] != ';') return 0;
  return j + 1 - i;
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  std::string run() {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
    if (pos_ >= s_.size() || s_[pos_] != '<') return "the narrative must start with a div element";
    while (pos_ < s_.size()) {
      std::string problem = s_[pos_] == '<' ? markup() : text();
      if (!problem.empty()) return problem;
    }
    if (!stack_.empty()) return "an element is not closed";
    if (!root_seen_) return "the narrative has no root element";
    if (!has_content_) return "the narrative has no content";
    return {};
  }

 private:
  bool starts(std::string_view p) const { return s_.substr(pos_, p.size()) == p; }

  std::string text() {
    std::size_t end = s_.find('<', pos_);
    if (end == std::string_view::npos) end = s_.size();
    for (std::size_t i = pos_; i < end; ++i) {
      char c = s_[i];
      if (c == '&') {
        std::size_t n = entity_length(s_, i);
        if (n == 0) return "malformed entity reference";
        i += n - 1;
      }
      if (!is_space(c)) {
        if (stack_.empty()) return "text outside the root element";
        has_content_ = true;
      }
    }
    pos_ = end;
    return {};
  }

  std::string name(std::string& out) {
    std::size_t start = pos_;
    while (pos_ < s_.size() && is_name_char(s_[pos_])) ++pos_;
    if (pos_ == start) return "malformed element or attribute name";
    out = std::string(s_.substr(start, pos_ - start));
    return {};
  }

  void skip_space() {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
  }

  std::string markup() {
    if (starts("<!--")) {
      std::size_t end = s_.find("-->", pos_ + 4);
      if (end == std::string_view::npos) return "unterminated comment";
      pos_ = end + 3;
      return {};
    }
    if (starts("<![CDATA[")) {
      std::size_t end = s_.find("]]>", pos_ + 9);
      if (end == std::string_view::npos) return "unterminated CDATA section";
      if (stack_.empty()) return "text outside the root element";
      for (std::size_t i = pos_ + 9; i < end; ++i) {
        if (!is_space(s_[i])) has_content_ = true;
      }
      pos_ = end + 3;
      return {};
    }
    if (starts("<?") || starts("<!")) return "processing instructions and declarations are not allowed";
    if (starts("</")) {
      pos_ += 2;
      std::string n;
      if (auto p = name(n); !p.empty()) return p;
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '>') return "malformed end tag";
      ++pos_;
      if (stack_.empty() || stack_.back() != n) return "mismatched end tag";
      stack_.pop_back();
      return {};
    }
    return start_tag();
  }

  std::string start_tag() {
    ++pos_;  // '<'
    std::string n;
    if (auto p = name(n); !p.empty()) return p;
    if (root_seen_ && stack_.empty()) return "content after the root element";
    bool is_root = !root_seen_;
    root_seen_ = true;
    if (is_root && n != "div") return "the root element must be a div";
    if (!contains("elements", n)) return "element <" + std::string(gw::utf8_prefix(lower(n), 16)) + "> is not allowed in a narrative";
    if (n == "img") has_content_ = true;
    bool xhtml_ns = false;
    std::vector<std::string> seen;
    for (;;) {
      skip_space();
      if (pos_ >= s_.size()) return "unterminated start tag";
      if (s_[pos_] == '>') {
        ++pos_;
        if (stack_.size() >= kMaxDepth) return "the narrative is nested too deeply";
        stack_.push_back(n);
        break;
      }
      if (starts("/>")) {
        pos_ += 2;
        break;
      }
      std::string attr;
      if (auto p = name(attr); !p.empty()) return p;
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '=') return "attribute without a value";
      ++pos_;
      skip_space();
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) return "unquoted attribute value";
      char quote = s_[pos_++];
      std::size_t end = s_.find(quote, pos_);
      if (end == std::string_view::npos) return "unterminated attribute value";
      std::string_view value = s_.substr(pos_, end - pos_);
      pos_ = end + 1;
      if (value.find('<') != std::string_view::npos) return "'<' inside an attribute value";
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '&' && entity_length(value, i) == 0) return "malformed entity reference";
      }
      if (std::find(seen.begin(), seen.end(), attr) != seen.end()) return "duplicate attribute";
      seen.push_back(attr);
      if (attr == "xmlns") {
        if (value != kXhtmlNs) return "the narrative must be in the XHTML namespace";
        xhtml_ns = true;
        continue;
      }
      if (attr.rfind("xmlns:", 0) == 0) continue;
      std::string la = lower(attr);
      if (la.rfind("on", 0) == 0) return "event handler attributes are not allowed";
      if (!contains("attributes", attr)) return "attribute '" + std::string(gw::utf8_prefix(la, 24)) + "' is not allowed in a narrative";
      if (la == "href" || la == "src" || la == "longdesc" || la == "usemap" || la == "cite") {
        std::string v = lower(value);
        v.erase(std::remove_if(v.begin(), v.end(), [](char c) { return is_space(c); }), v.end());
        if (v.rfind("javascript:", 0) == 0 || v.rfind("vbscript:", 0) == 0) {
          return "script URLs are not allowed";
        }
      }
    }
    if (is_root && !xhtml_ns) return "the narrative must be in the XHTML namespace";
    return {};
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::vector<std::string> stack_;
  bool root_seen_ = false;
  bool has_content_ = false;
};

}  // namespace

std::string check_narrative_xhtml(std::string_view xhtml) { return Reader(xhtml).run(); }

}  // namespace gw::fhirpath::detail
