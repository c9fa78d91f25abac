// Domain metrics for /metrics: validation issues by rule, push outcomes,
// outbox depths (contracts at ExchangeMetrics and OutboxMetrics in
// http.hpp).
//
// Label hygiene is the point of this file. An OperationOutcome may carry
// patient data in its diagnostics and element paths with indices, so a
// rule label is never taken from them as such: it is either a constraint
// key (a short identifier from a StructureDefinition, which the validator
// writes first in an invariant's diagnostics) that passes a strict
// character check, or an issue type from FHIR's closed IssueType value
// set; anything else becomes "other". The number of distinct labels is
// capped as well, so a profile set with thousands of constraints cannot
// blow up a scraper.
#include "gateway/http/http.hpp"

#include <algorithm>
#include <array>

namespace gw::http {

namespace {

// http://hl7.org/fhir/issue-type (R4), the codes an issue may carry.
constexpr std::array<std::string_view, 31> kIssueTypes = {
    "invalid",   "structure",  "required",      "value",        "invariant",     "security",   "login",
    "unknown",   "expired",    "forbidden",     "suppressed",   "processing",    "not-supported",
    "duplicate", "multiple-matches", "not-found", "deleted",   "too-long",      "code-invalid", "extension",
    "too-costly", "business-rule", "conflict",  "transient",    "lock-error",    "no-store",   "exception",
    "timeout",   "incomplete", "throttled",     "informational"};

constexpr std::size_t kMaxKeyLength = 40;

// A constraint key: a letter, then letters, digits, '-' or '.'.
bool plausible_key(std::string_view k) {
  if (k.empty() || k.size() > kMaxKeyLength) return false;
  if (!((k.front() >= 'a' && k.front() <= 'z') || (k.front() >= 'A' && k.front() <= 'Z'))) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

std::string_view rule_of(std::string_view code, std::string_view diagnostics) {
  if (code == "invariant") {
    const std::size_t colon = diagnostics.find(": ");
    if (colon != std::string_view::npos && plausible_key(diagnostics.substr(0, colon))) {
      return diagnostics.substr(0, colon);
    }
  }
  for (std::string_view t : kIssueTypes) {
    if (t == code) return t;
  }
  return "other";
}

std::string_view push_outcome(int status) {
  if (status == 200 || status == 201) return "accepted";
  if (status == 400) return "malformed";
  if (status == 403) return "refused";
  if (status == 422) return "rejected";
  if (status == 503) return "unavailable";
  if (status >= 500) return "failed";
  return "other";
}

}  // namespace

// --- ExchangeMetrics --------------------------------------------------------------

ExchangeMetrics::ExchangeMetrics(std::shared_ptr<const gw::Clock> clock)
    : clock_(clock ? std::move(clock) : std::make_shared<SystemClock>()) {}

void ExchangeMetrics::record_outcome(std::string_view operation_outcome_json) {
  auto doc = json::Document::parse(std::string(operation_outcome_json));
  if (!doc) return;
  const json::Value root = doc->root();
  if (root.find("resourceType").str() != "OperationOutcome") return;
  const json::Value issues = root.find("issue");
  const auto now = clock_->now();
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; issues.is_array() && i < issues.size(); ++i) {
    const json::Value issue = issues[i];
    const std::string_view severity = issue.find("severity").str();
    if (severity != "fatal" && severity != "error" && severity != "warning") continue;
    std::string_view rule = rule_of(issue.find("code").str(), issue.find("diagnostics").str());
    auto key = std::pair<std::string, std::string>(rule, severity);
    auto it = issues_.find(key);
    if (it == issues_.end()) {
      if (issues_.size() >= kMaxRuleLabels) key.first = "other";
      it = issues_.try_emplace(std::move(key), 0).first;
    }
    ++it->second;
    // The recent list points at the map's node (std::map nodes never move
    // and are never erased), so it costs two words per issue.
    recent_.push_back(Recent{now, &*it});
    if (recent_.size() > kRecentIssues) recent_.pop_front();
  }
}

void ExchangeMetrics::record_push(int status) {
  std::lock_guard lock(mutex_);
  ++pushes_[std::string(push_outcome(status))];
}

void ExchangeMetrics::record_redactions(const std::map<std::string, std::uint64_t>& by_category) {
  std::lock_guard lock(mutex_);
  for (const auto& [category, n] : by_category) {
    // Policy codes, or "(free-text)"-style action names for removals
    // without a category: both pass plausible_key once the parentheses
    // are set aside.
    std::string_view code = category;
    if (code.size() > 2 && code.front() == '(' && code.back() == ')') code = code.substr(1, code.size() - 2);
    std::string key = plausible_key(code) ? category : std::string("other");
    auto it = redactions_.find(key);
    if (it == redactions_.end()) {
      if (redactions_.size() >= kMaxCategoryLabels) key = "other";
      it = redactions_.try_emplace(std::move(key), 0).first;
    }
    it->second += n;
  }
}

ExchangeMetrics::Snapshot ExchangeMetrics::snapshot(std::chrono::seconds recent) const {
  const auto since = clock_->now() - recent;
  std::lock_guard lock(mutex_);
  Snapshot s;
  for (const auto& [key, n] : issues_) s.issues.emplace(key, n);
  for (auto it = recent_.rbegin(); it != recent_.rend() && it->at >= since; ++it) ++s.recent_issues[it->key->first];
  for (const auto& [key, n] : redactions_) s.redactions.emplace(key, n);
  return s;
}

std::uint64_t ExchangeMetrics::issues(std::string_view rule, std::string_view severity) const {
  std::lock_guard lock(mutex_);
  auto it = issues_.find(std::pair<std::string, std::string>(rule, severity));
  return it == issues_.end() ? 0 : it->second;
}

std::uint64_t ExchangeMetrics::pushes(std::string_view outcome) const {
  std::lock_guard lock(mutex_);
  auto it = pushes_.find(outcome);
  return it == pushes_.end() ? 0 : it->second;
}

void ExchangeMetrics::write(PrometheusWriter& out) const {
  std::lock_guard lock(mutex_);
  out.family("gw_validation_issues_total", "counter",
             "Validation issues reported ($validate, refused pushes) by rule (constraint key or issue type) and "
             "severity");
  for (const auto& [key, n] : issues_) {
    out.sample("gw_validation_issues_total", {{"rule", key.first}, {"severity", key.second}}, n);
  }
  out.family("gw_push_outcomes_total", "counter", "Pushes answered, by outcome");
  for (std::string_view o : {"accepted", "malformed", "refused", "rejected", "unavailable", "failed", "other"}) {
    auto it = pushes_.find(o);
    out.sample("gw_push_outcomes_total", {{"outcome", o}}, it == pushes_.end() ? std::uint64_t{0} : it->second);
  }
  out.family("gw_redactions_total", "counter",
             "Elements and resources removed by consent releases of accepted pushes, by category");
  for (const auto& [category, n] : redactions_) out.sample("gw_redactions_total", {{"category", category}}, n);
}

// --- OutboxMetrics ------------------------------------------------------------------

OutboxMetrics::OutboxMetrics(OutboxStatsFn read, std::shared_ptr<const gw::Clock> clock,
                             std::shared_ptr<const SteadyClock> steady, std::chrono::milliseconds ttl)
    : read_(std::move(read)),
      clock_(clock ? std::move(clock) : std::make_shared<SystemClock>()),
      steady_(steady ? std::move(steady) : std::make_shared<RealSteadyClock>()),
      ttl_(ttl) {}

void OutboxMetrics::write(PrometheusWriter& out) const {
  std::vector<OutboxDepth> depths;
  bool up = false;
  {
    // One reader at a time refreshes; concurrent scrapes wait for it and
    // then share its result (the lock is held across the store read on
    // purpose: it is what bounds the reads to one per ttl).
    std::lock_guard lock(mutex_);
    const auto now = steady_->now();
    if (!read_at_ || now - *read_at_ >= ttl_) {
      auto fresh = read_ ? read_() : Result<std::vector<OutboxDepth>>(fail(ErrorCode::kInternal, "no reader"));
      up_ = static_cast<bool>(fresh);
      if (fresh) {
        cached_ = std::move(*fresh);
        if (cached_.size() > kMaxRecipients) cached_.resize(kMaxRecipients);
      }
      read_at_ = now;
    }
    depths = cached_;
    up = up_;
  }
  const auto wall = clock_->now();
  out.family("gw_outbox_pending", "gauge", "Handoffs waiting for delivery, by recipient");
  for (const OutboxDepth& d : depths) out.sample("gw_outbox_pending", {{"recipient", d.recipient}}, static_cast<double>(d.pending));
  out.family("gw_outbox_in_flight", "gauge", "Handoffs being delivered (leased), by recipient");
  for (const OutboxDepth& d : depths) {
    out.sample("gw_outbox_in_flight", {{"recipient", d.recipient}}, static_cast<double>(d.in_flight));
  }
  out.family("gw_outbox_dead_letters", "gauge", "Handoffs whose delivery gave up (dead letters), by recipient");
  for (const OutboxDepth& d : depths) out.sample("gw_outbox_dead_letters", {{"recipient", d.recipient}}, static_cast<double>(d.dead));
  out.family("gw_outbox_oldest_pending_age_seconds", "gauge",
             "Age of the oldest handoff waiting for delivery, by recipient (0 when none)");
  for (const OutboxDepth& d : depths) {
    double age = 0;
    if (d.oldest_pending) age = std::max(0.0, std::chrono::duration<double>(wall - *d.oldest_pending).count());
    out.sample("gw_outbox_oldest_pending_age_seconds", {{"recipient", d.recipient}}, age);
  }
  out.family("gw_outbox_stats_up", "gauge", "1 if the last read of the outbox statistics worked");
  out.sample("gw_outbox_stats_up", {}, up ? 1.0 : 0.0);
}

}  // namespace gw::http
