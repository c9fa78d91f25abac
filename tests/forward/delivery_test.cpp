// Integration tests of the Forwarder: a real Store (SQLite on a temp file,
// and the in-memory reference store), real clinic simulators on 127.0.0.1
// port 0, mutual TLS with certificates made by scripts/make-demo-certs.
//
// No test measures time. Waits are "until this state is reached" with a
// generous upper bound that only turns a hang into a failure. Isolation
// between recipients is asserted by order: all healthy deliveries complete
// while the down recipient still holds all its work.
#include "gateway/forward/forward.hpp"

#include "gateway/store/store.hpp"
#include "tests/forward/memory_store.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

namespace gw::forward {
namespace {

using namespace std::chrono_literals;
namespace net = boost::asio;

struct Certs {
  std::string good;   // CA, server (SAN 127.0.0.1), client "gateway"
  std::string other;  // a second CA and its own server certificate
};

const Certs& certs() {
  static const Certs c = [] {
    char tmpl[] = "/tmp/gw_forward_test_XXXXXX";
    const char* dir = mkdtemp(tmpl);
    EXPECT_NE(dir, nullptr);
    Certs out{std::string(dir) + "/good", std::string(dir) + "/other"};
    const std::string script = std::string(GW_SOURCE_DIR) + "/scripts/make-demo-certs";
    EXPECT_EQ(std::system((script + " " + out.good + " gateway >/dev/null").c_str()), 0);
    EXPECT_EQ(std::system((script + " " + out.other + " gateway >/dev/null").c_str()), 0);
    return out;
  }();
  return c;
}

// Polls `pred` until it holds; the bound only turns a hang into a failure.
template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 6000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

SimOptions tls_sim(SimMode mode = SimMode::kOk, const std::string& dir = certs().good) {
  SimOptions o;
  o.mode = mode;
  o.cert_file = dir + "/server.crt";
  o.key_file = dir + "/server.key";
  o.client_ca_file = certs().good + "/ca.crt";  // mutual TLS: the gateway's client cert
  return o;
}

std::unique_ptr<ClinicSim> start_sim(SimOptions o) {
  auto sim = ClinicSim::start(std::move(o));
  EXPECT_TRUE(sim) << (sim ? "" : sim.error().to_string());
  return sim ? std::move(*sim) : nullptr;
}

RecipientEndpoint recipient(std::string id, const ClinicSim& sim, std::uint32_t concurrency = 2) {
  RecipientEndpoint r;
  r.id = std::move(id);
  r.endpoint = "https://127.0.0.1:" + std::to_string(sim.port()) + "/fhir";
  r.concurrency = concurrency;
  return r;
}

ForwardConfig base_config() {
  ForwardConfig c;
  c.tls.cert_file = certs().good + "/gateway.crt";
  c.tls.key_file = certs().good + "/gateway.key";
  c.tls.ca_file = certs().good + "/ca.crt";
  c.deadlines = Deadlines{2000ms, 2000ms, 2000ms, 2000ms};
  c.retry = RetryPolicy{2ms, 20ms, 1000};
  c.poll = 20ms;
  c.lease = 30000ms;
  c.batch = 4;
  c.drain = 1000ms;
  return c;
}

std::string payload(const std::string& key) {
  return R"({"resourceType":"Bundle","type":"document","identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:)" +
         key + R"("},"entry":[]})";
}
std::string sim_identifier(const std::string& key) { return "urn:ietf:rfc:3986|urn:uuid:" + key; }

enum class StoreKind { kMemory, kSqlite };

