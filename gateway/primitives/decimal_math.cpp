// Decimal: rounding family, the functions that need long double (sqrt, ln,
// log, exp, power) and FHIRPath 2.0 lowBoundary()/highBoundary().
//
// The long-double functions cannot be exact, so their results are cut to 15
// significant digits: long double carries ~19, and the margin absorbs the
// last-bit error of logl/expl so that results that are mathematically exact
// (16.log(2) = 4, 81.sqrt() = 9) come out exact. Where an exact answer is
// cheap (integer powers) it is computed exactly instead.
#include "gateway/primitives/primitives.hpp"

#include "gateway/primitives/detail/decimal_internal.hpp"

#include <cmath>
#include <cstdio>

namespace gw::primitives {

namespace {

using detail::I512;
using detail::wide;

constexpr int kFloatDigits = 15;

/// Integer part of a (toward zero), as a wide integer.
I512 integer_part(const Decimal& a) { return wide(a.coefficient()) / detail::pow10_512(a.scale()); }

bool has_fraction(const Decimal& a) { return !a.is_integer(); }

Decimal make_integer(const I512& v) {
  // The integer part of a Decimal always fits; +-1 cannot push it over
  // 10^38 - 1 except at the very edge, which fit() reports.
  auto d = detail::fit(v, 0);
  GW_ASSERT(d.has_value(), "integer part of a decimal out of range");
  return *d;
}

/// Exact a^n for n >= 0 by repeated squaring. nullopt on overflow.
std::optional<Decimal> integer_power(Decimal base, std::uint64_t n) {
  Decimal result = Decimal::from_int64(1);
  while (n > 0) {
    if (n & 1U) {
      auto r = multiply(result, base);
      if (!r) return std::nullopt;
      result = *r;
    }
    n >>= 1U;
    if (n > 0) {
      auto b = multiply(base, base);
      if (!b) return std::nullopt;
      base = *b;
    }
  }
  return result;
}

/// Boundary helpers for a >= 0 (see the header for the rule and why). The
/// value moved by half a unit in its last place is c * 10 -+ 5 at scale + 1,
/// computed exactly in wide integers and then brought to `precision`
/// digits. nullopt when the result does not fit with exactly that scale.
std::optional<Decimal> boundary_at(const I512& moved, int moved_scale, int precision, bool round_half_up) {
  I512 c = moved;
  if (precision >= moved_scale) {
    c *= detail::pow10_512(precision - moved_scale);
  } else if (round_half_up) {
    c = detail::shift_right_round(c, moved_scale - precision);
  } else {
    c /= detail::pow10_512(moved_scale - precision);  // truncates toward zero
  }
  auto d = detail::fit(c, precision);
  if (!d || d->scale() != precision) return std::nullopt;
  return d;
}

std::optional<Decimal> positive_low(const Decimal& a, int precision) {
  return boundary_at(wide(a.coefficient()) * 10 - 5, a.scale() + 1, precision, false);
}

std::optional<Decimal> positive_high(const Decimal& a, int precision) {
  // Rounding half away from zero equals half up here: the value is positive.
  return boundary_at(wide(a.coefficient()) * 10 + 5, a.scale() + 1, precision, true);
}

bool boundary_precision_ok(int precision) {
  return precision >= 0 && precision <= Decimal::kMaxBoundaryPrecision;
}

}  // namespace

std::optional<Decimal> Decimal::from_long_double(long double value, int significant_digits) noexcept {
  if (!std::isfinite(value)) return std::nullopt;
  if (significant_digits < 1) significant_digits = 1;
  if (significant_digits > kDivisionDigits) significant_digits = kDivisionDigits;
  if (value == 0.0L) return Decimal();
  // %Le prints d.ddd...e+XX: exactly the FHIR number grammar, so the exact
  // decimal parser does the rest. 64 bytes hold 28 digits plus exponent.
  char buffer[64];
  const int n = std::snprintf(buffer, sizeof buffer, "%.*Le", significant_digits - 1, value);
  if (n <= 0 || n >= static_cast<int>(sizeof buffer)) return std::nullopt;
  auto parsed = parse(std::string_view(buffer, static_cast<std::size_t>(n)), DecimalSyntax::kFhir);
  if (!parsed) {
    // A magnitude too small for kMaxScale underflows to zero; one too large
    // for kMaxDigits is an overflow.
    if (std::fabs(value) < 1.0L) return Decimal();
    return std::nullopt;
  }
  return parsed->normalized();
}

std::optional<Decimal> round(const Decimal& a, int digits) noexcept {
  if (digits < 0 || digits > Decimal::kMaxScale) return std::nullopt;
  // Rounding never adds precision the value does not have: 1.5.round(3)
  // stays 1.5 rather than inventing 1.500.
  if (digits >= a.scale()) return a;
  return a.rescaled(digits);
}

Decimal truncate(const Decimal& a) noexcept { return make_integer(integer_part(a)); }

std::optional<Decimal> ceiling(const Decimal& a) noexcept {
  I512 v = integer_part(a);
  if (has_fraction(a) && a.sign() > 0) v += 1;
  return detail::fit(v, 0);
}

std::optional<Decimal> floor(const Decimal& a) noexcept {
  I512 v = integer_part(a);
  if (has_fraction(a) && a.sign() < 0) v -= 1;
  return detail::fit(v, 0);
}

std::optional<Decimal> sqrt(const Decimal& a) noexcept {
  if (a.sign() < 0) return std::nullopt;
  if (a.is_zero()) return Decimal();
  return Decimal::from_long_double(std::sqrt(a.to_long_double()), kFloatDigits);
}

std::optional<Decimal> ln(const Decimal& a) noexcept {
  if (a.sign() <= 0) return std::nullopt;
  if (a == Decimal::from_int64(1)) return Decimal();
  return Decimal::from_long_double(std::log(a.to_long_double()), kFloatDigits);
}

std::optional<Decimal> log(const Decimal& a, const Decimal& base) noexcept {
  if (a.sign() <= 0 || base.sign() <= 0 || base == Decimal::from_int64(1)) return std::nullopt;
  return Decimal::from_long_double(std::log(a.to_long_double()) / std::log(base.to_long_double()), kFloatDigits);
}

std::optional<Decimal> exp(const Decimal& a) noexcept {
  if (a.is_zero()) return Decimal::from_int64(1);
  return Decimal::from_long_double(std::exp(a.to_long_double()), kFloatDigits);
}

std::optional<Decimal> power(const Decimal& base, const Decimal& exponent) noexcept {
  if (exponent.is_integer()) {
    const auto n = exponent.to_int64();
    // Exact for moderate integer exponents; larger ones overflow anyway
    // unless |base| <= 1, which long double handles below.
    if (n && *n >= 0 && *n <= 1024) return integer_power(base, static_cast<std::uint64_t>(*n));
    if (n && *n < 0 && *n >= -1024) {
      if (base.is_zero()) return std::nullopt;
      auto p = integer_power(base, static_cast<std::uint64_t>(-*n));
      if (!p) return std::nullopt;
      return divide(Decimal::from_int64(1), *p);
    }
  } else if (base.sign() < 0) {
    return std::nullopt;  // not a real number: (-1).power(0.5)
  }
  if (base.is_zero() && exponent.sign() < 0) return std::nullopt;
  return Decimal::from_long_double(std::pow(base.to_long_double(), exponent.to_long_double()), kFloatDigits);
}

std::optional<Decimal> low_boundary(const Decimal& a, std::optional<int> precision) noexcept {
  const int p = precision.value_or(Decimal::kDefaultBoundaryPrecision);
  if (!boundary_precision_ok(p)) return std::nullopt;
  if (a.sign() < 0 || a.is_zero()) {
    auto h = positive_high(abs(a), p);
    if (!h) return std::nullopt;
    return DecimalAccess::with_negative_sign(negate(*h));
  }
  return positive_low(a, p);
}

std::optional<Decimal> high_boundary(const Decimal& a, std::optional<int> precision) noexcept {
  const int p = precision.value_or(Decimal::kDefaultBoundaryPrecision);
  if (!boundary_precision_ok(p)) return std::nullopt;
  if (a.sign() < 0) {
    auto l = positive_low(abs(a), p);
    if (!l) return std::nullopt;
    return DecimalAccess::with_negative_sign(negate(*l));
  }
  return positive_high(a, p);
}

}  // namespace gw::primitives
