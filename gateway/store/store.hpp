// gw::store — the durable store: what the gateway acknowledged, it keeps.
//
// What it is for. A push is acknowledged (2xx) only after the original
// bundle, its HandoffDocument, one outbox row per recipient, the patient
// links, the idempotency key and the audit records are committed in ONE
// transaction and that transaction is durable (fsync'd). The forward module
// then drains the outbox: it claims due deliveries of one recipient under a
// lease, and marks each delivered (terminal: never claimable again) or
// failed (retry later; dead letter after the configured number of attempts).
// Pulls read handoffs back by patient. Consents and the hash-chained audit
// trail live here too.
//
// This header is a port with adapters: plain values and JSON text in, plain
// values and JSON text out, and an abstract `Store` with two back ends,
// `open_sqlite` (embedded default) and `open_postgres` (several gateway
// nodes on one database). SQLite and libpq appear only in the .cpp files.
//
// Threads. Every Store method is thread-safe. `commit_push` and
// `append_audit` never block: they queue the work for the store's single
// writer thread, which batches everything queued into one transaction and
// one fsync (group commit), then runs the callbacks ON THE WRITER THREAD.
// Callbacks must be short and must not call back into the Store
// synchronously (post to your own executor instead). All other methods
// BLOCK the calling thread until their SQL is done (writes: until durable);
// call them from a worker thread or a blocking pool, never from an
// io_context thread that serves requests.
//
// Lifetimes. `open_*` returns a shared_ptr; the Store lives until the last
// reference goes. Destruction drains the writer queue (every queued
// callback fires, with a result) and joins the internal threads; it must
// not happen on the writer thread itself (i.e. not from inside a callback).
// Strings passed in are copied; nothing returned refers into the Store.
//
// Errors (gw::Error codes). kIo: the database said no (busy beyond the
// busy timeout, disk full, connection lost); kNotFound: no such row (ids);
// kInvalidArgument: an unusable argument (empty sender, etc.); kUnsupported:
// the database has a NEWER schema than this build knows (refusal at open);
// kIntegrity: reserved for audit-chain damage reported as a value by
// `verify_audit`, which itself succeeds. Messages never contain patient data
// (no payload, no identifier values): they name tables and operations.
//
// Usage (SQLite):
//   gw::store::SqliteOptions o;  o.path = "var/gateway.db";  o.clock = clock;
//   auto st = gw::store::open_sqlite(o);           // migrates, or refuses a newer schema
//   if (!st) return st.error();
//   (*st)->commit_push(std::move(rec), [](gw::Result<gw::store::PushResult> r) {
//     // writer thread: post the 201 (or 5xx) back to the session's strand
//   });
//   // forward worker thread:
//   auto batch = (*st)->claim("clinic-a", 16, std::chrono::seconds(60));
//   for (auto& d : *batch) { ... (*st)->mark_delivered(d.id, receipt, {audit}); }
//
// Changes from the starting sketch (issue #8), and why:
//  - PatientLink is spelled out; times are system_clock::time_point taken
//    from an injected gw::Clock (tests use a manual clock).
//  - Delivery carries `lease` (a claim token). `mark_failed` needs it, so a
//    claimer whose lease expired cannot push back a row that another
//    claimer now owns. `mark_delivered` does not: a delivery that reached
//    the receiver is a fact whoever reports it, and it is terminal.
//  - Outbox mutations take the audit events of that step, committed in the
//    same transaction as the state change (delivery/replay are audited).
//  - Work notification is a callback (`set_work_listener`), fired after the
//    commit that made work due (SQLite: from the writer thread; PostgreSQL:
//    from a LISTEN thread, for work committed by ANY node). No Asio here.
//  - Pull reads return `HandoffSummary` (DocumentReference-style listing)
//    and the full `StoredHandoff` by id.
#pragma once

#include "gateway/core/core.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gw::store {

/// Times come from the injected Clock and are stored with MILLISECOND
/// precision (a TimePoint read back is truncated to whole milliseconds).
using TimePoint = std::chrono::system_clock::time_point;

/// A clinic's identifier for a patient, mapped to the gateway's pseudonymous
/// patient key: (clinic, system, value) -> patient_key. One link maps to one
/// key; re-linking the same triple to another key fails the push (kInvalidArgument).
struct PatientLink {
  std::string clinic;  ///< registered client/recipient id
  std::string system;  ///< Identifier.system
  std::string value;   ///< Identifier.value
  friend bool operator==(const PatientLink&, const PatientLink&) = default;
};

