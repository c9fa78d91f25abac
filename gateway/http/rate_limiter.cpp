// Token buckets per client. A bucket holds up to `burst` tokens and refills
// at `per_second`; each request takes one. Buckets are created full, so a
// new client may burst at once. The map is bounded by `max_keys`: when full,
// buckets that have refilled completely (indistinguishable from new ones)
// are dropped first, so forgetting them changes no decision.
#include "gateway/http/http.hpp"

#include <algorithm>
#include <cmath>

namespace gw::http {

RateLimiter::Decision RateLimiter::acquire(std::string_view key) {
  if (limit_.per_second <= 0) return {};
  const double burst = std::max(1.0, limit_.burst);
  const auto now = clock_.now();
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= limit_.max_keys) evict_full_buckets_locked(now);
    if (buckets_.size() >= limit_.max_keys) {
      // Every tracked client is mid-burst: forget them all rather than
      // refuse newcomers forever. Logged by the caller via tracked_keys().
      buckets_.clear();
    }
    it = buckets_.emplace(std::string(key), Bucket{burst, now}).first;
  }
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  if (elapsed > 0) {
    b.tokens = std::min(burst, b.tokens + elapsed * limit_.per_second);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  const double wait_s = (1.0 - b.tokens) / limit_.per_second;
  const auto wait = std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(wait_s * 1000.0)));
  return {false, std::max(wait, std::chrono::milliseconds(1))};
}

std::size_t RateLimiter::tracked_keys() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

void RateLimiter::evict_full_buckets_locked(std::chrono::steady_clock::time_point now) {
  const double burst = std::max(1.0, limit_.burst);
  std::erase_if(buckets_, [&](const auto& kv) {
    const double elapsed = std::chrono::duration<double>(now - kv.second.last).count();
    return kv.second.tokens + elapsed * limit_.per_second >= burst;
  });
}

}  // namespace gw::http
