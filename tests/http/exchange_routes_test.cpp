// The gateway's push and pull over HTTPS with mutual TLS: the real server
// on 127.0.0.1 port 0, the real use cases (validator, mappings, consent,
// SQLite store) behind it, a real Beast client with the demo certificates
// of each organisation. Request data never appears in test names.
#include "gateway/http/http.hpp"

#include "gateway/http/detail/smart.hpp"
#include "gateway/consent/consent.hpp"
#include "gateway/forward/forward.hpp"
#include "gateway/json/json.hpp"
#include "gateway/signing/signing.hpp"
#include "gateway/validation/validation.hpp"
#include "tests/exchange/fixture.hpp"
#include "tests/http/jose_test_keys.hpp"
#include "tests/http/test_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
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
    world_ = exchange::testing::make_world(data_.string(), clock_,
                                           [](std::vector<consent::Recipient>& rs) {
                                             for (auto& r : rs) {
                                               if (r.id == "demo-ngo") r.delivery_format = "mhd";
                                             }
                                           },
                                           document_signer());
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
    ServerDeps deps;
    metrics_ = std::make_shared<ExchangeMetrics>();
    ASSERT_TRUE(add_exchange_routes(router, world_.exchange, metrics_));
    add_routes(router);
    deps.metric_sources.push_back(metrics_);
    configure(c, deps);
    auto s = Server::create(std::move(c), std::move(router), deps);
    ASSERT_TRUE(s) << s.error().to_string();
    ASSERT_TRUE((*s)->start());
    port_ = (*s)->port();
    server_ = std::move(*s);
  }
  virtual void configure(ServerConfig&, ServerDeps&) {}
  virtual void add_routes(Router&) {}
  virtual std::shared_ptr<const exchange::DocumentSigner> document_signer() { return nullptr; }

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
  // The store's clock; a Forwarder on that store must share it (leases are
  // the store's time).
  std::shared_ptr<const Clock> clock_ = std::make_shared<exchange::testing::FixedClock>();
  exchange::testing::World world_;
  std::shared_ptr<ExchangeMetrics> metrics_;
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

// --- SMART Backend Services ---------------------------------------------------
//
// The same gateway with SMART enabled and client certificates optional:
// demo-hospital registers an EC P-384 key inline, demo-clinic an RSA key
// in a JWKS file. Keys are generated per process.

const testing::TestKey& hospital_key() {
  static const testing::TestKey k = testing::make_ec_key("hospital-ec");
  return k;
}
const testing::TestKey& clinic_key() {
  static const testing::TestKey k = testing::make_rsa_key("clinic-rsa");
  return k;
}

constexpr std::string_view kBaseUrl = "https://gateway.test";
constexpr std::string_view kTokenUrl = "https://gateway.test/auth/token";

class SmartRoutes : public ExchangeRoutes {
 protected:
  void configure(ServerConfig& c, ServerDeps& deps) override {
    std::filesystem::create_directories(data_);
    secret_file_ = (data_ / "token.key").string();
    std::ofstream(secret_file_) << "0123456789abcdef0123456789abcdef-test-only\n";
    const std::string jwks_file = (data_ / "clinic.jwks.json").string();
    std::ofstream(jwks_file) << testing::jwks_of({&clinic_key()});
    c.tls.require_client_cert = false;
    c.smart.enabled = true;
    c.smart.base_url = std::string(kBaseUrl);
    c.smart.token_secret_file = secret_file_;
    c.smart.clients = {
        {"demo-hospital", testing::jwks_of({&hospital_key()}), "", {"system/Bundle.c", "system/Bundle.rs"}},
        {"demo-clinic", "", jwks_file, {"system/Bundle.read", "system/DocumentReference.read"}}};
    config_ = c;
    auto st = world_.store;
    deps.metric_sources.push_back(std::make_shared<OutboxMetrics>(
        [st]() -> Result<std::vector<OutboxDepth>> {
          GW_TRY(auto stats, st->queue_stats());
          std::vector<OutboxDepth> out;
          for (const auto& q : stats) out.push_back({q.recipient, q.pending, q.in_flight, q.dead, q.oldest_pending});
          return out;
        },
        nullptr, nullptr, std::chrono::milliseconds(0)));
  }

