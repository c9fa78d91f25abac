// Durable store-and-forward, end to end with the real binary (issue #8):
//
//  * crash: `fhir-gateway serve` on a SQLite store, under continuous pushes
//    over mutual TLS, is killed with SIGKILL 20 times at random moments
//    (seeded; the seed is printed, GW_CRASH_SEED replays it) and restarted
//    on the same store. A push whose connection dies without an answer is
//    retried with the SAME Bundle.identifier until it gets one. Afterwards
//    every 2xx push is stored and delivered to the clinic, no refused push
//    is, the audit chain verifies, and every re-send the clinic saw is
//    explained by a kill that landed between the clinic's 2xx and the
//    outbox update (the one window no sender can close on its own).
//  * two nodes: two `fhir-gateway forward` processes on one PostgreSQL drain
//    a backlog of 10,000 handoffs into one clinic: no duplicate, no loss,
//    and both did part of the work.
//
// The clinic is the in-process ClinicSim (TLS, client certificates
// required). Waits are "until this state is reached" with a bound that only
// turns a hang into a failure. The crash test sleeps on purpose: the random
// moment of each kill IS the test input.
#include "gateway/forward/forward.hpp"
#include "gateway/store/store.hpp"
#include "tests/http/test_client.hpp"
#include "tests/support/pg_server.hpp"
#include "tests/support/process.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace gw::app {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using gw::testing::ChildProcess;
using gw::testing::ProcessOptions;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// Polls `pred` every `step` until it holds or `limit` passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit, std::chrono::milliseconds step = 50ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(step);
  }
  return pred();
}

// A temporary folder with the demo certificates (hospital = pusher,
// gateway = the forwarder's client identity, server = gateway and clinic).
struct Workspace {
  Workspace() {
    char tmpl[] = "/tmp/gw_durability_XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    EXPECT_NE(d, nullptr);
    dir = d ? d : "/tmp";
    certs = dir + "/certs";
    EXPECT_EQ(std::system((std::string(GW_SOURCE_DIR) + "/scripts/make-demo-certs " + certs +
                           " demo-hospital gateway >/dev/null")
                              .c_str()),
              0);
  }
  ~Workspace() {
    std::error_code ec;
    if (!::testing::Test::HasFailure()) fs::remove_all(dir, ec);  // kept for a post-mortem otherwise
  }
  std::string dir, certs;
};

std::unique_ptr<forward::ClinicSim> start_clinic(const Workspace& ws) {
  forward::SimOptions o;
  o.cert_file = ws.certs + "/server.crt";
  o.key_file = ws.certs + "/server.key";
  o.client_ca_file = ws.certs + "/ca.crt";
  auto sim = forward::ClinicSim::start(o);
  EXPECT_TRUE(sim) << (sim ? "" : sim.error().to_string());
  return sim ? std::move(*sim) : nullptr;
}

// A gateway configuration: one submitting hospital, one receiving clinic
// (the simulator), the given store object and forward settings.
std::string gateway_config(const Workspace& ws, std::uint16_t clinic_port, const std::string& store_json,
                           const std::string& forward_tuning) {
  const std::string c = ws.certs;
  return R"({
  "server": {"listen": "127.0.0.1:0", "io_threads": 2, "cpu_threads": 2, "log_level": "warn"},
  "tls": {"cert": ")" + c + R"(/server.crt", "key": ")" + c + R"(/server.key", "client_ca": ")" + c +
         R"(/ca.crt", "require_client_cert": true},
  "limits": {"rate_per_second": 0, "handler_ms": 60000, "drain_ms": 2000},
  "store": )" + store_json + R"(,
  "consentPolicy": ")" + std::string(GW_SOURCE_DIR) + R"(/config/consent-policy.json",
  "forward": {
    "client_tls": {"cert": ")" + c + R"(/gateway.crt", "key": ")" + c + R"(/gateway.key", "ca": ")" + c +
         R"(/ca.crt"},
    )" + forward_tuning + R"(
  },
  "recipients": [
    {"id": "demo-hospital", "organization": "Demo General Hospital", "kind": "hospital",
     "endpoint": "https://127.0.0.1:1/unused", "operations": ["submit", "pull"]},
    {"id": "demo-clinic", "organization": "Demo Community Clinic", "kind": "community-clinic",
     "endpoint": "https://127.0.0.1:)" + std::to_string(clinic_port) + R"(/fhir", "operations": ["receive", "pull"]}
  ]
})";
}

