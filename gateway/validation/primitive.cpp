// Hand-written matchers for the R4 primitive regexes. Each function below
// names the regex it implements; keep them in step (primitive_test.cpp
// checks them against RE2 on the published regexes).
#include "gateway/validation/detail/primitive.hpp"

#include "gateway/core/swar.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gw::validation::detail {
namespace {

// Eight bytes at a time (gw::swar) for the scans every string value gets:
// most strings hold no control byte, DEL, C1 lead byte or whitespace, and
// the byte loops below only start at the first word that holds one.
using swar::bytes_below;
using swar::bytes_equal;
using swar::kHighs;
using swar::kOnes;
using swar::load_word;

// The offset of the first 8-byte word from `i` on that may hold a byte
// `suspect` flags, or the size of `s` rounded down to whole words.
template <class Suspect>
std::size_t skip_clean_words(std::string_view s, std::size_t i, Suspect suspect) {
  while (i + 8 <= s.size() && !suspect(load_word(s.data() + i))) i += 8;
  return i;
}

struct KindName {
  std::string_view name;
  PrimitiveKind kind;
  std::string_view regex;
};

// The regexes exactly as R4 4.0.1 publishes them (profiles-types.json).
constexpr std::array<KindName, 20> kKinds{{
    {"boolean", PrimitiveKind::kBoolean, "true|false"},
    {"integer", PrimitiveKind::kInteger, R"(-?([0]|([1-9][0-9]*)))"},
    {"decimal", PrimitiveKind::kDecimal, R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)"},
    {"positiveInt", PrimitiveKind::kPositiveInt, R"([1-9][0-9]*)"},
    {"unsignedInt", PrimitiveKind::kUnsignedInt, R"([0]|([1-9][0-9]*))"},
    {"string", PrimitiveKind::kString, R"([ \r\n\t\S]+)"},
    {"markdown", PrimitiveKind::kMarkdown, R"([ \r\n\t\S]+)"},
    {"code", PrimitiveKind::kCode, R"([^\s]+(\s[^\s]+)*)"},
    {"id", PrimitiveKind::kId, R"([A-Za-z0-9\-\.]{1,64})"},
    {"uri", PrimitiveKind::kUri, R"(\S*)"},
    {"url", PrimitiveKind::kUrl, R"(\S*)"},
    {"canonical", PrimitiveKind::kCanonical, R"(\S*)"},
    {"oid", PrimitiveKind::kOid, R"(urn:oid:[0-2](\.(0|[1-9][0-9]*))+)"},
    {"uuid", PrimitiveKind::kUuid,
     R"(urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"},
    {"date", PrimitiveKind::kDate,
     R"(([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?)"},
    {"dateTime", PrimitiveKind::kDateTime,
     R"(([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?)"},
    {"instant", PrimitiveKind::kInstant,
     R"(([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))"},
    {"time", PrimitiveKind::kTime, R"(([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?)"},
    {"base64Binary", PrimitiveKind::kBase64Binary, R"((\s*([0-9a-zA-Z\+/=]){4}\s*)+)"},
    {"xhtml", PrimitiveKind::kXhtml, ""},
}};

// RE2's \s: [\t\n\f\r ].
constexpr bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A cursor over the text for the date/time grammars.
struct Cursor {
  std::string_view s;
  std::size_t i = 0;
  bool done() const { return i == s.size(); }
  bool peek(char c) const { return i < s.size() && s[i] == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++i;
    return true;
  }
  bool digits(std::size_t n) {
    if (s.size() - i < n) return false;
    for (std::size_t k = 0; k < n; ++k) {
      if (!is_digit(s[i + k])) return false;
    }
    return true;
  }
  int num(std::size_t n) {  // after digits(n) succeeded
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) v = v * 10 + (s[i + k] - '0');
    i += n;
    return v;
  }
};

// ([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000): four digits, not 0000.
bool year(Cursor& c) {
  if (!c.digits(4)) return false;
  return c.num(4) != 0;
}
// (0[1-9]|1[0-2])
bool month(Cursor& c) {
  if (!c.digits(2)) return false;
  int m = c.num(2);
  return m >= 1 && m <= 12;
}
// (0[1-9]|[1-2][0-9]|3[0-1])
bool day(Cursor& c) {
  if (!c.digits(2)) return false;
  int d = c.num(2);
  return d >= 1 && d <= 31;
}
// ([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?
bool clock(Cursor& c) {
  if (!c.digits(2) || c.num(2) > 23) return false;
  if (!c.eat(':') || !c.digits(2) || c.num(2) > 59) return false;
  if (!c.eat(':') || !c.digits(2) || c.num(2) > 60) return false;
  if (c.eat('.')) {
    if (!c.digits(1)) return false;
    while (!c.done() && is_digit(c.s[c.i])) ++c.i;
  }
  return true;
}
// (Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))
bool zone(Cursor& c) {
  if (c.eat('Z')) return true;
  if (!c.eat('+') && !c.eat('-')) return false;
  if (!c.digits(2)) return false;
  int h = c.num(2);
  if (h > 14 || !c.eat(':') || !c.digits(2)) return false;
  int m = c.num(2);
  if (m > 59) return false;
  return h < 14 || m == 0;
}

