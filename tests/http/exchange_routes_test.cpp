// The gateway's push and pull over HTTPS with mutual TLS: the real server
// on 127.0.0.1 port 0, the real use cases (validator, mappings, consent,
// SQLite store) behind it, a real Beast client with the demo certificates
// of each organisation. Request data never appears in test names.
#include "gateway/http/http.hpp"

#include "gateway/consent/consent.hpp"
#include "gateway/forward/forward.hpp"
#include "gateway/json/json.hpp"
#include "gateway/validation/validation.hpp"
#include "tests/exchange/fixture.hpp"
#include "tests/http/test_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include <unistd.h>

namespace gw::http {
namespace {

using testing::ClientOptions;
using testing::TestClient;

struct Gateway {
  std::string certs;
  std::string data;
  exchange::testing::World world;
  std::unique_ptr<Server> server;
  std::uint16_t port = 0;
};

// One gateway per test case (a fresh store), certificates made once.
class ExchangeRoutes : public ::testing::Test {
 protected:
  static std::string& cert_dir() {
    static std::string dir = [] {
      char tmpl[] = "/tmp/gw_exchange_routes_XXXXXX";
      const char* d = mkdtemp(tmpl);
      std::string out = std::string(d ? d : "/tmp") + "/certs";
      EXPECT_TRUE(testing::run_command(std::string(GW_SOURCE_DIR) + "/scripts/make-demo-certs " + out +
                                       " demo-hospital demo-clinic demo-ngo stranger >/dev/null"));
      return out;
    }();
    return dir;
  }