class Delivery : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    clock_ = std::make_shared<SystemClock>();
    if (GetParam() == StoreKind::kMemory) {
      store_ = std::make_shared<testing::MemoryStore>(clock_);
    } else {
      char tmpl[] = "/tmp/gw_forward_db_XXXXXX";
      const char* dir = mkdtemp(tmpl);
      ASSERT_NE(dir, nullptr);
      db_dir_ = dir;
      store::SqliteOptions o;
      o.path = db_dir_ + "/gateway.db";
      o.clock = clock_;
      auto s = store::open_sqlite(o);
      if (!s && s.error().code() == ErrorCode::kUnsupported) GTEST_SKIP() << "SQLite store not built yet";
      ASSERT_TRUE(s) << s.error().to_string();
      store_ = *s;
    }
  }

  void TearDown() override {
    stop();
    store_.reset();
    if (!db_dir_.empty()) std::filesystem::remove_all(db_dir_);
  }

  void start(ForwardConfig config) {
    auto f = Forwarder::create(ioc_, *store_, std::move(config), ForwarderDeps{clock_, nullptr});
    ASSERT_TRUE(f) << f.error().to_string();
    forwarder_ = std::move(*f);
    forwarder_->start();
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }

  void stop() {
    if (forwarder_) {
      forwarder_->stop();
      forwarder_->wait_stopped();
    }
    work_.reset();
    for (auto& t : threads_) t.join();
    threads_.clear();
    forwarder_.reset();
  }

  // Commits one push per item, each with one delivery to `to`.
  void push(const std::string& to, const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) {
      const std::string key = prefix + "-" + std::to_string(i);
      store::PushRecord rec;
      rec.sender = "test-sender";
      rec.idempotency_key = "urn:ietf:rfc:3986|urn:uuid:push-" + key;
      rec.patient_key = "pk-" + key;
      rec.original = R"({"resourceType":"Bundle"})";
      rec.handoff_id = "handoff-" + key;
      rec.handoff = R"({"resourceType":"Bundle"})";
      rec.response_status = "201";
      rec.deliveries.push_back(store::OutboxItem{to, "urn:ietf:rfc:3986|urn:uuid:" + key, payload(key)});
      std::promise<Result<store::PushResult>> done;
      auto f = done.get_future();
      store_->commit_push(std::move(rec), [&done](Result<store::PushResult> r) { done.set_value(std::move(r)); });
      auto r = f.get();
      ASSERT_TRUE(r) << r.error().to_string();
    }
  }

  store::QueueStats queue(const std::string& recipient) {
    auto all = store_->queue_stats();
    EXPECT_TRUE(all);
    if (all) {
      for (auto& q : *all) {
        if (q.recipient == recipient) return q;
      }
    }
    store::QueueStats none;
    none.recipient = recipient;
    return none;
  }

  RecipientStats stats(const std::string& recipient) {
    for (auto& s : forwarder_->stats()) {
      if (s.recipient_id == recipient) return s;
    }
    return {};
  }

  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<store::Store> store_;
  std::string db_dir_;
  net::io_context ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_{ioc_.get_executor()};
  std::vector<std::thread> threads_;
  std::unique_ptr<Forwarder> forwarder_;
};

TEST_P(Delivery, DeliversEveryItemExactlyOnceOverMutualTls) {
  auto sim = start_sim(tls_sim());
  ASSERT_TRUE(sim);
  push("clinic", "once", 40);
  ForwardConfig c = base_config();
  c.recipients = {recipient("clinic", *sim, 3)};
  start(c);
  ASSERT_TRUE(eventually([&] { return queue("clinic").delivered == 40; }));
  const store::QueueStats q = queue("clinic");
  EXPECT_EQ(q.pending + q.in_flight + q.dead, 0);
  const SimCounts counts = sim->counts();
  EXPECT_EQ(counts.accepted, 40u);
  EXPECT_EQ(counts.unique, 40u);
  EXPECT_EQ(counts.duplicates, 0u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(sim->accepted_count(sim_identifier("once-" + std::to_string(i))), 1u);
  for (const SimReceived& r : sim->received()) EXPECT_EQ(r.request_id.rfind("outbox-", 0), 0u);
  // The counters move after the Store call returns to the worker's strand,
  // a moment after the store shows the rows delivered.
  EXPECT_TRUE(eventually([&] { return stats("clinic").delivered == 40u; }));
  EXPECT_EQ(stats("clinic").attempts, 40u);
  if (auto* mem = dynamic_cast<testing::MemoryStore*>(store_.get())) {
    // One audit record per delivery, none of them carrying the payload.
    const auto audit = mem->audit();
    EXPECT_EQ(audit.size(), 40u);
    for (const std::string& a : audit) EXPECT_EQ(a.find("urn:uuid:"), std::string::npos);
  }
}

// A clinic answering 429/503 with Retry-After is not asked again before
// then (within the cap); rows with a path go under the endpoint.
TEST_P(Delivery, RetryAfterDefersTheNextAttemptAndPathsGoUnderTheEndpoint) {
  SimOptions o = tls_sim(SimMode::kThrottle);
  o.retry_after = "300";
  auto busy = start_sim(o);
  auto ok = start_sim(tls_sim());
  ASSERT_TRUE(busy && ok);
  push("busy", "ra", 1);
  {
    store::PushRecord rec;
    rec.sender = "test-sender";
    rec.idempotency_key = "urn:ietf:rfc:3986|urn:uuid:push-task";
    rec.patient_key = "pk-task";
    rec.original = R"({"resourceType":"Bundle"})";
    rec.handoff_id = "handoff-task";
    rec.handoff = R"({"resourceType":"Bundle"})";
    rec.response_status = "201";
    store::OutboxItem item{"ok", "urn:uuid:task-1",
                           R"({"resourceType":"Task","identifier":[{"system":"urn:ietf:rfc:3986","value":"urn:uuid:task-1"}]})"};
    item.path = "Task";
    rec.deliveries.push_back(std::move(item));
    std::promise<Result<store::PushResult>> done;
    auto f = done.get_future();
    store_->commit_push(std::move(rec), [&done](Result<store::PushResult> r) { done.set_value(std::move(r)); });
    ASSERT_TRUE(f.get());
  }
  ForwardConfig c = base_config();
  c.retry = RetryPolicy{2ms, std::chrono::minutes(10), 1000};
  c.recipients = {recipient("busy", *busy, 1), recipient("ok", *ok, 1)};
  start(c);
  ASSERT_TRUE(eventually([&] { return stats("busy").retried >= 1 && queue("ok").delivered == 1; }));
  auto due = store_->next_due("busy");
  ASSERT_TRUE(due);
  ASSERT_TRUE(due->has_value());
  // Backoff alone would be at most 2 ms; the clinic asked for 300 s.
  EXPECT_GE(**due - clock_->now(), std::chrono::seconds(250));
  EXPECT_EQ(busy->counts().requests, 1u);
  const auto got = ok->received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].path, "/fhir/Task");
  EXPECT_EQ(got[0].resource_type, "Task");
  EXPECT_EQ(got[0].identifier, sim_identifier("task-1"));
}