bool match_date(std::string_view s) {
  Cursor c{s};
  if (!year(c)) return false;
  if (c.done()) return true;
  if (!c.eat('-') || !month(c)) return false;
  if (c.done()) return true;
  return c.eat('-') && day(c) && c.done();
}

bool match_date_time(std::string_view s) {
  Cursor c{s};
  if (!year(c)) return false;
  if (c.done()) return true;
  if (!c.eat('-') || !month(c)) return false;
  if (c.done()) return true;
  if (!c.eat('-') || !day(c)) return false;
  if (c.done()) return true;
  return c.eat('T') && clock(c) && zone(c) && c.done();
}

bool match_instant(std::string_view s) {
  Cursor c{s};
  return year(c) && c.eat('-') && month(c) && c.eat('-') && day(c) && c.eat('T') && clock(c) &&
         zone(c) && c.done();
}

bool match_time(std::string_view s) {
  Cursor c{s};
  return clock(c) && c.done();
}

// -?(0|[1-9][0-9]*) with the sign optional per `allow_minus`.
bool match_int(std::string_view s, bool allow_minus) {
  std::size_t i = 0;
  if (allow_minus && i < s.size() && s[i] == '-') ++i;
  if (i == s.size()) return false;
  if (s[i] == '0') return i + 1 == s.size();
  for (; i < s.size(); ++i) {
    if (!is_digit(s[i])) return false;
  }
  return true;
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool match_decimal(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i == s.size() || !is_digit(s[i])) return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i == s.size() || !is_digit(s[i])) return false;
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i == s.size() || !is_digit(s[i])) return false;
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  return i == s.size();
}

// [^\s]+(\s[^\s]+)*: non-empty, no leading/trailing whitespace, no two
// whitespace characters in a row.
bool match_code(std::string_view s) {
  if (s.empty() || is_ws(s.front()) || is_ws(s.back())) return false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (is_ws(s[i]) && is_ws(s[i - 1])) return false;
  }
  return true;
}

// [A-Za-z0-9\-\.]{1,64}
bool match_id(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// \S*
bool match_no_ws(std::string_view s) {
  // Every whitespace byte is below 0x21.
  auto suspect = [](std::uint64_t w) { return bytes_below(w, 0x21) != 0; };
  std::size_t i = skip_clean_words(s, 0, suspect);
  return std::none_of(s.begin() + static_cast<std::ptrdiff_t>(i), s.end(), is_ws);
}

// [ \r\n\t\S]+: anything but form feed, non-empty.
bool match_string(std::string_view s) {
  return !s.empty() && s.find('\f') == std::string_view::npos;
}

// urn:oid:[0-2](\.(0|[1-9][0-9]*))+
bool match_oid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:oid:";
  if (s.substr(0, kPrefix.size()) != kPrefix) return false;
  s.remove_prefix(kPrefix.size());
  if (s.empty() || s[0] < '0' || s[0] > '2') return false;
  std::size_t i = 1;
  int arcs = 0;
  while (i < s.size()) {
    if (s[i] != '.') return false;
    ++i;
    if (i == s.size() || !is_digit(s[i])) return false;
    if (s[i] == '0') {
      ++i;
    } else {
      while (i < s.size() && is_digit(s[i])) ++i;
    }
    ++arcs;
  }
  return arcs > 0;
}

// urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}
bool match_uuid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  if (s.size() != kPrefix.size() + 36 || s.substr(0, kPrefix.size()) != kPrefix) return false;
  s.remove_prefix(kPrefix.size());
  for (std::size_t i = 0; i < 36; ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!(is_digit(c) || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// Byte classes for base64Binary: 1 for the alphabet [0-9a-zA-Z+/=], 2 for
// RE2's \s, 0 for anything else. The values are chosen so that the AND of
// eight classes is 1 exactly when all eight bytes are in the alphabet.
constexpr std::array<std::uint8_t, 256> kBase64Class = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                 c == '/' || c == '=';
    t[static_cast<std::size_t>(c)] = alpha ? 1 : is_ws(static_cast<char>(c)) ? 2 : 0;
  }
  return t;
}();

