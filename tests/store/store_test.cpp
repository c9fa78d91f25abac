// The Store contract, run against BOTH back ends (typed tests): SQLite on a
// temporary file, PostgreSQL on a real server this process starts on
// 127.0.0.1 (tests/support/pg_server.hpp). Time is a manual clock; nothing
// here sleeps or times anything (the only waits are bounded safety nets on
// callbacks that must fire).
#include "gateway/store/store.hpp"

#include "gateway/json/json.hpp"
#include "tests/support/pg_server.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace gw::store {
namespace {

using namespace std::chrono_literals;

class ManualClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    std::lock_guard lk(mu_);
    return now_;
  }
  void advance(std::chrono::milliseconds d) {
    std::lock_guard lk(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  std::chrono::system_clock::time_point now_ =
      std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
};

// ---- back ends ---------------------------------------------------------------

class SqliteBackend {
 public:
  static constexpr const char* kName = "Sqlite";
  SqliteBackend() {
    char tmpl[] = "/tmp/gw-store-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~SqliteBackend() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string skip_reason() { return {}; }
  void fresh() { path_ = dir_ + "/db" + std::to_string(++n_) + ".sqlite"; }
  Result<std::shared_ptr<Store>> open(std::shared_ptr<const Clock> clock) {
    SqliteOptions o;
    o.path = path_;
    o.clock = std::move(clock);
    return open_sqlite(o);
  }
  // First column of the first row, or "" (raw SQL on a separate connection).
  std::string sql(const std::string& q) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    std::string out;
    char* err = nullptr;
    int rc = sqlite3_exec(
        db, q.c_str(),
        [](void* o, int n, char** v, char**) {
          auto* s = static_cast<std::string*>(o);
          if (s->empty() && n > 0 && v[0]) *s = v[0];
          return 0;
        },
        &out, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << " in " << q;
    sqlite3_free(err);
    sqlite3_close(db);
    return out;
  }
  std::string index_exists(const std::string& name) {
    return sql("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '" + name + "'");
  }

 private:
  std::string dir_;
  std::string path_;
  int n_ = 0;
};

class PostgresBackend {
 public:
  static constexpr const char* kName = "Postgres";
  std::string skip_reason() {
    std::string why;
    server_ = testing::shared_postgres(&why);
    return server_ ? std::string() : "PostgreSQL server could not be started here: " + why;
  }
  void fresh() {
    auto c = server_->create_database();
    ASSERT_TRUE(c) << c.error().to_string();
    conninfo_ = *c;
  }
  Result<std::shared_ptr<Store>> open(std::shared_ptr<const Clock> clock) {
    PostgresOptions o;
    o.conninfo = conninfo_;
    o.clock = std::move(clock);
    return open_postgres(o);
  }
  std::string sql(const std::string& q) {
    PGconn* c = PQconnectdb(conninfo_.c_str());
    EXPECT_EQ(PQstatus(c), CONNECTION_OK);
    PGresult* r = PQexec(c, q.c_str());
    ExecStatusType st = PQresultStatus(r);
    EXPECT_TRUE(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) << PQerrorMessage(c) << " in " << q;
    std::string out;
    if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) out = PQgetvalue(r, 0, 0);
    PQclear(r);
    PQfinish(c);
    return out;
  }
  std::string index_exists(const std::string& name) {
    return sql("SELECT count(*) FROM pg_indexes WHERE indexname = '" + name + "'");
  }

 private:
  testing::PostgresServer* server_ = nullptr;
  std::string conninfo_;
};

// ---- fixture -----------------------------------------------------------------

std::string audit_event(const std::string& action, int n) {
  // Members deliberately out of order: the store canonicalizes.
  return R"({"type":{"code":"rest"},"resourceType":"AuditEvent","action":")" + action + R"(","n":)" +
         std::to_string(n) + "}";
}

PushRecord make_push(const std::string& key, const std::vector<std::string>& recipients, int audits = 1) {
  PushRecord r;
  r.sender = "hospital-a";
  r.idempotency_key = "urn:ietf:rfc:3986|" + key;
  r.patient_key = "pk-" + key;
  r.original = R"({"resourceType":"Bundle","id":")" + key + R"("})";
  r.handoff_id = "h-" + key;
  r.handoff = R"({"resourceType":"Bundle","type":"document","id":"h-)" + key + R"("})";
  r.response_status = "201";
  r.response_body = R"({"resourceType":"OperationOutcome","id":")" + key + R"("})";
  for (const std::string& to : recipients) {
    r.deliveries.push_back(OutboxItem{to, "urn:uuid:" + key, R"({"for":")" + to + R"("})"});
  }
  for (int i = 0; i < audits; ++i) r.audit_events.push_back(audit_event("C", i));
  return r;
}

template <class Backend>
class StoreTest : public ::testing::Test {
 public:  // the audit helpers below drive the fixture
  void SetUp() override {
    if (std::string why = backend_.skip_reason(); !why.empty()) GTEST_SKIP() << why;
    backend_.fresh();
    reopen();
  }

  void reopen() {
    store_.reset();
    auto s = backend_.open(clock_);
    ASSERT_TRUE(s) << s.error().to_string();
    store_ = *s;
  }

  Result<PushResult> push(PushRecord rec) {
    std::promise<Result<PushResult>> p;
    auto f = p.get_future();
    store_->commit_push(std::move(rec), [&p](Result<PushResult> r) { p.set_value(std::move(r)); });
    return f.get();
  }

  std::int64_t count(const std::string& table, const std::string& where = "1 = 1") {
    return std::stoll(backend_.sql("SELECT count(*) FROM " + table + " WHERE " + where));
  }

  Backend backend_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::shared_ptr<Store> store_;
};

struct BackendNames {
  template <class T>
  static std::string GetName(int) {
    return T::kName;
  }
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
TYPED_TEST_SUITE(StoreTest, Backends, BackendNames);

// ---- pushes ------------------------------------------------------------------

TYPED_TEST(StoreTest, PushIsDurableAndReadableAfterReopen) {
  PushRecord rec = make_push("p1", {"clinic-a", "clinic-b"}, 2);
  rec.links.push_back(PatientLink{"hospital-a", "urn:oid:1.2.3", "mrn-1"});
  auto r = this->push(rec);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->handoff_id, "h-p1");
  EXPECT_EQ(r->response_status, "201");

  this->reopen();  // everything comes back from the database, not from memory
  auto h = this->store_->handoff("h-p1");
  ASSERT_TRUE(h);
  ASSERT_TRUE(h->has_value());
  EXPECT_EQ((*h)->handoff, rec.handoff);
  EXPECT_EQ((*h)->original, rec.original);
  EXPECT_EQ((*h)->summary.patient_key, "pk-p1");
  EXPECT_EQ((*h)->summary.size, rec.handoff.size());

  auto list = this->store_->handoffs_for_patient("pk-p1");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].handoff_id, "h-p1");
  EXPECT_EQ((*list)[0].sender, "hospital-a");
  EXPECT_EQ((*list)[0].created_at, this->clock_->now());

  auto stats = this->store_->queue_stats();
  ASSERT_TRUE(stats);
  ASSERT_EQ(stats->size(), 2u);
  EXPECT_EQ((*stats)[0].recipient, "clinic-a");
  EXPECT_EQ((*stats)[0].pending, 1);
  EXPECT_EQ((*stats)[1].recipient, "clinic-b");

  auto due = this->store_->recipients_with_due_work();
  ASSERT_TRUE(due);
  EXPECT_EQ(*due, (std::vector<std::string>{"clinic-a", "clinic-b"}));

  auto missing = this->store_->handoff("h-nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  EXPECT_EQ(this->count("audit"), 2);
}

