// gw::primitives — FHIR and FHIRPath primitive values: Decimal, Date,
// DateTime, Time and Quantity (with a small UCUM unit engine).
//
// What this module is for. A FHIR gateway compares lab values, checks that a
// period's start is before its end, and evaluates FHIRPath invariants such as
// `value < 200 '[lb_av]'`. All of that rests on a handful of value types whose
// semantics the FHIRPath N1/2.0 specification and the official test suite
// (../shared/fhirpath/tests-fhir-r4.xml) pin down precisely:
//
//   * Decimal  exact decimal arithmetic. FHIR decimals are arbitrary-precision
//              text and keep their scale ("1.50" is not "1.5" when printed,
//              yet 1.50 = 1.5). 0.1 + 0.2 is exactly 0.3.
//   * Date, DateTime, Time
//              partial temporal values with a precision (year ... millisecond)
//              and an optional timezone offset. Comparisons may be
//              *indeterminate* (empty) when precisions differ.
//   * Quantity a Decimal with a unit: a UCUM code ('mg', 'mmol/L', '[lb_av]')
//              or a FHIRPath calendar-duration keyword (`year`, `days`, ...).
//              Units are converted through a small UCUM engine so that
//              `4.0 'g' = 4000 'mg'` and `185 '[lb_av]' < 100 'kg'` work.
//
// Regular expressions and strings are not here (the FHIRPath engine owns
// them). Integer is plain `std::int64_t`.
//
// Conventions used throughout:
//   * Errors are values. Parsing returns `gw::Result<T>` (the error says what
//     *shape* was wrong, never echoes the value: it may be patient data).
//     FHIRPath operations whose result is "empty" (division by zero,
//     overflow, indeterminate comparison, incompatible units) return
//     `std::optional`: nullopt means the FHIRPath empty collection `{}`.
//     Operations the spec calls an *execution error* (adding 1 'cm' to a
//     date) return `gw::Result` with an Error. Nothing throws.
//   * FHIRPath semantics are free functions named after the operator:
//     `equals` (=), `equivalent` (~), `compare` (<, <=, >, >=).
//     The C++ `operator==` of Date/DateTime/Time is the defaulted
//     *representation* equality (same fields, same precision, same offset);
//     use it for tests and containers, not for FHIRPath `=`.
//     Decimal is the exception: its `operator==`/`<=>` are numeric
//     (1.0 == 1.00), because numeric comparison is always determinate;
//     `identical()` compares representation. Quantity's defaulted `==`
//     therefore compares values numerically and unit text exactly.
//   * Thread-safety: every type here is an immutable-after-construction value
//     type; functions are pure and may be called from any thread. Nothing
//     keeps references to arguments beyond the call.
//
// Usage:
//   using namespace gw::primitives;
//   auto a = Decimal::parse("1.50");                 // Result<Decimal>
//   auto b = add(*a, Decimal::from_int64(2));        // optional: 3.50
//   b->to_string();                                  // "3.50"
//
//   auto d1 = parse_datetime("2018-03-01T10:30", TemporalSyntax::kFhirPath);
//   auto d2 = parse_datetime("2018-03-01T10:30:00", TemporalSyntax::kFhirPath);
//   compare(*d1, *d2);                               // nullopt: indeterminate
//   is_valid_fhir_date("2015-02-30");                // false
//
//   auto q1 = parse_quantity("4.0 'g'");             // Result<Quantity>
//   auto q2 = parse_quantity("4000 'mg'");
//   equals(*q1, *q2);                                // optional<bool>: true
#pragma once

#include "gateway/core/core.hpp"

#include <array>
#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw::primitives {

// The 128-bit integer GCC and Clang provide. `__extension__` keeps
// -Wpedantic quiet: ISO C++ has no 128-bit integer, but both our compilers do.
__extension__ typedef __int128 Int128;

// ===========================================================================
// Decimal
// ===========================================================================

/// Which textual grammar a decimal is parsed with.
enum class DecimalSyntax : std::uint8_t {
  /// FHIR/JSON number text: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
  /// An exponent is folded into the scale ("1.5e2" is 150 with scale 0,
  /// "15e-1" is 1.5 with scale 1).
  kFhir,
  /// FHIRPath: the string form accepted by `toDecimal()` and the literal form
  /// (`(\+|-)?[0-9]+(\.[0-9]+)?`). Leading zeros are allowed ("007.5").
  kFhirPath,
};