  void SetUp() override {
    data_ = std::filesystem::path(cert_dir()).parent_path() /
            ("data-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(data_);
    // demo-ngo takes MHD ITI-65 transactions (the others bare documents).
    world_ = exchange::testing::make_world(data_.string(), std::make_shared<exchange::testing::FixedClock>(),
                                           [](std::vector<consent::Recipient>& rs) {
                                             for (auto& r : rs) {
                                               if (r.id == "demo-ngo") r.delivery_format = "mhd";
                                             }
                                           });
    ASSERT_TRUE(world_.error.empty()) << world_.error;
    ServerConfig c;
    c.listen = "127.0.0.1:0";
    c.io_threads = 1;
    c.cpu_threads = 2;
    c.tls.cert_chain_file = cert_dir() + "/server.crt";
    c.tls.private_key_file = cert_dir() + "/server.key";
    c.tls.client_ca_file = cert_dir() + "/ca.crt";
    c.tls.require_client_cert = true;
    c.clients = {{"demo-hospital", "hospital"}, {"demo-clinic", "community-clinic"}, {"demo-ngo", "ngo"}};
    c.limits.rate.per_second = 0;
    c.limits.body_bytes = 1 << 20;
    Router router;
    ASSERT_TRUE(add_exchange_routes(router, world_.exchange));
    auto s = Server::create(std::move(c), std::move(router));
    ASSERT_TRUE(s) << s.error().to_string();
    ASSERT_TRUE((*s)->start());
    port_ = (*s)->port();
    server_ = std::move(*s);
  }
  void TearDown() override {
    server_.reset();
    world_ = {};
    std::filesystem::remove_all(data_);
  }

  ClientOptions as(const std::string& who) const {
    ClientOptions o;
    o.ca_file = cert_dir() + "/ca.crt";
    o.cert_file = cert_dir() + "/" + who + ".crt";
    o.key_file = cert_dir() + "/" + who + ".key";
    return o;
  }
  testing::Reply call(const std::string& who, std::string_view method, std::string_view target,
                      std::string body = {}) {
    TestClient c(as(who));
    EXPECT_FALSE(c.connect(port_));
    std::vector<std::pair<std::string, std::string>> headers;
    if (!body.empty()) headers.emplace_back("Content-Type", "application/fhir+json");
    return c.request(method, target, std::move(body), std::move(headers));
  }
  static std::string patient_key_of(const testing::Reply& r) {
    const std::string marker = "the patient's gateway key is ";
    auto at = r.body.find(marker);
    if (at == std::string::npos) return {};
    return r.body.substr(at + marker.size(), r.body.find('"', at + marker.size()) - at - marker.size());
  }

  std::filesystem::path data_;
  exchange::testing::World world_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
};

TEST_F(ExchangeRoutes, PushIsAcknowledgedAfterTheCommitAndARetryGetsTheSameAnswer) {
  auto first = call("demo-hospital", "POST", "/fhir?recipient=demo-clinic", exchange::testing::demo_bundle());
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_TRUE(first.header("location").starts_with("/fhir/Bundle/"));
  EXPECT_EQ(first.header("content-type"), "application/fhir+json");
  auto again = call("demo-hospital", "POST", "/fhir?recipient=demo-clinic", exchange::testing::demo_bundle());
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.header("location"), first.header("location"));
  auto queued = world_.store->claim("demo-clinic", 10, std::chrono::seconds(30));
  ASSERT_TRUE(queued);
  EXPECT_EQ(queued->size(), 1u);
}

TEST_F(ExchangeRoutes, PullAsTheReceivingClinicAndAsOthers) {
  auto pushed = call("demo-hospital", "POST", "/fhir?recipient=demo-clinic",
                     exchange::testing::bundle_with_sensitive_data());
  ASSERT_EQ(pushed.status, 201) << pushed.body;
  const std::string key = patient_key_of(pushed);
  ASSERT_FALSE(key.empty());
  auto summary = call("demo-clinic", "GET", "/fhir/Patient/" + key + "/$summary");
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_NE(summary.body.find("MedicationStatement"), std::string::npos);
  EXPECT_EQ(summary.body.find("Hidden Lane"), std::string::npos);
  EXPECT_EQ(summary.body.find("P9988776655"), std::string::npos);
  EXPECT_EQ(call("demo-ngo", "GET", "/fhir/Patient/" + key + "/$summary").status, 403);
  EXPECT_EQ(call("stranger", "GET", "/fhir/Patient/" + key + "/$summary").status, 403);
  EXPECT_EQ(call("demo-clinic", "GET", "/fhir/Patient/" + key + "/$summary?purpose=HLEGAL").status, 403);

  auto refs = call("demo-clinic", "GET", "/fhir/DocumentReference?patient=" + key);
  ASSERT_EQ(refs.status, 200) << refs.body;
  const std::string bundle_path = pushed.header("location");
  EXPECT_NE(refs.body.find(bundle_path.substr(6)), std::string::npos);  // "Bundle/<id>"
  auto read = call("demo-clinic", "GET", bundle_path);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_FALSE(read.header("etag").empty());
  EXPECT_FALSE(read.header("last-modified").empty());
  EXPECT_EQ(call("demo-ngo", "GET", bundle_path).status, 403);  // not registered to pull

  auto own = call("demo-hospital", "GET", "/fhir/Patient/$summary?identifier=urn:oid:2.999.1.1%7CDEMO-000123");
  EXPECT_EQ(own.status, 200) << own.body;
}

TEST_F(ExchangeRoutes, BadPushesAreAnsweredWithAnOperationOutcome) {
  auto malformed = call("demo-hospital", "POST", "/fhir?recipient=demo-clinic", "{\"resourceType\": ");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.body.find("OperationOutcome"), std::string::npos);
  auto not_bundle = call("demo-hospital", "POST", "/fhir?recipient=demo-clinic", R"({"resourceType":"Patient"})");
  EXPECT_EQ(not_bundle.status, 422);
  auto no_recipient = call("demo-hospital", "POST", "/fhir", exchange::testing::demo_bundle());
  EXPECT_EQ(no_recipient.status, 422);
  auto clinic_push = call("demo-clinic", "POST", "/fhir?recipient=demo-hospital", exchange::testing::demo_bundle());
  EXPECT_EQ(clinic_push.status, 403);
  auto stranger = call("stranger", "POST", "/fhir?recipient=demo-clinic", exchange::testing::demo_bundle());
  EXPECT_EQ(stranger.status, 403);
  {
    // Content-Length above the configured limit: refused before the body is read.
    TestClient c(as("demo-hospital"));
    ASSERT_FALSE(c.connect(port_));
    ASSERT_FALSE(c.send_raw("POST /fhir?recipient=demo-clinic HTTP/1.1\r\nHost: x\r\n"
                            "Content-Type: application/fhir+json\r\nContent-Length: 4194304\r\n\r\n"));
    auto oversized = c.read_response();
    EXPECT_EQ(oversized.status, 413);
    EXPECT_NE(oversized.body.find("OperationOutcome"), std::string::npos);
  }
  auto q = world_.store->claim("demo-clinic", 10, std::chrono::seconds(30));
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->empty());
}

