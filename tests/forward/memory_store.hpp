// An in-memory gw::store::Store with the outbox semantics of store.hpp
// (claim with leases, delivered is terminal, stale leases change nothing,
// dead after max attempts, replay). Only the outbox and commit_push are
// implemented; the rest answers kUnsupported. The forward tests run against
// it and against the real SQLite store, so a difference between the two
// shows up as a failing SQLite case.
#pragma once

#include "gateway/store/store.hpp"

#include <algorithm>
#include <map>
#include <mutex>

namespace gw::forward::testing {

class MemoryStore final : public store::Store {
 public:
  explicit MemoryStore(std::shared_ptr<const Clock> clock) : clock_(std::move(clock)) {}

  void commit_push(store::PushRecord rec, std::function<void(Result<store::PushResult>)> done) override {
    std::function<void(const std::string&)> listener;
    std::vector<std::string> woken;
    {
      std::lock_guard lock(mutex_);
      for (store::OutboxItem& item : rec.deliveries) {
        Row row;
        row.d.id = ++next_id_;
        row.d.recipient = item.recipient;
        row.d.handoff_id = rec.handoff_id;
        row.d.bundle_identifier = item.bundle_identifier;
        row.d.payload = std::move(item.payload);
        row.d.path = item.path;
        row.d.next_attempt_at = clock_->now();
        woken.push_back(item.recipient);
        rows_.emplace(row.d.id, std::move(row));
      }
      listener = listener_;
    }
    store::PushResult r;
    r.handoff_id = rec.handoff_id;
    if (done) done(r);
    if (listener) {
      for (const std::string& w : woken) listener(w);
    }
  }

  Result<std::vector<store::Delivery>> claim(std::string_view recipient, std::size_t max,
                                             std::chrono::seconds lease) override {
    std::lock_guard lock(mutex_);
    const auto now = clock_->now();
    std::vector<store::Delivery> out;
    for (auto& [id, row] : rows_) {
      if (out.size() >= max) break;
      store::Delivery& d = row.d;
      if (d.recipient != recipient) continue;
      const bool due = (d.state == store::DeliveryState::kPending && d.next_attempt_at <= now) ||
                       (d.state == store::DeliveryState::kInFlight && d.lease_until <= now);
      if (!due) continue;
      d.state = store::DeliveryState::kInFlight;
      d.lease_until = now + lease;
      d.lease = ++next_lease_;
      ++row.claims;
      out.push_back(d);
    }
    return out;
  }

  Status mark_delivered(std::int64_t id, std::string receipt, std::vector<std::string> audit) override {
    std::lock_guard lock(mutex_);
    auto it = rows_.find(id);
    if (it == rows_.end()) return fail(ErrorCode::kNotFound, "no such outbox row");
    it->second.d.state = store::DeliveryState::kDelivered;
    it->second.receipt = std::move(receipt);
    for (auto& a : audit) audit_.push_back(std::move(a));
    return {};
  }

  Result<store::DeliveryState> mark_failed(std::int64_t id, std::int64_t lease, store::Failure f,
                                           std::vector<std::string> audit) override {
    std::lock_guard lock(mutex_);
    auto it = rows_.find(id);
    if (it == rows_.end()) return fail(ErrorCode::kNotFound, "no such outbox row");
    store::Delivery& d = it->second.d;
    if (d.state != store::DeliveryState::kInFlight || d.lease != lease) return d.state;
    ++d.attempts;
    d.last_error = f.error;
    if (d.attempts >= f.max_attempts) {
      d.state = store::DeliveryState::kDead;
    } else {
      d.state = store::DeliveryState::kPending;
      d.next_attempt_at = f.retry_at;
    }
    for (auto& a : audit) audit_.push_back(std::move(a));
    return d.state;
  }

  Result<std::vector<std::string>> recipients_with_due_work() override {
    return fail(ErrorCode::kUnsupported, "not in the memory store");
  }

  Result<std::optional<store::TimePoint>> next_due(std::string_view recipient) override {
    std::lock_guard lock(mutex_);
    std::optional<store::TimePoint> out;
    for (auto& [id, row] : rows_) {
      if (row.d.recipient != recipient || row.d.state != store::DeliveryState::kPending) continue;
      if (!out || row.d.next_attempt_at < *out) out = row.d.next_attempt_at;
    }
    return out;
  }

