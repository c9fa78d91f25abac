// The Store implementation shared by both back ends (see detail/engine.hpp).
//
// Writes. Every write — pushes, outbox transitions, consents, audit appends —
// is a Task queued for the single writer thread. The writer takes everything
// queued (up to max_batch), opens ONE transaction, runs each task inside its
// own savepoint (so one bad push rolls back alone), commits once, and only
// then completes the tasks. While it waits for that commit's fsync, new tasks
// pile up and form the next batch: that is the group commit, with no timer
// and no added latency at low load. Synchronous methods (claim, mark_*) are
// tasks too; their caller waits on a future.
//
// Reads go to a small pool of extra connections (WAL readers on SQLite),
// never to the writer, so pulls do not queue behind commits.
//
// Time is the injected clock's, in milliseconds since the epoch, passed into
// the SQL as parameters (never the database's own now()).
#include "gateway/store/detail/engine.hpp"

#include <algorithm>
#include <future>

namespace gw::store::detail {

namespace {

TimePoint from_ms(std::int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

std::int64_t to_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

DeliveryState parse_state(const std::optional<std::string>& s) {
  if (s == "in_flight") return DeliveryState::kInFlight;
  if (s == "delivered") return DeliveryState::kDelivered;
  if (s == "dead") return DeliveryState::kDead;
  if (s == "cancelled") return DeliveryState::kCancelled;
  return DeliveryState::kPending;
}

std::string text(std::optional<std::string>& s) { return s ? std::move(*s) : std::string(); }

// Column order of kDeliveryColumns.
constexpr std::string_view kDeliveryColumns =
    "id, recipient, handoff_id, bundle_identifier, payload, attempts, state, next_attempt_at, "
    "lease_until, lease, last_error, path, created_at, updated_at";

Delivery to_delivery(Row& r) {
  Delivery d;
  d.id = to_int(r[0]);
  d.recipient = text(r[1]);
  d.handoff_id = text(r[2]);
  d.bundle_identifier = text(r[3]);
  d.payload = text(r[4]);
  d.attempts = static_cast<int>(to_int(r[5]));
  d.state = parse_state(r[6]);
  d.next_attempt_at = from_ms(to_int(r[7]));
  d.lease_until = from_ms(to_int(r[8]));
  d.lease = to_int(r[9]);
  d.last_error = text(r[10]);
  d.path = text(r[11]);
  d.created_at = from_ms(to_int(r[12]));
  d.updated_at = from_ms(to_int(r[13]));
  return d;
}

std::vector<Delivery> to_deliveries(std::vector<Row>& rows) {
  std::vector<Delivery> out;
  out.reserve(rows.size());
  for (Row& r : rows) out.push_back(to_delivery(r));
  // RETURNING gives rows in no promised order; callers get oldest first.
  std::sort(out.begin(), out.end(), [](const Delivery& a, const Delivery& b) { return a.id < b.id; });
  return out;
}

Result<std::vector<std::string>> canonicalize(const std::vector<std::string>& events) {
  std::vector<std::string> out;
  out.reserve(events.size());
  for (const std::string& e : events) {
    auto c = canonical_json(e);
    if (!c) return c.error().with_context("audit event");
    out.push_back(std::move(*c));
  }
  return out;
}

}  // namespace

// ---- connection pool --------------------------------------------------------

class Engine::Reader {
 public:
  Reader(Engine* e, std::unique_ptr<Connection> c) : engine_(e), conn_(std::move(c)) {}
  Reader(Reader&& o) noexcept = default;
  Reader& operator=(Reader&&) = delete;
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  ~Reader() {
    if (!conn_) return;
    // A connection left inside a transaction (should not happen: readers
    // run single statements) is dropped rather than reused.
    if (conn_->in_transaction()) return;
    std::lock_guard lk(engine_->pool_mu_);
    if (engine_->pool_.size() < engine_->options_.readers) engine_->pool_.push_back(std::move(conn_));
  }
  Connection& operator*() { return *conn_; }