TYPED_TEST(StoreTest, RepushWithSameKeyReturnsFirstResultAndWritesNothing) {
  ASSERT_TRUE(this->push(make_push("k1", {"clinic-a"})));
  PushRecord again = make_push("k1", {"clinic-a", "clinic-b"});
  again.handoff_id = "h-other";
  again.response_body = "{}";
  auto r = this->push(again);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->duplicate);
  EXPECT_EQ(r->handoff_id, "h-k1");
  EXPECT_EQ(r->response_body, make_push("k1", {}).response_body);
  EXPECT_EQ(this->count("outbox"), 1);
  EXPECT_EQ(this->count("handoff"), 1);
  EXPECT_EQ(this->count("audit"), 1);

  // The key is per sender: another client may use the same identifier.
  PushRecord other = make_push("k1", {"clinic-a"});
  other.sender = "clinic-z";
  other.handoff_id = "h-k1-z";
  auto o = this->push(other);
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->duplicate);
  EXPECT_EQ(this->count("handoff"), 2);
}

TYPED_TEST(StoreTest, ConcurrentPushesAllCommitAndAllCallbacksFire) {
  constexpr int kThreads = 4, kPerThread = 40;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, failed = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        this->store_->commit_push(make_push("c" + std::to_string(t) + "-" + std::to_string(i), {"clinic-a"}),
                                  [&](Result<PushResult> r) {
                                    std::lock_guard lk(mu);
                                    ++done;
                                    if (!r || r->duplicate) ++failed;
                                    cv.notify_all();
                                  });
      }
    });
  }
  for (auto& t : threads) t.join();
  {
    std::unique_lock lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, 60s, [&] { return done == kThreads * kPerThread; })) << done;
  }
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(this->count("handoff"), kThreads * kPerThread);
  EXPECT_EQ(this->count("outbox"), kThreads * kPerThread);
  EXPECT_EQ(this->count("push"), kThreads * kPerThread);
  auto v = this->store_->verify_audit();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->problem;
  EXPECT_EQ(v->records, kThreads * kPerThread);
}