  static std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::string claims(std::string_view client, std::int64_t exp_in = 240, std::string_view aud = kTokenUrl) {
    return R"({"iss":")" + std::string(client) + R"(","sub":")" + std::string(client) + R"(","aud":")" +
           std::string(aud) + R"(","exp":)" + std::to_string(now_s() + exp_in) + R"(,"jti":"jti-)" +
           std::to_string(++jti_) + R"("})";
  }
  static std::string form(const std::string& assertion, std::string_view scope,
                          std::string_view grant = "client_credentials") {
    std::string sc(scope);
    for (char& ch : sc) ch = ch == ' ' ? '+' : ch;
    return "grant_type=" + std::string(grant) + "&scope=" + sc +
           "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
           "&client_assertion=" + assertion;
  }
  // Anonymous TLS (no client certificate).
  testing::Reply anonymous(std::string_view method, std::string_view target, std::string body = {},
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
    ClientOptions o;
    o.ca_file = cert_dir() + "/ca.crt";
    TestClient c(o);
    EXPECT_FALSE(c.connect(port_));
    return c.request(method, target, std::move(body), std::move(headers));
  }
  testing::Reply token_call(std::string body) {
    return anonymous("POST", "/auth/token", std::move(body),
                     {{"Content-Type", "application/x-www-form-urlencoded"}});
  }
  static std::string member(const testing::Reply& r, std::string_view name) {
    auto doc = json::Document::parse(r.body);
    return doc ? std::string(doc->root().find(name).str()) : std::string();
  }
  std::string token_for(const testing::TestKey& key, std::string_view client, std::string_view scope) {
    auto r = token_call(form(testing::make_jws(key, claims(client)), scope));
    EXPECT_EQ(r.status, 200) << r.body;
    return member(r, "access_token");
  }
  testing::Reply bearer(const std::string& token, std::string_view method, std::string_view target,
                        std::string body = {}, const std::string& cert = {}) {
    ClientOptions o = cert.empty() ? ClientOptions{} : as(cert);
    o.ca_file = cert_dir() + "/ca.crt";
    TestClient c(o);
    EXPECT_FALSE(c.connect(port_));
    std::vector<std::pair<std::string, std::string>> headers{{"Authorization", "Bearer " + token}};
    if (!body.empty()) headers.emplace_back("Content-Type", "application/fhir+json");
    return c.request(method, target, std::move(body), std::move(headers));
  }

  std::string secret_file_;
  ServerConfig config_;
  int jti_ = 0;
};

