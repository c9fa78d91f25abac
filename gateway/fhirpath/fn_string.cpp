// String functions (N1 §5.6 and the 2.0 additions the R4 suite uses:
// trim, split, join, encode/decode, escape/unescape, matchesFull).
//
// Positions and lengths count characters (Unicode code points), not bytes:
// FHIR strings are UTF-8 and `'Bénédicte'.length()` is 9. Regular
// expressions run on RE2 (linear time, no catastrophic backtracking on
// hostile patterns) with `.` matching newlines, as FHIRPath's single-line
// mode requires.
#include "gateway/fhirpath/detail/program.hpp"
#include "gateway/core/html.hpp"
#include "gateway/fhirpath/detail/value.hpp"

#include <re2/re2.h>

namespace gw::fhirpath::detail {

namespace {

// ---- UTF-8 helpers ----------------------------------------------------------

std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;  // stray continuation byte: count it alone
}

// Byte offsets of every character start, plus the end.
std::vector<std::size_t> char_starts(std::string_view s) {
  std::vector<std::size_t> out;
  std::size_t i = 0;
  while (i < s.size()) {
    out.push_back(i);
    i += utf8_length(static_cast<unsigned char>(s[i]));
  }
  out.push_back(s.size());
  return out;
}

std::uint32_t decode_at(std::string_view s, std::size_t i, std::size_t n) {
  auto b = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s[i + k])); };
  switch (n) {
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    case 4: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    default: return b(0);
  }
}

void encode_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Simple case mapping for the scripts clinical text in our regions uses
// most: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic. (Full Unicode
// case mapping needs ICU; these ranges cover the names we see.)
std::uint32_t to_upper_cp(std::uint32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;
  if (c == 0xFF) return 0x178;  // ÿ -> Ÿ
  if (c == 0x3C2) return 0x3A3;  // final sigma
  if (c >= 0x100 && c <= 0x17E && c != 0x131 && c != 0x138 && c != 0x149) {
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_upper ? (c % 2 == 0) : (c % 2 == 1)) return c - 1;
    return c;
  }
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

std::uint32_t to_lower_cp(std::uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c == 0x178) return 0xFF;  // Ÿ -> ÿ
  if (c >= 0x100 && c <= 0x17E && c != 0x130 && c != 0x138 && c != 0x149 && c != 0x178) {
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_upper ? (c % 2 == 1) : (c % 2 == 0)) return c + 1;
    return c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

std::string map_case(std::string_view s, bool upper) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t n = std::min(utf8_length(static_cast<unsigned char>(s[i])), s.size() - i);
    std::uint32_t cp = decode_at(s, i, n);
    encode_utf8(out, upper ? to_upper_cp(cp) : to_lower_cp(cp));
    i += n;
  }
  return out;
}

// ---- common shape -------------------------------------------------------------

// The single String input of a string function; nullopt for empty input.
Result<std::optional<std::string>> string_input(Evaluator& ev, const Op& call, const Collection& input) {
  GW_TRY(const Item* x, single_item(ev, call, input, "function '" + call.name + "'"));
  if (!x) return std::optional<std::string>();
  std::optional<std::string> s = string_value(*x);
  if (!s) {
    if (x->is_node() && x->node().is_primitive() && !x->node().has_primitive_value()) {
      return std::optional<std::string>();  // a string with only extensions
    }
    return ev.error(call, "function '" + call.name + "' expects a String input, not " + x->type_name());
  }
  return s;
}

Collection str(std::string s) { return Collection{Item::string(std::move(s))}; }
Collection boolean(bool b) { return Collection{Item::boolean(b)}; }
Collection integer(std::int64_t i) { return Collection{Item::integer(i)}; }

