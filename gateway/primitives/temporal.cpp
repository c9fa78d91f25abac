// Date, DateTime and Time: FHIRPath comparison (with indeterminate results),
// lowBoundary()/highBoundary(), and arithmetic with time-valued quantities.
//
// Everything is done on one representation: a DateTime. A Date is a DateTime
// of day precision or coarser; a Time is the time part of a DateTime on an
// arbitrary fixed day (1970-01-01), which is enough for comparison and for
// arithmetic that wraps at midnight.
#include "gateway/primitives/primitives.hpp"

#include "gateway/primitives/detail/temporal_internal.hpp"

namespace gw::primitives {

namespace {

using P = TemporalPrecision;

/// Seconds and milliseconds count as one precision in comparisons.
P comparison_precision(P p) { return p == P::kMillisecond ? P::kSecond : p; }

/// The component of `v` at comparison level `level`.
std::int64_t component(const DateTime& v, P level) {
  switch (level) {
    case P::kYear: return v.year;
    case P::kMonth: return v.month;
    case P::kDay: return v.day;
    case P::kHour: return v.hour;
    case P::kMinute: return v.minute;
    default: return v.second * 1000 + v.millisecond;  // seconds as a decimal
  }
}

/// The value's fields moved to UTC by its offset (the offset itself dropped).
DateTime to_utc(DateTime v, int offset_minutes) {
  const DateTime saved = v;
  if (!detail::set_local_ms(v, detail::local_ms(v) - offset_minutes * detail::kMsPerMinute)) {
    return saved;  // at the calendar's very edge: compare the local fields
  }
  v.tz_offset_minutes.reset();
  return v;
}

/// Step 2 and 3 of the comparison (see the header): fields from the year
/// down to the coarser precision.
std::optional<int> compare_fields(const DateTime& a, const DateTime& b) {
  const P pa = comparison_precision(a.precision);
  const P pb = comparison_precision(b.precision);
  const P common = pa < pb ? pa : pb;
  for (int level = 0; level <= static_cast<int>(common); ++level) {
    const std::int64_t x = component(a, static_cast<P>(level));
    const std::int64_t y = component(b, static_cast<P>(level));
    if (x != y) return x < y ? -1 : 1;
  }
  if (pa != pb) return std::nullopt;
  return 0;
}

Date date_from(const DateTime& v) { return date_part(v); }

Time time_from(const DateTime& v) {
  auto t = time_part(v);
  GW_ASSERT(t.has_value(), "time value without a time part");
  return *t;
}

DateTime from_time(const Time& t) {
  DateTime v;
  v.year = 1970;
  v.hour = t.hour;
  v.minute = t.minute;
  v.second = t.second;
  v.millisecond = t.millisecond;
  v.precision = t.precision;
  return v;
}

// --- Boundaries ---------------------------------------------------------------

/// The precision a digit count names for a type, or nullopt.
std::optional<P> precision_from_digits(int digits, P finest_allowed, P coarsest_allowed) {
  std::optional<P> p;
  switch (digits) {
    case 4: p = P::kYear; break;
    case 6: p = P::kMonth; break;
    case 8: p = P::kDay; break;
    case 10: p = P::kHour; break;
    case 12: p = P::kMinute; break;
    case 14: p = P::kSecond; break;
    case 17: p = P::kMillisecond; break;
    default: return std::nullopt;
  }
  if (*p > finest_allowed || *p < coarsest_allowed) return std::nullopt;
  return p;
}

std::optional<P> time_precision_from_digits(int digits) {
  switch (digits) {
    case 2: return P::kHour;
    case 4: return P::kMinute;
    case 6: return P::kSecond;
    case 9: return P::kMillisecond;
    default: return std::nullopt;
  }
}

/// Fills the fields finer than v.precision with their minimum (low) or
/// maximum (high), then cuts the value to `target` precision.
DateTime boundary(DateTime v, P target, bool high) {
  // The suite reads an hour-precision value as minute precision, minute 00.
  if (v.precision == P::kHour) v.precision = P::kMinute;
  if (v.precision < P::kMonth) v.month = high ? 12 : 1;
  if (v.precision < P::kDay) v.day = high ? static_cast<std::uint8_t>(detail::days_in_month(v.year, v.month)) : 1;
  if (v.precision < P::kHour) v.hour = high ? 23 : 0;
  if (v.precision < P::kMinute) v.minute = high ? 59 : 0;
  if (v.precision < P::kSecond) v.second = high ? 59 : 0;
  if (v.precision < P::kMillisecond) v.millisecond = high ? 999 : 0;
  // Cut to the target precision: finer fields to their canonical minimum.
  if (target < P::kMonth) v.month = 1;
  if (target < P::kDay) v.day = 1;
  if (target < P::kHour) v.hour = 0;
  if (target < P::kMinute) v.minute = 0;
  if (target < P::kSecond) v.second = 0;
  if (target < P::kMillisecond) v.millisecond = 0;
  v.precision = target;
  return v;
}

DateTime datetime_boundary(const DateTime& value, P target, bool high) {
  DateTime v = boundary(value, target, high);
  if (target < P::kHour) {
    v.tz_offset_minutes.reset();
  } else if (!v.tz_offset_minutes) {
    v.tz_offset_minutes =
        static_cast<std::int16_t>(high ? detail::kLatestOffsetMinutes : detail::kEarliestOffsetMinutes);
  }
  return v;
}

// --- Arithmetic ---------------------------------------------------------------

/// Unit of a duration, ordered coarse to fine like TemporalPrecision, with
/// the week between month and day.
enum class Step : std::uint8_t { kYear, kMonth, kWeek, kDay, kHour, kMinute, kSecond, kMillisecond };

Result<Step> duration_step(const std::string& unit) {
  if (auto c = calendar_unit(unit)) return static_cast<Step>(*c);
  // The definite-duration UCUM units. 'a' and 'mo' are averages (365.25 and
  // 30.4375 days), not calendar years/months: the suite makes them errors.
  if (unit == "wk") return Step::kWeek;
  if (unit == "d") return Step::kDay;
  if (unit == "h") return Step::kHour;
  if (unit == "min") return Step::kMinute;
  if (unit == "s") return Step::kSecond;
  if (unit == "ms") return Step::kMillisecond;
  return fail(ErrorCode::kInvalidArgument, "date/time arithmetic needs a calendar duration or a definite time unit");
}

Step step_of(P p) {
  switch (p) {
    case P::kYear: return Step::kYear;
    case P::kMonth: return Step::kMonth;
    case P::kDay: return Step::kDay;
    case P::kHour: return Step::kHour;
    case P::kMinute: return Step::kMinute;
    case P::kSecond: return Step::kSecond;
    default: return Step::kMillisecond;
  }
}

/// Length of a step in milliseconds, with the spec's calendar conversion
/// (month = 30 days, year = 365 days) used only to move a finer step to a
/// coarser precision.
std::int64_t step_ms(Step s) {
  switch (s) {
    case Step::kYear: return 365 * detail::kMsPerDay;
    case Step::kMonth: return 30 * detail::kMsPerDay;
    case Step::kWeek: return 7 * detail::kMsPerDay;
    case Step::kDay: return detail::kMsPerDay;
    case Step::kHour: return detail::kMsPerHour;
    case Step::kMinute: return detail::kMsPerMinute;
    case Step::kSecond: return detail::kMsPerSecond;
    default: return 1;
  }
}

/// Expresses `amount` steps of `unit` in the value's precision `target`
/// when the unit is finer, truncating toward zero (1 year = 12 months
/// exactly; otherwise through milliseconds).
std::pair<Step, std::int64_t> to_precision(Step unit, std::int64_t amount, Step target) {
  if (unit <= target) return {unit, amount};
  if (target == Step::kYear && unit == Step::kMonth) return {Step::kYear, amount / 12};
  // |amount| <= ~9.2e18 / step: avoid overflow by dividing the step ratio
  // (target is coarser, so its length is a multiple of the unit's for all
  // pairs used here except week -> month/year, handled by going through days).
  const std::int64_t unit_len = step_ms(unit);
  const std::int64_t target_len = step_ms(target);
  if (target_len % unit_len == 0) return {target, amount / (target_len / unit_len)};
  // week -> month (30 d) or year (365 d): go through days.
  return {target, amount * (unit_len / detail::kMsPerDay) / (target_len / detail::kMsPerDay)};
}

Error out_of_range() { return Error(ErrorCode::kLimit, "date/time arithmetic: year out of range"); }

/// Adds `amount` steps to v in place (v.precision unchanged). The step is
/// never finer than the precision (see to_precision).
Status add_steps(DateTime& v, Step step, std::int64_t amount, bool wrap_day) {
  constexpr std::int64_t kYearLimit = 10000;
  switch (step) {
    case Step::kYear:
    case Step::kMonth: {
      if (amount > kYearLimit * 12 || amount < -kYearLimit * 12) return out_of_range();
      const std::int64_t months = step == Step::kYear ? amount * 12 : amount;
      const std::int64_t total = static_cast<std::int64_t>(v.year) * 12 + (v.month - 1) + months;
      const std::int64_t year = total >= 0 ? total / 12 : (total - 11) / 12;
      if (year < 1 || year > 9999) return out_of_range();
      v.year = static_cast<std::int16_t>(year);
      if (v.precision >= P::kMonth) v.month = static_cast<std::uint8_t>(total - year * 12 + 1);
      // Clamp to the end of the month: @2020-01-31 + 1 month = @2020-02-29.
      if (v.precision >= P::kDay) {
        const int last = detail::days_in_month(v.year, v.month);
        if (v.day > last) v.day = static_cast<std::uint8_t>(last);
      }
      return {};
    }
    default: {
      const std::int64_t len = step_ms(step);
      constexpr std::int64_t kMaxMs = 10000LL * 366 * detail::kMsPerDay;
      if (amount > kMaxMs / len || amount < -kMaxMs / len) return out_of_range();
      std::int64_t ms = detail::local_ms(v) + amount * len;
      if (wrap_day) {
        ms %= detail::kMsPerDay;
        if (ms < 0) ms += detail::kMsPerDay;
      }
      const P precision = v.precision;
      const auto offset = v.tz_offset_minutes;
      if (!detail::set_local_ms(v, ms)) return out_of_range();
      v.precision = precision;
      v.tz_offset_minutes = offset;
      return {};
    }
  }
}

enum class Target : std::uint8_t { kDate, kDateTime, kTime };

Result<DateTime> add_duration(DateTime v, const Quantity& duration, bool negate_it, Target target) {
  GW_TRY(const Step unit, duration_step(duration.unit));
  // N1 §6.6.1: a Date takes years..days, a Time hours..milliseconds.
  if (target == Target::kTime && unit <= Step::kDay) {
    return fail(ErrorCode::kInvalidArgument, "time arithmetic needs hours or a finer unit");
  }
  if (target == Target::kDate && unit > Step::kDay) {
    return fail(ErrorCode::kInvalidArgument, "date arithmetic needs days or a coarser unit");
  }
  const bool is_time = target == Target::kTime;
  // The decimal part is dropped (suite: + 7.7 days adds 7 days, + 0.1 's'
  // adds nothing).
  const auto whole = truncate(duration.value).to_int64();
  if (!whole) return out_of_range();
  std::int64_t amount = negate_it ? -*whole : *whole;
  if (amount == INT64_MIN) return out_of_range();
  const auto [step, n] = to_precision(unit, amount, step_of(v.precision));
  GW_CHECK_OK(add_steps(v, step, n, is_time));
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------
// Comparison

std::optional<int> compare(const DateTime& a, const DateTime& b) noexcept {
  const bool ta = a.tz_offset_minutes.has_value();
  const bool tb = b.tz_offset_minutes.has_value();
  if (ta && tb) return compare_fields(to_utc(a, *a.tz_offset_minutes), to_utc(b, *b.tz_offset_minutes));
  if (!ta && !tb) return compare_fields(a, b);
  // Exactly one offset. A value without time has no instant to shift, so
  // the other is compared in its own local fields.
  const DateTime& zoned = ta ? a : b;
  const DateTime& local = ta ? b : a;
  if (local.precision < P::kHour) {
    DateTime z = zoned;
    z.tz_offset_minutes.reset();
    return ta ? compare_fields(z, local) : compare_fields(local, z);
  }
  // The local value could be at any offset: compare at both extremes.
  const DateTime z = to_utc(zoned, *zoned.tz_offset_minutes);
  const DateTime early = to_utc(local, detail::kEarliestOffsetMinutes);
  const DateTime late = to_utc(local, detail::kLatestOffsetMinutes);
  const auto r1 = ta ? compare_fields(z, early) : compare_fields(early, z);
  const auto r2 = ta ? compare_fields(z, late) : compare_fields(late, z);
  if (r1 && r2 && *r1 == *r2 && *r1 != 0) return r1;
  return std::nullopt;
}

std::optional<int> compare(const Date& a, const Date& b) noexcept { return compare(to_datetime(a), to_datetime(b)); }

std::optional<int> compare(const Time& a, const Time& b) noexcept { return compare_fields(from_time(a), from_time(b)); }

std::optional<bool> equals(const DateTime& a, const DateTime& b) noexcept {
  const auto c = compare(a, b);
  if (!c) return std::nullopt;
  return *c == 0;
}

std::optional<bool> equals(const Date& a, const Date& b) noexcept { return equals(to_datetime(a), to_datetime(b)); }

std::optional<bool> equals(const Time& a, const Time& b) noexcept {
  const auto c = compare(a, b);
  if (!c) return std::nullopt;
  return *c == 0;
}

bool equivalent(const DateTime& a, const DateTime& b) noexcept {
  if (comparison_precision(a.precision) != comparison_precision(b.precision)) return false;
  const auto c = compare(a, b);
  return c && *c == 0;
}

bool equivalent(const Date& a, const Date& b) noexcept { return equivalent(to_datetime(a), to_datetime(b)); }

bool equivalent(const Time& a, const Time& b) noexcept {
  if (comparison_precision(a.precision) != comparison_precision(b.precision)) return false;
  const auto c = compare(a, b);
  return c && *c == 0;
}

// ---------------------------------------------------------------------------
// Boundaries

std::optional<Date> low_boundary(const Date& value, std::optional<int> digits) noexcept {
  const auto p = precision_from_digits(digits.value_or(8), P::kDay, P::kYear);
  if (!p) return std::nullopt;
  return date_from(boundary(to_datetime(value), *p, false));
}

std::optional<Date> high_boundary(const Date& value, std::optional<int> digits) noexcept {
  const auto p = precision_from_digits(digits.value_or(8), P::kDay, P::kYear);
  if (!p) return std::nullopt;
  return date_from(boundary(to_datetime(value), *p, true));
}

std::optional<DateTime> low_boundary(const DateTime& value, std::optional<int> digits) noexcept {
  const auto p = precision_from_digits(digits.value_or(17), P::kMillisecond, P::kYear);
  if (!p) return std::nullopt;
  return datetime_boundary(value, *p, false);
}

std::optional<DateTime> high_boundary(const DateTime& value, std::optional<int> digits) noexcept {
  const auto p = precision_from_digits(digits.value_or(17), P::kMillisecond, P::kYear);
  if (!p) return std::nullopt;
  return datetime_boundary(value, *p, true);
}

std::optional<Time> low_boundary(const Time& value, std::optional<int> digits) noexcept {
  const auto p = time_precision_from_digits(digits.value_or(9));
  if (!p) return std::nullopt;
  return time_from(boundary(from_time(value), *p, false));
}

std::optional<Time> high_boundary(const Time& value, std::optional<int> digits) noexcept {
  const auto p = time_precision_from_digits(digits.value_or(9));
  if (!p) return std::nullopt;
  return time_from(boundary(from_time(value), *p, true));
}

// ---------------------------------------------------------------------------
// Arithmetic

Result<DateTime> add(const DateTime& value, const Quantity& duration) {
  return add_duration(value, duration, false, Target::kDateTime);
}

Result<DateTime> subtract(const DateTime& value, const Quantity& duration) {
  return add_duration(value, duration, true, Target::kDateTime);
}

Result<Date> add(const Date& value, const Quantity& duration) {
  GW_TRY(const DateTime r, add_duration(to_datetime(value), duration, false, Target::kDate));
  return date_from(r);
}

Result<Date> subtract(const Date& value, const Quantity& duration) {
  GW_TRY(const DateTime r, add_duration(to_datetime(value), duration, true, Target::kDate));
  return date_from(r);
}

Result<Time> add(const Time& value, const Quantity& duration) {
  GW_TRY(const DateTime r, add_duration(from_time(value), duration, false, Target::kTime));
  return time_from(r);
}

Result<Time> subtract(const Time& value, const Quantity& duration) {
  GW_TRY(const DateTime r, add_duration(from_time(value), duration, true, Target::kTime));
  return time_from(r);
}

}  // namespace gw::primitives