/// One delivery to queue: the redacted, verified handoff JSON for that recipient.
struct OutboxItem {
  std::string recipient;          ///< recipient id (registration)
  std::string bundle_identifier;  ///< Bundle.identifier the receiver sees (dedup on its side)
  std::string payload;            ///< JSON text to POST
  /// Consent ids whose permits the release of this copy relied on
  /// (consent::AuditRecord::consent_ids). A withdrawal of any of them finds
  /// the row (withdraw_consent).
  std::vector<std::string> consent_ids;
  /// Appended to the recipient's endpoint ("" = the endpoint itself;
  /// "Task", "$process-message" for withdrawal notices).
  std::string path;
  /// Only for withdraw_consent's notices: the handoff the notice is about
  /// (a push's rows always belong to the pushed handoff).
  std::string handoff_id;
  friend bool operator==(const OutboxItem&, const OutboxItem&) = default;
};

/// The de-identified continuity facts of one accepted handoff (issue #10):
/// coarse enough that they can be kept without the handoff. The store adds
/// them to a counter keyed by exactly these three values, in the push's
/// transaction; nothing else about the handoff is kept with them.
struct ContinuityFact {
  /// Days from discharge to the first follow-up appointment, as a bucket
  /// name the caller chose ("0-7d", "none", ...; a short bounded label).
  std::string follow_up;
  bool immunizations = false;  ///< the handoff lists immunizations
  bool interpreter = false;    ///< the patient needs an interpreter
  friend bool operator==(const ContinuityFact&, const ContinuityFact&) = default;
};

/// One counter of continuity_counts(): how many accepted handoffs had
/// these facts.
struct ContinuityCount {
  ContinuityFact fact;
  std::int64_t handoffs = 0;
  friend bool operator==(const ContinuityCount&, const ContinuityCount&) = default;
};

/// Handoff copies delivered to one recipient (outbox rows of pushed
/// handoffs in kDelivered; consent-withdrawal notices are not counted).
struct DeliveredCount {
  std::string recipient;
  std::int64_t handoffs = 0;
  friend bool operator==(const DeliveredCount&, const DeliveredCount&) = default;
};

/// Everything one push commits, atomically.
struct PushRecord {
  std::string sender;           ///< registered client id (required)
  std::string idempotency_key;  ///< Bundle.identifier as "system|value", per sender (required)
  std::string patient_key;      ///< the gateway's pseudonymous patient id
  std::vector<PatientLink> links;
  std::string original;         ///< the pushed bundle (JSON text)
  std::string handoff_id;       ///< id of the HandoffDocument (required, unique)
  std::string handoff;          ///< the unredacted HandoffDocument (JSON text)
  std::string response_status;  ///< e.g. "201": what a retry of the same push gets back
  std::string response_body;    ///< e.g. the OperationOutcome JSON
  std::vector<OutboxItem> deliveries;
  std::vector<std::string> audit_events;  ///< AuditEvent JSON, appended to the hash chain
  /// Counted into continuity_counts() when the push is committed (not for
  /// a duplicate); none: not counted.
  std::optional<ContinuityFact> continuity;
  friend bool operator==(const PushRecord&, const PushRecord&) = default;
};

/// Outcome of commit_push. `duplicate` is true when (sender, idempotency_key)
/// was committed before: then nothing was written and the fields are those
/// of the FIRST push (its handoff id and response).
struct PushResult {
  bool duplicate = false;
  std::string handoff_id;
  std::string response_status;
  std::string response_body;
  friend bool operator==(const PushResult&, const PushResult&) = default;
};

/// Delivery states. Transitions (the function performing each):
///
///   commit_push ──> kPending ──claim──> kInFlight ──mark_delivered──> kDelivered (terminal)
///                      ^   ^               │  │
///                      │   └──mark_failed──┘  └──mark_failed (attempts >= max)──> kDead
///                      │   (lease expiry: an expired kInFlight row is claimable again)
///                      └────────────── replay_dead_letter(s) ─────────────────────┘
///   kPending, kDead ──withdraw_consent (the release relied on it)──> kCancelled (terminal)
///
/// Invariants: (1) a kDelivered or kCancelled row is never returned by
/// claim again; (2) at any moment at most one unexpired lease exists per
/// row; (3) every transition is durable before the method returns.
enum class DeliveryState : std::uint8_t { kPending, kInFlight, kDelivered, kDead, kCancelled };