TEST_F(SmartRoutes, BackendServicesPushAndPullWithTokensInsteadOfCertificates) {
  auto discovery = anonymous("GET", "/fhir/.well-known/smart-configuration");
  ASSERT_EQ(discovery.status, 200) << discovery.body;
  EXPECT_EQ(member(discovery, "token_endpoint"), kTokenUrl);
  EXPECT_NE(discovery.body.find(R"("token_endpoint_auth_methods_supported":["private_key_jwt"])"), std::string::npos);
  EXPECT_NE(discovery.body.find(R"("RS384","ES384")"), std::string::npos);
  auto metadata = anonymous("GET", "/fhir/metadata");
  EXPECT_NE(metadata.body.find("SMART-on-FHIR"), std::string::npos);
  EXPECT_NE(metadata.body.find("oauth-uris"), std::string::npos);
  EXPECT_NE(metadata.body.find(kTokenUrl), std::string::npos);

  auto nobody = anonymous("POST", "/fhir?recipient=demo-clinic", exchange::testing::demo_bundle(),
                          {{"Content-Type", "application/fhir+json"}});
  EXPECT_EQ(nobody.status, 401);
  EXPECT_TRUE(nobody.header("www-authenticate").starts_with("Bearer"));

  // Requested ∩ allowed: Patient.r is not registered, launch means nothing here.
  auto issued = token_call(form(testing::make_jws(hospital_key(), claims("demo-hospital")),
                                "system/Bundle.c system/Patient.r launch"));
  ASSERT_EQ(issued.status, 200) << issued.body;
  EXPECT_EQ(member(issued, "token_type"), "bearer");
  EXPECT_EQ(member(issued, "scope"), "system/Bundle.c");
  EXPECT_NE(issued.body.find(R"("expires_in":300)"), std::string::npos);
  EXPECT_EQ(issued.header("cache-control"), "no-store");
  const std::string hospital = member(issued, "access_token");

  auto pushed = bearer(hospital, "POST", "/fhir?recipient=demo-clinic", exchange::testing::demo_bundle());
  ASSERT_EQ(pushed.status, 201) << pushed.body;
  const std::string key = patient_key_of(pushed);
  auto no_read = bearer(hospital, "GET", "/fhir/DocumentReference?patient=" + key);
  EXPECT_EQ(no_read.status, 403);
  EXPECT_NE(no_read.header("www-authenticate").find(R"(error="insufficient_scope")"), std::string::npos);
  EXPECT_NE(no_read.header("www-authenticate").find("system/DocumentReference.s"), std::string::npos);

  const std::string clinic = token_for(clinic_key(), "demo-clinic", "system/Bundle.read system/DocumentReference.rs");
  EXPECT_EQ(bearer(clinic, "GET", "/fhir/Patient/" + key + "/$summary").status, 200);
  auto refs = bearer(clinic, "GET", "/fhir/DocumentReference?patient=" + key);
  EXPECT_EQ(refs.status, 200) << refs.body;
  EXPECT_EQ(bearer(clinic, "GET", pushed.header("location")).status, 200);
  EXPECT_EQ(bearer(clinic, "POST", "/fhir?recipient=demo-hospital", exchange::testing::demo_bundle()).status, 403);
  // A certificate and a token of different organisations: refused.
  EXPECT_EQ(bearer(hospital, "GET", "/fhir/Patient/" + key + "/$summary", {}, "demo-clinic").status, 403);
  // Mutual TLS alone still works.
  EXPECT_EQ(call("demo-clinic", "GET", "/fhir/Patient/" + key + "/$summary").status, 200);

  // /metrics: push outcomes, validation issues by rule, the outbox by recipient.
  EXPECT_EQ(bearer(hospital, "POST", "/fhir?recipient=demo-clinic", R"({"resourceType":"Patient"})").status, 422);
  auto scrape = anonymous("GET", "/metrics");
  ASSERT_EQ(scrape.status, 200);
  EXPECT_NE(scrape.body.find(R"(gw_push_outcomes_total{outcome="accepted"} 1)"), std::string::npos) << scrape.body;
  EXPECT_NE(scrape.body.find(R"(gw_push_outcomes_total{outcome="rejected"} 1)"), std::string::npos);
  EXPECT_NE(scrape.body.find(R"(gw_validation_issues_total{rule="invalid",severity="error"} 1)"), std::string::npos);
  EXPECT_NE(scrape.body.find(R"(gw_outbox_pending{recipient="demo-clinic"} 1)"), std::string::npos);
  EXPECT_NE(scrape.body.find(R"(gw_outbox_dead_letters{recipient="demo-clinic"} 0)"), std::string::npos);
  EXPECT_NE(scrape.body.find("gw_outbox_stats_up 1"), std::string::npos);
}