// Two gateway nodes (two Store instances on one database) race to create
// the key of one new patient: every caller gets the same key, and a known
// record number wins over a new one.
TYPED_TEST(StoreTest, ConcurrentFirstLinksAgreeOnOnePatientKey) {
  auto second = this->backend_.open(this->clock_);
  ASSERT_TRUE(second) << second.error().to_string();
  std::vector<std::shared_ptr<Store>> nodes = {this->store_, *second};
  const std::vector<PatientLink> links = {{"hospital-a", "urn:oid:1.2.3", "mrn-9"},
                                          {"hospital-a", "urn:oid:1.2.4", "case-9"}};
  constexpr int kThreads = 6;
  std::vector<std::string> keys(kThreads);
  std::vector<std::string> errors(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      auto k = nodes[t % 2]->link_patient(links, "proposed-" + std::to_string(t));
      if (k) keys[t] = *k;
      else errors[t] = k.error().to_string();
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_TRUE(errors[t].empty()) << errors[t];
    EXPECT_EQ(keys[t], keys[0]);
  }
  EXPECT_EQ(keys[0].rfind("proposed-", 0), 0u);
  EXPECT_EQ(this->count("patient_link", "patient_key = '" + keys[0] + "'"), 2);

  // A bundle with a new number and a known one: the known key wins and the
  // new number is linked to it.
  auto k = this->store_->link_patient({{"hospital-a", "urn:oid:9.9", "new-1"}, links[1]}, "other");
  ASSERT_TRUE(k) << k.error().to_string();
  EXPECT_EQ(*k, keys[0]);
  auto found = this->store_->find_patient({"hospital-a", "urn:oid:9.9", "new-1"});
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ(**found, keys[0]);
  EXPECT_FALSE(this->store_->link_patient({}, "x"));
}

// A returning patient (every link already stored, all to one key) is
// resolved by a read: no transaction, so a push of a known patient never
// waits for a commit of its own before the push's commit.
TYPED_TEST(StoreTest, KnownPatientLinksResolveWithoutAWrite) {
  const std::vector<PatientLink> links = {{"hospital-a", "urn:oid:1.2.3", "mrn-5"},
                                          {"hospital-a", "urn:oid:1.2.4", "case-5"}};
  auto first = this->store_->link_patient(links, "key-5");
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(*first, "key-5");
  const std::int64_t before = this->store_->stats().transactions;
  ASSERT_GT(before, 0);  // the first link was written

  auto again = this->store_->link_patient(links, "key-other");
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(*again, "key-5");
  EXPECT_EQ(this->store_->stats().transactions, before);

  // One link unknown: the durable step runs, and links it to the known key.
  auto mixed = this->store_->link_patient({links[0], {"hospital-a", "urn:oid:1.2.5", "new-5"}}, "key-other");
  ASSERT_TRUE(mixed) << mixed.error().to_string();
  EXPECT_EQ(*mixed, "key-5");
  EXPECT_EQ(this->store_->stats().transactions, before + 1);
  EXPECT_EQ(this->count("patient_link", "patient_key = 'key-5'"), 3);

  // Links stored under two different keys are not "known": the durable
  // step decides (the first link's key), as before.
  ASSERT_TRUE(this->store_->link_patient({{"hospital-b", "urn:oid:7", "b-1"}}, "key-b"));
  auto split = this->store_->link_patient({{"hospital-b", "urn:oid:7", "b-1"}, links[0]}, "key-x");
  ASSERT_TRUE(split) << split.error().to_string();
  EXPECT_EQ(*split, "key-b");
}

TYPED_TEST(StoreTest, BadPushIsRolledBackAloneAndLinksResolve) {
  PushRecord first = make_push("l1", {"clinic-a"});
  first.links.push_back(PatientLink{"hospital-a", "urn:oid:1.2.3", "mrn-7"});
  ASSERT_TRUE(this->push(first));

  // Same clinic identifier, different patient key: refused, and nothing of
  // it is kept; a good push queued right behind it still commits.
  PushRecord conflicting = make_push("l2", {"clinic-a"});
  conflicting.links.push_back(PatientLink{"hospital-a", "urn:oid:1.2.3", "mrn-7"});
  std::promise<Result<PushResult>> p1, p2;
  this->store_->commit_push(conflicting, [&](Result<PushResult> r) { p1.set_value(std::move(r)); });
  this->store_->commit_push(make_push("l3", {"clinic-a"}), [&](Result<PushResult> r) { p2.set_value(std::move(r)); });
  auto bad = p1.get_future().get();
  auto good = p2.get_future().get();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(good) << good.error().to_string();
  auto gone = this->store_->handoff("h-l2");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  EXPECT_EQ(this->count("outbox"), 2);
  EXPECT_EQ(this->count("push"), 2);  // the refused push may be retried with a fix

  auto k = this->store_->find_patient(PatientLink{"hospital-a", "urn:oid:1.2.3", "mrn-7"});
  ASSERT_TRUE(k);
  ASSERT_TRUE(k->has_value());
  EXPECT_EQ(**k, "pk-l1");
  auto none = this->store_->find_patient(PatientLink{"hospital-b", "urn:oid:1.2.3", "mrn-7"});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  PushRecord incomplete = make_push("l4", {});
  incomplete.sender.clear();
  auto e = this->push(incomplete);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), ErrorCode::kInvalidArgument);
}

