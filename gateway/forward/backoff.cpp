// Retry policy: full-jitter exponential backoff and the meaning of a status.
//
// Full jitter (uniform in [0, min(cap, base*2^(n-1))]) rather than "equal"
// or no jitter: after a clinic comes back, the rows that failed while it was
// down spread their retries over the whole window instead of arriving as one
// thundering herd at the same instant.
#include "gateway/forward/forward.hpp"

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