/// "pending", "in_flight", "delivered", "dead", "cancelled" (the database
/// spelling too).
std::string_view to_string(DeliveryState s) noexcept;

/// One outbox row, as claim / dead_letters return it.
struct Delivery {
  std::int64_t id = 0;
  std::string recipient;
  std::string handoff_id;
  std::string bundle_identifier;
  std::string payload;
  int attempts = 0;              ///< failed attempts so far
  DeliveryState state = DeliveryState::kPending;
  TimePoint next_attempt_at{};   ///< due time (kPending)
  TimePoint lease_until{};       ///< lease end (kInFlight)
  std::int64_t lease = 0;        ///< claim token of the current lease
  std::string last_error;        ///< shape of the last failure ("timeout", "HTTP 503")
  std::string path;              ///< appended to the recipient's endpoint (OutboxItem::path)
  TimePoint created_at{};        ///< when the row was queued
  TimePoint updated_at{};        ///< its last state change (for a dead letter: when it died)
  friend bool operator==(const Delivery&, const Delivery&) = default;
};

/// A failed attempt, as the forward module reports it.
struct Failure {
  std::string error;       ///< short description of the failure, no patient data
  TimePoint retry_at{};    ///< when the row becomes due again (backoff + jitter chosen by the caller)
  int max_attempts = 10;   ///< after this many failed attempts the row goes to kDead
};

/// Per-recipient queue figures (metrics, back-pressure, `forward status`).
struct QueueStats {
  std::string recipient;
  std::int64_t pending = 0;    ///< kPending rows (due or not)
  std::int64_t in_flight = 0;
  std::int64_t dead = 0;
  std::int64_t delivered = 0;
  std::optional<TimePoint> oldest_pending;  ///< created_at of the oldest kPending row
  std::int64_t cancelled = 0;  ///< rows cancelled by a consent withdrawal
  friend bool operator==(const QueueStats&, const QueueStats&) = default;
};

/// DocumentReference-style listing entry of a stored handoff (no content).
struct HandoffSummary {
  std::string handoff_id;
  std::string sender;
  std::string patient_key;
  TimePoint created_at{};
  std::size_t size = 0;  ///< bytes of the handoff JSON
  friend bool operator==(const HandoffSummary&, const HandoffSummary&) = default;
};

/// A stored handoff with its content and the original it came from.
struct StoredHandoff {
  HandoffSummary summary;
  std::string handoff;   ///< unredacted HandoffDocument JSON (redact before release!)
  std::string original;  ///< the pushed bundle JSON
  friend bool operator==(const StoredHandoff&, const StoredHandoff&) = default;
};

/// A patient's Consent resource as stored.
struct StoredConsent {
  std::string consent_id;   ///< Consent.id (unique)
  std::string patient_key;
  std::string consent;      ///< Consent JSON
  bool revoked = false;
  TimePoint recorded_at{};
  std::optional<TimePoint> revoked_at;
  friend bool operator==(const StoredConsent&, const StoredConsent&) = default;
};

/// An outbox row whose release relied on a withdrawn consent, as
/// withdraw_consent found it (before it changed anything).
struct AffectedDelivery {
  std::int64_t id = 0;
  std::string recipient;
  std::string handoff_id;
  std::string bundle_identifier;  ///< the copy's identity at the receiver
  DeliveryState state = DeliveryState::kPending;
  int attempts = 0;
  /// The receiver has (kDelivered), may have (kInFlight, or an earlier
  /// attempt that failed without an HTTP answer, e.g. a read timeout) or
  /// is about to get a copy (kInFlight): it must be told.
  bool maybe_received = false;
  /// The row was kPending or kDead and is now kCancelled: never sent again.
  bool cancelled = false;
  friend bool operator==(const AffectedDelivery&, const AffectedDelivery&) = default;
};

/// What the caller adds to a withdrawal once it knows the affected rows:
/// the notices to queue (one per clinic, OutboxItem::handoff_id set) and
/// their audit records.
struct WithdrawalNotices {
  std::vector<OutboxItem> notices;
  std::vector<std::string> audit_events;
};