// ---- outbox ------------------------------------------------------------------

TYPED_TEST(StoreTest, ClaimLeasesRowsAndExpiredLeasesComeBack) {
  ASSERT_TRUE(this->push(make_push("o1", {"clinic-a", "clinic-b"})));
  ASSERT_TRUE(this->push(make_push("o2", {"clinic-a"})));
  ASSERT_TRUE(this->push(make_push("o3", {"clinic-a"})));

  auto first = this->store_->claim("clinic-a", 2, 60s);
  ASSERT_TRUE(first) << first.error().to_string();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].handoff_id, "h-o1");  // oldest first
  EXPECT_EQ((*first)[1].handoff_id, "h-o2");
  EXPECT_EQ((*first)[0].state, DeliveryState::kInFlight);
  EXPECT_EQ((*first)[0].lease_until, this->clock_->now() + 60s);
  EXPECT_EQ((*first)[0].payload, R"({"for":"clinic-a"})");
  EXPECT_EQ((*first)[0].bundle_identifier, "urn:uuid:o1");

  auto second = this->store_->claim("clinic-a", 10, 60s);
  ASSERT_TRUE(second);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].handoff_id, "h-o3");
  auto empty = this->store_->claim("clinic-a", 10, 60s);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  auto due = this->store_->next_due("clinic-a");
  ASSERT_TRUE(due);
  ASSERT_TRUE(due->has_value());
  EXPECT_EQ(**due, this->clock_->now() + 60s);

  this->clock_->advance(61s);  // the claimer crashed: its leases expire
  auto again = this->store_->claim("clinic-a", 10, 60s);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->size(), 3u);
  EXPECT_NE((*again)[0].lease, (*first)[0].lease);

  // The first claimer comes back late: its stale lease changes nothing.
  auto stale = this->store_->mark_failed((*first)[0].id, (*first)[0].lease, Failure{"timeout", this->clock_->now(), 5}, {});
  ASSERT_TRUE(stale);
  EXPECT_EQ(*stale, DeliveryState::kInFlight);
  auto dl = this->store_->dead_letters("");
  ASSERT_TRUE(dl);
  EXPECT_TRUE(dl->empty());
  EXPECT_EQ(this->count("outbox", "attempts > 0"), 0);

  auto b = this->store_->claim("clinic-b", 10, 60s);  // queues are per recipient
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size(), 1u);
}

// Continuity counters (issue #10): one counter per distinct fact, bumped
// in the push's transaction, never by a duplicate push; nothing that
// identifies the handoff is stored with it.
TYPED_TEST(StoreTest, ContinuityCountersCountAcceptedPushesOnceAndKeepNoIds) {
  auto with = [](PushRecord r, std::string bucket, bool imm, bool interp) {
    r.continuity = ContinuityFact{std::move(bucket), imm, interp};
    return r;
  };
  ASSERT_TRUE(this->push(with(make_push("cf1", {"clinic-a"}), "0-7d", true, false)));
  ASSERT_TRUE(this->push(with(make_push("cf2", {"clinic-a"}), "0-7d", true, false)));
  ASSERT_TRUE(this->push(with(make_push("cf3", {"clinic-b"}), "none", false, true)));
  ASSERT_TRUE(this->push(make_push("cf4", {"clinic-b"})));  // no facts: not counted
  auto dup = this->push(with(make_push("cf1", {"clinic-a"}), "0-7d", true, false));
  ASSERT_TRUE(dup);
  EXPECT_TRUE(dup->duplicate);
  auto counts = this->store_->continuity_counts();
  ASSERT_TRUE(counts) << counts.error().to_string();
  ASSERT_EQ(counts->size(), 2u);
  EXPECT_EQ((*counts)[0], (ContinuityCount{ContinuityFact{"0-7d", true, false}, 2}));
  EXPECT_EQ((*counts)[1], (ContinuityCount{ContinuityFact{"none", false, true}, 1}));
  EXPECT_EQ(this->backend_.sql("SELECT count(*) FROM continuity_count"), "2");
  // Survives a reopen (it is in the database, shared by every node).
  this->reopen();
  auto again = this->store_->continuity_counts();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *counts);

  // Delivered copies per recipient: handoffs only, not notices.
  auto c = this->store_->claim("clinic-a", 10, 30s);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->size(), 2u);
  // Rows carry their queue time (the dashboard's "queued", the
  // forwarder's latency start), stored to the millisecond.
  this->clock_->advance(5s);
  EXPECT_EQ((*c)[0].created_at,
            std::chrono::floor<std::chrono::milliseconds>(this->clock_->now() - 5s));
  for (const Delivery& d : *c) ASSERT_TRUE(this->store_->mark_delivered(d.id, "{}", {}));
  auto delivered = this->store_->delivered_handoffs();
  ASSERT_TRUE(delivered) << delivered.error().to_string();
  ASSERT_EQ(delivered->size(), 1u);
  EXPECT_EQ((*delivered)[0], (DeliveredCount{"clinic-a", 2}));
}