/// Exact decimal number: a signed coefficient and a decimal scale, value =
/// coefficient * 10^-scale. The scale is what the text said ("1.50" has
/// coefficient 150, scale 2) and is preserved by to_string().
///
/// Limits: |coefficient| < 10^38 (38 significant digits, more than the 28
/// FHIRPath and UCUM need) and 0 <= scale <= kMaxScale. Parsing text with more
/// digits than fit fails with ErrorCode::kLimit; arithmetic whose exact result
/// does not fit rounds away fractional digits (half away from zero) and
/// returns nullopt only if the integer part itself overflows.
///
/// Comparison: `==` and `<=>` are numeric (1.0 == 1.00, -0.0 == 0).
///
/// Negative zero: a zero keeps the minus sign it was written with
/// ("-0.0" prints as "-0.0", so FHIR text round-trips), and the decimal
/// boundaries of a negative value keep their sign ((-0.0034).lowBoundary(1)
/// is -0.0, as the suite expects). Arithmetic never produces it: 0 - 0,
/// negate(0.0) and -1 * 0 are all plain 0.
///
/// Thread-safety: immutable value type.
class Decimal {
 public:
  /// Maximum number of significant digits in the coefficient.
  static constexpr int kMaxDigits = 38;
  /// Maximum scale (digits after the point).
  static constexpr int kMaxScale = 38;
  /// Significant digits kept by division and by the long-double functions'
  /// conversion back (see divide(), sqrt()).
  static constexpr int kDivisionDigits = 28;
  /// Default precision of low_boundary()/high_boundary() (FHIRPath: 8).
  static constexpr int kDefaultBoundaryPrecision = 8;
  /// Largest precision low_boundary()/high_boundary() accept (the suite's
  /// LowBoundaryDecimal5 expects 32 to be rejected).
  static constexpr int kMaxBoundaryPrecision = 31;

  /// Zero with scale 0.
  constexpr Decimal() noexcept = default;

  /// Exact conversion of an integer (scale 0).
  static Decimal from_int64(std::int64_t value) noexcept;

  /// Builds coefficient * 10^-scale; nullopt when outside the limits above.
  static std::optional<Decimal> from_parts(Int128 coefficient, int scale) noexcept;

  /// Parses decimal text in the given grammar. The whole input must match
  /// (no surrounding spaces). Errors: kParse for a grammar violation, kLimit
  /// when the number needs more than kMaxDigits digits or kMaxScale scale.
  static Result<Decimal> parse(std::string_view text, DecimalSyntax syntax = DecimalSyntax::kFhir);

  /// Converts a long double, keeping `significant_digits` significant digits
  /// (1..kDivisionDigits) and then dropping trailing fractional zeros (so
  /// 2.0000000000000001L becomes "2"). nullopt for NaN, infinity, or a
  /// magnitude that does not fit.
  static std::optional<Decimal> from_long_double(long double value, int significant_digits = 15) noexcept;

  Int128 coefficient() const noexcept { return coefficient_; }
  int scale() const noexcept { return scale_; }

  /// FHIRPath `precision()` of a decimal: the number of digits after the
  /// point as written (1.58700 -> 5).
  int precision() const noexcept { return scale_; }

  /// -1, 0 or +1.
  int sign() const noexcept { return coefficient_ < 0 ? -1 : (coefficient_ > 0 ? 1 : 0); }
  bool is_zero() const noexcept { return coefficient_ == 0; }
  /// True when the value has no fractional part (2.00 is an integer).
  bool is_integer() const noexcept;

  /// Plain decimal text with exactly `scale()` fractional digits, never an
  /// exponent: "1.50", "-0.001", "120", and "-0.0" for a negative zero.
  std::string to_string() const;

  /// The value as int64 if it is integral (any scale: 2.00 -> 2) and fits;
  /// otherwise nullopt (1.5, 1e30).
  std::optional<std::int64_t> to_int64() const noexcept;

  /// Nearest long double (inexact for most non-integers).
  long double to_long_double() const noexcept;

  /// The same value with exactly `scale` fractional digits: more digits are
  /// added exactly, fewer round half away from zero. nullopt on overflow or
  /// scale outside 0..kMaxScale.
  std::optional<Decimal> rescaled(int scale) const noexcept;

  /// The same value with trailing fractional zeros removed (1.500 -> 1.5,
  /// 2.0 -> 2).
  Decimal normalized() const noexcept;

  /// True for a zero written or computed with a minus sign (see above).
  bool is_negative_zero() const noexcept { return negative_zero_; }

  /// True when coefficient, scale and sign are all equal (1.0 vs 1.00 is
  /// false, 0.0 vs -0.0 is false).
  friend bool identical(const Decimal& a, const Decimal& b) noexcept {
    return a.coefficient_ == b.coefficient_ && a.scale_ == b.scale_ && a.negative_zero_ == b.negative_zero_;
  }

  /// Numeric comparison; always determinate.
  friend bool operator==(const Decimal& a, const Decimal& b) noexcept;
  friend std::strong_ordering operator<=>(const Decimal& a, const Decimal& b) noexcept;

 private:
  constexpr Decimal(Int128 coefficient, int scale) noexcept : coefficient_(coefficient), scale_(scale) {}
  friend struct DecimalAccess;  // detail helpers in the .cpp files

  Int128 coefficient_ = 0;
  int scale_ = 0;
  bool negative_zero_ = false;  // only ever true when coefficient_ == 0
};

// --- FHIR format checks for numbers (for the validator) --------------------