/// One consent withdrawal, committed atomically by withdraw_consent.
struct Withdrawal {
  std::string consent_id;
  std::string consent_json;  ///< the Consent as withdrawn (status inactive/rejected); replaces the stored one
  std::vector<std::string> audit_events;  ///< the withdrawal itself
  /// Builds the notices from the affected rows. Runs ON THE WRITER THREAD
  /// inside the transaction (so no delivery can change state between
  /// "who got a copy" and "queue the notice"): pure CPU, no Store calls.
  std::function<WithdrawalNotices(const std::vector<AffectedDelivery>&)> notices;
};

struct WithdrawalResult {
  bool already_revoked = false;  ///< it was revoked before: nothing was changed or queued
  std::vector<AffectedDelivery> affected;
  std::size_t notices = 0;       ///< outbox rows queued for notices
  friend bool operator==(const WithdrawalResult&, const WithdrawalResult&) = default;
};

/// Result of verify_audit. The chain is: hash[n] = SHA-256(hash[n-1] "\n"
/// n "\n" canonical_json(event[n])) in lowercase hex, hash[0] = 64 zeros;
/// a head row keeps the last sequence number and hash, so deleting the tail
/// shows too. `ok` false means damage: `first_bad_seq` is the first record
/// whose stored hash, sequence or predecessor does not match (for a deleted
/// tail, the head's sequence number), `problem` says what (no event content).
struct AuditVerification {
  bool ok = true;
  std::int64_t records = 0;
  std::int64_t first_bad_seq = 0;
  std::string problem;
  friend bool operator==(const AuditVerification&, const AuditVerification&) = default;
};

/// Writer-side counters since open (metrics; they show group commit at work:
/// tasks / transactions is the mean batch size).
struct StoreStats {
  std::int64_t transactions = 0;  ///< write transactions committed or attempted
  std::int64_t tasks = 0;         ///< writes (pushes, outbox changes, audit appends) they carried
  std::int64_t largest_batch = 0; ///< most tasks in one transaction
  friend bool operator==(const StoreStats&, const StoreStats&) = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // ---- pushes ----------------------------------------------------------

  /// Commits a push in ONE transaction (idempotency key, original, handoff,
  /// outbox rows, links, audit). Never blocks: `done` runs on the writer
  /// thread after the commit is durable (or failed). Concurrent pushes share
  /// one transaction and fsync; a push that fails (e.g. conflicting link)
  /// is rolled back alone (savepoint) and the others commit.
  /// Duplicate (sender, idempotency_key): writes nothing, returns the first
  /// push's PushResult with duplicate = true.
  /// Errors: kInvalidArgument (missing sender/key/handoff_id, link
  /// conflict, handoff_id reused), kIo.
  virtual void commit_push(PushRecord rec, std::function<void(Result<PushResult>)> done) = 0;

  // ---- outbox (forward module) -----------------------------------------

  /// Claims up to `max` due deliveries of `recipient`: kInFlight rows whose
  /// lease expired first (by id), then kPending rows with next_attempt_at <=
  /// now, earliest due first (ties by id, so first-time rows go oldest
  /// first). They become kInFlight with lease_until = now + lease and a new
  /// lease token. Cost: bounded by `max` and the in-flight rows, not by the
  /// recipient's history or backlog. On PostgreSQL `FOR UPDATE SKIP LOCKED`, so two nodes never
  /// get the same row. Blocking; durable on return.
  virtual Result<std::vector<Delivery>> claim(std::string_view recipient, std::size_t max,
                                              std::chrono::seconds lease) = 0;

  /// The receiver acknowledged: kDelivered with its receipt JSON (terminal,
  /// never claimed again). Idempotent for an already delivered row. Works
  /// even if the lease expired meanwhile (the delivery happened).
  /// Errors: kNotFound (no such id), kIo.
  virtual Status mark_delivered(std::int64_t id, std::string receipt,
                                std::vector<std::string> audit_events) = 0;

  /// A failed attempt: attempts+1; kDead when attempts >= failure.max_attempts,
  /// else kPending due at failure.retry_at. Returns the new state. A stale
  /// `lease` (another claimer owns the row now, or it is no longer in
  /// flight) changes nothing and returns the row's current state.
  /// Errors: kNotFound, kIo.
  virtual Result<DeliveryState> mark_failed(std::int64_t id, std::int64_t lease, Failure failure,
                                            std::vector<std::string> audit_events) = 0;