TYPED_TEST(StoreTest, DeliveredRowsAreNeverClaimedAgain) {
  ASSERT_TRUE(this->push(make_push("d1", {"clinic-a"})));
  auto c = this->store_->claim("clinic-a", 1, 30s);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->size(), 1u);
  ASSERT_TRUE(this->store_->mark_delivered((*c)[0].id, R"({"status":"201"})", {audit_event("E", 1)}));
  this->clock_->advance(1h);
  auto none = this->store_->claim("clinic-a", 10, 30s);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  // Reported twice (a retry of the acknowledgement): still fine, audited once.
  EXPECT_TRUE(this->store_->mark_delivered((*c)[0].id, "{}", {audit_event("E", 2)}));
  EXPECT_EQ(this->count("audit"), 2);
  // A late failure report cannot resurrect it.
  auto f = this->store_->mark_failed((*c)[0].id, (*c)[0].lease, Failure{"x", this->clock_->now(), 1}, {});
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, DeliveryState::kDelivered);
  auto unknown = this->store_->mark_delivered(999999, "{}", {});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
  auto stats = this->store_->queue_stats();
  ASSERT_TRUE(stats);
  ASSERT_EQ(stats->size(), 1u);
  EXPECT_EQ((*stats)[0].delivered, 1);
  EXPECT_EQ((*stats)[0].pending, 0);
  EXPECT_FALSE((*stats)[0].oldest_pending.has_value());
  EXPECT_EQ(this->backend_.sql("SELECT receipt FROM outbox"), R"({"status":"201"})");
}

TYPED_TEST(StoreTest, DeadLetterAfterMaxAttemptsThenReplay) {
  ASSERT_TRUE(this->push(make_push("x1", {"clinic-a"})));
  std::int64_t id = 0;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto c = this->store_->claim("clinic-a", 1, 30s);
    ASSERT_TRUE(c);
    ASSERT_EQ(c->size(), 1u) << "attempt " << attempt;
    id = (*c)[0].id;
    EXPECT_EQ((*c)[0].attempts, attempt - 1);
    auto s = this->store_->mark_failed(id, (*c)[0].lease, Failure{"HTTP 503", this->clock_->now() + 10s, 3}, {});
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, attempt < 3 ? DeliveryState::kPending : DeliveryState::kDead);
    auto early = this->store_->claim("clinic-a", 1, 30s);  // backoff: not due yet
    ASSERT_TRUE(early);
    EXPECT_TRUE(early->empty());
    this->clock_->advance(11s);
  }
  auto none = this->store_->claim("clinic-a", 1, 30s);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto dead = this->store_->dead_letters("clinic-a");
  ASSERT_TRUE(dead);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].attempts, 3);
  EXPECT_EQ((*dead)[0].last_error, "HTTP 503");
  EXPECT_EQ((*dead)[0].state, DeliveryState::kDead);
  auto other = this->store_->dead_letters("clinic-b");
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->empty());

  ASSERT_TRUE(this->store_->replay_dead_letter(id, {audit_event("U", 9)}));
  auto again = this->store_->replay_dead_letter(id, {});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kNotFound);
  auto back = this->store_->claim("clinic-a", 1, 30s);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].attempts, 0);

  // Bulk replay by recipient.
  ASSERT_TRUE(this->store_->mark_failed(id, (*back)[0].lease, Failure{"HTTP 503", this->clock_->now(), 1}, {}));
  auto n = this->store_->replay_dead_letters("clinic-a", {});
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(this->count("outbox", "state = 'pending'"), 1);
}

TYPED_TEST(StoreTest, TwoClaimersNeverGetTheSameRow) {
  constexpr int kRows = 120;
  std::vector<std::string> many;
  for (int i = 0; i < kRows; ++i) ASSERT_TRUE(this->push(make_push("t" + std::to_string(i), {"clinic-a"}, 0)));
  // A second Store on the same database: a second writer connection (and on
  // PostgreSQL, what a second gateway node does).
  auto second = this->backend_.open(this->clock_);
  ASSERT_TRUE(second) << second.error().to_string();
  std::vector<std::int64_t> got[2];
  auto drain = [&](Store& s, std::vector<std::int64_t>& out) {
    for (;;) {
      auto c = s.claim("clinic-a", 7, 300s);
      ASSERT_TRUE(c) << c.error().to_string();
      if (c->empty()) return;
      for (const Delivery& d : *c) out.push_back(d.id);
    }
  };
  std::thread a([&] { drain(*this->store_, got[0]); });
  std::thread b([&] { drain(**second, got[1]); });
  a.join();
  b.join();
  std::set<std::int64_t> all(got[0].begin(), got[0].end());
  for (std::int64_t id : got[1]) EXPECT_TRUE(all.insert(id).second) << "row claimed twice";
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kRows));
  EXPECT_EQ(got[0].size() + got[1].size(), static_cast<std::size_t>(kRows));
}