TEST_P(Delivery, ADownAndAFlakyRecipientDoNotDelayAHealthyOne) {
  auto healthy = start_sim(tls_sim());
  auto down = start_sim(tls_sim(SimMode::kDown));
  auto flaky = start_sim(tls_sim(SimMode::kFlaky));
  ASSERT_TRUE(healthy && down && flaky);
  push("down", "d", 20);
  push("flaky", "f", 20);
  push("healthy", "h", 20);
  ForwardConfig c = base_config();
  c.recipients = {recipient("down", *down), recipient("flaky", *flaky), recipient("healthy", *healthy)};
  start(c);

  ASSERT_TRUE(eventually([&] { return queue("healthy").delivered == 20; }));
  // The healthy clinic got everything while the down one still holds all
  // of its work: nothing of "down" blocked "healthy".
  const store::QueueStats d = queue("down");
  EXPECT_EQ(d.delivered, 0);
  EXPECT_EQ(d.pending + d.in_flight, 20);
  EXPECT_EQ(down->counts().requests, 0u);
  EXPECT_GT(stats("down").retried, 0u);

  // The flaky clinic fails every other request and still gets everything.
  ASSERT_TRUE(eventually([&] { return queue("flaky").delivered == 20; }));
  EXPECT_GE(flaky->counts().requests, 39u);  // each success after at most one failure
  EXPECT_GT(stats("flaky").retried, 0u);

  // Recovery: the down clinic comes back and gets everything.
  down->set_mode(SimMode::kOk);
  ASSERT_TRUE(eventually([&] { return queue("down").delivered == 20; }));
  for (ClinicSim* s : {healthy.get(), down.get(), flaky.get()}) {
    EXPECT_EQ(s->counts().unique, 20u);
    EXPECT_EQ(s->counts().duplicates, 0u);
  }
}

TEST_P(Delivery, DeadLettersAfterTheConfiguredAttemptsAndReplayDeliversThem) {
  auto failing = start_sim(tls_sim(SimMode::kFail));
  auto refusing = start_sim(tls_sim(SimMode::kReject));
  ASSERT_TRUE(failing && refusing);
  push("failing", "x", 5);
  push("refusing", "r", 3);
  ForwardConfig c = base_config();
  c.retry.max_attempts = 3;
  c.recipients = {recipient("failing", *failing), recipient("refusing", *refusing)};
  start(c);

  ASSERT_TRUE(eventually([&] { return queue("failing").dead == 5 && queue("refusing").dead == 3; }));
  auto dead = store_->dead_letters("failing");
  ASSERT_TRUE(dead);
  ASSERT_EQ(dead->size(), 5u);
  for (const store::Delivery& d : *dead) {
    EXPECT_EQ(d.attempts, 3);  // 5xx: retried up to the limit
    EXPECT_EQ(d.last_error, "HTTP 500");
  }
  EXPECT_EQ(failing->counts().requests, 15u);
  auto refused = store_->dead_letters("refusing");
  ASSERT_TRUE(refused);
  for (const store::Delivery& d : *refused) EXPECT_EQ(d.attempts, 1);  // 422: dead at once
  EXPECT_EQ(refusing->counts().requests, 3u);

  // The clinics are fixed; replay brings everything home.
  failing->set_mode(SimMode::kOk);
  refusing->set_mode(SimMode::kOk);
  auto n = forwarder_->replay_recipient("failing");
  ASSERT_TRUE(n) << n.error().to_string();
  EXPECT_EQ(*n, 5u);
  ASSERT_TRUE(forwarder_->replay_one((*refused)[0].id));
  ASSERT_TRUE(eventually([&] { return queue("failing").delivered == 5 && queue("refusing").delivered == 1; }));
  EXPECT_EQ(queue("refusing").dead, 2);
  EXPECT_EQ(failing->counts().unique, 5u);
  EXPECT_EQ(failing->counts().duplicates, 0u);
  EXPECT_EQ(refusing->counts().accepted, 1u);
  EXPECT_FALSE(forwarder_->replay_one((*refused)[0].id));  // no longer dead
  EXPECT_EQ(forwarder_->replay_recipient("nobody").error().code(), ErrorCode::kNotFound);
}