  /// Recipients that have at least one claimable row now.
  virtual Result<std::vector<std::string>> recipients_with_due_work() = 0;

  /// Earliest time a kPending row of `recipient` becomes due (for a timer);
  /// nullopt when it has none.
  virtual Result<std::optional<TimePoint>> next_due(std::string_view recipient) = 0;

  /// Dead letters of one recipient (empty = all recipients), oldest first.
  virtual Result<std::vector<Delivery>> dead_letters(std::string_view recipient) = 0;

  /// kDead -> kPending (attempts 0, due now) for one row. Errors: kNotFound
  /// (no such id, or the row is not dead).
  virtual Status replay_dead_letter(std::int64_t id, std::vector<std::string> audit_events) = 0;

  /// Replays every dead letter of `recipient` (empty = all); returns how many.
  virtual Result<std::int64_t> replay_dead_letters(std::string_view recipient,
                                                   std::vector<std::string> audit_events) = 0;

  /// Queue depth and age per recipient that has any outbox row, sorted by recipient.
  virtual Result<std::vector<QueueStats>> queue_stats() = 0;

  /// Registers the wake-up hook: called with a recipient id after a commit
  /// that made work due for it (a push with outbox rows, a replay). On
  /// PostgreSQL this includes commits by other nodes (LISTEN/NOTIFY). Runs
  /// on an internal thread; keep it short (e.g. asio::post to a strand).
  /// It may fire spuriously; it never replaces polling `next_due` for
  /// retries. An EMPTY recipient means "anything may have changed: rescan"
  /// (sent after the PostgreSQL listener reconnects, since NOTIFYs sent
  /// while it was away are lost). Pass an empty function to unregister.
  virtual void set_work_listener(std::function<void(const std::string& recipient)> listener) = 0;

  // ---- continuity metrics (issue #10) ------------------------------------

  /// The continuity counters (one per distinct ContinuityFact committed
  /// with a push), sorted by fact. Raw counts: the caller applies the
  /// minimum cell size before showing them. Blocking. Not pure so that
  /// test doubles need not implement it (kUnsupported).
  virtual Result<std::vector<ContinuityCount>> continuity_counts();
  /// Handoff copies delivered, per recipient with at least one, sorted by
  /// recipient. Blocking. Not pure (kUnsupported in test doubles).
  virtual Result<std::vector<DeliveredCount>> delivered_handoffs();

  // ---- pulls -----------------------------------------------------------

  /// Handoffs stored for a patient, oldest first (no content).
  virtual Result<std::vector<HandoffSummary>> handoffs_for_patient(std::string_view patient_key) = 0;
  /// One handoff with content; nullopt when absent.
  virtual Result<std::optional<StoredHandoff>> handoff(std::string_view handoff_id) = 0;
  /// The patient key linked to (clinic, system, value); nullopt when none.
  virtual Result<std::optional<std::string>> find_patient(const PatientLink& link) = 0;
  /// Resolves the patient key for a set of links in one durable step: the
  /// key the first already-linked one maps to (in `links` order), else
  /// `proposed_key`; every link not yet linked is then linked to that key.
  /// Returns the key the first link maps to afterwards. This is what makes
  /// two concurrent first pushes for one new patient (on one node or on
  /// several sharing PostgreSQL) agree on one key instead of one of them
  /// failing: the loser of the insert race reads the winner's key.
  /// A link already mapped to another key is left as it is (the push's
  /// commit then refuses the conflict). When every link is already linked
  /// to one key, that key is read and nothing is written. Blocking. Errors: kInvalidArgument
  /// (no links, empty key), store errors.
  virtual Result<std::string> link_patient(std::vector<PatientLink> links, std::string proposed_key) = 0;

  // ---- consents --------------------------------------------------------