ProcessOptions gateway_process(const Workspace& ws, std::vector<std::string> args, const std::string& log) {
  ProcessOptions o;
  o.argv.push_back(GW_GATEWAY_BIN);
  for (auto& a : args) o.argv.push_back(std::move(a));
  o.cwd = GW_SOURCE_DIR;  // mappings/ are read relative to it
  o.stderr_path = ws.dir + "/" + log;
  return o;
}

// Read-only SQL on a store file, for what the Store API does not expose
// (idempotency keys, one column of every outbox row).
std::vector<std::vector<std::string>> sql(const std::string& db_path, const std::string& query) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open the store file";
    sqlite3_close(db);
    return rows;
  }
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, query.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "bad query: " << sqlite3_errmsg(db);
  } else {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const unsigned char* t = sqlite3_column_text(st, i);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) ADD_FAILURE() << "query failed: " << sqlite3_errmsg(db);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

// ---------------------------------------------------------------------------
// SIGKILL under load
// ---------------------------------------------------------------------------

// The demo discharge summary with a fresh Bundle.identifier and a fresh
// (synthetic) record number per push, so every push is a new document of a
// new patient.
class Documents {
 public:
  Documents() : demo_(read_text(std::string(GW_SOURCE_DIR) + "/config/demo/discharge-summary.json")) {}
  bool ok() const {
    return demo_.find(kUuid) != std::string::npos && demo_.find(kRecordNumber) != std::string::npos;
  }
  static std::string uuid(int n) {
    char tail[13];
    std::snprintf(tail, sizeof tail, "%012x", n);
    return "6a1c0000-0000-4000-8000-" + std::string(tail);
  }
  std::string make(int n) const {
    std::string s = demo_;
    replace_all(s, kUuid, uuid(n));
    replace_all(s, kRecordNumber, "SYN-" + std::to_string(100000 + n));
    return s;
  }
  static std::string key(int n) { return "urn:ietf:rfc:3986|urn:uuid:" + uuid(n); }

 private:
  static constexpr std::string_view kUuid = "6a1c0000-0000-4000-8000-0000000000ff";
  static constexpr std::string_view kRecordNumber = "DEMO-000123";
  static void replace_all(std::string& s, std::string_view from, const std::string& to) {
    for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  }
  std::string demo_;
};

struct PushOutcome {
  int status = 0;
  std::string handoff_id;  // from Location (2xx)
  int attempts = 0;        // connections tried until an answer came
};

// Pusher threads: each takes the next document number and pushes it until
// it gets an HTTP answer, reconnecting (to the current port) after a dead
// connection; then the next document, until told to stop.
class Pushers {
 public:
  Pushers(const Workspace& ws, const Documents& docs) : ws_(ws), docs_(docs) {}
  ~Pushers() { abandon(); }