TYPED_TEST(StoreTest, WorkListenerHearsAboutNewWork) {
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> heard;
  this->store_->set_work_listener([&](const std::string& r) {
    std::lock_guard lk(mu);
    heard.insert(r);
    cv.notify_all();
  });
  ASSERT_TRUE(this->push(make_push("w1", {"clinic-w"})));
  std::unique_lock lk(mu);
  EXPECT_TRUE(cv.wait_for(lk, 30s, [&] { return heard.count("clinic-w") > 0; }));
  lk.unlock();
  this->store_->set_work_listener({});
}

// ---- consents ----------------------------------------------------------------

TYPED_TEST(StoreTest, ConsentsAreStoredListedAndRevoked) {
  ASSERT_TRUE(this->store_->put_consent("pk-1", "c-2", R"({"resourceType":"Consent","id":"c-2"})", {}));
  ASSERT_TRUE(this->store_->put_consent("pk-1", "c-1", R"({"resourceType":"Consent","id":"c-1"})", {}));
  ASSERT_TRUE(this->store_->put_consent("pk-2", "c-3", "{}", {}));
  this->clock_->advance(5s);
  ASSERT_TRUE(this->store_->revoke_consent("c-2", {audit_event("U", 1)}));
  auto list = this->store_->consents("pk-1");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].consent_id, "c-1");
  EXPECT_FALSE((*list)[0].revoked);
  EXPECT_EQ((*list)[1].consent_id, "c-2");
  EXPECT_TRUE((*list)[1].revoked);
  ASSERT_TRUE((*list)[1].revoked_at.has_value());
  EXPECT_EQ(*(*list)[1].revoked_at, this->clock_->now());
  auto missing = this->store_->revoke_consent("c-404", {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->count("audit"), 1);
}

// A withdrawal in one transaction: the copy that reached its clinic is
// reported (notice queued, with its path), the copy not yet sent is
// cancelled and never claimed, rows of other consents are untouched, and a
// second withdrawal changes nothing.
TYPED_TEST(StoreTest, WithdrawingAConsentCancelsUnsentCopiesAndQueuesNotices) {
  ASSERT_TRUE(this->store_->put_consent("pk-w1", "c-1", R"({"resourceType":"Consent","id":"c-1"})", {}));
  PushRecord rec = make_push("w1", {"clinic-a", "clinic-b", "clinic-c"});
  rec.deliveries[0].consent_ids = {"c-1"};
  rec.deliveries[1].consent_ids = {"c-1", "c-other"};
  rec.deliveries[2].consent_ids = {"c-other"};
  ASSERT_TRUE(this->push(rec));
  auto sent = this->store_->claim("clinic-a", 10, 60s);
  ASSERT_TRUE(sent);
  ASSERT_EQ(sent->size(), 1u);
  ASSERT_TRUE(this->store_->mark_delivered((*sent)[0].id, "{}", {}));

  std::vector<AffectedDelivery> seen;
  Withdrawal w;
  w.consent_id = "c-1";
  w.consent_json = R"({"resourceType":"Consent","id":"c-1","status":"inactive"})";
  w.audit_events = {audit_event("U", 1)};
  w.notices = [&seen](const std::vector<AffectedDelivery>& affected) {
    seen = affected;
    WithdrawalNotices n;
    for (const auto& a : affected) {
      if (!a.maybe_received) continue;
      OutboxItem item{a.recipient, "urn:uuid:notice-" + a.recipient, R"({"resourceType":"Task"})"};
      item.path = "Task";
      item.handoff_id = a.handoff_id;
      n.notices.push_back(std::move(item));
      n.audit_events.push_back(audit_event("C", 2));
    }
    return n;
  };
  auto r = this->store_->withdraw_consent(w);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(r->already_revoked);
  EXPECT_EQ(r->notices, 1u);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].recipient, "clinic-a");
  EXPECT_TRUE(seen[0].maybe_received);
  EXPECT_FALSE(seen[0].cancelled);
  EXPECT_EQ(seen[0].bundle_identifier, "urn:uuid:w1");
  EXPECT_EQ(seen[1].recipient, "clinic-b");
  EXPECT_FALSE(seen[1].maybe_received);
  EXPECT_TRUE(seen[1].cancelled);

  auto stored = this->store_->consent("c-1");
  ASSERT_TRUE(stored);
  ASSERT_TRUE(stored->has_value());
  EXPECT_TRUE((*stored)->revoked);
  EXPECT_NE((*stored)->consent.find("inactive"), std::string::npos);

  auto notice = this->store_->claim("clinic-a", 10, 60s);  // the notice, not the delivered copy
  ASSERT_TRUE(notice);
  ASSERT_EQ(notice->size(), 1u);
  EXPECT_EQ((*notice)[0].path, "Task");
  EXPECT_EQ((*notice)[0].bundle_identifier, "urn:uuid:notice-clinic-a");
  EXPECT_EQ((*notice)[0].handoff_id, "h-w1");
  auto cancelled = this->store_->claim("clinic-b", 10, 60s);
  ASSERT_TRUE(cancelled);
  EXPECT_TRUE(cancelled->empty());
  auto other = this->store_->claim("clinic-c", 10, 60s);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->size(), 1u);
  auto stats = this->store_->queue_stats();
  ASSERT_TRUE(stats);
  ASSERT_EQ(stats->size(), 3u);
  EXPECT_EQ((*stats)[1].cancelled, 1);
  EXPECT_EQ(this->count("audit"), 1 + 1 + 1);  // push, withdrawal, notice

  auto again = this->store_->withdraw_consent(w);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->already_revoked);
  EXPECT_EQ(this->count("outbox"), 4);
  w.consent_id = "c-404";
  auto missing = this->store_->withdraw_consent(w);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