  /// Stores (or replaces, un-revoking) a Consent for a patient. Blocking, durable.
  virtual Status put_consent(std::string_view patient_key, std::string_view consent_id,
                             std::string consent_json, std::vector<std::string> audit_events) = 0;
  /// Consents of a patient (revoked ones included, flagged), by consent id.
  virtual Result<std::vector<StoredConsent>> consents(std::string_view patient_key) = 0;
  /// Marks a consent revoked. Errors: kNotFound.
  virtual Status revoke_consent(std::string_view consent_id, std::vector<std::string> audit_events) = 0;
  /// One consent by id (revoked or not); nullopt when absent. Not pure so
  /// that test doubles need not implement it (kUnsupported).
  virtual Result<std::optional<StoredConsent>> consent(std::string_view consent_id);
  /// Withdraws a consent in ONE durable transaction: marks it revoked
  /// (storing `w.consent_json`), finds every outbox row whose release
  /// relied on it (OutboxItem::consent_ids), cancels those not yet
  /// delivered (kPending, and kDead: a dead letter must not be replayed
  /// with data the patient withdrew; kInFlight rows are being sent and are
  /// left to finish, their receiver is told), calls `w.notices` with
  /// all of them, queues the notices it returns, and appends both audit
  /// lists. A consent already revoked changes nothing (already_revoked).
  /// Blocking. Errors: kNotFound (no such consent), kIo; kUnsupported from
  /// test doubles.
  virtual Result<WithdrawalResult> withdraw_consent(Withdrawal w);

  // ---- audit -----------------------------------------------------------

  /// Appends AuditEvent JSON records to the hash chain (pulls, refusals).
  /// Never blocks; `done` (may be empty) runs on the writer thread once durable.
  /// Errors: kParse (an event is not JSON), kIo.
  virtual void append_audit(std::vector<std::string> events, std::function<void(Status)> done) = 0;
  /// Recomputes the chain. Succeeds with ok=false on damage (see AuditVerification).
  virtual Result<AuditVerification> verify_audit() = 0;
  /// The audit trail as a FHIR Bundle (type "collection") of AuditEvents, in
  /// sequence order, starting after sequence number `after` (0 = all).
  virtual Result<std::string> export_audit(std::int64_t after) = 0;

  // ---- metrics ---------------------------------------------------------

  /// Writer counters. Thread-safe, never blocks. Not pure so that test
  /// doubles of the port need not implement it (they report zeros).
  virtual StoreStats stats() const { return {}; }
};

/// Options of the SQLite back end.
struct SqliteOptions {
  std::string path;                      ///< database file (created if absent)
  std::shared_ptr<const Clock> clock;    ///< required: time of claims, leases, records
  std::size_t max_batch = 256;           ///< most commits in one group transaction
  std::chrono::milliseconds busy_timeout{5000};  ///< wait on another process's lock
  std::size_t readers = 2;               ///< read connections (pool)
  /// Hard cap on the database size in pages (PRAGMA max_page_count; 0 = no
  /// cap). Beyond it writes fail with kIo ("database or disk is full") and
  /// the batch is rolled back; reads keep working.
  std::int64_t max_page_count = 0;
};

/// Opens (creating and migrating) a SQLite store: WAL, synchronous=FULL,
/// STRICT tables. Errors: kIo (cannot open/migrate), kUnsupported (newer schema).
Result<std::shared_ptr<Store>> open_sqlite(const SqliteOptions& options);

/// Options of the PostgreSQL back end.
struct PostgresOptions {
  std::string conninfo;                  ///< libpq connection string
  std::shared_ptr<const Clock> clock;    ///< required
  std::size_t max_batch = 256;
  std::size_t readers = 2;
};

/// Opens (migrating) a PostgreSQL store; several processes may open the
/// same database (migrations are serialized with an advisory lock).
/// Errors: kIo, kUnsupported (newer schema).
Result<std::shared_ptr<Store>> open_postgres(const PostgresOptions& options);

/// The newest schema version this build knows (both back ends).
int schema_version() noexcept;

/// `fhir-gateway audit verify|export [--store PATH | --postgres CONNINFO]
/// [--config FILE] [--after SEQ]` (args after "audit"). The store comes from
/// the options or the config's "store" object ({"sqlite": PATH} or
/// {"postgres": CONNINFO}; default config/demo.json). Exit codes: 0 ok
/// (export printed / chain intact), 1 chain damaged (the first bad record
/// is named), 2 usage error or store unavailable. Output to `out`,
/// diagnostics to `err`.
int run_audit_command(std::span<const std::string_view> args, std::shared_ptr<const Clock> clock,
                      std::ostream& out, std::ostream& err);

}  // namespace gw::store
