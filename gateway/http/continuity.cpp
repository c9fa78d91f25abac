// De-identified continuity metrics and delivery latency (contracts at
// deidentify, ContinuityMetrics and DeliveryLatencyMetrics in http.hpp).
//
// Why the counters live in the store and not in memory: the figures must
// survive restarts and be the same on every node sharing PostgreSQL, and
// they are counted in the push's own transaction, so each accepted handoff
// is counted exactly once. What is stored is already coarse (a bucket and
// two booleans, no handoff id or date; store.hpp, ContinuityFact); what is
// published is coarser still: this file applies the minimum cell size.
#include "gateway/http/http.hpp"

#include "gateway/handoff/handoff.hpp"

#include <algorithm>
#include <cmath>

namespace gw::http {

namespace {

Cell cell(std::int64_t count, std::int64_t k) {
  if (count > 0 && count < k) return Cell{0, true};
  return Cell{count, false};
}

// A share is published only when neither it nor its complement singles
// anybody out (rule 3).
std::optional<double> share(std::int64_t part, std::int64_t total, std::int64_t k) {
  if (total < k || part < k || total - part < k) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(total);
}

}  // namespace

ContinuityReport deidentify(std::span<const store::ContinuityCount> counts,
                            std::span<const store::DeliveredCount> delivered, std::int64_t k) {
  k = std::max<std::int64_t>(k, 2);
  ContinuityReport r;
  r.min_cell_size = k;
  std::int64_t total = 0, immunizations = 0, interpreter = 0;
  std::vector<std::pair<std::string, std::int64_t>> buckets;
  for (std::string_view b : handoff::follow_up_buckets()) buckets.emplace_back(std::string(b), 0);
  for (const store::ContinuityCount& c : counts) {
    total += c.handoffs;
    if (c.fact.immunizations) immunizations += c.handoffs;
    if (c.fact.interpreter) interpreter += c.handoffs;
    auto it = std::find_if(buckets.begin(), buckets.end(), [&](const auto& b) { return b.first == c.fact.follow_up; });
    // A bucket this build does not know (an older or newer node wrote it)
    // still counts, under its own name.
    if (it == buckets.end()) it = buckets.emplace(buckets.end(), c.fact.follow_up, 0);
    it->second += c.handoffs;
  }
  r.handoffs = cell(total, k);
  // A fact count next to a shown total also publishes its complement
  // (handoffs WITHOUT the fact) by subtraction: suppressed when that is
  // below k as well.
  auto fact_cell = [&](std::int64_t n) {
    const std::int64_t rest = total - n;
    if (!r.handoffs.suppressed && rest > 0 && rest < k) return Cell{0, true};
    return cell(n, k);
  };
  r.immunizations = fact_cell(immunizations);
  r.interpreter = fact_cell(interpreter);
  r.immunization_share = share(immunizations, total, k);
  r.interpreter_share = share(interpreter, total, k);

  for (const auto& [name, n] : buckets) r.follow_up.emplace_back(name, cell(n, k));
  // Rule 2: with the total shown, one suppressed bucket equals the total
  // minus the others; hide the smallest shown non-zero bucket too.
  const auto suppressed = std::count_if(r.follow_up.begin(), r.follow_up.end(),
                                        [](const auto& b) { return b.second.suppressed; });
  if (suppressed == 1 && !r.handoffs.suppressed) {
    auto smallest = r.follow_up.end();
    for (auto it = r.follow_up.begin(); it != r.follow_up.end(); ++it) {
      if (it->second.suppressed || it->second.count == 0) continue;
      if (smallest == r.follow_up.end() || it->second.count < smallest->second.count) smallest = it;
    }
    if (smallest != r.follow_up.end()) smallest->second = Cell{0, true};
  }
  for (const store::DeliveredCount& d : delivered) r.delivered.emplace_back(d.recipient, cell(d.handoffs, k));
  return r;
}

ContinuityFn continuity_from_store(std::shared_ptr<store::Store> st, std::int64_t k) {
  return [st = std::move(st), k]() -> Result<ContinuityReport> {
    GW_TRY(auto counts, st->continuity_counts());
    GW_TRY(auto delivered, st->delivered_handoffs());
    return deidentify(counts, delivered, k);
  };
}

// --- ContinuityMetrics ----------------------------------------------------------

ContinuityMetrics::ContinuityMetrics(ContinuityFn read, std::int64_t min_cell_size,
                                     std::shared_ptr<const SteadyClock> steady, std::chrono::milliseconds ttl)
    : read_(std::move(read)),
      k_(std::max<std::int64_t>(min_cell_size, 2)),
      steady_(steady ? std::move(steady) : std::make_shared<RealSteadyClock>()),
      ttl_(ttl) {}

void ContinuityMetrics::write(PrometheusWriter& out) const {
  std::optional<ContinuityReport> report;
  {
    // As in OutboxMetrics: one store read per ttl, however many scrapers.
    std::lock_guard lock(mutex_);
    const auto now = steady_->now();
    if (!read_at_ || now - *read_at_ >= ttl_) {
      auto fresh = read_ ? read_() : Result<ContinuityReport>(fail(ErrorCode::kInternal, "no reader"));
      cached_ = fresh ? std::optional<ContinuityReport>(std::move(*fresh)) : std::nullopt;
      read_at_ = now;
    }
    report = cached_;
  }
  auto shown = [](const Cell& c) { return !c.suppressed; };
  out.family("gw_continuity_min_cell_size", "gauge", "Counts below this are not published (de-identification)");
  out.sample("gw_continuity_min_cell_size", {}, static_cast<double>(k_));
  out.family("gw_continuity_up", "gauge", "1 if the last read of the continuity counters worked");
  out.sample("gw_continuity_up", {}, report ? 1.0 : 0.0);
  if (!report) return;
  out.family("gw_continuity_handoffs", "gauge", "Accepted handoffs counted for the continuity metrics");
  if (shown(report->handoffs)) out.sample("gw_continuity_handoffs", {}, static_cast<double>(report->handoffs.count));
  out.family("gw_continuity_follow_up_handoffs", "gauge",
             "Handoffs by days from discharge to the first follow-up appointment (bucket)");
  for (const auto& [bucket, c] : report->follow_up) {
    if (shown(c)) out.sample("gw_continuity_follow_up_handoffs", {{"bucket", bucket}}, static_cast<double>(c.count));
  }
  out.family("gw_continuity_handoffs_with", "gauge", "Handoffs carrying immunizations / an interpreter need");
  if (shown(report->immunizations)) {
    out.sample("gw_continuity_handoffs_with", {{"fact", "immunizations"}}, static_cast<double>(report->immunizations.count));
  }
  if (shown(report->interpreter)) {
    out.sample("gw_continuity_handoffs_with", {{"fact", "interpreter"}}, static_cast<double>(report->interpreter.count));
  }
  out.family("gw_continuity_share", "gauge", "Share of handoffs carrying immunizations / an interpreter need");
  if (report->immunization_share) out.sample("gw_continuity_share", {{"fact", "immunizations"}}, *report->immunization_share);
  if (report->interpreter_share) out.sample("gw_continuity_share", {{"fact", "interpreter"}}, *report->interpreter_share);
  out.family("gw_continuity_delivered_handoffs", "gauge", "Handoff copies delivered, by recipient");
  std::size_t n = 0;
  for (const auto& [recipient, c] : report->delivered) {
    if (++n > OutboxMetrics::kMaxRecipients) break;
    if (shown(c)) out.sample("gw_continuity_delivered_handoffs", {{"recipient", recipient}}, static_cast<double>(c.count));
  }
}

// --- delivery latency -------------------------------------------------------------

std::optional<double> quantile_bound(const DeliveryLatency& latency, double q) {
  std::uint64_t total = 0;
  for (std::uint64_t n : latency.buckets) total += n;
  if (total == 0 || q <= 0 || q > 1) return std::nullopt;
  // The rank of the quantile, 1-based: the smallest observation count that
  // reaches q of the total.
  const auto rank = static_cast<std::uint64_t>(std::max(1.0, std::ceil(q * static_cast<double>(total))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < latency.buckets.size(); ++i) {
    seen += latency.buckets[i];
    if (seen >= rank) return i < latency.bounds.size() ? std::optional<double>(latency.bounds[i]) : std::nullopt;
  }
  return std::nullopt;
}

void DeliveryLatencyMetrics::write(PrometheusWriter& out) const {
  const std::vector<DeliveryLatency> all = read_ ? read_() : std::vector<DeliveryLatency>{};
  out.family("gw_delivery_latency_seconds", "histogram",
             "Time from a handoff's acceptance to the receiver's acknowledgement, by recipient");
  for (const DeliveryLatency& l : all) {
    if (l.buckets.size() != l.bounds.size() + 1) continue;
    out.histogram("gw_delivery_latency_seconds", {{"recipient", l.recipient}}, l.bounds, l.buckets, l.sum_seconds);
  }
  out.family("gw_delivery_attempts_total", "counter", "Delivery attempts (HTTPS POSTs) by recipient");
  for (const DeliveryLatency& l : all) out.sample("gw_delivery_attempts_total", {{"recipient", l.recipient}}, l.outcomes.attempts);
  out.family("gw_delivery_outcomes_total", "counter",
             "Delivery attempts by recipient and what came of them: delivered, retried later, dead-lettered");
  for (const DeliveryLatency& l : all) {
    out.sample("gw_delivery_outcomes_total", {{"recipient", l.recipient}, {"outcome", "delivered"}}, l.outcomes.delivered);
    out.sample("gw_delivery_outcomes_total", {{"recipient", l.recipient}, {"outcome", "retried"}}, l.outcomes.retried);
    out.sample("gw_delivery_outcomes_total", {{"recipient", l.recipient}, {"outcome", "dead_lettered"}},
               l.outcomes.dead_lettered);
  }
  out.family("gw_delivery_store_errors_total", "counter",
             "Outbox store calls of the forwarder that failed, by recipient (the row is retried later)");
  for (const DeliveryLatency& l : all) {
    out.sample("gw_delivery_store_errors_total", {{"recipient", l.recipient}}, l.outcomes.store_errors);
  }
  out.family("gw_delivery_worker_failures_total", "counter",
             "Delivery workers ended by an exception, by recipient (a defect: should stay 0)");
  for (const DeliveryLatency& l : all) {
    out.sample("gw_delivery_worker_failures_total", {{"recipient", l.recipient}}, l.outcomes.worker_failures);
  }
}

}  // namespace gw::http