// ---- audit -------------------------------------------------------------------

template <class T>
void build_chain(StoreTest<T>& t) {
  ASSERT_TRUE(t.push(make_push("a1", {"clinic-a"}, 2)));  // records 1, 2
  std::promise<Status> p;
  t.store_->append_audit({audit_event("R", 3), audit_event("R", 4), audit_event("R", 5)},
                         [&](Status s) { p.set_value(s); });
  ASSERT_TRUE(p.get_future().get());
  auto v = t.store_->verify_audit();
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->ok) << v->problem;
  ASSERT_EQ(v->records, 5);
}

template <class T>
AuditVerification tampered(StoreTest<T>& t, const std::string& sql) {
  t.backend_.fresh();
  t.reopen();
  build_chain(t);
  t.backend_.sql(sql);
  auto v = t.store_->verify_audit();
  EXPECT_TRUE(v);
  return v ? *v : AuditVerification{};
}

TYPED_TEST(StoreTest, AuditChainVerifiesExportsAndShowsTampering) {
  build_chain(*this);
  // Stored canonically (members sorted), exported in order as a Bundle.
  EXPECT_EQ(this->backend_.sql("SELECT event FROM audit WHERE seq = 3"),
            R"({"action":"R","n":3,"resourceType":"AuditEvent","type":{"code":"rest"}})");
  auto bundle = this->store_->export_audit(0);
  ASSERT_TRUE(bundle);
  auto doc = json::Document::parse(*bundle);
  ASSERT_TRUE(doc) << doc.error().to_string();
  EXPECT_EQ(doc->root().find("resourceType").str(), "Bundle");
  json::Value entries = doc->root().find("entry");
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[4].find("resource").find("n").str(), "5");
  auto tail = this->store_->export_audit(3);
  ASSERT_TRUE(tail);
  EXPECT_EQ(json::Document::parse(*tail)->root().find("entry").size(), 2u);

  std::promise<Status> bad;
  this->store_->append_audit({"not json"}, [&](Status s) { bad.set_value(s); });
  auto b = bad.get_future().get();
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), ErrorCode::kParse);

  AuditVerification v = tampered(*this, "UPDATE audit SET event = replace(event, 'rest', 'REST') WHERE seq = 3");
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 3);
  EXPECT_EQ(v.records, 2);

  v = tampered(*this, "DELETE FROM audit WHERE seq = 2");
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 2);

  // Reordering: records 4 and 5 swap places.
  v = tampered(*this,
               "UPDATE audit SET seq = CASE seq WHEN 4 THEN 5 ELSE 4 END + 100 WHERE seq IN (4, 5); "
               "UPDATE audit SET seq = seq - 100 WHERE seq > 100");
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 4);

  v = tampered(*this, "DELETE FROM audit WHERE seq = 5");
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 5);
}

// ---- schema --------------------------------------------------------------------

TYPED_TEST(StoreTest, MigratesFromEmptyUpgradesInPlaceAndRefusesNewerSchema) {
  EXPECT_EQ(this->backend_.sql("SELECT version FROM schema_version"), std::to_string(schema_version()));
  EXPECT_EQ(this->backend_.index_exists("outbox_by_state"), "1");
  ASSERT_TRUE(this->push(make_push("m1", {"clinic-a"})));
  this->store_.reset();

  // Back to version 1 (without migration 2's index): opening upgrades in place.
  this->backend_.sql("DROP INDEX outbox_by_state");
  this->backend_.sql("UPDATE schema_version SET version = 1");
  this->reopen();
  EXPECT_EQ(this->backend_.index_exists("outbox_by_state"), "1");
  EXPECT_EQ(this->backend_.sql("SELECT version FROM schema_version"), std::to_string(schema_version()));
  auto kept = this->store_->handoff("h-m1");
  ASSERT_TRUE(kept);
  EXPECT_TRUE(kept->has_value());
  this->store_.reset();

  this->backend_.sql("UPDATE schema_version SET version = 999");
  auto refused = this->backend_.open(this->clock_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(this->backend_.sql("SELECT version FROM schema_version"), "999");
}

// ---- PostgreSQL only: wake-ups reach the other nodes --------------------------

TEST(PostgresStore, ListenerHearsWorkCommittedByAnotherNode) {
  std::string why;
  testing::PostgresServer* server = testing::shared_postgres(&why);
  if (!server) GTEST_SKIP() << "PostgreSQL server could not be started here: " << why;
  auto db = server->create_database();
  ASSERT_TRUE(db) << db.error().to_string();
  PostgresOptions o;
  o.conninfo = *db;
  o.clock = std::make_shared<ManualClock>();
  auto node_a = open_postgres(o);
  auto node_b = open_postgres(o);
  ASSERT_TRUE(node_a && node_b);
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> heard;
  (*node_a)->set_work_listener([&](const std::string& r) {
    std::lock_guard lk(mu);
    heard.insert(r);
    cv.notify_all();
  });
  std::promise<Result<PushResult>> p;
  (*node_b)->commit_push(make_push("n1", {"clinic-n"}), [&](Result<PushResult> r) { p.set_value(std::move(r)); });
  ASSERT_TRUE(p.get_future().get());
  {
    std::unique_lock lk(mu);
    EXPECT_TRUE(cv.wait_for(lk, 30s, [&] { return heard.count("clinic-n") > 0; }));
  }
  (*node_a)->set_work_listener({});
  auto claimed = (*node_a)->claim("clinic-n", 10, 30s);  // node A can take node B's work
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->size(), 1u);
}