TEST_F(SmartRoutes, BadAssertionsAndTokensGetOAuthErrorsThatEchoNothing) {
  auto refused = [&](const std::string& assertion, std::string_view scope = "system/Bundle.c") {
    auto r = token_call(form(assertion, scope));
    EXPECT_EQ(r.body.find(assertion), std::string::npos);
    if (r.status != 401) return r.status * 1000;  // shows up in the failure message
    return member(r, "error") == "invalid_client" ? 401 : -1;
  };
  const testing::TestKey& k = hospital_key();
  EXPECT_EQ(refused(testing::make_jws(k, claims("demo-hospital", -600))), 401);                // expired
  EXPECT_EQ(refused(testing::make_jws(k, claims("demo-hospital", 3600))), 401);                // exp too far ahead
  EXPECT_EQ(refused(testing::make_jws(k, claims("demo-hospital", 240, "https://other.test/token"))), 401);  // aud
  testing::TestKey unknown = testing::make_ec_key("not-registered");
  EXPECT_EQ(refused(testing::make_jws(unknown, claims("demo-hospital"))), 401);               // unknown kid
  testing::TestKey impostor = testing::make_ec_key("hospital-ec");
  EXPECT_EQ(refused(testing::make_jws(impostor, claims("demo-hospital"))), 401);              // bad signature
  EXPECT_EQ(refused(testing::make_jws(clinic_key(), claims("demo-hospital"))), 401);          // another client's key
  const std::string once = testing::make_jws(k, claims("demo-hospital"));
  EXPECT_EQ(token_call(form(once, "system/Bundle.c")).status, 200);
  EXPECT_EQ(refused(once), 401);                                                              // replayed jti

  auto scope = token_call(form(testing::make_jws(k, claims("demo-hospital")), "system/DocumentReference.rs"));
  EXPECT_EQ(scope.status, 400);
  EXPECT_EQ(member(scope, "error"), "invalid_scope");
  auto grant = token_call(form(testing::make_jws(k, claims("demo-hospital")), "system/Bundle.c", "password"));
  EXPECT_EQ(grant.status, 400);
  EXPECT_EQ(member(grant, "error"), "unsupported_grant_type");
  auto json_body = anonymous("POST", "/auth/token", "{}", {{"Content-Type", "application/json"}});
  EXPECT_EQ(member(json_body, "error"), "invalid_request");

  // Access tokens: forged (payload changed, another key), expired.
  const std::string good = token_for(k, "demo-hospital", "system/Bundle.rs");
  ASSERT_EQ(bearer(good, "GET", "/fhir/Bundle/none").status, 404);
  auto parts = detail::split_jws(good);
  ASSERT_TRUE(parts);
  std::string payload = parts->payload_json;
  payload.replace(payload.find("system/Bundle.rs"), 16, "system/*.cruds  ");
  const std::string tampered = good.substr(0, good.find('.')) + "." + detail::base64url_encode(payload) +
                               good.substr(good.rfind('.'));
  auto invalid_token = [&](const std::string& token) {
    auto r = bearer(token, "GET", "/fhir/Bundle/none");
    return r.status == 401 && r.header("www-authenticate").find(R"(error="invalid_token")") != std::string::npos;
  };
  EXPECT_TRUE(invalid_token(tampered));
  EXPECT_TRUE(invalid_token("not-a-token"));
  auto same_key = detail::SmartAuth::create(config_, nullptr);
  ASSERT_TRUE(same_key) << same_key.error().to_string();
  EXPECT_TRUE(invalid_token((*same_key)->mint_access_token("demo-hospital", "system/Bundle.rs",
                                                           std::chrono::system_clock::now() - std::chrono::seconds(5))));
  EXPECT_EQ(bearer((*same_key)->mint_access_token("demo-hospital", "system/Bundle.rs",
                                                  std::chrono::system_clock::now() + std::chrono::seconds(60)),
                   "GET", "/fhir/Bundle/none")
                .status,
            404);  // a token of another node with the same key is accepted
  ServerConfig other = config_;
  other.smart.token_secret_file = (data_ / "other.key").string();
  std::ofstream(other.smart.token_secret_file) << "another-secret-another-secret-another-secret\n";
  auto other_key = detail::SmartAuth::create(other, nullptr);
  ASSERT_TRUE(other_key);
  EXPECT_TRUE(invalid_token((*other_key)->mint_access_token("demo-hospital", "system/Bundle.rs",
                                                            std::chrono::system_clock::now() + std::chrono::seconds(60))));
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
  auto fwd = forward::Forwarder::create(ioc, *world_.store, fc, forward::ForwarderDeps{clock_, nullptr});
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

  ASSERT_TRUE(eventually([&] { return (*sim)->counts().accepted == 3; })) << [&] {
    std::string out = "accepted " + std::to_string((*sim)->counts().accepted) + ", received:";
    for (const auto& r : (*sim)->received()) out += " " + std::to_string(r.status);
    for (const auto& st : (*fwd)->stats()) {
      out += "; " + st.recipient_id + " attempts " + std::to_string(st.attempts) + " delivered " +
             std::to_string(st.delivered) + " retried " + std::to_string(st.retried) + " dead " +
             std::to_string(st.dead_lettered) + " store errors " + std::to_string(st.store_errors);
    }
    return out;
  }();
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

// The gateway's public signing keys (issue #12): served to any TLS client,
// registered or not (a clinic that only holds a patient's copy may check it).
class SignedRoutes : public ExchangeRoutes {
 protected:
  std::shared_ptr<const exchange::DocumentSigner> document_signer() override {
    auto key = signing::load_signing_key(cert_dir() + "/gateway-signing.key", cert_dir() + "/gateway-signing.crt",
                                         "demo-gateway-signing-1");
    EXPECT_TRUE(key) << key.error().to_string();
    if (!key) return nullptr;
    std::vector<signing::SigningKey> keys;
    keys.push_back(std::move(*key));
    auto s = signing::Signer::create(std::move(keys), 0, signing::Organization{});
    EXPECT_TRUE(s) << s.error().to_string();
    if (!s) return nullptr;
    signer_ = *s;
    return std::make_shared<const signing::DocumentSigning>(signer_);
  }
  void add_routes(Router& router) override {
    ASSERT_TRUE(signer_);
    ASSERT_TRUE(add_jwks_route(router, signer_->jwks_json()));
  }
  std::shared_ptr<const signing::Signer> signer_;
};

TEST_F(SignedRoutes, JwksListsTheGatewaysPublicKeysToAnyTlsClient) {
  auto r = call("stranger", "GET", "/.well-known/jwks.json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/jwk-set+json");
  EXPECT_EQ(r.body, signer_->jwks_json());
  auto keys = signing::trusted_keys_from_jwks(r.body);
  ASSERT_TRUE(keys) << keys.error().to_string();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].key.kid, "demo-gateway-signing-1");
  EXPECT_EQ(r.body.find(R"("d":)"), std::string::npos);  // never the private part
  // What it publishes verifies what the gateway signs.
  auto signed_doc = signer_->sign(exchange::testing::demo_bundle(), clock_->now());
  ASSERT_TRUE(signed_doc);
  auto doc = json::Document::parse(*signed_doc);
  ASSERT_TRUE(doc);
  EXPECT_EQ(signing::verify_document(doc->root(), *keys, clock_->now()).status, signing::VerifyStatus::kValid);
}

