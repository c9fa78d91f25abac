// Durable pushes per second on SQLite: the store's group commit against
// SQLite's own limits on the same disk.
//
//   1. single-commit limit: N single-row INSERT transactions, WAL,
//      synchronous=FULL — one fsync per commit, what a store without group
//      commit could at best reach;
//   2. grouped limit: the same N rows in transactions of 256 rows — what
//      SQLite reaches when fsyncs are shared;
//   3. the store: commit_push with C concurrent clients (each waits for its
//      acknowledgement before sending the next push; closed loop), for
//      several C. Each push writes the push row, handoff, 2 outbox rows and
//      1 audit record.
//
// Self-checking (STYLE.md §15): every run counts its rows afterwards and
// aborts if any commit is missing, so a fast but lossy build cannot pass.
//
// Usage: store_bench [DIR] [N]   (DIR default /tmp; N default 2000)
#include "gateway/store/store.hpp"

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "store_bench: %s\n", what);
  std::exit(1);
}

std::string payload(std::size_t bytes) {
  std::string s = R"({"resourceType":"Bundle","type":"document","entry":[)";
  while (s.size() < bytes) s += R"({"resource":{"resourceType":"Observation","status":"final"}},)";
  s += R"({}]})";
  return s;
}

double raw_sqlite(const std::string& path, int n, int per_txn, const std::string& body) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) die("open");
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT", nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t (body) VALUES (?1)", -1, &ins, nullptr);
  auto start = Clock::now();
  for (int i = 0; i < n; i += per_txn) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (int j = i; j < n && j < i + per_txn; ++j) {
      sqlite3_bind_text(ins, 1, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
      if (sqlite3_step(ins) != SQLITE_DONE) die("insert");
      sqlite3_reset(ins);
    }
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) die("commit");
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  sqlite3_finalize(ins);
  sqlite3_stmt* cnt = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &cnt, nullptr);
  sqlite3_step(cnt);
  if (sqlite3_column_int(cnt, 0) != n) die("raw sqlite: rows missing");
  sqlite3_finalize(cnt);
  sqlite3_close(db);
  return n / secs;
}

double store_pushes(const std::string& path, int n, int clients, const std::string& body, double* mean_batch) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  gw::store::SqliteOptions o;
  o.path = path;
  o.clock = std::make_shared<gw::SystemClock>();
  auto st = gw::store::open_sqlite(o);
  if (!st) die("open store");
  std::shared_ptr<gw::store::Store> store = *st;
  std::atomic<int> issued{0};
  std::mutex mu;
  std::condition_variable cv;
  int completed = 0, failed = 0;
  std::function<void()> send;
  send = [&] {
    int i = issued.fetch_add(1);
    if (i >= n) return;
    gw::store::PushRecord r;
    r.sender = "bench";
    r.idempotency_key = "urn:bench|" + std::to_string(i);
    r.patient_key = "pk-" + std::to_string(i % 997);
    r.original = body;
    r.handoff_id = "h-" + std::to_string(i);
    r.handoff = body;
    r.response_status = "201";
    r.response_body = R"({"resourceType":"OperationOutcome"})";
    r.deliveries.push_back({"clinic-a", "urn:uuid:" + std::to_string(i), body, {}, "", ""});
    r.deliveries.push_back({"clinic-b", "urn:uuid:" + std::to_string(i), body, {}, "", ""});
    r.audit_events.push_back(R"({"resourceType":"AuditEvent","action":"C","n":)" + std::to_string(i) + "}");
    // The callback runs on the writer thread; the next push of this client
    // is issued from there (commit_push never blocks).
    store->commit_push(std::move(r), [&](gw::Result<gw::store::PushResult> res) {
      {
        std::lock_guard lk(mu);
        ++completed;
        if (!res || res->duplicate) ++failed;
      }
      cv.notify_all();
      send();
    });
  };
  auto start = Clock::now();
  for (int c = 0; c < clients; ++c) send();
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return completed == n; });
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed != 0) die("store: failed pushes");
  auto stats = store->queue_stats();
  if (!stats || stats->size() != 2 || (*stats)[0].pending != n || (*stats)[1].pending != n) die("store: rows missing");
  auto v = store->verify_audit();
  if (!v || !v->ok || v->records != n) die("store: audit chain wrong");
  const gw::store::StoreStats ws = store->stats();
  *mean_batch = ws.transactions ? static_cast<double>(ws.tasks) / static_cast<double>(ws.transactions) : 0;
  // Join the writer thread before the locals its callbacks use go away.
  store.reset();
  st->reset();
  return n / secs;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "/tmp";
  int n = argc > 2 ? std::atoi(argv[2]) : 2000;
  if (n <= 0) die("N must be positive");
  const std::string body = payload(4096);
  const std::string db = dir + "/gw-store-bench.sqlite";
  std::printf("payload %zu bytes, %d commits per run, dir %s\n", body.size(), n, dir.c_str());
  std::printf("sqlite single-row txn (1 fsync/commit)   %9.0f commits/s\n", raw_sqlite(db, n, 1, body));
  std::printf("sqlite grouped, 256 rows/txn             %9.0f rows/s\n", raw_sqlite(db, n, 256, body));
  // A push stores the body four times (original, handoff, two payloads):
  // the same limits for rows of that size are the fair yardstick.
  const std::string push_sized = body + body + body + body;
  std::printf("push-sized rows (%zu B), 1 row/txn      %9.0f commits/s\n", push_sized.size(),
              raw_sqlite(db, n, 1, push_sized));
  std::printf("push-sized rows, 256 rows/txn            %9.0f rows/s\n", raw_sqlite(db, n, 256, push_sized));
  for (int clients : {1, 8, 64, 256}) {
    double mean_batch = 0;
    const double rate = store_pushes(db, n, clients, body, &mean_batch);
    std::printf("store commit_push, %3d concurrent        %9.0f pushes/s  (mean batch %.1f)\n", clients, rate,
                mean_batch);
  }
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(db + ext);
  return 0;
}