TEST_P(Delivery, AHangingReceiverIsCutOffByTheDeadlineAndRetried) {
  auto sim = start_sim(tls_sim(SimMode::kHang));
  ASSERT_TRUE(sim);
  push("hang", "h", 1);
  ForwardConfig c = base_config();
  c.deadlines.read = 200ms;
  c.recipients = {recipient("hang", *sim, 1)};
  start(c);
  // A second request can only come after the first was cut off.
  ASSERT_TRUE(eventually([&] { return sim->counts().requests >= 2; }));
  EXPECT_EQ(queue("hang").delivered, 0);
  sim->set_mode(SimMode::kOk);
  ASSERT_TRUE(eventually([&] { return queue("hang").delivered == 1; }));
  EXPECT_EQ(sim->counts().accepted, 1u);
  EXPECT_EQ(sim->counts().duplicates, 0u);
  EXPECT_GE(stats("hang").retried, 1u);
}

TEST_P(Delivery, AClinicWhoseCertificateDoesNotChainToTheCaGetsNothing) {
  auto impostor = start_sim(tls_sim(SimMode::kOk, certs().other));
  ASSERT_TRUE(impostor);
  push("impostor", "i", 1);
  ForwardConfig c = base_config();
  c.recipients = {recipient("impostor", *impostor, 1)};
  start(c);
  ASSERT_TRUE(eventually([&] { return stats("impostor").retried >= 2; }));
  EXPECT_EQ(impostor->counts().requests, 0u);  // refused at the handshake
  EXPECT_EQ(queue("impostor").delivered, 0);
}

TEST_P(Delivery, StopLeavesUnsentRowsForTheNextRun) {
  auto sim = start_sim(tls_sim(SimMode::kDown));
  ASSERT_TRUE(sim);
  push("later", "l", 6);
  ForwardConfig c = base_config();
  // Several rows per claim: stop() must still finish (or record) every
  // row it claimed, or the next run would wait for their leases.
  c.batch = 4;
  c.recipients = {recipient("later", *sim, 1)};
  start(c);
  ASSERT_TRUE(eventually([&] { return stats("later").retried >= 1; }));
  stop();
  EXPECT_EQ(queue("later").delivered, 0);

  sim->set_mode(SimMode::kOk);
  ioc_.restart();
  work_.emplace(ioc_.get_executor());
  EXPECT_EQ(queue("later").in_flight, 0);
  start(c);
  ASSERT_TRUE(eventually([&] { return queue("later").delivered == 6; }));
  EXPECT_EQ(sim->counts().duplicates, 0u);
}

INSTANTIATE_TEST_SUITE_P(Stores, Delivery, ::testing::Values(StoreKind::kMemory, StoreKind::kSqlite),
                         [](const auto& info) { return info.param == StoreKind::kMemory ? "Memory" : "Sqlite"; });

// The simulator's control endpoint, as the demo and the conformance kit use
// it (plain HTTP control port).
std::pair<int, std::string> http(std::uint16_t port, boost::beast::http::verb verb, std::string target) {
  namespace bhttp = boost::beast::http;
  net::io_context ioc;
  boost::beast::tcp_stream stream(ioc);
  stream.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  bhttp::request<bhttp::string_body> req{verb, target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.prepare_payload();
  bhttp::write(stream, req);
  boost::beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buffer, res);
  return {static_cast<int>(res.result_int()), res.body()};
}

TEST(ClinicSim, ModesSwitchThroughTheControlEndpoint) {
  SimOptions o;
  o.control = "127.0.0.1:0";
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  ASSERT_NE(sim->control_port(), 0);
  auto [status, body] = http(sim->control_port(), boost::beast::http::verb::post, "/control?mode=down");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(sim->mode(), SimMode::kDown);
  EXPECT_EQ(http(sim->control_port(), boost::beast::http::verb::post, "/control?mode=sometimes").first, 400);
  // Down: the delivery port refuses connections; the control port works.
  EXPECT_ANY_THROW(http(sim->port(), boost::beast::http::verb::get, "/received"));
  EXPECT_EQ(http(sim->control_port(), boost::beast::http::verb::post, "/control?mode=ok").first, 200);
  auto [rs, received] = http(sim->port(), boost::beast::http::verb::get, "/received");
  EXPECT_EQ(rs, 200);
  EXPECT_NE(received.find(R"("requests":0)"), std::string::npos);
}

}  // namespace
}  // namespace gw::forward
