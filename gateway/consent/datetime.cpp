// FHIR date/time parsing for consent periods. Civil-date arithmetic after
// Howard Hinnant's days_from_civil (public domain algorithm description).
#include "gateway/consent/detail/datetime.hpp"

#include <cstdio>

namespace gw::consent::detail {

namespace {

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  return true;
}

TimePoint from_seconds(std::int64_t s) { return TimePoint(std::chrono::seconds(s)); }

}  // namespace

std::optional<DateTimeBounds> parse_fhir_datetime(std::string_view s) {
  unsigned year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, year) || year == 0) return std::nullopt;
  std::int64_t y = year;
  if (s.size() == 4) {
    return DateTimeBounds{from_seconds(days_from_civil(y, 1, 1) * 86400),
                          from_seconds(days_from_civil(y + 1, 1, 1) * 86400)};
  }
  if (s[4] != '-' || !digits(s, 5, 2, month) || month < 1 || month > 12) return std::nullopt;
  if (s.size() == 7) {
    std::int64_t ny = month == 12 ? y + 1 : y;
    unsigned nm = month == 12 ? 1 : month + 1;
    return DateTimeBounds{from_seconds(days_from_civil(y, month, 1) * 86400),
                          from_seconds(days_from_civil(ny, nm, 1) * 86400)};
  }
  if (s[7] != '-' || !digits(s, 8, 2, day) || day < 1 || day > days_in_month(y, month))
    return std::nullopt;
  std::int64_t base = days_from_civil(y, month, day) * 86400;
  if (s.size() == 10) return DateTimeBounds{from_seconds(base), from_seconds(base + 86400)};
  // A time needs hours, minutes, seconds and a zone (FHIR dateTime rule).
  if (s[10] != 'T' || !digits(s, 11, 2, hour) || s.size() < 19 || s[13] != ':' ||
      !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second) || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::chrono::nanoseconds fraction{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    std::int64_t ns = 0, scale = 100000000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 0) ns += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
    fraction = std::chrono::nanoseconds(ns);
  }
  std::int64_t offset = 0;
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    unsigned oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 14 || om > 59) {
      return std::nullopt;
    }
    offset = (s[pos] == '+' ? 1 : -1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  std::int64_t t = base + hour * 3600 + minute * 60 + std::min(second, 59u) - offset;
  TimePoint low = from_seconds(t) + std::chrono::duration_cast<TimePoint::duration>(fraction);
  return DateTimeBounds{low, from_seconds(t + 1)};
}

}  // namespace gw::consent::detail