#if defined(__SSE2__)
// True when all 16 bytes at `p` are in the alphabet [0-9a-zA-Z+/=]. A range
// [lo, lo + n) is one add and one signed compare: adding 0x80 - lo moves
// it to [0x80, 0x80 + n), the lowest signed bytes. Letters are one range
// once 0x20 is set (only A-Z and a-z land in a-z); '/' and the digits are
// one range; bytes from 0x80 up land in none.
bool base64_block(const unsigned char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  auto in_range = [](__m128i x, int lo, int n) {
    return _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(static_cast<char>(0x80 - lo))),
                          _mm_set1_epi8(static_cast<char>(0x80 + n)));
  };
  const __m128i letters = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 26);
  const __m128i digits = in_range(v, '/', 11);  // '/' and 0-9
  const __m128i signs = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('+')), _mm_cmpeq_epi8(v, _mm_set1_epi8('=')));
  return _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letters, digits), signs)) == 0xFFFF;
}
#endif

// (\s*([0-9a-zA-Z\+/=]){4}\s*)+: groups of four base64 characters,
// whitespace only between groups, at least one group. Attachments carry
// megabytes of it (in R4's examples, a third of all bytes), so runs of the
// alphabet go sixteen bytes per step with SSE2, eight with the table
// otherwise and for what is left.
bool match_base64(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  std::size_t run = 0;  // alphabet characters so far
  while (p < end) {
#if defined(__SSE2__)
    while (end - p >= 16 && base64_block(p)) {
      p += 16;
      run += 16;
    }
#endif
    while (end - p >= 8 && (kBase64Class[p[0]] & kBase64Class[p[1]] & kBase64Class[p[2]] & kBase64Class[p[3]] &
                            kBase64Class[p[4]] & kBase64Class[p[5]] & kBase64Class[p[6]] & kBase64Class[p[7]]) == 1) {
      p += 8;
      run += 8;
    }
    if (p == end) break;
    std::uint8_t k = kBase64Class[*p++];
    if (k == 1) {
      ++run;
    } else if (k == 0 || run % 4 != 0) {
      return false;
    }
  }
  return run > 0 && run % 4 == 0;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

}  // namespace

PrimitiveKind primitive_kind(std::string_view type_name) {
  for (const KindName& k : kKinds) {
    if (k.name == type_name) return k.kind;
  }
  return PrimitiveKind::kOther;
}

std::string_view r4_regex(PrimitiveKind kind) {
  for (const KindName& k : kKinds) {
    if (k.kind == kind) return k.regex;
  }
  return {};
}

bool is_numeric(PrimitiveKind kind) {
  return kind == PrimitiveKind::kInteger || kind == PrimitiveKind::kDecimal ||
         kind == PrimitiveKind::kPositiveInt || kind == PrimitiveKind::kUnsignedInt;
}

JsonShape json_shape(PrimitiveKind kind) {
  if (kind == PrimitiveKind::kBoolean) return JsonShape::kBoolean;
  return is_numeric(kind) ? JsonShape::kNumber : JsonShape::kString;
}

bool matches_r4_regex(PrimitiveKind kind, std::string_view s) {
  switch (kind) {
    case PrimitiveKind::kBoolean: return s == "true" || s == "false";
    case PrimitiveKind::kInteger: return match_int(s, true);
    case PrimitiveKind::kDecimal: return match_decimal(s);
    case PrimitiveKind::kPositiveInt: return match_int(s, false) && s != "0";
    case PrimitiveKind::kUnsignedInt: return match_int(s, false);
    case PrimitiveKind::kString:
    case PrimitiveKind::kMarkdown: return match_string(s);
    case PrimitiveKind::kCode: return match_code(s);
    case PrimitiveKind::kId: return match_id(s);
    case PrimitiveKind::kUri:
    case PrimitiveKind::kUrl:
    case PrimitiveKind::kCanonical: return match_no_ws(s);
    case PrimitiveKind::kOid: return match_oid(s);
    case PrimitiveKind::kUuid: return match_uuid(s);
    case PrimitiveKind::kDate: return match_date(s);
    case PrimitiveKind::kDateTime: return match_date_time(s);
    case PrimitiveKind::kInstant: return match_instant(s);
    case PrimitiveKind::kTime: return match_time(s);
    case PrimitiveKind::kBase64Binary: return match_base64(s);
    case PrimitiveKind::kXhtml:
    case PrimitiveKind::kOther: return true;
  }
  return true;
}

