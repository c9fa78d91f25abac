// Private calendar helpers shared by temporal.cpp and temporal_parse.cpp:
// the proleptic Gregorian calendar as a day count, so that day, week and
// sub-day arithmetic is plain integer arithmetic.
#pragma once

#include "gateway/primitives/primitives.hpp"

#include <cstdint>

namespace gw::primitives::detail {

constexpr std::int64_t kMsPerSecond = 1000;
constexpr std::int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr std::int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr std::int64_t kMsPerDay = 24 * kMsPerHour;
constexpr int kMaxOffsetMinutes = 14 * 60;   // +14:00
constexpr int kMinOffsetMinutes = -14 * 60;  // -14:00 (FHIR allows it)
// The extremes of offsets in use, for values without a timezone
// (lowBoundary uses +14:00, highBoundary -12:00, as the suite expects).
constexpr int kEarliestOffsetMinutes = 14 * 60;
constexpr int kLatestOffsetMinutes = -12 * 60;

constexpr bool is_leap_year(int y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr int days_in_month(int y, int m) noexcept {
  constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : kDays[m - 1];
}

/// Days since 1970-01-01 of the civil date y-m-d (proleptic Gregorian).
/// Shifting the year to start in March puts the leap day last, so the day of
/// the year follows from the month by a fixed formula; eras of 400 years
/// repeat exactly.
constexpr std::int64_t days_from_civil(std::int64_t y, int m, int d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t year_of_era = y - era * 400;                                  // [0, 399]
  const std::int64_t day_of_year = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;  // [0, 365]
  const std::int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

struct Civil {
  std::int64_t year;
  int month;
  int day;
};

/// Inverse of days_from_civil().
constexpr Civil civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t day_of_era = z - era * 146097;
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const std::int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t mp = (5 * day_of_year + 2) / 153;
  const int d = static_cast<int>(day_of_year - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {year_of_era + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

/// Milliseconds since the epoch of the local fields (no offset applied).
inline std::int64_t local_ms(const DateTime& v) noexcept {
  return days_from_civil(v.year, v.month, v.day) * kMsPerDay + v.hour * kMsPerHour + v.minute * kMsPerMinute +
         v.second * kMsPerSecond + v.millisecond;
}

/// Writes the local fields of `ms` into `out` (precision and offset kept).
/// Returns false when the year leaves 1..9999.
inline bool set_local_ms(DateTime& out, std::int64_t ms) noexcept {
  std::int64_t days = ms / kMsPerDay;
  std::int64_t rest = ms % kMsPerDay;
  if (rest < 0) {
    rest += kMsPerDay;
    --days;
  }
  const Civil c = civil_from_days(days);
  if (c.year < 1 || c.year > 9999) return false;
  out.year = static_cast<std::int16_t>(c.year);
  out.month = static_cast<std::uint8_t>(c.month);
  out.day = static_cast<std::uint8_t>(c.day);
  out.hour = static_cast<std::uint8_t>(rest / kMsPerHour);
  out.minute = static_cast<std::uint8_t>(rest % kMsPerHour / kMsPerMinute);
  out.second = static_cast<std::uint8_t>(rest % kMsPerMinute / kMsPerSecond);
  out.millisecond = static_cast<std::uint16_t>(rest % kMsPerSecond);
  return true;
}

}  // namespace gw::primitives::detail