 private:
  Engine* engine_;
  std::unique_ptr<Connection> conn_;
};

Result<Engine::Reader> Engine::reader() {
  {
    std::lock_guard lk(pool_mu_);
    if (!pool_.empty()) {
      auto c = std::move(pool_.back());
      pool_.pop_back();
      return Reader(this, std::move(c));
    }
  }
  GW_TRY(auto c, open_reader_());
  return Reader(this, std::move(c));
}

// ---- writer thread ------------------------------------------------------------

Engine::Engine(std::unique_ptr<Connection> writer, ConnectionFactory open_reader, EngineOptions options)
    : writer_(std::move(writer)), open_reader_(std::move(open_reader)), options_(std::move(options)) {
  GW_ASSERT(options_.clock != nullptr, "store engine needs a clock");
  if (options_.max_batch == 0) options_.max_batch = 1;
  writer_thread_ = std::thread([this] { writer_loop(); });
}

Engine::~Engine() {
  // The listener thread calls notify(): stop it before anything it touches.
  listener_conn_.reset();
  {
    std::lock_guard lk(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  GW_ASSERT(writer_thread_.get_id() != std::this_thread::get_id(),
            "a Store must not be destroyed from its own writer thread (a callback)");
  writer_thread_.join();
}

void Engine::enqueue(Task t) {
  {
    std::lock_guard lk(queue_mu_);
    queue_.push_back(std::move(t));
  }
  queue_cv_.notify_one();
}

void Engine::writer_loop() {
  std::vector<Task> batch;
  for (;;) {
    {
      std::unique_lock lk(queue_mu_);
      queue_cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued was run
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    run_batch(batch);
    batch.clear();
  }
}

StoreStats Engine::stats() const {
  std::lock_guard lk(stats_mu_);
  return stats_;
}

void Engine::run_batch(std::vector<Task>& tasks) {
  {
    std::lock_guard lk(stats_mu_);
    ++stats_.transactions;
    stats_.tasks += static_cast<std::int64_t>(tasks.size());
    stats_.largest_batch = std::max(stats_.largest_batch, static_cast<std::int64_t>(tasks.size()));
  }
  Connection& c = *writer_;
  std::vector<Status> results(tasks.size());
  Batch batch;
  // BEGIN IMMEDIATE takes SQLite's write lock up front, so a second process
  // makes us wait (busy timeout) here rather than fail at COMMIT.
  Status txn = c.exec(pg() ? "BEGIN" : "BEGIN IMMEDIATE");
  // PostgreSQL: a batch that appends audit records locks the audit head
  // FIRST, before any row lock. Such batches of different nodes then queue
  // on that one lock instead of deadlocking on (row, head) in opposite
  // orders. Claims (no audit) skip it: SKIP LOCKED never waits.
  if (txn && pg() && std::any_of(tasks.begin(), tasks.end(), [](const Task& t) { return t.audited; })) {
    auto locked = c.query("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE", {});
    if (!locked) txn = locked.error();
  }
  if (txn) {
    for (std::size_t i = 0; i < tasks.size() && txn; ++i) {
      txn = c.exec("SAVEPOINT gw_task");
      if (!txn) break;
      Status s = tasks[i].apply(c, batch);
      results[i] = s;
      if (s) {
        txn = c.exec("RELEASE SAVEPOINT gw_task");
      } else if (!c.in_transaction()) {
        // SQLite rolls the whole transaction back by itself on some errors
        // (disk full, I/O): the batch is lost, report it to everyone.
        txn = s;
      } else {
        txn = c.exec("ROLLBACK TO SAVEPOINT gw_task");
        if (txn) txn = c.exec("RELEASE SAVEPOINT gw_task");
      }
    }
    if (txn) txn = c.exec("COMMIT");
    if (!txn && c.in_transaction()) (void)c.exec("ROLLBACK");
  }
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    Status s = !txn && results[i] ? txn : results[i];
    if (tasks[i].complete) tasks[i].complete(std::move(s));
  }
  if (txn && options_.notify_locally) {
    for (const std::string& r : batch.woken) notify(r);
  }
}

template <class T>
Result<T> Engine::write_sync(bool audited, std::function<Result<T>(Connection&, Batch&)> fn) {
  GW_ASSERT(writer_thread_.get_id() != std::this_thread::get_id(),
            "blocking Store call from a Store callback would deadlock");
  std::promise<Result<T>> promise;
  auto future = promise.get_future();
  auto value = std::make_shared<std::optional<T>>();
  enqueue(Task{[fn = std::move(fn), value](Connection& c, Batch& b) -> Status {
                 Result<T> r = fn(c, b);
                 if (!r) return r.error();
                 *value = std::move(*r);
                 return {};
               },
               [&promise, value](Status s) {
                 if (!s) {
                   promise.set_value(Result<T>(s.error()));
                 } else {
                   promise.set_value(Result<T>(std::move(**value)));
                 }
               },
               audited});
  return future.get();
}

std::int64_t Engine::now_ms() const { return to_ms(options_.clock->now()); }

void Engine::notify(const std::string& recipient) {
  std::function<void(const std::string&)> l;
  {
    std::lock_guard lk(listener_mu_);
    l = listener_;
  }
  if (l) l(recipient);
}

void Engine::set_work_listener(std::function<void(const std::string& recipient)> listener) {
  std::lock_guard lk(listener_mu_);
  listener_ = std::move(listener);
}

Status Engine::wake(Connection& c, Batch& b, const std::string& recipient) {
  if (pg()) {
    // Delivered by PostgreSQL at COMMIT to every listening node (this one
    // included); duplicates within one transaction are folded.
    GW_CHECK_OK(c.query("SELECT pg_notify('gw_outbox', ?1)", {recipient}));
  } else {
    b.woken.insert(recipient);
  }
  return {};
}

// ---- audit chain -------------------------------------------------------------

Status Engine::append_events(Connection& c, const std::vector<std::string>& events) {
  if (events.empty()) return {};
  // FOR UPDATE serializes appends across PostgreSQL nodes; on SQLite the
  // write lock of BEGIN IMMEDIATE already does.
  GW_TRY(auto head, c.query(pg() ? "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
                                 : "SELECT seq, hash FROM audit_head WHERE id = 1",
                            {}));
  if (head.empty() || !head[0][1]) return fail(ErrorCode::kInternal, "audit: head row missing");
  std::int64_t seq = to_int(head[0][0]);
  std::string hash = *head[0][1];
  const std::int64_t now = now_ms();
  for (const std::string& e : events) {
    ++seq;
    std::string next = chain_hash(hash, seq, e);
    GW_CHECK_OK(c.query("INSERT INTO audit (seq, recorded_at, event, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
                        {seq, now, e, hash, next}));
    hash = std::move(next);
  }
  GW_CHECK_OK(c.query("UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1", {seq, hash}));
  return {};
}

void Engine::append_audit(std::vector<std::string> events, std::function<void(Status)> done) {
  auto canon = std::make_shared<Result<std::vector<std::string>>>(canonicalize(events));
  enqueue(Task{[this, canon](Connection& c, Batch&) -> Status {
                 if (!*canon) return canon->error();
                 return append_events(c, **canon);
               },
               [done = std::move(done)](Status s) {
                 if (done) done(std::move(s));
               },
               true});
}

// ---- pushes ------------------------------------------------------------------

namespace {

struct PushJob {
  PushRecord rec;
  Result<std::vector<std::string>> events;  // canonical audit events
  PushResult out;
};

}  // namespace

void Engine::commit_push(PushRecord rec, std::function<void(Result<PushResult>)> done) {
  // Canonicalizing the audit events is CPU work: do it here, on the caller's
  // thread, and keep the writer thread for SQL.
  auto job = std::make_shared<PushJob>();
  job->events = canonicalize(rec.audit_events);
  job->rec = std::move(rec);
  auto apply = [this, job](Connection& c, Batch& b) -> Status {
    const PushRecord& r = job->rec;
    if (!job->events) return job->events.error();
    if (r.sender.empty() || r.idempotency_key.empty() || r.handoff_id.empty()) {
      return fail(ErrorCode::kInvalidArgument, "push: sender, idempotency key and handoff id are required");
    }
    const std::int64_t now = now_ms();
    // The idempotency row goes first: if (sender, key) exists this push is a
    // retry, and it must write nothing else. ON CONFLICT DO NOTHING also
    // waits out a concurrent insert of the same key by another node.
    GW_TRY(auto inserted,
           c.query("INSERT INTO push (sender, idempotency_key, handoff_id, response_status, response_body, "
                   "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING RETURNING handoff_id",
                   {r.sender, r.idempotency_key, r.handoff_id, r.response_status, r.response_body, now}));
    if (inserted.empty()) {
      GW_TRY(auto prev, c.query("SELECT handoff_id, response_status, response_body FROM push "
                                "WHERE sender = ?1 AND idempotency_key = ?2",
                                {r.sender, r.idempotency_key}));
      if (prev.empty()) return fail(ErrorCode::kInternal, "push: idempotency row vanished");
      job->out = PushResult{true, text(prev[0][0]), text(prev[0][1]), text(prev[0][2])};
      return {};
    }
    {
      auto h = c.query("INSERT INTO handoff (handoff_id, sender, patient_key, original, handoff, created_at) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                       {r.handoff_id, r.sender, r.patient_key, r.original, r.handoff, now});
      if (!h) return h.error().with_context("push: handoff id already stored?");
    }
    for (const PatientLink& l : r.links) {
      GW_CHECK_OK(c.query("INSERT INTO patient_link (clinic, system, value, patient_key, created_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                          {l.clinic, l.system, l.value, r.patient_key, now}));
      GW_TRY(auto k, c.query("SELECT patient_key FROM patient_link WHERE clinic = ?1 AND system = ?2 AND value = ?3",
                             {l.clinic, l.system, l.value}));
      if (k.empty() || k[0][0] != r.patient_key) {
        return fail(ErrorCode::kInvalidArgument, "push: a patient link already maps to another patient key");
      }
    }
    for (const OutboxItem& o : r.deliveries) GW_CHECK_OK(insert_outbox(c, b, r.handoff_id, o, now));
    if (r.continuity) {
      // A counter, not a row per handoff: what is kept cannot be joined
      // back to the handoff (schema.cpp, version 4).
      const ContinuityFact& f = *r.continuity;
      GW_CHECK_OK(c.query("INSERT INTO continuity_count (follow_up, immunizations, interpreter, handoffs) "
                          "VALUES (?1, ?2, ?3, 1) ON CONFLICT (follow_up, immunizations, interpreter) "
                          "DO UPDATE SET handoffs = continuity_count.handoffs + 1",
                          {f.follow_up, f.immunizations ? 1 : 0, f.interpreter ? 1 : 0}));
    }
    GW_CHECK_OK(append_events(c, *job->events));
    job->out = PushResult{false, r.handoff_id, r.response_status, r.response_body};
    return {};
  };
  const bool audited = job->events && !job->events->empty();
  enqueue(Task{std::move(apply),
               [job, done = std::move(done)](Status s) {
                 if (!done) return;
                 if (!s) {
                   done(s.error());
                 } else {
                   done(std::move(job->out));
                 }
               },
               audited});
}

// ---- outbox ------------------------------------------------------------------

Status Engine::insert_outbox(Connection& c, Batch& b, const std::string& handoff_id, const OutboxItem& o,
                             std::int64_t now) {
  GW_TRY(auto id, c.query("INSERT INTO outbox (recipient, handoff_id, bundle_identifier, payload, state, "
                          "next_attempt_at, created_at, updated_at, path) "
                          "VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5, ?5, ?6) RETURNING id",
                          {o.recipient, handoff_id, o.bundle_identifier, o.payload, now, o.path}));
  if (id.empty()) return fail(ErrorCode::kInternal, "outbox: insert returned no id");
  const std::int64_t outbox_id = to_int(id[0][0]);
  for (const std::string& consent_id : o.consent_ids) {
    GW_CHECK_OK(c.query("INSERT INTO outbox_consent (consent_id, outbox_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                        {consent_id, outbox_id}));
  }
  return wake(c, b, o.recipient);
}

Result<std::vector<Delivery>> Engine::claim(std::string_view recipient, std::size_t max,
                                            std::chrono::seconds lease) {
  if (max == 0) return std::vector<Delivery>{};
  std::string who(recipient);
  const std::int64_t lease_ms = std::chrono::duration_cast<std::chrono::milliseconds>(lease).count();
  return write_sync<std::vector<Delivery>>(false, [this, who, max, lease_ms](Connection& c, Batch&)
                                               -> Result<std::vector<Delivery>> {
    const std::int64_t now = now_ms();
    // Two statements, each a bounded walk of outbox_by_recipient
    // (recipient, state, next_attempt_at[, rowid]): first rows whose lease
    // expired (a crashed or cut-off claimer's; few), then due pending rows
    // in due order. One statement with `(pending AND due) OR (in_flight AND
    // expired) ORDER BY id` could only use the recipient prefix of the
    // index: it read and sorted EVERY row of the recipient, delivered ones
    // included, on each claim, so claims slowed down with the history and
    // a large backlog drained in quadratic time.
    // SKIP LOCKED: rows another node is claiming right now are passed over,
    // not waited for, so two claimers never block each other or share a row.
    const std::string lock = pg() ? " FOR UPDATE SKIP LOCKED" : "";
    const std::string set = "UPDATE outbox SET state = 'in_flight', lease_until = ?3, lease = lease + 1, updated_at = ?2 "
                            "WHERE id IN (SELECT id FROM outbox WHERE recipient = ?1 AND ";
    const std::string returning = ") RETURNING " + std::string(kDeliveryColumns);
    GW_TRY(auto expired, c.query(set + "state = 'in_flight' AND lease_until <= ?2 ORDER BY id LIMIT ?4" + lock + returning,
                                 {who, now, now + lease_ms, static_cast<std::int64_t>(max)}));
    std::vector<Delivery> out = to_deliveries(expired);
    if (out.size() < max) {
      GW_TRY(auto due, c.query(set + "state = 'pending' AND next_attempt_at <= ?2 ORDER BY next_attempt_at, id LIMIT ?4" +
                                   lock + returning,
                               {who, now, now + lease_ms, static_cast<std::int64_t>(max - out.size())}));
      std::vector<Delivery> more = to_deliveries(due);
      // Oldest due first (RETURNING promises no order).
      std::sort(more.begin(), more.end(), [](const Delivery& a, const Delivery& b) {
        return a.next_attempt_at != b.next_attempt_at ? a.next_attempt_at < b.next_attempt_at : a.id < b.id;
      });
      for (Delivery& d : more) out.push_back(std::move(d));
    }
    return out;
  });
}

Status Engine::mark_delivered(std::int64_t id, std::string receipt, std::vector<std::string> audit_events) {
  GW_TRY(auto events, canonicalize(audit_events));
  const bool audited = !events.empty();  // before `events` moves into the task
  auto r = write_sync<bool>(audited, [this, id, receipt = std::move(receipt), events = std::move(events)](
                                Connection& c, Batch&) -> Result<bool> {
    const std::int64_t now = now_ms();
    GW_TRY(auto rows, c.query("UPDATE outbox SET state = 'delivered', receipt = ?2, lease_until = 0, updated_at = ?3 "
                              "WHERE id = ?1 AND state <> 'delivered' RETURNING id",
                              {id, receipt, now}));
    if (rows.empty()) {
      GW_TRY(auto exists, c.query("SELECT state FROM outbox WHERE id = ?1", {id}));
      if (exists.empty()) return fail(ErrorCode::kNotFound, "outbox: no such delivery");
      return true;  // already delivered: idempotent, audited the first time
    }
    GW_CHECK_OK(append_events(c, events));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Result<DeliveryState> Engine::mark_failed(std::int64_t id, std::int64_t lease, Failure failure,
                                          std::vector<std::string> audit_events) {
  GW_TRY(auto events, canonicalize(audit_events));
  const bool audited = !events.empty();  // before `events` moves into the task
  return write_sync<DeliveryState>(audited, [this, id, lease, failure = std::move(failure), events = std::move(events)](
                                       Connection& c, Batch&) -> Result<DeliveryState> {
    GW_TRY(auto rows, c.query(pg() ? "SELECT state, lease, attempts FROM outbox WHERE id = ?1 FOR UPDATE"
                                   : "SELECT state, lease, attempts FROM outbox WHERE id = ?1",
                              {id}));
    if (rows.empty()) return fail(ErrorCode::kNotFound, "outbox: no such delivery");
    DeliveryState state = parse_state(rows[0][0]);
    if (state != DeliveryState::kInFlight || to_int(rows[0][1]) != lease) return state;  // stale lease
    const std::int64_t attempts = to_int(rows[0][2]) + 1;
    const DeliveryState next = attempts >= failure.max_attempts ? DeliveryState::kDead : DeliveryState::kPending;
    GW_CHECK_OK(c.query("UPDATE outbox SET state = ?2, attempts = ?3, next_attempt_at = ?4, lease_until = 0, "
                        "last_error = ?5, updated_at = ?6 WHERE id = ?1",
                        {id, to_string(next), attempts, to_ms(failure.retry_at), failure.error, now_ms()}));
    GW_CHECK_OK(append_events(c, events));
    return next;
  });
}

Result<std::vector<std::string>> Engine::recipients_with_due_work() {
  GW_TRY(auto r, reader());
  const std::int64_t now = now_ms();
  GW_TRY(auto rows, (*r).query("SELECT DISTINCT recipient FROM outbox WHERE (state = 'pending' AND next_attempt_at <= ?1) "
                               "OR (state = 'in_flight' AND lease_until <= ?1) ORDER BY recipient",
                               {now}));
  std::vector<std::string> out;
  for (Row& row : rows) out.push_back(text(row[0]));
  return out;
}

Result<std::optional<TimePoint>> Engine::next_due(std::string_view recipient) {
  GW_TRY(auto r, reader());
  GW_TRY(auto rows, (*r).query("SELECT MIN(CASE WHEN state = 'pending' THEN next_attempt_at ELSE lease_until END) "
                               "FROM outbox WHERE recipient = ?1 AND state IN ('pending', 'in_flight')",
                               {recipient}));
  if (rows.empty() || !rows[0][0]) return std::optional<TimePoint>();
  return std::optional<TimePoint>(from_ms(to_int(rows[0][0])));
}

Result<std::vector<Delivery>> Engine::dead_letters(std::string_view recipient) {
  GW_TRY(auto r, reader());
  std::string sql = "SELECT ";
  sql += kDeliveryColumns;
  sql += " FROM outbox WHERE state = 'dead' AND (?1 = '' OR recipient = ?1) ORDER BY id";
  GW_TRY(auto rows, (*r).query(sql, {recipient}));
  return to_deliveries(rows);
}

Status Engine::replay_dead_letter(std::int64_t id, std::vector<std::string> audit_events) {
  GW_TRY(auto events, canonicalize(audit_events));
  const bool audited = !events.empty();  // before `events` moves into the task
  auto r = write_sync<bool>(audited, [this, id, events = std::move(events)](Connection& c, Batch& b) -> Result<bool> {
    GW_TRY(auto rows, c.query("UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?2, lease_until = 0, "
                              "last_error = '', updated_at = ?2 WHERE id = ?1 AND state = 'dead' RETURNING recipient",
                              {id, now_ms()}));
    if (rows.empty()) return fail(ErrorCode::kNotFound, "outbox: no such dead letter");
    GW_CHECK_OK(wake(c, b, text(rows[0][0])));
    GW_CHECK_OK(append_events(c, events));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Result<std::int64_t> Engine::replay_dead_letters(std::string_view recipient, std::vector<std::string> audit_events) {
  GW_TRY(auto events, canonicalize(audit_events));
  const bool audited = !events.empty();  // before `events` moves into the task
  std::string who(recipient);
  return write_sync<std::int64_t>(audited, [this, who, events = std::move(events)](Connection& c,
                                                                            Batch& b) -> Result<std::int64_t> {
    GW_TRY(auto rows, c.query("UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?2, lease_until = 0, "
                              "last_error = '', updated_at = ?2 WHERE state = 'dead' AND (?1 = '' OR recipient = ?1) "
                              "RETURNING recipient",
                              {who, now_ms()}));
    std::set<std::string> woken;
    for (Row& row : rows) woken.insert(text(row[0]));
    for (const std::string& w : woken) GW_CHECK_OK(wake(c, b, w));
    GW_CHECK_OK(append_events(c, events));
    return static_cast<std::int64_t>(rows.size());
  });
}

Result<std::vector<QueueStats>> Engine::queue_stats() {
  GW_TRY(auto r, reader());
  GW_TRY(auto rows, (*r).query("SELECT recipient, "
                               "SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), "
                               "SUM(CASE WHEN state = 'in_flight' THEN 1 ELSE 0 END), "
                               "SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), "
                               "SUM(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END), "
                               "MIN(CASE WHEN state = 'pending' THEN created_at END), "
                               "SUM(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END) "
                               "FROM outbox GROUP BY recipient ORDER BY recipient",
                               {}));
  std::vector<QueueStats> out;
  for (Row& row : rows) {
    QueueStats q;
    q.recipient = text(row[0]);
    q.pending = to_int(row[1]);
    q.in_flight = to_int(row[2]);
    q.dead = to_int(row[3]);
    q.delivered = to_int(row[4]);
    if (row[5]) q.oldest_pending = from_ms(to_int(row[5]));
    q.cancelled = to_int(row[6]);
    out.push_back(std::move(q));
  }
  return out;
}

// ---- continuity metrics --------------------------------------------------------

Result<std::vector<ContinuityCount>> Engine::continuity_counts() {
  GW_TRY(auto r, reader());
  GW_TRY(auto rows, (*r).query("SELECT follow_up, immunizations, interpreter, handoffs FROM continuity_count "
                               "ORDER BY follow_up, immunizations, interpreter",
                               {}));
  std::vector<ContinuityCount> out;
  for (Row& row : rows) {
    out.push_back(ContinuityCount{ContinuityFact{text(row[0]), to_int(row[1]) != 0, to_int(row[2]) != 0},
                                  to_int(row[3])});
  }
  return out;
}

Result<std::vector<DeliveredCount>> Engine::delivered_handoffs() {
  GW_TRY(auto r, reader());
  // path '' is a pushed handoff's copy; withdrawal notices go under the
  // endpoint (Task, $process-message).
  GW_TRY(auto rows, (*r).query("SELECT recipient, COUNT(*) FROM outbox WHERE state = 'delivered' AND path = '' "
                               "GROUP BY recipient ORDER BY recipient",
                               {}));
  std::vector<DeliveredCount> out;
  for (Row& row : rows) out.push_back(DeliveredCount{text(row[0]), to_int(row[1])});
  return out;
}

// ---- pulls -------------------------------------------------------------------

Result<std::vector<HandoffSummary>> Engine::handoffs_for_patient(std::string_view patient_key) {
  GW_TRY(auto r, reader());
  GW_TRY(auto rows, (*r).query(pg() ? "SELECT handoff_id, sender, patient_key, created_at, octet_length(handoff) "
                                      "FROM handoff WHERE patient_key = ?1 ORDER BY created_at, handoff_id"
                                    : "SELECT handoff_id, sender, patient_key, created_at, length(CAST(handoff AS BLOB)) "
                                      "FROM handoff WHERE patient_key = ?1 ORDER BY created_at, handoff_id",
                               {patient_key}));
  std::vector<HandoffSummary> out;
  for (Row& row : rows) {
    out.push_back(HandoffSummary{text(row[0]), text(row[1]), text(row[2]), from_ms(to_int(row[3])),
                                 static_cast<std::size_t>(to_int(row[4]))});
  }
  return out;
}

Result<std::optional<StoredHandoff>> Engine::handoff(std::string_view handoff_id) {
  GW_TRY(auto r, reader());
  GW_TRY(auto rows, (*r).query("SELECT handoff_id, sender, patient_key, created_at, handoff, original "
                               "FROM handoff WHERE handoff_id = ?1",
                               {handoff_id}));
  if (rows.empty()) return std::optional<StoredHandoff>();
  Row& row = rows[0];
  StoredHandoff h;
  h.summary = HandoffSummary{text(row[0]), text(row[1]), text(row[2]), from_ms(to_int(row[3])), 0};
  h.handoff = text(row[4]);
  h.original = text(row[5]);
  h.summary.size = h.handoff.size();
  return std::optional<StoredHandoff>(std::move(h));
}

Result<std::optional<std::string>> Engine::find_patient(const PatientLink& link) {
  GW_TRY(auto r, reader());
  GW_TRY(auto rows, (*r).query("SELECT patient_key FROM patient_link WHERE clinic = ?1 AND system = ?2 AND value = ?3",
                               {link.clinic, link.system, link.value}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(text(rows[0][0]));
}

Result<std::string> Engine::link_patient(std::vector<PatientLink> links, std::string proposed_key) {
  if (links.empty() || proposed_key.empty()) {
    return fail(ErrorCode::kInvalidArgument, "link patient: links and a proposed key are required");
  }
  // A known patient (every link already committed, all to one key) needs
  // no write: the durable step below would insert nothing and return that
  // key. Reading it on a pooled reader keeps the caller's thread off the
  // writer's commit, which under push load was the gateway's bottleneck: a
  // CPU worker waited for an fsync on every push of a returning patient.
  std::optional<std::string> known;
  for (const PatientLink& l : links) {
    GW_TRY(auto k, find_patient(l));
    if (!k || (known && *known != *k)) {
      known.reset();
      break;
    }
    known = std::move(k);
  }
  if (known) return std::move(*known);
  return write_sync<std::string>(false, [this, links = std::move(links), proposed = std::move(proposed_key)](
                                            Connection& c, Batch&) -> Result<std::string> {
    auto key_of = [&c](const PatientLink& l) -> Result<std::optional<std::string>> {
      GW_TRY(auto rows, c.query("SELECT patient_key FROM patient_link WHERE clinic = ?1 AND system = ?2 AND value = ?3",
                                {l.clinic, l.system, l.value}));
      if (rows.empty()) return std::optional<std::string>();
      return std::optional<std::string>(text(rows[0][0]));
    };
    std::string key = proposed;
    for (const PatientLink& l : links) {
      GW_TRY(auto k, key_of(l));
      if (k) {
        key = std::move(*k);
        break;
      }
    }
    const std::int64_t now = now_ms();
    for (const PatientLink& l : links) {
      // DO NOTHING: on PostgreSQL a concurrent node's insert of the same
      // link waits for that node's commit and then yields to it.
      GW_CHECK_OK(c.query("INSERT INTO patient_link (clinic, system, value, patient_key, created_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                          {l.clinic, l.system, l.value, key, now}));
    }
    GW_TRY(auto first, key_of(links.front()));
    if (!first) return fail(ErrorCode::kInternal, "link patient: the link vanished");
    return std::move(*first);
  });
}

// ---- consents ----------------------------------------------------------------

Status Engine::put_consent(std::string_view patient_key, std::string_view consent_id, std::string consent_json,
                           std::vector<std::string> audit_events) {
  if (patient_key.empty() || consent_id.empty()) {
    return fail(ErrorCode::kInvalidArgument, "consent: patient key and consent id are required");
  }
  GW_TRY(auto events, canonicalize(audit_events));
  const bool audited = !events.empty();  // before `events` moves into the task
  auto r = write_sync<bool>(audited, [this, pk = std::string(patient_key), id = std::string(consent_id),
                             json = std::move(consent_json), events = std::move(events)](Connection& c,
                                                                                         Batch&) -> Result<bool> {
    GW_CHECK_OK(c.query("INSERT INTO consent (consent_id, patient_key, consent, revoked, recorded_at, revoked_at) "
                        "VALUES (?1, ?2, ?3, 0, ?4, NULL) ON CONFLICT (consent_id) DO UPDATE SET "
                        "patient_key = excluded.patient_key, consent = excluded.consent, revoked = 0, "
                        "recorded_at = excluded.recorded_at, revoked_at = NULL",
                        {id, pk, json, now_ms()}));
    GW_CHECK_OK(append_events(c, events));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Result<std::vector<StoredConsent>> Engine::consents(std::string_view patient_key) {
  GW_TRY(auto r, reader());
  GW_TRY(auto rows, (*r).query("SELECT consent_id, patient_key, consent, revoked, recorded_at, revoked_at "
                               "FROM consent WHERE patient_key = ?1 ORDER BY consent_id",
                               {patient_key}));
  std::vector<StoredConsent> out;
  for (Row& row : rows) {
    StoredConsent s;
    s.consent_id = text(row[0]);
    s.patient_key = text(row[1]);
    s.consent = text(row[2]);
    s.revoked = to_int(row[3]) != 0;
    s.recorded_at = from_ms(to_int(row[4]));
    if (row[5]) s.revoked_at = from_ms(to_int(row[5]));
    out.push_back(std::move(s));
  }
  return out;
}

Status Engine::revoke_consent(std::string_view consent_id, std::vector<std::string> audit_events) {
  GW_TRY(auto events, canonicalize(audit_events));
  const bool audited = !events.empty();  // before `events` moves into the task
  auto r = write_sync<bool>(audited, [this, id = std::string(consent_id), events = std::move(events)](
                                Connection& c, Batch&) -> Result<bool> {
    GW_TRY(auto rows, c.query("UPDATE consent SET revoked = 1, revoked_at = COALESCE(revoked_at, ?2) "
                              "WHERE consent_id = ?1 RETURNING consent_id",
                              {id, now_ms()}));
    if (rows.empty()) return fail(ErrorCode::kNotFound, "consent: no such consent");
    GW_CHECK_OK(append_events(c, events));
    return true;
  });
  if (!r) return r.error();
  return {};
}

Result<std::optional<StoredConsent>> Engine::consent(std::string_view consent_id) {
  GW_TRY(auto r, reader());
  GW_TRY(auto rows, (*r).query("SELECT consent_id, patient_key, consent, revoked, recorded_at, revoked_at "
                               "FROM consent WHERE consent_id = ?1",
                               {consent_id}));
  if (rows.empty()) return std::optional<StoredConsent>();
  Row& row = rows[0];
  StoredConsent s;
  s.consent_id = text(row[0]);
  s.patient_key = text(row[1]);
  s.consent = text(row[2]);
  s.revoked = to_int(row[3]) != 0;
  s.recorded_at = from_ms(to_int(row[4]));
  if (row[5]) s.revoked_at = from_ms(to_int(row[5]));
  return std::optional<StoredConsent>(std::move(s));
}

// The withdrawal is one task on the writer thread, so "which rows relied
// on the consent, in which state" and "cancel / queue the notices" see the
// same database: a worker cannot deliver a row between the two (its
// mark_delivered is a later task, or an earlier one whose result we read).
Result<WithdrawalResult> Engine::withdraw_consent(Withdrawal w) {
  if (w.consent_id.empty()) return fail(ErrorCode::kInvalidArgument, "consent: consent id is required");
  GW_TRY(auto events, canonicalize(w.audit_events));
  auto shared = std::make_shared<Withdrawal>(std::move(w));
  return write_sync<WithdrawalResult>(true, [this, shared, events = std::move(events)](
                                                Connection& c, Batch& b) -> Result<WithdrawalResult> {
    const Withdrawal& wd = *shared;
    const std::int64_t now = now_ms();
    WithdrawalResult out;
    GW_TRY(auto found, c.query(pg() ? "SELECT revoked FROM consent WHERE consent_id = ?1 FOR UPDATE"
                                    : "SELECT revoked FROM consent WHERE consent_id = ?1",
                               {wd.consent_id}));
    if (found.empty()) return fail(ErrorCode::kNotFound, "consent: no such consent");
    if (to_int(found[0][0]) != 0) {
      out.already_revoked = true;
      return out;
    }
    GW_CHECK_OK(c.query("UPDATE consent SET revoked = 1, revoked_at = ?2 WHERE consent_id = ?1", {wd.consent_id, now}));
    if (!wd.consent_json.empty()) {
      GW_CHECK_OK(c.query("UPDATE consent SET consent = ?2 WHERE consent_id = ?1", {wd.consent_id, wd.consent_json}));
    }
    GW_TRY(auto rows, c.query(std::string("SELECT o.id, o.recipient, o.handoff_id, o.bundle_identifier, o.state, "
                                          "o.attempts, o.last_error FROM outbox o JOIN outbox_consent oc ON "
                                          "oc.outbox_id = o.id WHERE oc.consent_id = ?1 ORDER BY o.id") +
                                  (pg() ? " FOR UPDATE OF o" : ""),
                              {wd.consent_id}));
    for (Row& row : rows) {
      AffectedDelivery a;
      a.id = to_int(row[0]);
      a.recipient = text(row[1]);
      a.handoff_id = text(row[2]);
      a.bundle_identifier = text(row[3]);
      a.state = parse_state(row[4]);
      a.attempts = static_cast<int>(to_int(row[5]));
      const std::string last_error = text(row[6]);
      // A failure with an HTTP answer means the clinic did not take the
      // copy; one without (timeout after the write) may have reached it.
      const bool unanswered_attempt = a.attempts > 0 && !last_error.starts_with("HTTP ");
      a.maybe_received = a.state == DeliveryState::kDelivered || a.state == DeliveryState::kInFlight ||
                         ((a.state == DeliveryState::kPending || a.state == DeliveryState::kDead) && unanswered_attempt);
      if (a.state == DeliveryState::kPending || a.state == DeliveryState::kDead) {
        GW_CHECK_OK(c.query("UPDATE outbox SET state = 'cancelled', lease_until = 0, "
                            "last_error = 'cancelled: consent withdrawn', updated_at = ?2 WHERE id = ?1",
                            {a.id, now}));
        a.cancelled = true;
      }
      out.affected.push_back(std::move(a));
    }
    WithdrawalNotices notices;
    if (wd.notices) notices = wd.notices(out.affected);
    for (const OutboxItem& o : notices.notices) {
      if (o.handoff_id.empty()) return fail(ErrorCode::kInvalidArgument, "withdrawal: a notice names no handoff");
      GW_CHECK_OK(insert_outbox(c, b, o.handoff_id, o, now));
    }
    out.notices = notices.notices.size();
    GW_CHECK_OK(append_events(c, events));
    GW_TRY(auto notice_events, canonicalize(notices.audit_events));
    GW_CHECK_OK(append_events(c, notice_events));
    return out;
  });
}

// ---- audit reads ---------------------------------------------------------------

Result<AuditVerification> Engine::verify_audit() {
  GW_TRY(auto r, reader());
  Connection& c = *r;
  // The head first: rows above it may be appended while we read and are
  // not checked this time; rows at or below it are immutable.
  GW_TRY(auto head, c.query("SELECT seq, hash FROM audit_head WHERE id = 1", {}));
  if (head.empty()) return fail(ErrorCode::kInternal, "audit: head row missing");
  const std::int64_t head_seq = to_int(head[0][0]);
  const std::string head_hash = text(head[0][1]);
  AuditVerification v;
  std::string prev(kZeroHash);
  std::int64_t expected = 1;
  auto damage = [&](std::int64_t seq, std::string problem) {
    v.ok = false;
    v.first_bad_seq = seq;
    v.problem = std::move(problem);
    return v;
  };
  for (;;) {
    GW_TRY(auto rows, c.query("SELECT seq, event, prev_hash, hash FROM audit WHERE seq >= ?1 AND seq <= ?2 "
                              "ORDER BY seq LIMIT 1000",
                              {expected, head_seq}));
    if (rows.empty()) break;
    for (Row& row : rows) {
      const std::int64_t seq = to_int(row[0]);
      if (seq != expected) return damage(expected, "record missing (sequence gap)");
      if (row[2] != prev) return damage(seq, "previous-hash link does not match the preceding record");
      std::string h = chain_hash(prev, seq, row[1] ? *row[1] : std::string());
      if (row[3] != h) return damage(seq, "record hash does not match its content");
      prev = std::move(h);
      ++expected;
      ++v.records;
    }
  }
  if (expected - 1 != head_seq) return damage(expected, "records missing at the end of the chain");
  if (prev != head_hash) return damage(head_seq, "chain head does not match the last record");
  // Rows above the head may be concurrent appends (checked next time); a
  // row numbered below 1 can only be forged.
  GW_TRY(auto forged, c.query("SELECT MAX(seq) FROM audit WHERE seq < 1", {}));
  if (!forged.empty() && forged[0][0]) return damage(to_int(forged[0][0]), "record outside the chain");
  return v;
}

Result<std::string> Engine::export_audit(std::int64_t after) {
  GW_TRY(auto r, reader());
  Connection& c = *r;
  GW_TRY(auto head, c.query("SELECT seq FROM audit_head WHERE id = 1", {}));
  const std::int64_t head_seq = head.empty() ? 0 : to_int(head[0][0]);
  // Events are stored as canonical JSON, so they are spliced in verbatim.
  std::string out = R"({"resourceType":"Bundle","type":"collection","entry":[)";
  bool first = true;
  std::int64_t next = after + 1;
  for (;;) {
    GW_TRY(auto rows, c.query("SELECT seq, event FROM audit WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq LIMIT 1000",
                              {next, head_seq}));
    if (rows.empty()) break;
    for (Row& row : rows) {
      if (!first) out += ',';
      first = false;
      out += R"({"resource":)";
      out += row[1] ? *row[1] : std::string("{}");
      out += '}';
      next = to_int(row[0]) + 1;
    }
  }
  out += "]}";
  return out;
}

}  // namespace gw::store::detail