/// The FHIR R4 decimal grammar (JSON number text:
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`), independent of the
/// limits of Decimal: a 50-digit decimal is valid FHIR even though
/// Decimal::parse() rejects it with kLimit.
bool is_valid_fhir_decimal(std::string_view text) noexcept;
/// FHIR integer: `-?(0|[1-9][0-9]*)` within -2^31 .. 2^31-1.
bool is_valid_fhir_integer(std::string_view text) noexcept;
/// FHIR unsignedInt: `0|[1-9][0-9]*` within 0 .. 2^31-1.
bool is_valid_fhir_unsigned_int(std::string_view text) noexcept;
/// FHIR positiveInt: `+?[1-9][0-9]*` within 1 .. 2^31-1.
bool is_valid_fhir_positive_int(std::string_view text) noexcept;

// --- Decimal arithmetic (FHIRPath operators). nullopt = empty result. ------

/// a + b, exact; scale = max(a.scale, b.scale) (1.2 + 1.8 = 3.0).
std::optional<Decimal> add(const Decimal& a, const Decimal& b) noexcept;
/// a - b, exact; scale = max of the scales.
std::optional<Decimal> subtract(const Decimal& a, const Decimal& b) noexcept;
/// a * b, exact when it fits (scale = sum of scales: 1.2 * 1.8 = 2.16).
std::optional<Decimal> multiply(const Decimal& a, const Decimal& b) noexcept;
/// a / b. nullopt when b is zero. An exact quotient is returned exactly
/// (1 / 2 = 0.5, 4.0 / 2.0 = 2.0: the scale is at least max(a.scale,
/// b.scale) and trailing zeros beyond it are removed); a non-terminating one
/// is rounded half away from zero to kDivisionDigits significant digits
/// (1.0 / 3 = 0.3333333333333333333333333333).
std::optional<Decimal> divide(const Decimal& a, const Decimal& b) noexcept;
/// FHIRPath `div`: the quotient truncated toward zero, scale 0
/// (2.2 div 1.8 = 1, -5 div 2 = -2). nullopt when b is zero.
std::optional<Decimal> div(const Decimal& a, const Decimal& b) noexcept;
/// FHIRPath `mod`: a - b * (a div b), sign of the dividend
/// (2.2 mod 1.8 = 0.4, -5 mod 2 = -1). nullopt when b is zero.
std::optional<Decimal> mod(const Decimal& a, const Decimal& b) noexcept;
/// -a, same scale (never fails: the coefficient range is symmetric). The
/// negation of a zero is a plain zero.
Decimal negate(const Decimal& a) noexcept;
/// |a|, same scale.
Decimal abs(const Decimal& a) noexcept;

/// FHIRPath `~` on decimals: both values are rounded (half away from zero)
/// to the smaller of the two scales and then compared, so 1.2/1.8 ~ 0.67 and
/// 1.10 ~ 1.1 are true. Never empty.
bool equivalent(const Decimal& a, const Decimal& b) noexcept;

// --- Decimal functions (FHIRPath math functions). ---------------------------

/// FHIRPath `round(precision)`: round half away from zero to `digits`
/// fractional digits (3.14159.round(3) = 3.142, 2.5.round() = 3,
/// -2.5.round() = -3). A value that already has no more than `digits`
/// fractional digits is returned unchanged (1.5.round(3) is 1.5, not 1.500).
/// nullopt when digits < 0 or > kMaxScale.
std::optional<Decimal> round(const Decimal& a, int digits = 0) noexcept;
/// FHIRPath `truncate()`: integer part, toward zero, scale 0 (-1.56 -> -1).
Decimal truncate(const Decimal& a) noexcept;
/// FHIRPath `ceiling()`: smallest integer >= a, scale 0 (-1.1 -> -1).
std::optional<Decimal> ceiling(const Decimal& a) noexcept;
/// FHIRPath `floor()`: largest integer <= a, scale 0 (-2.1 -> -3).
std::optional<Decimal> floor(const Decimal& a) noexcept;

// The next five cannot be exact in general. They compute in long double
// (64-bit mantissa on x86-64, ~18-19 significant digits) and convert back with
// 15 significant digits, trailing zeros removed, so that 81.sqrt() = 9 and
// 100.log(10) = 2 exactly. Exact special cases are short-circuited:
// perfect-square sqrt, power with a small non-negative integer exponent
// (exact multiplication), ln(1), exp(0).

/// FHIRPath `sqrt()`: nullopt for a < 0.
std::optional<Decimal> sqrt(const Decimal& a) noexcept;
/// FHIRPath `ln()`: natural logarithm; nullopt for a <= 0.
std::optional<Decimal> ln(const Decimal& a) noexcept;
/// FHIRPath `log(base)`: nullopt for a <= 0, base <= 0 or base = 1.
std::optional<Decimal> log(const Decimal& a, const Decimal& base) noexcept;
/// FHIRPath `exp()`: nullopt when the result overflows.
std::optional<Decimal> exp(const Decimal& a) noexcept;
/// FHIRPath `power(exponent)`: nullopt when the result is not real
/// ((-1).power(0.5)), undefined (0.power(-1)) or overflows.
std::optional<Decimal> power(const Decimal& base, const Decimal& exponent) noexcept;

/// FHIRPath 2.0 `lowBoundary(precision)` / `highBoundary(precision)`: the
/// least / greatest value the decimal could stand for given its scale
/// (1.587 means [1.5865, 1.5875]), expressed with `precision` fractional
/// digits (default kDefaultBoundaryPrecision). nullopt when precision < 0
/// or > kMaxBoundaryPrecision, or on overflow.
///
/// The rule reproduces the official suite exactly. For a >= 0:
///   low  = (a - half unit in the last place) truncated to `precision`
///   high = (a + half unit in the last place) rounded half-up to `precision`
/// and for a < 0: low(a) = -high(|a|), high(a) = -low(|a|).
/// Examples: 1.587.lowBoundary() = 1.58650000, 1.587.lowBoundary(2) = 1.58,
/// 1.587.highBoundary(2) = 1.59, (-1.587).lowBoundary(0) = -2,
/// 120.lowBoundary(2) = 119.50, 0.0034.highBoundary(1) = 0.0 (sic: the suite
/// rounds the high boundary, so it can lie below the value when precision is
/// coarser than the input's own).
std::optional<Decimal> low_boundary(const Decimal& a, std::optional<int> precision = std::nullopt) noexcept;
std::optional<Decimal> high_boundary(const Decimal& a, std::optional<int> precision = std::nullopt) noexcept;

// ===========================================================================
// Date, DateTime, Time
// ===========================================================================

/// How much of a temporal value is known. Ordered from coarse to fine.
/// Date uses kYear..kDay, Time uses kHour..kMillisecond, DateTime all.
/// FHIRPath treats kSecond and kMillisecond as one precision when comparing
/// (10:30:00 = 10:30:00.0 is true).
enum class TemporalPrecision : std::uint8_t {
  kYear,
  kMonth,
  kDay,
  kHour,
  kMinute,
  kSecond,
  kMillisecond,
};

/// Which grammar temporal text is parsed with.
enum class TemporalSyntax : std::uint8_t {
  /// FHIR R4 JSON/XML primitive text (what the validator checks):
  ///   date      YYYY | YYYY-MM | YYYY-MM-DD
  ///   dateTime  a date, or YYYY-MM-DDThh:mm:ss(.f+)?(Z|(+|-)hh:mm)
  ///             (a time part requires seconds and a timezone)
  ///   time      hh:mm:ss(.f+)?      (no timezone)
  /// Fractional seconds may have any number of digits; digits beyond
  /// milliseconds are validated and then truncated.
  kFhir,
  /// FHIRPath literal text after the `@` (and the string forms accepted by
  /// toDate()/toDateTime()/toTime()):
  ///   date      YYYY(-MM(-DD)?)?
  ///   dateTime  YYYY(-MM(-DD)?)?T  |  YYYY-MM-DDThh(:mm(:ss(.f+)?)?)?(Z|(+|-)hh:mm)?
  ///             and also the FHIR forms without the trailing T ("2015")
  ///   time      hh(:mm(:ss(.f+)?)?)? (the text after "@T"; the caller
  ///             strips "@T" or the leading "T")
  kFhirPath,
};

/// A calendar date to year, month or day precision; no timezone (FHIR and
/// FHIRPath dates carry none).
///
/// Invariant (checked by every factory and parser): 1 <= year <= 9999,
/// precision in kYear..kDay, fields finer than the precision hold their
/// minimum (month = 1, day = 1), and the date exists (no Feb 30).
/// Construct through parse_date() or make_date() to keep it.
struct Date {
  std::int16_t year = 1;
  std::uint8_t month = 1;
  std::uint8_t day = 1;
  TemporalPrecision precision = TemporalPrecision::kDay;

  /// "2014", "2014-05", "2014-05-06" (FHIR text; what FHIRPath toString() gives).
  std::string to_string() const;
  /// FHIRPath literal: "@2014-05-06".
  std::string to_literal() const;

  friend bool operator==(const Date&, const Date&) = default;  // representation
};

/// A date and time to any precision, with an optional timezone offset.
///
/// Invariant: the date part as for Date; hour 0..23, minute 0..59, second
/// 0..59 (the FHIR R4 regex admits a leap second ":60"; the kFhir parser
/// accepts it and stores 59), millisecond 0..999; fields finer
/// than the precision are zero (month/day 1); tz_offset_minutes, when
/// present, is within -14:00..+14:00 and precision is kHour or finer.
struct DateTime {
  std::int16_t year = 1;
  std::uint8_t month = 1;
  std::uint8_t day = 1;
  std::uint8_t hour = 0;
  std::uint8_t minute = 0;
  std::uint8_t second = 0;
  std::uint16_t millisecond = 0;
  TemporalPrecision precision = TemporalPrecision::kMillisecond;
  /// Offset from UTC in minutes (+09:00 -> 540, Z -> 0); nullopt = none
  /// given (local time of unknown offset).
  std::optional<std::int16_t> tz_offset_minutes;

  /// FHIR-style text in the value's own precision: "2015", "2015-02-04",
  /// "2015-02-04T14" (hour precision, FHIRPath only), "2015-02-04T14:34",
  /// "2015-02-04T14:34:28.123+09:00". An offset of zero prints as "Z".
  std::string to_string() const;
  /// FHIRPath literal: "@2015T", "@2015-02-04T14:34:28.123+09:00".
  std::string to_literal() const;

  friend bool operator==(const DateTime&, const DateTime&) = default;  // representation
};

/// A time of day to hour, minute, second or millisecond precision; no
/// timezone. Invariant: hour 0..23, minute 0..59, second 0..59,
/// millisecond 0..999, finer fields zero, precision kHour..kMillisecond.
struct Time {
  std::uint8_t hour = 0;
  std::uint8_t minute = 0;
  std::uint8_t second = 0;
  std::uint16_t millisecond = 0;
  TemporalPrecision precision = TemporalPrecision::kMillisecond;

  /// "14", "14:34", "14:34:28", "14:34:28.123".
  std::string to_string() const;
  /// FHIRPath literal: "@T14:34".
  std::string to_literal() const;

  friend bool operator==(const Time&, const Time&) = default;  // representation
};

// --- Construction and parsing ----------------------------------------------

/// Checked constructors. Only the fields up to `precision` are read; finer
/// ones are ignored and stored as their minimum. Errors: kInvalidArgument
/// for out-of-range fields, a non-existent date, or a precision the type
/// does not have.
Result<Date> make_date(int year, int month, int day, TemporalPrecision precision);
Result<DateTime> make_datetime(int year, int month, int day, int hour, int minute, int second, int millisecond,
                               TemporalPrecision precision, std::optional<int> tz_offset_minutes);
Result<Time> make_time(int hour, int minute, int second, int millisecond, TemporalPrecision precision);

/// Parse the whole text in the given grammar. Errors: kParse with a message
/// naming the component that is wrong ("month out of range", "timezone
/// required"), never echoing the text.
Result<Date> parse_date(std::string_view text, TemporalSyntax syntax = TemporalSyntax::kFhir);
Result<DateTime> parse_datetime(std::string_view text, TemporalSyntax syntax = TemporalSyntax::kFhir);
/// FHIR `instant`: YYYY-MM-DDThh:mm:ss(.f+)?(Z|(+|-)hh:mm), timezone required.
Result<DateTime> parse_instant(std::string_view text);
Result<Time> parse_time(std::string_view text, TemporalSyntax syntax = TemporalSyntax::kFhir);

/// Format checks for the FHIR validator: the kFhir grammar plus real
/// calendar checks (month 1..12, day within the month including leap years,
/// hour 0..23, minute and second ranges, timezone within +/-14:00).
bool is_valid_fhir_date(std::string_view text) noexcept;
bool is_valid_fhir_datetime(std::string_view text) noexcept;
bool is_valid_fhir_instant(std::string_view text) noexcept;
bool is_valid_fhir_time(std::string_view text) noexcept;

// --- Conversions ------------------------------------------------------------

/// A Date seen as a DateTime of the same precision, no timezone (FHIRPath
/// implicit Date -> DateTime conversion).
DateTime to_datetime(const Date& date) noexcept;
/// The date part of a DateTime, at min(precision, kDay).
Date date_part(const DateTime& value) noexcept;
/// The time part of a DateTime at hour precision or finer; nullopt when the
/// DateTime has no time part.
std::optional<Time> time_part(const DateTime& value) noexcept;

/// The instant `tp` as a millisecond-precision DateTime in the given
/// offset (for FHIRPath now()/today()/timeOfDay(); the clock and the offset
/// are passed in, never read from globals). Errors: kInvalidArgument when
/// the offset is outside +/-14:00 or the year leaves 1..9999.
Result<DateTime> datetime_from_time_point(std::chrono::system_clock::time_point tp, int tz_offset_minutes);

/// FHIRPath `precision()` for temporal values: digits of the value as
/// written. Date: 4, 6, 8. DateTime: 4, 6, 8, 10, 12, 14, 17. Time: 2, 4, 6, 9.
int precision_digits(const Date& value) noexcept;
int precision_digits(const DateTime& value) noexcept;
int precision_digits(const Time& value) noexcept;

// --- Comparison (FHIRPath semantics) ----------------------------------------
//
// compare(): negative / zero / positive, or nullopt when indeterminate.
// Algorithm (N1 §6.1.1, §6.2 and the suite):
//   1. Timezones. If both DateTimes have offsets, both are normalised to UTC.
//      If neither has one, fields are compared as they are. If exactly one
//      has one, the other is an unknown local time: it is compared at both
//      extreme offsets (+14:00 and -12:00); if the two answers agree that is
//      the answer, otherwise nullopt (so 15:00Z vs 10:00 is indeterminate).
//   2. Fields are compared from the year down to the coarser of the two
//      precisions, seconds and milliseconds as one decimal second. The first
//      difference decides.
//   3. All compared fields equal: zero if both precisions are the same
//      (treating second and millisecond as the same), else nullopt
//      (@2018-03 vs @2018-03-01 is indeterminate).
//
// equals(): FHIRPath `=`: compare() == 0, or nullopt when compare() is.
// equivalent(): FHIRPath `~`: false when the precisions differ (second and
// millisecond count as equal) or the answer is indeterminate, else
// compare() == 0. Never empty.
//
// Date and DateTime are compared by converting the Date with to_datetime();
// the engine does that so that @2012-04-15 = @2012-04-15T10:00:00 is empty.

std::optional<int> compare(const Date& a, const Date& b) noexcept;
std::optional<int> compare(const DateTime& a, const DateTime& b) noexcept;
std::optional<int> compare(const Time& a, const Time& b) noexcept;
std::optional<bool> equals(const Date& a, const Date& b) noexcept;
std::optional<bool> equals(const DateTime& a, const DateTime& b) noexcept;
std::optional<bool> equals(const Time& a, const Time& b) noexcept;
bool equivalent(const Date& a, const Date& b) noexcept;
bool equivalent(const DateTime& a, const DateTime& b) noexcept;
bool equivalent(const Time& a, const Time& b) noexcept;

// --- Boundaries (FHIRPath 2.0 lowBoundary()/highBoundary()) ----------------
//
// The earliest / latest value the partial value could stand for, expressed
// to `precision_digits` (same digit counts as precision_digits(); default:
// the finest, 8 for Date, 17 for DateTime, 9 for Time). nullopt when the
// digit count is not one of the type's valid counts.
// Missing month/day/time fields become their minimum (low) or maximum
// (high, with the real month length). A DateTime without timezone whose
// result has a time part gets +14:00 (low) or -12:00 (high), the extremes
// of the possible offsets; a result coarser than an hour drops the offset.
// Following the suite, an hour-precision DateTime (@2014-01-01T08) or Time
// (@T08) is read as minute precision with minute 00, so its high boundary
// is 08:00:59.999 (the suite's note: "T08 is not legal in FHIR - must be
// converted to 08:00 internally first").
std::optional<Date> low_boundary(const Date& value, std::optional<int> precision_digits = std::nullopt) noexcept;
std::optional<Date> high_boundary(const Date& value, std::optional<int> precision_digits = std::nullopt) noexcept;
std::optional<DateTime> low_boundary(const DateTime& value,
                                     std::optional<int> precision_digits = std::nullopt) noexcept;
std::optional<DateTime> high_boundary(const DateTime& value,
                                      std::optional<int> precision_digits = std::nullopt) noexcept;
std::optional<Time> low_boundary(const Time& value, std::optional<int> precision_digits = std::nullopt) noexcept;
std::optional<Time> high_boundary(const Time& value, std::optional<int> precision_digits = std::nullopt) noexcept;

// ===========================================================================
// Quantity
// ===========================================================================

/// The FHIRPath calendar-duration keywords (singular or plural spelling).
enum class CalendarUnit : std::uint8_t {
  kYear,
  kMonth,
  kWeek,
  kDay,
  kHour,
  kMinute,
  kSecond,
  kMillisecond,
};

/// The keyword named by `unit` ("year", "years", ..., "millisecond(s)"), or
/// nullopt. Case-sensitive, as in FHIRPath.
std::optional<CalendarUnit> calendar_unit(std::string_view unit) noexcept;

/// A decimal value with a unit.
///
/// `unit` is either a calendar keyword exactly as written ("day", "weeks"),
/// or a UCUM code ("mg", "mmol/L", "[lb_av]", "1"). A Quantity made from a
/// plain number has unit "1". A unit that is not valid UCUM is kept as text:
/// such quantities compare only with quantities of the identical unit.
///
/// `operator==` (defaulted) compares the values numerically and the unit
/// text exactly (1.0 'g' == 1.00 'g', but 1000 'mg' != 1 'g'); FHIRPath `=`
/// is equals().
struct Quantity {
  Decimal value;
  std::string unit = "1";

  /// FHIRPath toString(): "4 'g'", "1.50 'mmol/L'", "1 week" (calendar
  /// keywords unquoted, as written).
  std::string to_string() const;

  friend bool operator==(const Quantity&, const Quantity&) = default;
};

/// Parses the FHIRPath quantity grammar used by toQuantity() on strings and
/// by the lexer for literals: a FHIRPath decimal, optionally followed by
/// whitespace and either a quoted UCUM unit ('mg', with \' escapes) or a
/// calendar keyword. "4 days", "1 'wk'", "1.5", "-2 'mg'". A bare UCUM code
/// ("1 wk") is rejected (kParse), as the suite requires. A missing unit
/// gives "1".
Result<Quantity> parse_quantity(std::string_view text);

/// The same value expressed in `target_unit` (FHIRPath toQuantity(unit)),
/// nullopt when the units are not convertible. Calendar keywords week and
/// finer convert as their UCUM counterparts; year/month only to each other
/// (1 year -> 12 months: this explicit conversion is the one place where
/// the two calendar units meet) and not to days.
std::optional<Quantity> convert(const Quantity& q, std::string_view target_unit) noexcept;

/// FHIRPath 2.0 `comparable()`: true when equals()/compare() can give an
/// answer for these units (same dimension: 'cm' and '[in_i]'; the same
/// calendar year or month keyword; identical non-UCUM units), false otherwise
/// ('cm' vs 's', 'cm' vs the unknown '[s]').
bool comparable(const Quantity& a, const Quantity& b) noexcept;

/// FHIRPath `=` on quantities: both are converted to canonical UCUM units
/// and the exact values compared (4.0 'g' = 4000 'mg' is true, 1 '[lb_av]' =
/// 453.59237 'g' is true). Calendar keywords: week and finer equal their
/// UCUM units (7 days = 1 'wk'); a calendar year or month compares only
/// with the same keyword: against 'a'/'mo', days or even each other it is
/// indeterminate (nullopt), as the suite requires for 1 'a' = 1 year and
/// the FHIRPath 2.0 text for 1 year = 12 months ("calendar unit
/// conversion must be explicit": use convert()). Incompatible dimensions
/// ('g' vs 'm') give nullopt.
std::optional<bool> equals(const Quantity& a, const Quantity& b) noexcept;

/// FHIRPath `~`: like equals() but the converted values are compared with
/// decimal equivalence (rounded to the least precise operand: 4 'g' ~ 4040
/// 'mg' is true), a calendar year/month is equivalent to 1 'a'/'mo', and
/// anything not comparable is false. Never empty.
bool equivalent(const Quantity& a, const Quantity& b) noexcept;

/// FHIRPath `<` etc.: sign of a - b after conversion; nullopt when not
/// comparable (see equals()).
std::optional<int> compare(const Quantity& a, const Quantity& b) noexcept;

/// a + b and a - b. The operand in the coarser unit is converted to the
/// finer one, which is the unit of the result (N1: "the most granular unit
/// of either input": 3 'm' + 3 'cm' = 303 'cm'); equal factors keep a's
/// unit. Calendar years and months add only to the same keyword. nullopt when the units are not
/// convertible or on overflow. Temperatures in Cel/[degF] are treated as
/// absolute values: 1 'Cel' + 1 'Cel' is 2 'Cel'.
std::optional<Quantity> add(const Quantity& a, const Quantity& b) noexcept;
std::optional<Quantity> subtract(const Quantity& a, const Quantity& b) noexcept;
/// a * b and a / b: values multiply/divide exactly (see divide() for
/// decimals) and units combine. When both units have the same dimension, b
/// is first converted to a's unit ('cm' * 'm' is 'cm2', 'm' / 'm' is '1').
/// Powers of one atom merge (12 'cm2' / 3 'cm' = 4 'cm', 3 'cm' * 12 'cm2'
/// = 36 'cm3'); other units are joined with '.' or '/', parenthesised when
/// compound ('g/m', 'kg.(m/s2)'). Units are not otherwise simplified: the
/// result may be written differently from, but always compares equal to,
/// the simplest form. Calendar keywords multiply as their UCUM counterparts
/// (year -> 'a', month -> 'mo'). nullopt on overflow, division by zero, a
/// unit that is not UCUM, or an affine temperature unit.
std::optional<Quantity> multiply(const Quantity& a, const Quantity& b) noexcept;
std::optional<Quantity> divide(const Quantity& a, const Quantity& b) noexcept;

/// FHIRPath 2.0 lowBoundary()/highBoundary() on a quantity: the decimal
/// boundary of the value (see low_boundary(const Decimal&, ...)), same unit
/// (1.587 'cm'.lowBoundary(8) = 1.58650000 'cm').
std::optional<Quantity> low_boundary(const Quantity& q, std::optional<int> precision = std::nullopt);
std::optional<Quantity> high_boundary(const Quantity& q, std::optional<int> precision = std::nullopt);

// --- Date/time arithmetic with durations ------------------------------------
//
// `value + quantity` and `value - quantity` (N1 §6.6, the suite's
// testPlusDate* / testMinus*). The quantity must be a time duration:
//   calendar keywords year(s) .. millisecond(s), or the UCUM units
//   'wk', 'd', 'h', 'min', 's', 'ms'.
// The UCUM 'a' and 'mo' are not calendar durations: they, and any
// non-time unit, are execution errors (kInvalidArgument), as the suite
// requires for @1973-12-25 + 1 'mo' and @1974-12-25 - 1 'cm'. As N1 §6.6
// says, a Date takes only years, months, weeks and days, and a Time only
// hours and finer; other units are errors too.
//
// Rules:
//   * The decimal part of the quantity is dropped (7.7 days -> 7 days,
//     0.1 's' -> 0 s), as the suite requires.
//   * A unit finer than the value's precision is first converted to that
//     precision and truncated: 1 year = 12 months, 1 month = 30 days,
//     1 year = 365 days, 1 week = 7 days, then 24 h, 60 min, 60 s, 1000 ms
//     (so @2014 + 24 months = @2016, @2014 + 364 days = @2014).
//   * Years and months are calendar arithmetic: the day is clamped to the
//     end of the resulting month (@2020-01-31 + 1 month = @2020-02-29).
//   * Weeks and finer are exact; a DateTime keeps its timezone offset.
//   * Time wraps around midnight (@T23:00 + 2 hours = @T01:00).
//   * The result keeps the input's precision.
// Errors: kInvalidArgument as above, kLimit when the year leaves 1..9999.

Result<Date> add(const Date& value, const Quantity& duration);
Result<Date> subtract(const Date& value, const Quantity& duration);
Result<DateTime> add(const DateTime& value, const Quantity& duration);
Result<DateTime> subtract(const DateTime& value, const Quantity& duration);
Result<Time> add(const Time& value, const Quantity& duration);
Result<Time> subtract(const Time& value, const Quantity& duration);

// ===========================================================================
// UCUM
// ===========================================================================

namespace ucum {

/// The seven UCUM base dimensions, in this order: length (m), mass (g),
/// time (s), electric current (A), temperature (K), amount (mol),
/// luminous intensity (cd). The exponent of each in a unit.
struct Dimension {
  std::array<std::int8_t, 7> exponents{};
  friend bool operator==(const Dimension&, const Dimension&) = default;
};

/// A unit reduced to canonical (base) units:
///
///   value_in_base = (value + offset) * numerator / denominator
///
/// The factor is kept as an exact ratio of decimals so that conversions
/// through units such as [degF] (5/9 K) or U (umol/min) stay exact whenever
/// the result is a terminating decimal (212 [degF] is exactly 100 Cel).
/// `offset` is non-zero only for the affine temperature units 'Cel'
/// (273.15) and '[degF]' (459.67) written on their own; inside a compound
/// unit ('Cel/h') they scale like K.
/// `arbitrary` is non-empty for arbitrary units ('[iU]', '[arb'U]'), which
/// have no conversion: such units compare only with the same arbitrary
/// units ('[iU]/L' vs 'm[iU]/mL' is fine, '[iU]' vs 'g' is not).
/// Dimensions: mol is treated as a base dimension (UCUM defines it as a
/// count, 6.0221367e23, which no clinical conversion needs); rad and sr are
/// dimensionless.
struct CanonicalUnit {
  Decimal numerator = Decimal::from_int64(1);
  Decimal denominator = Decimal::from_int64(1);
  Decimal offset;
  Dimension dimension;
  std::string arbitrary;
};

/// Parses and reduces a UCUM code. Supported: the base units; metric units
/// with the prefixes Y Z E P T G M k h da d c m u n p f a z y; the common
/// clinical units (L, l, mol, eq, osm, g, %, [ppm], [ppb], min, h, d, wk, mo,
/// a, [in_i], [ft_i], [yd_i], [mi_i], [lb_av], [oz_av], [gr], [pt_us],
/// [qt_us], [gal_us], [foz_us], [tsp_us], [tbs_us], cal, [Cal], mm[Hg],
/// cm[H2O], Pa, bar, atm, N, J, W, Hz, V, Ohm, S, C, F, Bq, Ci, Gy, Sv, K,
/// Cel, [degF], U, [iU], [IU], [arb'U], kat, 10*n and 10^n factors, and
/// annotations {…} (unity); the operators '.', '/', leading '/',
/// integer exponents (m2, s-1), and parentheses. Errors: kParse for an
/// unknown symbol or malformed expression (the message names the position,
/// not the text).
Result<CanonicalUnit> canonicalize(std::string_view code);

/// True when canonicalize() succeeds.
bool is_known_unit(std::string_view code) noexcept;

/// True when values in the two units can be converted into each other
/// (same dimension and neither is arbitrary, or identical arbitrary units).
bool comparable(std::string_view unit_a, std::string_view unit_b) noexcept;

/// value in unit `from` expressed in unit `to` (affine for Cel/[degF]),
/// nullopt when not comparable or on overflow. Conversions with an exact
/// factor (mg -> g, [lb_av] -> g, mg/dL -> g/L) are exact; others (Cel ->
/// [degF]) round to Decimal::kDivisionDigits significant digits.
std::optional<Decimal> convert(const Decimal& value, std::string_view from, std::string_view to) noexcept;

}  // namespace ucum

}  // namespace gw::primitives
