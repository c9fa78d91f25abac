// Private helpers shared by the primitives translation units: wide integers
// for exact intermediates, powers of ten, and the one place that turns a wide
// (coefficient, scale) pair back into a Decimal within its limits.
#pragma once

#include "gateway/primitives/primitives.hpp"

#include <boost/multiprecision/cpp_int.hpp>

#include <optional>

namespace gw::primitives {

/// The backdoor to Decimal's private constructor for this module's own
/// translation units (declared a friend in primitives.hpp).
struct DecimalAccess {
  static Decimal make(Int128 coefficient, int scale) noexcept { return Decimal(coefficient, scale); }
  /// `d` with the sign of a negative value when it is zero (see Decimal).
  static Decimal with_negative_sign(Decimal d) noexcept {
    d.negative_zero_ = d.coefficient_ == 0;
    return d;
  }
};

namespace detail {

// 256 bits hold 76 decimal digits: enough for a product of two 38-digit
// coefficients. Division scales the dividend further and uses 512 bits.
using I256 = boost::multiprecision::int256_t;
using I512 = boost::multiprecision::int512_t;

/// 10^n for 0 <= n <= 38 as Int128.
Int128 pow10_128(int n) noexcept;
/// 10^n for 0 <= n <= 150 as I512.
I512 pow10_512(int n);
/// Number of decimal digits of |v| (0 has 1 digit).
int digit_count(I512 v);

/// Divides v by 10^k rounding half away from zero (k >= 0).
I512 shift_right_round(const I512& v, int k);

/// Brings (coefficient, scale) into Decimal's limits: drops fractional
/// digits (rounding half away from zero) while the coefficient has more than
/// kMaxDigits digits or the scale exceeds kMaxScale; scales below 0 are
/// multiplied out. nullopt when the integer part alone does not fit.
std::optional<Decimal> fit(I512 coefficient, int scale);

/// Removes trailing fractional zeros but keeps at least `min_scale` digits.
Decimal strip_zeros(const Decimal& d, int min_scale) noexcept;

/// value in unit `from` expressed in unit `to`, both already canonical and
/// of the same dimension (the caller checks). See ucum::convert().
std::optional<Decimal> convert_canonical(const Decimal& value, const ucum::CanonicalUnit& from,
                                         const ucum::CanonicalUnit& to);

/// Exact conversion of an Int128 to a wide integer.
inline I512 wide(Int128 v) { return I512(v); }

}  // namespace detail
}  // namespace gw::primitives
