// The one FHIR instant formatter. Five modules had each written their own
// (strftime over gmtime_r, or civil-date arithmetic); they now share this.
// Civil-date arithmetic after Howard Hinnant's civil_from_days (public
// domain algorithm description): no libc time zone state, any year.
#include "gateway/core/core.hpp"

#include <cstdint>
#include <cstdio>

namespace gw {
namespace {

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

}  // namespace

std::string format_instant(std::chrono::system_clock::time_point t, bool milliseconds) {
  const std::int64_t ms = std::chrono::floor<std::chrono::milliseconds>(t).time_since_epoch().count();
  const std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const std::int64_t rem = secs - days * 86400;
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(y), m, d,
                        static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                        static_cast<long long>(rem % 60));
  if (milliseconds) {
    std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ".%03dZ", static_cast<int>(ms - secs * 1000));
  } else {
    std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), "Z");
  }
  return buf;
}

}  // namespace gw