  Result<std::vector<store::Delivery>> dead_letters(std::string_view recipient) override {
    std::lock_guard lock(mutex_);
    std::vector<store::Delivery> out;
    for (auto& [id, row] : rows_) {
      if (row.d.state == store::DeliveryState::kDead && (recipient.empty() || row.d.recipient == recipient)) {
        out.push_back(row.d);
      }
    }
    return out;
  }

  Status replay_dead_letter(std::int64_t id, std::vector<std::string> audit) override {
    std::function<void(const std::string&)> listener;
    std::string recipient;
    {
      std::lock_guard lock(mutex_);
      auto it = rows_.find(id);
      if (it == rows_.end() || it->second.d.state != store::DeliveryState::kDead) {
        return fail(ErrorCode::kNotFound, "no such dead letter");
      }
      revive(it->second.d);
      for (auto& a : audit) audit_.push_back(std::move(a));
      listener = listener_;
      recipient = it->second.d.recipient;
    }
    if (listener) listener(recipient);
    return {};
  }

  Result<std::int64_t> replay_dead_letters(std::string_view recipient, std::vector<std::string> audit) override {
    std::function<void(const std::string&)> listener;
    std::int64_t n = 0;
    {
      std::lock_guard lock(mutex_);
      for (auto& [id, row] : rows_) {
        if (row.d.state == store::DeliveryState::kDead && (recipient.empty() || row.d.recipient == recipient)) {
          revive(row.d);
          ++n;
        }
      }
      for (auto& a : audit) audit_.push_back(std::move(a));
      listener = listener_;
    }
    if (listener && n > 0) listener(std::string(recipient));
    return n;
  }

  Result<std::vector<store::QueueStats>> queue_stats() override {
    std::lock_guard lock(mutex_);
    std::map<std::string, store::QueueStats> by;
    for (auto& [id, row] : rows_) {
      store::QueueStats& q = by[row.d.recipient];
      q.recipient = row.d.recipient;
      switch (row.d.state) {
        case store::DeliveryState::kPending: ++q.pending; break;
        case store::DeliveryState::kInFlight: ++q.in_flight; break;
        case store::DeliveryState::kDelivered: ++q.delivered; break;
        case store::DeliveryState::kDead: ++q.dead; break;
        case store::DeliveryState::kCancelled: ++q.cancelled; break;
      }
    }
    std::vector<store::QueueStats> out;
    for (auto& [k, v] : by) out.push_back(v);
    return out;
  }

  void set_work_listener(std::function<void(const std::string&)> listener) override {
    std::lock_guard lock(mutex_);
    listener_ = std::move(listener);
  }

  Result<std::vector<store::HandoffSummary>> handoffs_for_patient(std::string_view) override { return unsupported(); }
  Result<std::optional<store::StoredHandoff>> handoff(std::string_view) override { return unsupported(); }
  Result<std::optional<std::string>> find_patient(const store::PatientLink&) override { return unsupported(); }
  Result<std::string> link_patient(std::vector<store::PatientLink>, std::string) override { return unsupported(); }
  Status put_consent(std::string_view, std::string_view, std::string, std::vector<std::string>) override {
    return unsupported();
  }
  Result<std::vector<store::StoredConsent>> consents(std::string_view) override { return unsupported(); }
  Status revoke_consent(std::string_view, std::vector<std::string>) override { return unsupported(); }
  void append_audit(std::vector<std::string>, std::function<void(Status)> done) override {
    if (done) done(unsupported());
  }
  Result<store::AuditVerification> verify_audit() override { return unsupported(); }
  Result<std::string> export_audit(std::int64_t) override { return unsupported(); }

  /// Test view: how often a row was claimed, and its receipt.
  std::size_t claims(std::int64_t id) const {
    std::lock_guard lock(mutex_);
    auto it = rows_.find(id);
    return it == rows_.end() ? 0 : it->second.claims;
  }
  std::vector<std::string> audit() const {
    std::lock_guard lock(mutex_);
    return audit_;
  }

 private:
  static Error unsupported() { return fail(ErrorCode::kUnsupported, "not in the memory store"); }
  void revive(store::Delivery& d) {
    d.state = store::DeliveryState::kPending;
    d.attempts = 0;
    d.next_attempt_at = clock_->now();
  }
  struct Row {
    store::Delivery d;
    std::string receipt;
    std::size_t claims = 0;
  };
  std::shared_ptr<const Clock> clock_;
  mutable std::mutex mutex_;
  std::map<std::int64_t, Row> rows_;
  std::int64_t next_id_ = 0;
  std::int64_t next_lease_ = 0;
  std::vector<std::string> audit_;
  std::function<void(const std::string&)> listener_;
};

}  // namespace gw::forward::testing