  void start(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
  }
  void set_port(std::uint16_t p) { port_.store(p); }
  // Lets every pusher finish its current document (with retries), then join.
  void stop() {
    stopping_.store(true);
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  // After a failed assertion: stop retrying too (the gateway may be gone).
  void abandon() {
    abandon_.store(true);
    stop();
  }
  std::map<int, PushOutcome> outcomes() const {
    std::lock_guard lk(mu_);
    return outcomes_;
  }
  int answered() const {
    std::lock_guard lk(mu_);
    return static_cast<int>(outcomes_.size());
  }
  int dead_connections() const { return dead_connections_.load(); }

 private:
  void run() {
    http::testing::ClientOptions o;
    o.ca_file = ws_.certs + "/ca.crt";
    o.cert_file = ws_.certs + "/demo-hospital.crt";
    o.key_file = ws_.certs + "/demo-hospital.key";
    while (!stopping_.load()) {
      const int n = next_.fetch_add(1);
      const std::string body = docs_.make(n);
      PushOutcome out;
      for (;;) {
        if (abandon_.load()) return;
        ++out.attempts;
        http::testing::TestClient c(o);
        if (c.connect(port_.load())) {  // down (restarting): try again shortly
          std::this_thread::sleep_for(20ms);
          continue;
        }
        auto r = c.request("POST", "/fhir?recipient=demo-clinic", body, {{"Content-Type", "application/fhir+json"}});
        if (r.ec || r.status == 0) {  // the connection died without an answer
          dead_connections_.fetch_add(1);
          std::this_thread::sleep_for(20ms);
          continue;
        }
        out.status = r.status;
        const std::string loc = r.header("location");
        out.handoff_id = loc.substr(loc.rfind('/') + 1);
        break;
      }
      std::lock_guard lk(mu_);
      outcomes_[n] = out;
    }
  }

  const Workspace& ws_;
  const Documents& docs_;
  std::atomic<std::uint16_t> port_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> abandon_{false};
  std::atomic<int> next_{1};
  std::atomic<int> dead_connections_{0};
  mutable std::mutex mu_;
  std::map<int, PushOutcome> outcomes_;
  std::vector<std::thread> threads_;
};

// The simulator names a document "system|value"; the outbox keeps the value.
std::string value_of(const std::string& identifier) { return identifier.substr(identifier.find('|') + 1); }

std::set<std::string> accepted_identifiers(const forward::ClinicSim& sim) {
  std::set<std::string> out;
  for (const forward::SimReceived& r : sim.received()) {
    if (r.status >= 200 && r.status < 300) out.insert(value_of(r.identifier));
  }
  return out;
}

TEST(Durability, crash_SigkillUnderLoadLosesNothingAndResendsOnlyInTheAckWindow) {
  Workspace ws;
  Documents docs;
  ASSERT_TRUE(docs.ok()) << "the demo bundle changed: update the placeholders";
  auto clinic = start_clinic(ws);
  ASSERT_TRUE(clinic);
  const std::string db = ws.dir + "/gateway.db";
  // Short deadlines and lease: rows a killed process had leased come back
  // after 5 s (the lease must exceed the sum of the deadlines).
  const std::string config = ws.dir + "/gateway.json";
  write_text(config, gateway_config(ws, clinic->port(), R"({"sqlite": ")" + db + R"("})",
                                    R"("retry": {"base_ms": 50, "cap_ms": 500, "max_attempts": 1000},
    "deadlines": {"connect_ms": 1000, "handshake_ms": 1000, "write_ms": 1000, "read_ms": 1000},
    "poll_ms": 200, "lease_ms": 5000, "batch": 8,
    "recipients": {"demo-clinic": {"concurrency": 2}})"));

  std::uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("GW_CRASH_SEED"); s && *s) seed = std::strtoull(s, nullptr, 10);
  std::printf("crash test seed %llu (GW_CRASH_SEED=%llu replays the kill times)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pause_ms(100, 1500);

  Pushers pushers(ws, docs);
  pushers.start(3);
  // Bundle identifiers (as the clinic sees them) that the clinic had
  // accepted while the store had not yet recorded the delivery, at the
  // moment of some kill: the only legitimate source of a re-send.
  // identifier -> number of kills that found it there (a document can be
  // caught in the window by several kills in a row, and re-sent each time).
  std::map<std::string, int> in_ack_window;
  std::vector<double> startup_s;
  int kills = 0;
  constexpr int kKills = 20;
  auto start_gateway = [&]() -> std::unique_ptr<ChildProcess> {
    const auto t0 = std::chrono::steady_clock::now();
    auto p = ChildProcess::spawn(gateway_process(ws, {"serve", "--config", config}, "serve.log"));
    EXPECT_TRUE(p) << (p ? "" : p.error().to_string());
    if (!p) return nullptr;
    auto line = (*p)->wait_for_line("listening on", 120s);
    EXPECT_TRUE(line) << "serve did not start; log: " << read_text(ws.dir + "/serve.log");
    if (!line) return nullptr;
    startup_s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    pushers.set_port(gw::testing::port_of_listening_line(*line));
    return std::move(*p);
  };

  for (; kills < kKills; ++kills) {
    auto gw = start_gateway();
    ASSERT_TRUE(gw);
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    gw->signal(SIGKILL);
    EXPECT_EQ(gw->wait(), -SIGKILL);
    // Store first, clinic second: nothing runs between the two reads that
    // could deliver (the gateway is dead), so a row undelivered in the store
    // and accepted by the clinic was in the window at the kill.
    std::set<std::string> undelivered;
    for (auto& row : sql(db, "SELECT bundle_identifier FROM outbox WHERE state <> 'delivered'")) undelivered.insert(row[0]);
    for (const std::string& id : accepted_identifiers(*clinic)) {
      if (undelivered.count(id)) ++in_ack_window[id];
    }
  }

  // Last run: the pushers finish what they hold, then the outbox drains.
  auto gw = start_gateway();
  ASSERT_TRUE(gw);
  pushers.stop();
  const auto outcomes = pushers.outcomes();
  std::set<std::string> acked_keys, refused_keys, acked_handoffs;
  std::map<int, int> by_status;
  int retried_pushes = 0;
  for (const auto& [n, o] : outcomes) {
    ++by_status[o.status];
    if (o.attempts > 1) ++retried_pushes;
    if (o.status >= 200 && o.status < 300) {
      acked_keys.insert(Documents::key(n));
      acked_handoffs.insert(o.handoff_id);
    } else {
      refused_keys.insert(Documents::key(n));
    }
  }
  ASSERT_FALSE(acked_keys.empty());
  ASSERT_TRUE(eventually(
      [&] {
        auto left = sql(db, "SELECT COUNT(*) FROM outbox WHERE state <> 'delivered'");
        return !left.empty() && left[0][0] == "0" && clinic->counts().unique >= acked_handoffs.size();
      },
      120s, 100ms))
      << "the outbox did not drain";
  gw->signal(SIGTERM);
  EXPECT_EQ(gw->wait(), 0) << read_text(ws.dir + "/serve.log");

  // The store holds exactly the acknowledged pushes...
  std::set<std::string> stored_keys, stored_handoffs, outbox_handoffs, outbox_identifiers;
  for (auto& row : sql(db, "SELECT idempotency_key, handoff_id FROM push WHERE sender = 'demo-hospital'")) {
    stored_keys.insert(row[0]);
    stored_handoffs.insert(row[1]);
  }
  EXPECT_EQ(stored_keys, acked_keys);
  EXPECT_EQ(stored_handoffs, acked_handoffs);
  for (const std::string& k : refused_keys) EXPECT_EQ(stored_keys.count(k), 0u) << "a refused push was stored";
  // ...one delivered outbox row each...
  auto rows = sql(db, "SELECT handoff_id, bundle_identifier, state FROM outbox");
  for (auto& row : rows) {
    outbox_handoffs.insert(row[0]);
    outbox_identifiers.insert(row[1]);
    EXPECT_EQ(row[2], "delivered");
  }
  EXPECT_EQ(rows.size(), acked_handoffs.size());
  EXPECT_EQ(outbox_handoffs, acked_handoffs);
  // ...and the clinic accepted exactly those documents.
  EXPECT_EQ(accepted_identifiers(*clinic), outbox_identifiers);
  // Every re-send is explained by a kill inside the acknowledgement window.
  std::map<std::string, int> seen;
  for (const forward::SimReceived& r : clinic->received()) {
    if (r.status >= 200 && r.status < 300) ++seen[value_of(r.identifier)];
  }
  int unexplained = 0;
  for (const auto& [id, count] : seen) {
    const auto w = in_ack_window.find(id);
    const int windows = w == in_ack_window.end() ? 0 : w->second;
    if (count - 1 > windows) ++unexplained;  // at most one re-send per kill inside its window
  }
  EXPECT_EQ(unexplained, 0) << "a re-send happened outside the window between the clinic's 2xx and the outbox update";

  // The audit chain survived 20 kills.
  auto audit = ChildProcess::spawn(gateway_process(ws, {"audit", "verify", "--store", db}, "audit.log"));
  ASSERT_TRUE(audit);
  EXPECT_EQ((*audit)->wait(), 0) << (*audit)->output() << read_text(ws.dir + "/audit.log");

  double startup_total = 0;
  for (double s : startup_s) startup_total += s;
  std::ostringstream st;
  for (const auto& [status, n] : by_status) st << " " << status << ":" << n;
  std::printf(
      "crash test: %d kills, %zu pushes answered (by status%s), %d pushes retried after a dead connection "
      "(%d dead connections), %zu delivered, clinic re-sends (duplicates) %llu, rows in the ack window at a kill "
      "%zu; serve startup mean %.2f s over %zu starts\n",
      kills, outcomes.size(), st.str().c_str(), retried_pushes, pushers.dead_connections(), outbox_identifiers.size(),
      static_cast<unsigned long long>(clinic->counts().duplicates), in_ack_window.size(),
      startup_total / static_cast<double>(startup_s.size()), startup_s.size());
}

// ---------------------------------------------------------------------------
// Two nodes on one PostgreSQL
// ---------------------------------------------------------------------------

// "forward: demo-clinic delivered N, ..." from a stopped forward process.
long delivered_of(const std::string& output) {
  const std::string marker = "forward: demo-clinic delivered ";
  const auto at = output.find(marker);
  if (at == std::string::npos) return -1;
  return std::strtol(output.c_str() + at + marker.size(), nullptr, 10);
}

TEST(Durability, TwoForwardNodesOnOnePostgresDrainABacklogOnceEach) {
  std::string why;
  gw::testing::PostgresServer* pg = gw::testing::shared_postgres(&why);
  if (!pg) GTEST_SKIP() << "PostgreSQL unavailable: " << why;
  auto conninfo = pg->create_database();
  ASSERT_TRUE(conninfo) << conninfo.error().to_string();
  Workspace ws;
  constexpr int kBacklog = 10000;
  {
    // The backlog, through the Store API (pushing 10,000 documents through
    // HTTP and validation would take minutes under the sanitizers).
    store::PostgresOptions o;
    o.conninfo = *conninfo;
    o.clock = std::make_shared<SystemClock>();
    auto st = store::open_postgres(o);
    ASSERT_TRUE(st) << st.error().to_string();
    std::atomic<int> done{0}, failed{0};
    std::promise<void> all;
    for (int i = 0; i < kBacklog; ++i) {
      const std::string n = std::to_string(i);
      store::PushRecord rec;
      rec.sender = "seed";
      rec.idempotency_key = "urn:ietf:rfc:3986|urn:uuid:seed-" + n;
      rec.patient_key = "pk-" + n;
      rec.original = R"({"resourceType":"Bundle"})";
      rec.handoff_id = "h-" + n;
      rec.handoff = R"({"resourceType":"Bundle"})";
      rec.response_status = "201";
      const std::string ident = "urn:uuid:d-" + n;
      rec.deliveries.push_back(store::OutboxItem{
          "demo-clinic", "urn:ietf:rfc:3986|" + ident,
          R"({"resourceType":"Bundle","type":"document","identifier":{"system":"urn:ietf:rfc:3986","value":")" + ident +
              R"("},"entry":[]})"});
      (*st)->commit_push(std::move(rec), [&](Result<store::PushResult> r) {
        if (!r) failed.fetch_add(1);
        if (done.fetch_add(1) + 1 == kBacklog) all.set_value();
      });
    }
    all.get_future().wait();
    ASSERT_EQ(failed.load(), 0);
  }
  auto clinic = start_clinic(ws);
  ASSERT_TRUE(clinic);
  const std::string config = ws.dir + "/forward.json";
  write_text(config, gateway_config(ws, clinic->port(), R"({"postgres": ")" + *conninfo + R"("})",
                                    R"("retry": {"base_ms": 50, "cap_ms": 500, "max_attempts": 1000},
    "deadlines": {"connect_ms": 2000, "handshake_ms": 2000, "write_ms": 2000, "read_ms": 2000},
    "poll_ms": 200, "lease_ms": 30000, "batch": 16,
    "recipients": {"demo-clinic": {"concurrency": 4}})"));

  std::unique_ptr<ChildProcess> nodes[2];
  for (int i = 0; i < 2; ++i) {
    auto p = ChildProcess::spawn(
        gateway_process(ws, {"forward", "--config", config, "--threads", "2"}, "forward" + std::to_string(i) + ".log"));
    ASSERT_TRUE(p) << p.error().to_string();
    nodes[i] = std::move(*p);
  }
  for (auto& n : nodes) ASSERT_TRUE(n->wait_for_line("delivering to", 60s));
  store::PostgresOptions o;
  o.conninfo = *conninfo;
  o.clock = std::make_shared<SystemClock>();
  auto st = store::open_postgres(o);
  ASSERT_TRUE(st) << st.error().to_string();
  auto delivered = [&]() -> std::int64_t {
    auto q = (*st)->queue_stats();
    return q && q->size() == 1 ? (*q)[0].delivered : -1;
  };
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return delivered() == kBacklog; }, 420s, 200ms))
      << "delivered " << delivered() << " of " << kBacklog;
  const double drain_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  long per_node[2];
  for (int i = 0; i < 2; ++i) {
    nodes[i]->signal(SIGTERM);
    EXPECT_EQ(nodes[i]->wait(), 0) << read_text(ws.dir + "/forward" + std::to_string(i) + ".log");
    per_node[i] = delivered_of(nodes[i]->output());
  }
  const forward::SimCounts counts = clinic->counts();
  EXPECT_EQ(counts.accepted, static_cast<std::uint64_t>(kBacklog));
  EXPECT_EQ(counts.unique, static_cast<std::uint64_t>(kBacklog));
  EXPECT_EQ(counts.duplicates, 0u);
  EXPECT_GT(per_node[0], 0) << "node 0 delivered nothing: the work was not shared";
  EXPECT_GT(per_node[1], 0) << "node 1 delivered nothing: the work was not shared";
  EXPECT_EQ(per_node[0] + per_node[1], kBacklog);
  auto q = (*st)->queue_stats();
  ASSERT_TRUE(q && q->size() == 1);
  EXPECT_EQ((*q)[0].pending + (*q)[0].in_flight + (*q)[0].dead, 0);
  std::printf("two nodes: %d handoffs drained in %.1f s (%.0f/s), node 0 delivered %ld, node 1 %ld\n", kBacklog,
              drain_s, kBacklog / drain_s, per_node[0], per_node[1]);
}

}  // namespace
}  // namespace gw::app