TEST_F(SignedRoutes, PatientCopyIsTheSignedDocumentOrOnePrintablePageWithItsQrToken) {
  auto pushed = call("demo-hospital", "POST", "/fhir?recipient=demo-clinic", exchange::testing::demo_bundle());
  ASSERT_EQ(pushed.status, 201) << pushed.body;
  const std::string bundle = pushed.header("location");
  const std::string id = bundle.substr(std::string("/fhir/Bundle/").size());
  auto keys = signing::trusted_keys_from_jwks(signer_->jwks_json());
  ASSERT_TRUE(keys);

  auto copy = call("demo-clinic", "GET", bundle + "/$patient-copy");
  ASSERT_EQ(copy.status, 200) << copy.body;
  EXPECT_EQ(copy.header("content-type"), "application/fhir+json");
  auto doc = json::Document::parse(copy.body);
  ASSERT_TRUE(doc);
  EXPECT_EQ(signing::verify_document(doc->root(), *keys, clock_->now()).status, signing::VerifyStatus::kValid);
  auto token = signing::patient_copy_token(doc->root(), id);
  ASSERT_TRUE(token);

  auto page = call("demo-clinic", "GET", bundle + "/$patient-copy?_format=html");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.header("cache-control"), "no-store");
  EXPECT_TRUE(page.body.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(page.body.find("<svg"), std::string::npos);
  EXPECT_EQ(page.body.find("<script"), std::string::npos);
  // The page's token is the content digest of the document a clinic gets
  // from Bundle/{id}: re-signing on each read does not change it.
  EXPECT_NE(page.body.find(*token), std::string::npos) << *token;
  auto read = call("demo-clinic", "GET", bundle);
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(*signing::patient_copy_token(json::Document::parse(read.body)->root(), id), *token);

  // Same access rules as Bundle/{id}: an organisation that may not pull gets nothing.
  EXPECT_EQ(call("demo-ngo", "GET", bundle + "/$patient-copy?_format=html").status, 403);
}

}  // namespace
}  // namespace gw::http
