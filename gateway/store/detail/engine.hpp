// The one implementation of gw::store::Store, over the SQL seam (db.hpp).
// Both back ends are this engine with a different Connection: the logic of
// idempotency, leases, dead letters and the audit chain exists once, so the
// two back ends cannot drift apart. Dialect differences are confined to a
// few statements (claim's FOR UPDATE SKIP LOCKED, row locks on PostgreSQL,
// NOTIFY).
#pragma once

#include "gateway/store/detail/db.hpp"
#include "gateway/store/store.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

namespace gw::store::detail {

/// Newest schema version; migrate() brings a database to it (schema.cpp).
int latest_schema_version() noexcept;
Result<int> migrate(Connection& c);

/// Audit helpers (audit.cpp).
inline constexpr std::string_view kZeroHash =
    "0000000000000000000000000000000000000000000000000000000000000000";
/// Compact JSON with object members sorted by key (bytewise), arrays in
/// order, strings re-escaped, numbers as their literal. Errors: kParse.
Result<std::string> canonical_json(std::string_view json);
/// hash[n] = sha256_hex(prev "\n" seq "\n" canonical_event).
std::string chain_hash(std::string_view prev_hash, std::int64_t seq, std::string_view canonical_event);

/// What one transaction collected for after the commit.
struct Batch {
  std::set<std::string> woken;  ///< recipients with new due work (SQLite wake-ups)
};

/// A unit of work for the writer thread. `apply` runs inside the batch
/// transaction (within its own savepoint); `complete` runs after COMMIT with
/// apply's status, or with the commit's error.
struct Task {
  std::function<Status(Connection&, Batch&)> apply;
  std::function<void(Status)> complete;
  /// The task appends audit records (PostgreSQL: its batch takes the audit
  /// head lock first, see run_batch).
  bool audited = false;
};

struct EngineOptions {
  std::shared_ptr<const Clock> clock;
  std::size_t max_batch = 256;
  std::size_t readers = 2;
  /// SQLite: the engine calls the work listener after each commit.
  /// PostgreSQL: NOTIFY in the transaction; the Listener calls it.
  bool notify_locally = true;
};

class Engine final : public Store {
 public:
  Engine(std::unique_ptr<Connection> writer, ConnectionFactory open_reader, EngineOptions options);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Delivers a wake-up to the registered listener (Listener thread, or
  /// the writer after commit).
  void notify(const std::string& recipient);

  void commit_push(PushRecord rec, std::function<void(Result<PushResult>)> done) override;
  Result<std::vector<Delivery>> claim(std::string_view recipient, std::size_t max,
                                      std::chrono::seconds lease) override;
  Status mark_delivered(std::int64_t id, std::string receipt, std::vector<std::string> audit_events) override;
  Result<DeliveryState> mark_failed(std::int64_t id, std::int64_t lease, Failure failure,
                                    std::vector<std::string> audit_events) override;
  Result<std::vector<std::string>> recipients_with_due_work() override;
  Result<std::optional<TimePoint>> next_due(std::string_view recipient) override;
  Result<std::vector<Delivery>> dead_letters(std::string_view recipient) override;
  Status replay_dead_letter(std::int64_t id, std::vector<std::string> audit_events) override;
  Result<std::int64_t> replay_dead_letters(std::string_view recipient,
                                           std::vector<std::string> audit_events) override;
  Result<std::vector<QueueStats>> queue_stats() override;
  Result<std::vector<ContinuityCount>> continuity_counts() override;
  Result<std::vector<DeliveredCount>> delivered_handoffs() override;
  void set_work_listener(std::function<void(const std::string& recipient)> listener) override;
  Result<std::vector<HandoffSummary>> handoffs_for_patient(std::string_view patient_key) override;
  Result<std::optional<StoredHandoff>> handoff(std::string_view handoff_id) override;
  Result<std::optional<std::string>> find_patient(const PatientLink& link) override;
  Result<std::string> link_patient(std::vector<PatientLink> links, std::string proposed_key) override;
  Status put_consent(std::string_view patient_key, std::string_view consent_id, std::string consent_json,
                     std::vector<std::string> audit_events) override;
  Result<std::vector<StoredConsent>> consents(std::string_view patient_key) override;
  Status revoke_consent(std::string_view consent_id, std::vector<std::string> audit_events) override;
  Result<std::optional<StoredConsent>> consent(std::string_view consent_id) override;
  Result<WithdrawalResult> withdraw_consent(Withdrawal w) override;
  void append_audit(std::vector<std::string> events, std::function<void(Status)> done) override;
  Result<AuditVerification> verify_audit() override;
  Result<std::string> export_audit(std::int64_t after) override;
  StoreStats stats() const override;

  /// Keeps an object (the PostgreSQL Listener) alive as long as the engine,
  /// destroyed BEFORE the writer stops.
  void hold(std::unique_ptr<Listener> l) { listener_conn_ = std::move(l); }

 private:
  // Borrowed reader connection, returned to the pool on destruction.
  class Reader;
  Result<Reader> reader();

  void enqueue(Task t);
  void writer_loop();
  void run_batch(std::vector<Task>& tasks);
  std::int64_t now_ms() const;
  bool pg() const noexcept { return writer_->dialect() == Dialect::kPostgres; }

  /// Runs `fn` on the writer thread inside a batch and waits until durable.
  template <class T>
  Result<T> write_sync(bool audited, std::function<Result<T>(Connection&, Batch&)> fn);

  Status append_events(Connection& c, const std::vector<std::string>& events);
  Status wake(Connection& c, Batch& b, const std::string& recipient);
  /// Inserts one outbox row (and its consent links) for `handoff_id`.
  Status insert_outbox(Connection& c, Batch& b, const std::string& handoff_id, const OutboxItem& o,
                       std::int64_t now);

  std::unique_ptr<Connection> writer_;
  ConnectionFactory open_reader_;
  EngineOptions options_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Task> queue_;
  bool stopping_ = false;
  std::thread writer_thread_;

  mutable std::mutex stats_mu_;
  StoreStats stats_;

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> pool_;

  std::mutex listener_mu_;
  std::function<void(const std::string&)> listener_;
  std::unique_ptr<Listener> listener_conn_;
};

}  // namespace gw::store::detail