// Polls `pred` until it holds; the bound only turns a hang into a failure.
template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 3000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// The whole way over the wire: pushes over mTLS, the Forwarder delivering
// to a clinic simulator (bare document to demo-clinic, an MHD ITI-65
// transaction to demo-ngo), then `PUT Consent/{id}` withdrawing the consent
// the releases relied on, and the Task reaching the clinic.
TEST_F(ExchangeRoutes, AWithdrawalOverHttpReachesTheClinicsThatGotCopies) {
  auto sim = forward::ClinicSim::start(forward::SimOptions{});
  ASSERT_TRUE(sim) << sim.error().to_string();
  auto first = call("demo-hospital", "POST", "/fhir?recipient=demo-clinic", exchange::testing::demo_bundle());
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string key = patient_key_of(first);
  ASSERT_TRUE(world_.store->put_consent(key, "permit-home-visits",
                                        exchange::testing::location_consent({"demo-clinic", "demo-ngo"}), {}));
  std::string second_bundle = exchange::testing::bundle_with_sensitive_data();
  second_bundle.replace(second_bundle.find("0000000000ff"), 12, "0000000000fe");
  auto second = call("demo-hospital", "POST", "/fhir?recipient=demo-clinic,demo-ngo", second_bundle);
  ASSERT_EQ(second.status, 201) << second.body;

  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  forward::ForwardConfig fc;
  fc.retry = forward::RetryPolicy{std::chrono::milliseconds(2), std::chrono::milliseconds(20), 100};
  fc.poll = std::chrono::milliseconds(20);
  fc.drain = std::chrono::milliseconds(1000);
  const std::string endpoint = "http://127.0.0.1:" + std::to_string((*sim)->port()) + "/fhir";
  fc.recipients = {{"demo-clinic", endpoint, true, 1}, {"demo-ngo", endpoint, true, 1}};
  auto fwd = forward::Forwarder::create(ioc, *world_.store, fc);
  ASSERT_TRUE(fwd) << fwd.error().to_string();
  (*fwd)->start();
  std::thread runner([&ioc] { ioc.run(); });
  struct Stop {
    forward::Forwarder& f;
    decltype(guard)& g;
    std::thread& t;
    ~Stop() {
      f.stop();
      f.wait_stopped();
      g.reset();
      t.join();
    }
  } stop{**fwd, guard, runner};

  ASSERT_TRUE(eventually([&] { return (*sim)->counts().accepted == 3; }));
  // The MHD recipient got a valid ITI-65 transaction.
  bool checked_mhd = false;
  for (const std::string& body : (*sim)->accepted_bodies()) {
    auto doc = json::Document::parse(body);
    ASSERT_TRUE(doc);
    if (doc->root().find("type").str() != "transaction") continue;
    auto issues = world_.validator->validate(doc->root());
    ASSERT_TRUE(issues);
    EXPECT_FALSE(validation::has_errors(*issues)) << fhir::operation_outcome_json(*issues);
    checked_mhd = true;
  }
  EXPECT_TRUE(checked_mhd);

  const std::string withdrawn = exchange::testing::location_consent({"demo-clinic", "demo-ngo"}, "inactive");
  EXPECT_EQ(call("stranger", "PUT", "/fhir/Consent/permit-home-visits", withdrawn).status, 403);
  auto w = call("demo-hospital", "PUT", "/fhir/Consent/permit-home-visits", withdrawn);
  ASSERT_EQ(w.status, 200) << w.body;
  EXPECT_NE(w.body.find("inactive"), std::string::npos);
  ASSERT_TRUE(eventually([&] { return (*sim)->counts().accepted == 5; }));
  int tasks = 0;
  for (const auto& r : (*sim)->received()) {
    if (r.resource_type != "Task") continue;
    ++tasks;
    EXPECT_EQ(r.path, "/fhir/Task");
    EXPECT_EQ(r.status, 200);
  }
  EXPECT_EQ(tasks, 2);  // one per clinic that got a copy relying on the consent
}

}  // namespace
}  // namespace gw::http