// ---- SQLite only: a real lock held by another process ---------------------------

TEST(SqliteStore, BusyDatabaseFailsThePushAndTheNextOneSucceeds) {
  char tmpl[] = "/tmp/gw-store-busy-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  auto clock = std::make_shared<ManualClock>();
  SqliteOptions o;
  o.path = dir + "/busy.sqlite";
  o.clock = clock;
  o.busy_timeout = 50ms;
  auto st = open_sqlite(o);
  ASSERT_TRUE(st) << st.error().to_string();
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::promise<Result<PushResult>> p1;
  (*st)->commit_push(make_push("b1", {"clinic-a"}), [&](Result<PushResult> r) { p1.set_value(std::move(r)); });
  auto busy = p1.get_future().get();
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code(), ErrorCode::kIo);
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  std::promise<Result<PushResult>> p2;
  (*st)->commit_push(make_push("b1", {"clinic-a"}), [&](Result<PushResult> r) { p2.set_value(std::move(r)); });
  auto ok = p2.get_future().get();
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_FALSE(ok->duplicate);  // the failed attempt left nothing behind
  st->reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(SqliteStore, PushesQueuedBehindABusyWriterShareOneTransaction) {
  char tmpl[] = "/tmp/gw-store-group-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  SqliteOptions o;
  o.path = dir + "/group.sqlite";
  o.clock = std::make_shared<ManualClock>();
  o.busy_timeout = 60s;  // the writer waits for the lock below, it does not fail
  auto st = open_sqlite(o);
  ASSERT_TRUE(st) << st.error().to_string();
  const StoreStats before = (*st)->stats();
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  // While the lock is held, the writer is stuck on (at most) the first push;
  // every later push queues behind it and must ride in ONE next transaction.
  constexpr int kPushes = 50;
  std::vector<std::promise<Result<PushResult>>> done(kPushes);
  for (int i = 0; i < kPushes; ++i) {
    (*st)->commit_push(make_push("g" + std::to_string(i), {"clinic-a"}),
                       [&done, i](Result<PushResult> r) { done[static_cast<std::size_t>(i)].set_value(std::move(r)); });
  }
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  for (auto& p : done) {
    auto r = p.get_future().get();
    ASSERT_TRUE(r) << r.error().to_string();
  }
  const StoreStats after = (*st)->stats();
  EXPECT_EQ(after.tasks - before.tasks, kPushes);
  EXPECT_LE(after.transactions - before.transactions, 2);
  // The writer may have taken the first few pushes before it blocked.
  EXPECT_GE(after.largest_batch, kPushes / 2);
  st->reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(SqliteStore, FullDatabaseFailsTheBatchAndKeepsWhatWasCommitted) {
  char tmpl[] = "/tmp/gw-store-full-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  SqliteOptions o;
  o.path = dir + "/full.sqlite";
  o.clock = std::make_shared<ManualClock>();
  o.max_page_count = 64;  // 256 KB with 4 KB pages: the schema and a few pushes
  auto st = open_sqlite(o);
  ASSERT_TRUE(st) << st.error().to_string();
  auto push = [&](PushRecord r) {
    std::promise<Result<PushResult>> p;
    (*st)->commit_push(std::move(r), [&](Result<PushResult> res) { p.set_value(std::move(res)); });
    return p.get_future().get();
  };
  ASSERT_TRUE(push(make_push("f1", {"clinic-a"})));
  PushRecord big = make_push("f2", {"clinic-a"});
  big.original.assign(400 * 1024, 'x');  // does not fit under the cap
  auto full = push(big);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code(), ErrorCode::kIo);
  auto kept = (*st)->handoff("h-f1");
  ASSERT_TRUE(kept);
  EXPECT_TRUE(kept->has_value());
  auto lost = (*st)->handoff("h-f2");
  ASSERT_TRUE(lost);
  EXPECT_FALSE(lost->has_value());
  ASSERT_TRUE(push(make_push("f3", {"clinic-a"})));  // still writable below the cap
  auto v = (*st)->verify_audit();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok);
  EXPECT_EQ(v->records, 2);
  st->reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace gw::store
