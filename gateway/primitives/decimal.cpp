// Decimal: representation, parsing, printing, comparison and the exact
// arithmetic operators. The transcendental functions and the boundaries are
// in decimal_math.cpp.
//
// Why a coefficient and a scale: FHIR keeps the precision of a decimal in its
// text ("1.50" is a different *observation* than "1.5" even though they are
// equal), so the scale must survive a round trip, and lab values must compare
// exactly (0.1 + 0.2 = 0.3), which binary floating point cannot do.
// Intermediates that may exceed 128 bits (products, aligned sums, scaled
// dividends) are computed in Boost.Multiprecision fixed-width integers and
// brought back into range by detail::fit().
#include "gateway/primitives/primitives.hpp"

#include "gateway/primitives/detail/decimal_internal.hpp"

#include <array>
#include <cstdlib>

namespace gw::primitives {

namespace detail {

Int128 pow10_128(int n) noexcept {
  static constexpr auto kTable = [] {
    std::array<Int128, 39> t{};
    t[0] = 1;
    for (std::size_t i = 1; i < t.size(); ++i) t[i] = t[i - 1] * 10;
    return t;
  }();
  GW_ASSERT(n >= 0 && n <= 38, "pow10_128 out of range");
  return kTable[static_cast<std::size_t>(n)];
}

I512 pow10_512(int n) {
  GW_ASSERT(n >= 0 && n <= 150, "pow10_512 out of range");
  I512 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

int digit_count(I512 v) {
  if (v < 0) v = -v;
  int n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

I512 shift_right_round(const I512& v, int k) {
  if (k <= 0) return v;
  const I512 p = pow10_512(k);
  I512 q = v / p;  // truncates toward zero
  const I512 r = v % p;
  const I512 twice = (r < 0 ? -r : r) * 2;
  if (twice >= p) q += (v < 0 ? -1 : 1);
  return q;
}

std::optional<Decimal> fit(I512 coefficient, int scale) {
  if (scale < 0) {
    if (scale < -Decimal::kMaxDigits) return std::nullopt;
    coefficient *= pow10_512(-scale);
    scale = 0;
  }
  const I512 limit = pow10_512(Decimal::kMaxDigits);
  int drop = 0;
  if (scale > Decimal::kMaxScale) drop = scale - Decimal::kMaxScale;
  const int digits = digit_count(coefficient);
  if (digits - drop > Decimal::kMaxDigits) drop = digits - Decimal::kMaxDigits;
  if (drop > scale) return std::nullopt;  // the integer part alone is too long
  if (drop > 0) {
    coefficient = shift_right_round(coefficient, drop);
    scale -= drop;
    // Rounding 99..9 up can add a digit; the extra digit is a zero.
    if ((coefficient < 0 ? -coefficient : coefficient) >= limit) {
      if (scale == 0) return std::nullopt;
      coefficient /= 10;
      --scale;
    }
  }
  if ((coefficient < 0 ? -coefficient : coefficient) >= limit) return std::nullopt;
  return DecimalAccess::make(static_cast<Int128>(coefficient), scale);
}

Decimal strip_zeros(const Decimal& d, int min_scale) noexcept {
  Int128 c = d.coefficient();
  int s = d.scale();
  while (s > min_scale && s > 0 && c % 10 == 0) {
    c /= 10;
    --s;
  }
  return DecimalAccess::make(c, s);
}

}  // namespace detail

namespace {

using detail::I512;
using detail::wide;

/// Both coefficients brought to the larger scale (exact: I512 has room).
struct Aligned {
  I512 a;
  I512 b;
  int scale;
};

Aligned align(const Decimal& a, const Decimal& b) {
  const int s = a.scale() > b.scale() ? a.scale() : b.scale();
  return {wide(a.coefficient()) * detail::pow10_512(s - a.scale()),
          wide(b.coefficient()) * detail::pow10_512(s - b.scale()), s};
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// Accumulates digits into a coefficient, ignoring leading zeros for the
/// digit limit. Returns false when more than kMaxDigits significant digits.
bool accumulate(std::string_view digits, Int128& coefficient, int& significant) noexcept {
  for (char c : digits) {
    if (coefficient == 0 && c == '0') continue;
    if (++significant > Decimal::kMaxDigits) return false;
    coefficient = coefficient * 10 + (c - '0');
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------
// Construction, parsing, printing

Decimal Decimal::from_int64(std::int64_t value) noexcept { return Decimal(static_cast<Int128>(value), 0); }

std::optional<Decimal> Decimal::from_parts(Int128 coefficient, int scale) noexcept {
  const Int128 limit = detail::pow10_128(kMaxDigits);
  if (scale < 0 || scale > kMaxScale || coefficient >= limit || coefficient <= -limit) return std::nullopt;
  return Decimal(coefficient, scale);
}

Result<Decimal> Decimal::parse(std::string_view text, DecimalSyntax syntax) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  bool negative = false;
  if (i < n && (text[i] == '-' || (syntax == DecimalSyntax::kFhirPath && text[i] == '+'))) {
    negative = text[i] == '-';
    ++i;
  }
  const std::size_t int_begin = i;
  while (i < n && is_digit(text[i])) ++i;
  const std::string_view int_digits = text.substr(int_begin, i - int_begin);
  if (int_digits.empty()) return fail(ErrorCode::kParse, "decimal: expected a digit");
  if (syntax == DecimalSyntax::kFhir && int_digits.size() > 1 && int_digits[0] == '0') {
    return fail(ErrorCode::kParse, "decimal: leading zero");
  }
  std::string_view frac_digits;
  if (i < n && text[i] == '.') {
    ++i;
    const std::size_t frac_begin = i;
    while (i < n && is_digit(text[i])) ++i;
    frac_digits = text.substr(frac_begin, i - frac_begin);
    if (frac_digits.empty()) return fail(ErrorCode::kParse, "decimal: expected a digit after the point");
  }
  long exponent = 0;
  if (syntax == DecimalSyntax::kFhir && i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) {
      exp_negative = text[i] == '-';
      ++i;
    }
    const std::size_t exp_begin = i;
    while (i < n && is_digit(text[i])) {
      if (i - exp_begin >= 4) return fail(ErrorCode::kLimit, "decimal: exponent too large");
      exponent = exponent * 10 + (text[i] - '0');
      ++i;
    }
    if (i == exp_begin) return fail(ErrorCode::kParse, "decimal: expected exponent digits");
    if (exp_negative) exponent = -exponent;
  }
  if (i != n) return fail(ErrorCode::kParse, "decimal: unexpected character");

  Int128 coefficient = 0;
  int significant = 0;
  if (!accumulate(int_digits, coefficient, significant) || !accumulate(frac_digits, coefficient, significant)) {
    return fail(ErrorCode::kLimit, "decimal: too many significant digits");
  }
  long scale = static_cast<long>(frac_digits.size()) - exponent;
  if (scale < 0) {
    if (coefficient != 0) {
      if (significant - scale > kMaxDigits) return fail(ErrorCode::kLimit, "decimal: magnitude too large");
      coefficient *= detail::pow10_128(static_cast<int>(-scale));
    }
    scale = 0;
  }
  if (scale > kMaxScale) return fail(ErrorCode::kLimit, "decimal: too many fractional digits");
  Decimal d(negative ? -coefficient : coefficient, static_cast<int>(scale));
  d.negative_zero_ = negative && coefficient == 0;
  return d;
}

bool Decimal::is_integer() const noexcept {
  return scale_ == 0 || coefficient_ % detail::pow10_128(scale_) == 0;
}

std::string Decimal::to_string() const {
  Int128 magnitude = coefficient_ < 0 ? -coefficient_ : coefficient_;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  if (static_cast<int>(digits.size()) <= scale_) {
    digits.insert(0, static_cast<std::size_t>(scale_) + 1 - digits.size(), '0');
  }
  if (scale_ > 0) digits.insert(digits.size() - static_cast<std::size_t>(scale_), 1, '.');
  if (coefficient_ < 0 || negative_zero_) digits.insert(digits.begin(), '-');
  return digits;
}

std::optional<std::int64_t> Decimal::to_int64() const noexcept {
  if (!is_integer()) return std::nullopt;
  const Int128 v = coefficient_ / detail::pow10_128(scale_);
  if (v > INT64_MAX || v < INT64_MIN) return std::nullopt;
  return static_cast<std::int64_t>(v);
}

long double Decimal::to_long_double() const noexcept {
  // strtold rounds the decimal text correctly, which a division by a power
  // of ten would not.
  const std::string text = to_string();
  return std::strtold(text.c_str(), nullptr);
}

std::optional<Decimal> Decimal::rescaled(int scale) const noexcept {
  if (scale < 0 || scale > kMaxScale) return std::nullopt;
  if (scale >= scale_) {
    const I512 c = wide(coefficient_) * detail::pow10_512(scale - scale_);
    if ((c < 0 ? -c : c) >= detail::pow10_512(kMaxDigits)) return std::nullopt;
    return Decimal(static_cast<Int128>(c), scale);
  }
  return Decimal(static_cast<Int128>(detail::shift_right_round(wide(coefficient_), scale_ - scale)), scale);
}

Decimal Decimal::normalized() const noexcept { return detail::strip_zeros(*this, 0); }

bool operator==(const Decimal& a, const Decimal& b) noexcept { return (a <=> b) == 0; }

std::strong_ordering operator<=>(const Decimal& a, const Decimal& b) noexcept {
  if (a.scale_ == b.scale_) return a.coefficient_ <=> b.coefficient_;
  const auto [x, y, s] = align(a, b);
  (void)s;
  return x < y ? std::strong_ordering::less : (x > y ? std::strong_ordering::greater : std::strong_ordering::equal);
}

// ---------------------------------------------------------------------------
// FHIR number formats

namespace {

/// Digits `-?(0|[1-9][0-9]*)` from `i`; returns the end or npos.
std::size_t scan_integer(std::string_view text, std::size_t i, bool allow_minus) {
  if (allow_minus && i < text.size() && text[i] == '-') ++i;
  if (i >= text.size() || !is_digit(text[i])) return std::string_view::npos;
  if (text[i] == '0') return i + 1;
  while (i < text.size() && is_digit(text[i])) ++i;
  return i;
}

/// Value of an integer text already checked by scan_integer, if it lies
/// within [lo, hi]; digits beyond 11 are out of any 32-bit range.
bool in_range(std::string_view digits, bool negative, long long lo, long long hi) {
  if (digits.size() > 11) return false;
  long long v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  if (negative) v = -v;
  return v >= lo && v <= hi;
}

constexpr long long kInt32Min = -2147483648LL;
constexpr long long kInt32Max = 2147483647LL;

}  // namespace

bool is_valid_fhir_decimal(std::string_view text) noexcept {
  std::size_t i = scan_integer(text, 0, true);
  if (i == std::string_view::npos) return false;
  if (i < text.size() && text[i] == '.') {
    const std::size_t begin = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == begin) return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    const std::size_t begin = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == begin) return false;
  }
  return i == text.size();
}

bool is_valid_fhir_integer(std::string_view text) noexcept {
  if (scan_integer(text, 0, true) != text.size()) return false;
  const bool negative = text[0] == '-';
  return in_range(text.substr(negative ? 1 : 0), negative, kInt32Min, kInt32Max);
}

bool is_valid_fhir_unsigned_int(std::string_view text) noexcept {
  return scan_integer(text, 0, false) == text.size() && in_range(text, false, 0, kInt32Max);
}

bool is_valid_fhir_positive_int(std::string_view text) noexcept {
  const std::size_t start = !text.empty() && text[0] == '+' ? 1 : 0;
  if (start >= text.size() || text[start] == '0') return false;
  return scan_integer(text, start, false) == text.size() && in_range(text.substr(start), false, 1, kInt32Max);
}

// ---------------------------------------------------------------------------
// Arithmetic

std::optional<Decimal> add(const Decimal& a, const Decimal& b) noexcept {
  const auto [x, y, s] = align(a, b);
  return detail::fit(x + y, s);
}

std::optional<Decimal> subtract(const Decimal& a, const Decimal& b) noexcept {
  const auto [x, y, s] = align(a, b);
  return detail::fit(x - y, s);
}

std::optional<Decimal> multiply(const Decimal& a, const Decimal& b) noexcept {
  return detail::fit(wide(a.coefficient()) * wide(b.coefficient()), a.scale() + b.scale());
}

std::optional<Decimal> divide(const Decimal& a, const Decimal& b) noexcept {
  if (b.is_zero()) return std::nullopt;
  const int min_scale = a.scale() > b.scale() ? a.scale() : b.scale();
  if (a.is_zero()) return DecimalAccess::make(0, min_scale);
  // Scale the dividend by 10^k so that the integer quotient has at least
  // kDivisionDigits + 1 significant digits and the result scale
  // (a.scale - b.scale + k) is at least min_scale.
  const int da = detail::digit_count(wide(a.coefficient()));
  const int db = detail::digit_count(wide(b.coefficient()));
  int k = Decimal::kDivisionDigits + 1 + db - da;
  if (k < 0) k = 0;
  if (a.scale() - b.scale() + k < min_scale) k = min_scale - a.scale() + b.scale();
  const I512 numerator = wide(a.coefficient()) * detail::pow10_512(k);
  const I512 divisor = wide(b.coefficient());
  I512 q = numerator / divisor;
  const I512 r = numerator % divisor;
  int scale = a.scale() - b.scale() + k;
  if (r == 0) {
    auto exact = detail::fit(q, scale);
    if (!exact) return std::nullopt;
    return detail::strip_zeros(*exact, min_scale);
  }
  // Non-terminating: keep kDivisionDigits significant digits. Half away from
  // zero needs no sticky bit: a dropped part equal to one half rounds up
  // whether or not the remainder is non-zero.
  int drop = detail::digit_count(q) - Decimal::kDivisionDigits;
  if (drop > scale) drop = scale;
  if (drop > 0) {
    q = detail::shift_right_round(q, drop);
    scale -= drop;
  }
  auto rounded = detail::fit(q, scale);
  if (!rounded) return std::nullopt;
  return detail::strip_zeros(*rounded, min_scale);
}

std::optional<Decimal> div(const Decimal& a, const Decimal& b) noexcept {
  if (b.is_zero()) return std::nullopt;
  const auto [x, y, s] = align(a, b);
  (void)s;
  return detail::fit(x / y, 0);  // C++ division truncates toward zero
}

std::optional<Decimal> mod(const Decimal& a, const Decimal& b) noexcept {
  if (b.is_zero()) return std::nullopt;
  const auto [x, y, s] = align(a, b);
  return detail::fit(x % y, s);  // C++ remainder has the dividend's sign
}

Decimal negate(const Decimal& a) noexcept { return DecimalAccess::make(-a.coefficient(), a.scale()); }

Decimal abs(const Decimal& a) noexcept {
  return DecimalAccess::make(a.coefficient() < 0 ? -a.coefficient() : a.coefficient(), a.scale());
}

bool equivalent(const Decimal& a, const Decimal& b) noexcept {
  // N1 §6.3: "comparison is done on values rounded to the precision of the
  // least precise operand. Trailing zeroes after the decimal are ignored in
  // determining precision."
  const Decimal x = a.normalized();
  const Decimal y = b.normalized();
  const int s = x.scale() < y.scale() ? x.scale() : y.scale();
  const auto rx = x.rescaled(s);
  const auto ry = y.rescaled(s);
  return rx && ry && *rx == *ry;
}

}  // namespace gw::primitives