bool calendar_valid(PrimitiveKind kind, std::string_view s) {
  if (kind != PrimitiveKind::kDate && kind != PrimitiveKind::kDateTime &&
      kind != PrimitiveKind::kInstant) {
    return true;
  }
  if (s.size() < 10) return true;  // year or year-month: nothing to check
  int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  int m = (s[5] - '0') * 10 + (s[6] - '0');
  int d = (s[8] - '0') * 10 + (s[9] - '0');
  if (m < 1 || m > 12) return false;
  return d <= days_in(y, m);
}

bool integer_in_range(PrimitiveKind kind, std::string_view s) {
  bool neg = !s.empty() && s[0] == '-';
  std::string_view digits = neg ? s.substr(1) : s;
  constexpr std::string_view kMax = "2147483647";
  constexpr std::string_view kMinAbs = "2147483648";
  std::string_view limit = neg ? kMinAbs : kMax;
  if (digits.size() != limit.size()) {
    if (digits.size() > limit.size()) return false;
  } else if (digits > limit) {
    return false;
  }
  if (kind == PrimitiveKind::kPositiveInt) return !neg && digits != "0";
  if (kind == PrimitiveKind::kUnsignedInt) return !neg;
  return true;
}

bool no_illegal_controls(std::string_view s) {
  auto suspect = [](std::uint64_t w) {
    return (bytes_below(w, 0x20) | bytes_equal(w, 0x7F) | bytes_equal(w, 0xC2)) != 0;
  };
  for (std::size_t i = skip_clean_words(s, 0, suspect); i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20) {
      if (c != '\t' && c != '\r' && c != '\n') return false;
    } else if (c == 0x7F) {
      return false;
    } else if (c == 0xC2 && i + 1 < s.size()) {
      // U+0080..U+009F (C1 controls) are encoded C2 80..C2 9F.
      auto n = static_cast<unsigned char>(s[i + 1]);
      if (n >= 0x80 && n <= 0x9F) return false;
    }
  }
  return true;
}

bool all_whitespace(std::string_view s) { return std::all_of(s.begin(), s.end(), is_ws); }

int compare_decimal(std::string_view a, std::string_view b) {
  // Normalise each literal into sign, integer digits and fraction digits,
  // applying any exponent by moving the decimal point.
  struct Norm {
    bool neg = false;
    std::string intpart;
    std::string frac;
  };
  auto norm = [](std::string_view s) {
    Norm n;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
      n.neg = s[0] == '-';
      s.remove_prefix(1);
    }
    long exp = 0;
    auto e = s.find_first_of("eE");
    if (e != std::string_view::npos) {
      std::string_view es = s.substr(e + 1);
      bool eneg = !es.empty() && es[0] == '-';
      if (!es.empty() && (es[0] == '-' || es[0] == '+')) es.remove_prefix(1);
      for (char c : es.substr(0, 6)) exp = exp * 10 + (c - '0');
      if (eneg) exp = -exp;
      s = s.substr(0, e);
    }
    auto dot = s.find('.');
    std::string digits(s.substr(0, dot));
    std::string frac = dot == std::string_view::npos ? std::string() : std::string(s.substr(dot + 1));
    std::string all = digits + frac;
    long point = static_cast<long>(digits.size()) + exp;
    if (point < 0) {
      all.insert(0, static_cast<std::size_t>(-point), '0');
      point = 0;
    }
    if (point > static_cast<long>(all.size())) all.append(static_cast<std::size_t>(point) - all.size(), '0');
    n.intpart = all.substr(0, static_cast<std::size_t>(point));
    n.frac = all.substr(static_cast<std::size_t>(point));
    n.intpart.erase(0, std::min(n.intpart.find_first_not_of('0'), n.intpart.size()));
    while (!n.frac.empty() && n.frac.back() == '0') n.frac.pop_back();
    if (n.intpart.empty() && n.frac.empty()) n.neg = false;
    return n;
  };
  Norm x = norm(a);
  Norm y = norm(b);
  if (x.neg != y.neg) return x.neg ? -1 : 1;
  int sign = x.neg ? -1 : 1;
  if (x.intpart.size() != y.intpart.size()) {
    return (x.intpart.size() < y.intpart.size() ? -1 : 1) * sign;
  }
  if (int c = x.intpart.compare(y.intpart); c != 0) return (c < 0 ? -1 : 1) * sign;
  std::size_t n = std::max(x.frac.size(), y.frac.size());
  x.frac.resize(n, '0');
  y.frac.resize(n, '0');
  if (int c = x.frac.compare(y.frac); c != 0) return (c < 0 ? -1 : 1) * sign;
  return 0;
}

}  // namespace gw::validation::detail
