// Retry policy: full-jitter exponential backoff and the meaning of a status.
//
// Full jitter (uniform in [0, min(cap, base*2^(n-1))]) rather than "equal"
// or no jitter: after a clinic comes back, the rows that failed while it was
// down spread their retries over the whole window instead of arriving as one
// thundering herd at the same instant.
#include "gateway/forward/forward.hpp"

#include <algorithm>
#include <mutex>
#include <random>

namespace gw::forward {

namespace {

class SystemRandom final : public Random {
 public:
  SystemRandom() {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    engine_.seed(seq);
  }
  std::uint64_t next() override {
    std::lock_guard lock(mutex_);
    return engine_();
  }

 private:
  std::mutex mutex_;
  std::mt19937_64 engine_;
};

}  // namespace

std::shared_ptr<Random> make_system_random() { return std::make_shared<SystemRandom>(); }

Millis backoff_delay(const RetryPolicy& policy, std::uint32_t attempts, Random& random) {
  GW_ASSERT(attempts >= 1, "backoff after at least one attempt");
  const std::uint64_t cap = static_cast<std::uint64_t>(std::max<Millis::rep>(policy.cap.count(), 0));
  std::uint64_t ceiling = static_cast<std::uint64_t>(std::max<Millis::rep>(policy.base.count(), 0));
  // Doubling stops at the cap, so no shift ever overflows.
  for (std::uint32_t i = 1; i < attempts && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  if (ceiling == 0) return Millis(0);
  // Modulo bias is below 2^-40 for any ceiling under 2^24 ms (4.6 hours).
  return Millis(static_cast<Millis::rep>(random.next() % (ceiling + 1)));
}

namespace {

// Two ASCII digits at `s[at]`, or -1.
int two_digits(std::string_view s, std::size_t at) {
  if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9') return -1;
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil), so no time zone or locale is involved.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

std::optional<Millis> parse_retry_after(std::string_view v, std::chrono::system_clock::time_point now) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (v.size() > 9) return Millis(std::chrono::hours(24 * 365));  // absurd; the cap bounds it anyway
    std::int64_t secs = 0;
    for (char c : v) secs = secs * 10 + (c - '0');
    return Millis(secs * 1000);
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (29 characters).
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (v.size() != 29 || v.substr(3, 2) != ", " || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' || v[19] != ':' ||
      v[22] != ':' || v.substr(25) != " GMT") {
    return std::nullopt;
  }
  const int day = two_digits(v, 5);
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i) {
    if (v.substr(8, 3) == kMonths[i]) month = i + 1;
  }
  const int y1 = two_digits(v, 12), y2 = two_digits(v, 14);
  const int hh = two_digits(v, 17), mm = two_digits(v, 20), ss = two_digits(v, 23);
  if (day < 1 || day > 31 || month == 0 || y1 < 0 || y2 < 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 ||
      ss > 60) {
    return std::nullopt;
  }
  const std::int64_t secs = days_from_civil(y1 * 100 + y2, month, static_cast<unsigned>(day)) * 86400 +
                            hh * 3600 + mm * 60 + ss;
  const auto at = std::chrono::system_clock::time_point(std::chrono::seconds(secs));
  if (at <= now) return Millis(0);
  return std::chrono::duration_cast<Millis>(at - now);
}

Millis retry_delay(const RetryPolicy& policy, std::uint32_t attempts, Random& random,
                   std::optional<Millis> retry_after) {
  Millis delay = backoff_delay(policy, attempts, random);
  if (retry_after) delay = std::max(delay, std::min(*retry_after, policy.cap));
  return delay;
}

Verdict classify(int status) noexcept {
  if (status >= 200 && status < 300) return Verdict::kDelivered;
  if (status == 0 || status >= 500 || status == 408 || status == 429) return Verdict::kRetry;
  return Verdict::kDeadLetter;
}

std::string_view to_string(Verdict v) noexcept {
  switch (v) {
    case Verdict::kDelivered: return "delivered";
    case Verdict::kRetry: return "retry";
    case Verdict::kDeadLetter: return "dead-letter";
  }
  return "?";
}

}  // namespace gw::forward