#define GW_STRING_INPUT(var)                                   \
  GW_TRY(std::optional<std::string> var##_opt, string_input(ev, call, input)); \
  if (!var##_opt) return Collection{};                         \
  const std::string& var = *var##_opt

#define GW_STRING_ARG(var, i)                                   \
  GW_TRY(std::optional<std::string> var##_opt, ev.string_arg(call, i, scope)); \
  if (!var##_opt) return Collection{};                          \
  const std::string& var = *var##_opt

// ---- functions ------------------------------------------------------------------

Result<Collection> fn_index_of(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_STRING_INPUT(s);
  GW_STRING_ARG(sub, 0);
  std::size_t at = s.find(sub);
  if (at == std::string::npos) return integer(-1);
  std::vector<std::size_t> starts = char_starts(s);
  auto it = std::lower_bound(starts.begin(), starts.end(), at);
  return integer(static_cast<std::int64_t>(it - starts.begin()));
}

Result<Collection> fn_substring(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_STRING_INPUT(s);
  GW_TRY(std::optional<std::int64_t> start, ev.integer_arg(call, 0, scope));
  if (!start) return Collection{};
  std::vector<std::size_t> starts = char_starts(s);
  std::int64_t chars = static_cast<std::int64_t>(starts.size()) - 1;
  if (*start < 0 || *start >= chars) return Collection{};
  std::int64_t end = chars;
  if (call.args.size() > 1) {
    GW_TRY(std::optional<std::int64_t> length, ev.integer_arg(call, 1, scope));
    if (length) {
      if (*length <= 0) return str("");
      if (*length < chars - *start) end = *start + *length;
    }
  }
  std::size_t b = starts[static_cast<std::size_t>(*start)];
  std::size_t e = starts[static_cast<std::size_t>(end)];
  return str(s.substr(b, e - b));
}

Result<Collection> fn_starts_with(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_STRING_INPUT(s);
  GW_STRING_ARG(prefix, 0);
  return boolean(s.compare(0, prefix.size(), prefix) == 0 && s.size() >= prefix.size());
}

Result<Collection> fn_ends_with(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_STRING_INPUT(s);
  GW_STRING_ARG(suffix, 0);
  return boolean(s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0);
}

Result<Collection> fn_contains(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_STRING_INPUT(s);
  GW_STRING_ARG(sub, 0);
  return boolean(s.find(sub) != std::string::npos);
}

Result<Collection> fn_upper(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_STRING_INPUT(s);
  return str(map_case(s, true));
}

Result<Collection> fn_lower(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_STRING_INPUT(s);
  return str(map_case(s, false));
}

// Growth is bounded: repeated replace('', ...) can multiply a string's
// length, so the result counts against the item limit (64 bytes an item).
Result<Collection> fn_replace(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_STRING_INPUT(s);
  GW_STRING_ARG(pattern, 0);
  GW_STRING_ARG(subst, 1);
  std::string out;
  if (pattern.empty()) {
    // Between every character and at both ends: 'abc' -> 'xaxbxcx'.
    std::vector<std::size_t> starts = char_starts(s);
    out += subst;
    for (std::size_t i = 0; i + 1 < starts.size(); ++i) {
      out.append(s, starts[i], starts[i + 1] - starts[i]);
      out += subst;
    }
  } else {
    std::size_t pos = 0;
    for (;;) {
      std::size_t at = s.find(pattern, pos);
      if (at == std::string::npos) break;
      out.append(s, pos, at - pos);
      out += subst;
      pos = at + pattern.size();
    }
    out.append(s, pos, std::string::npos);
  }
  GW_CHECK_OK(ev.check_size(out.size() / 64, call));
  return str(std::move(out));
}

// The regex of a call: compiled at compile time for literal patterns,
// here otherwise.
Result<std::shared_ptr<const RE2>> regex_for(Evaluator& ev, const Op& call, const std::string& pattern,
                                            bool full) {
  if (call.regex) return call.regex;
  RE2::Options o;
  o.set_log_errors(false);
  o.set_dot_nl(true);
  o.set_max_mem(8 << 20);
  auto re = std::make_shared<const RE2>(full ? "^(?:" + pattern + ")$" : pattern, o);
  if (!re->ok()) return ev.error(call, "invalid regular expression");
  return std::shared_ptr<const RE2>(std::move(re));
}

Result<Collection> fn_matches(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_STRING_INPUT(s);
  GW_STRING_ARG(pattern, 0);
  GW_TRY(auto re, regex_for(ev, call, pattern, false));
  return boolean(RE2::PartialMatch(s, *re));
}

Result<Collection> fn_matches_full(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_STRING_INPUT(s);
  GW_STRING_ARG(pattern, 0);
  GW_TRY(auto re, regex_for(ev, call, pattern, true));
  return boolean(RE2::FullMatch(s, *re));
}

// An empty pattern returns the input unchanged (testReplaceMatches2), unlike
// replace('', x), which inserts x between characters (testReplace2).
Result<Collection> fn_replace_matches(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_STRING_INPUT(s);
  GW_STRING_ARG(pattern, 0);
  GW_STRING_ARG(subst, 1);
  if (pattern.empty()) return str(s);
  GW_TRY(auto re, regex_for(ev, call, pattern, false));
  // FHIRPath writes groups as $1; RE2 as \1 (and a literal backslash as \\).
  std::string rewrite;
  for (std::size_t i = 0; i < subst.size(); ++i) {
    char c = subst[i];
    if (c == '$' && i + 1 < subst.size() && subst[i + 1] >= '0' && subst[i + 1] <= '9') {
      rewrite += '\\';
      rewrite += subst[++i];
    } else if (c == '\\') {
      rewrite += "\\\\";
    } else {
      rewrite += c;
    }
  }
  std::string error;
  if (!re->CheckRewriteString(rewrite, &error)) {
    return ev.error(call, "replaceMatches() substitution refers to a missing group");
  }
  std::string out = s;
  RE2::GlobalReplace(&out, *re, rewrite);
  return str(std::move(out));
}

Result<Collection> fn_length(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_STRING_INPUT(s);
  return integer(static_cast<std::int64_t>(char_starts(s).size() - 1));
}

Result<Collection> fn_to_chars(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_STRING_INPUT(s);
  std::vector<std::size_t> starts = char_starts(s);
  Collection out;
  for (std::size_t i = 0; i + 1 < starts.size(); ++i) {
    out.push_back(Item::string(s.substr(starts[i], starts[i + 1] - starts[i])));
  }
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

Result<Collection> fn_trim(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_STRING_INPUT(s);
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return str(s.substr(b, e - b));
}

Result<Collection> fn_split(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_STRING_INPUT(s);
  GW_STRING_ARG(sep, 0);
  Collection out;
  if (sep.empty()) {
    std::vector<std::size_t> starts = char_starts(s);
    for (std::size_t i = 0; i + 1 < starts.size(); ++i) {
      out.push_back(Item::string(s.substr(starts[i], starts[i + 1] - starts[i])));
    }
    return out;
  }
  std::size_t pos = 0;
  for (;;) {
    std::size_t at = s.find(sep, pos);
    if (at == std::string::npos) {
      out.push_back(Item::string(s.substr(pos)));
      break;
    }
    out.push_back(Item::string(s.substr(pos, at - pos)));
    pos = at + sep.size();
  }
  return out;
}

Result<Collection> fn_join(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  std::string sep;
  if (!call.args.empty()) {
    GW_TRY(std::optional<std::string> s, ev.string_arg(call, 0, scope));
    if (s) sep = *s;
  }
  std::string out;
  bool first = true;
  for (const Item& i : input) {
    std::optional<std::string> s = string_value(i);
    if (!s) return ev.error(call, "join() expects a collection of Strings, found " + i.type_name());
    if (!first) out += sep;
    out += *s;
    first = false;
  }
  return str(std::move(out));
}

// ---- encode / decode -------------------------------------------------------------

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kHex[] = "0123456789abcdef";

std::string base64_encode(std::string_view in, const char* alphabet) {
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                      static_cast<unsigned char>(in[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in, bool url) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == (url ? '-' : '+')) v = 62;
    else if (c == (url ? '_' : '/')) v = 63;
    else if (c == '=') break;
    else return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view in) {
  if (in.size() % 2) return std::nullopt;
  std::string out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); i += 2) {
    int h = nibble(in[i]);
    int l = nibble(in[i + 1]);
    if (h < 0 || l < 0) return std::nullopt;
    out.push_back(static_cast<char>(h * 16 + l));
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = utf8_length(c);
    if (n == 1 && c >= 0x80) return false;
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

Result<Collection> fn_encode(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_STRING_INPUT(s);
  GW_STRING_ARG(format, 0);
  if (format == "base64") return str(base64_encode(s, kBase64));
  if (format == "urlbase64") return str(base64_encode(s, kBase64Url));
  if (format == "hex") {
    std::string out;
    for (char c : s) {
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 15];
      out += kHex[static_cast<unsigned char>(c) & 15];
    }
    return str(std::move(out));
  }
  return ev.error(call, "encode() supports base64, urlbase64 and hex");
}

Result<Collection> fn_decode(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_STRING_INPUT(s);
  GW_STRING_ARG(format, 0);
  std::optional<std::string> out;
  if (format == "base64") {
    out = base64_decode(s, false);
  } else if (format == "urlbase64") {
    out = base64_decode(s, true);
  } else if (format == "hex") {
    out = hex_decode(s);
  } else {
    return ev.error(call, "decode() supports base64, urlbase64 and hex");
  }
  // A FHIRPath String is text: bytes that are not UTF-8 give empty.
  if (!out || !valid_utf8(*out)) return Collection{};
  return str(std::move(*out));
}

// ---- escape / unescape -------------------------------------------------------------

std::string escape_html(std::string_view s) {
  std::string out;
  gw::append_html_escaped(out, s);
  return out;
}

std::string unescape_html(std::string_view s) {
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&apos;", '\''}};
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    bool done = false;
    if (s[i] == '&') {
      for (const auto& [name, c] : kEntities) {
        if (s.substr(i, name.size()) == name) {
          out += c;
          i += name.size();
          done = true;
          break;
        }
      }
      if (!done && i + 2 < s.size() && s[i + 1] == '#') {
        std::size_t semi = s.find(';', i);
        if (semi != std::string_view::npos && semi - i <= 10) {
          std::string_view num = s.substr(i + 2, semi - i - 2);
          std::uint32_t cp = 0;
          bool ok = !num.empty();
          bool hex = !num.empty() && (num[0] == 'x' || num[0] == 'X');
          if (hex) num.remove_prefix(1);
          for (char c : num) {
            int d = (c >= '0' && c <= '9') ? c - '0'
                    : (hex && c >= 'a' && c <= 'f') ? c - 'a' + 10
                    : (hex && c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
            if (d < 0 || cp > 0x10FFFF) { ok = false; break; }
            cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(d);
          }
          if (ok && !num.empty() && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
            encode_utf8(out, cp);
            i = semi + 1;
            done = true;
          }
        }
      }
    }
    if (!done) out += s[i++];
  }
  return out;
}

std::string escape_json(std::string_view s) {
  std::string quoted;
  json::append_quoted(quoted, s);
  return quoted.substr(1, quoted.size() - 2);
}

std::string unescape_json(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    char e = s[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        std::uint32_t cp = 0;
        bool ok = i + 4 < s.size();
        for (std::size_t k = 1; ok && k <= 4; ++k) {
          char c = s[i + k];
          int d = (c >= '0' && c <= '9') ? c - '0'
                  : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                  : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
          if (d < 0) ok = false;
          cp = cp * 16 + static_cast<std::uint32_t>(d < 0 ? 0 : d);
        }
        if (ok && !(cp >= 0xD800 && cp <= 0xDFFF)) {
          encode_utf8(out, cp);
          i += 4;
        } else {
          out += "\\u";
        }
        break;
      }
      default: out += e; break;  // \" \\ \/
    }
  }
  return out;
}

Result<Collection> fn_escape(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_STRING_INPUT(s);
  GW_STRING_ARG(target, 0);
  if (target == "html") return str(escape_html(s));
  if (target == "json") return str(escape_json(s));
  return ev.error(call, "escape() supports html and json");
}

Result<Collection> fn_unescape(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_STRING_INPUT(s);
  GW_STRING_ARG(target, 0);
  if (target == "html") return str(unescape_html(s));
  if (target == "json") return str(unescape_json(s));
  return ev.error(call, "unescape() supports html and json");
}

#undef GW_STRING_INPUT
#undef GW_STRING_ARG

constexpr InputKind kStr = InputKind::kString;

constexpr FunctionDef kFunctions[] = {
    {"indexOf", 1, 1, fn_index_of, ArgMode::kValues, ResultKind::kInteger, kStr},
    {"substring", 1, 2, fn_substring, ArgMode::kValues, ResultKind::kString, kStr},
    {"startsWith", 1, 1, fn_starts_with, ArgMode::kValues, ResultKind::kBoolean, kStr},
    {"endsWith", 1, 1, fn_ends_with, ArgMode::kValues, ResultKind::kBoolean, kStr},
    {"contains", 1, 1, fn_contains, ArgMode::kValues, ResultKind::kBoolean, kStr},
    {"upper", 0, 0, fn_upper, ArgMode::kValues, ResultKind::kString, kStr},
    {"lower", 0, 0, fn_lower, ArgMode::kValues, ResultKind::kString, kStr},
    {"replace", 2, 2, fn_replace, ArgMode::kValues, ResultKind::kString, kStr},
    {"matches", 1, 1, fn_matches, ArgMode::kValues, ResultKind::kBoolean, kStr},
    {"matchesFull", 1, 1, fn_matches_full, ArgMode::kValues, ResultKind::kBoolean, kStr},
    {"replaceMatches", 2, 2, fn_replace_matches, ArgMode::kValues, ResultKind::kString, kStr},
    {"length", 0, 0, fn_length, ArgMode::kValues, ResultKind::kInteger, kStr},
    {"toChars", 0, 0, fn_to_chars, ArgMode::kValues, ResultKind::kString, kStr},
    {"trim", 0, 0, fn_trim, ArgMode::kValues, ResultKind::kString, kStr},
    {"split", 1, 1, fn_split, ArgMode::kValues, ResultKind::kString, kStr},
    {"join", 0, 1, fn_join, ArgMode::kValues, ResultKind::kString, kStr},
    {"encode", 1, 1, fn_encode, ArgMode::kValues, ResultKind::kString, kStr},
    {"decode", 1, 1, fn_decode, ArgMode::kValues, ResultKind::kString, kStr},
    {"escape", 1, 1, fn_escape, ArgMode::kValues, ResultKind::kString, kStr},
    {"unescape", 1, 1, fn_unescape, ArgMode::kValues, ResultKind::kString, kStr},
};

}  // namespace

std::span<const FunctionDef> string_functions() { return kFunctions; }

}  // namespace gw::fhirpath::detail
