// Integration tests: the real server on 127.0.0.1 port 0, TLS with mutual
// TLS, driven by a real Beast client. Deadlines in the configs are short so
// that cut-offs happen quickly; no test sleeps or measures time.
#include "gateway/http/http.hpp"

#include "tests/http/test_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

namespace gw::http {
namespace {

using testing::ClientOptions;
using testing::Reply;
using testing::TestClient;
using namespace std::chrono_literals;

// Certificates are made once per test binary by the project's own script:
// `good/` holds the CA the server trusts, the server certificate and clients
// demo-hospital, demo-clinic and stranger (valid but unregistered);
// `other/` is a second CA with its own demo-hospital certificate.
struct Certs {
  std::string good, other;
};

const Certs& certs() {
  static const Certs c = [] {
    Certs out;
    char tmpl[] = "/tmp/gw_http_test_XXXXXX";
    const char* dir = mkdtemp(tmpl);
    EXPECT_NE(dir, nullptr);
    out.good = std::string(dir) + "/good";
    out.other = std::string(dir) + "/other";
    const std::string script = std::string(GW_SOURCE_DIR) + "/scripts/make-demo-certs";
    EXPECT_TRUE(testing::run_command(script + " " + out.good + " demo-hospital demo-clinic stranger >/dev/null"));
    EXPECT_TRUE(testing::run_command(script + " " + out.other + " demo-hospital >/dev/null"));
    return out;
  }();
  return c;
}

ServerConfig test_config() {
  ServerConfig c;
  c.listen = "127.0.0.1:0";
  c.io_threads = 2;
  c.cpu_threads = 1;
  c.tls.cert_chain_file = certs().good + "/server.crt";
  c.tls.private_key_file = certs().good + "/server.key";
  c.tls.client_ca_file = certs().good + "/ca.crt";
  c.tls.require_client_cert = true;
  c.clients = {{"demo-hospital", "hospital"}, {"demo-clinic", "community-clinic"}};
  c.limits.rate.per_second = 0;  // off unless a test turns it on
  return c;
}

ClientOptions as(std::string_view who, const std::string& dir = certs().good) {
  ClientOptions o;
  o.ca_file = certs().good + "/ca.crt";
  if (!who.empty()) {
    o.cert_file = dir + "/" + std::string(who) + ".crt";
    o.key_file = dir + "/" + std::string(who) + ".key";
  }
  return o;
}

// A fake monotonic clock the test moves by hand.
class FakeSteadyClock final : public SteadyClock {
 public:
  std::chrono::steady_clock::time_point now() const override { return now_.load(); }
  void advance(std::chrono::milliseconds d) { now_.store(now_.load() + d); }

 private:
  std::atomic<std::chrono::steady_clock::time_point> now_{std::chrono::steady_clock::time_point{} + 1h};
};

// Holds requests of the test's async route until the test answers them.
struct Held {
  std::mutex mutex;
  std::vector<Responder> responders;
  std::promise<void> arrived;
  bool signalled = false;
  void add(Responder r) {
    std::lock_guard lock(mutex);
    responders.push_back(std::move(r));
    if (!signalled) {
      signalled = true;
      arrived.set_value();
    }
  }
  void answer_all(Response r) {
    std::lock_guard lock(mutex);
    for (auto& x : responders) x(r);
    responders.clear();
  }
};

struct Running {
  std::unique_ptr<Server> server;
  std::uint16_t port = 0;
};

Running start(ServerConfig config, Router router = {}, ServerDeps deps = {}) {
  auto s = Server::create(std::move(config), std::move(router), std::move(deps));
  EXPECT_TRUE(s) << (s ? "" : s.error().to_string());
  if (!s) return {};
  auto st = (*s)->start();
  EXPECT_TRUE(st) << (st ? "" : st.error().to_string());
  Running r;
  r.port = (*s)->port();
  r.server = std::move(*s);
  return r;
}

Router validate_router() {
  Router r;
  EXPECT_TRUE(add_validate_routes(r, parse_gate_validator()));
  return r;
}

std::string metrics_text(std::uint16_t port) {
  TestClient c(as("demo-clinic"));
  EXPECT_FALSE(c.connect(port));
  Reply r = c.request("GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  return r.body;
}

// The server counts some events just after the client can observe them
// (a deadline closes the socket, then the read completes): scrape a bounded
// number of times instead of sleeping.
bool eventually_in_metrics(std::uint16_t port, std::string_view needle) {
  for (int i = 0; i < 200; ++i) {
    if (metrics_text(port).find(needle) != std::string::npos) return true;
  }
  return false;
}

constexpr std::string_view kPatient = R"({"resourceType":"Patient","id":"p1","active":true})";

const std::vector<std::pair<std::string, std::string>> kFhirJson = {{"Content-Type", "application/fhir+json"}};

// --- endpoints ----------------------------------------------------------------

TEST(HttpServer, ServesHealthReadinessAndCapabilityStatement) {
  Running s = start(test_config(), validate_router());
  ASSERT_NE(s.port, 0);
  EXPECT_TRUE(s.server->ready());
  TestClient c(as("demo-clinic"));
  ASSERT_FALSE(c.connect(s.port));

  Reply h = c.request("GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "ok\n");
  Reply r = c.request("GET", "/readyz");
  EXPECT_EQ(r.status, 200);

  Reply m = c.request("GET", "/fhir/metadata");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.header("content-type"), "application/fhir+json");
  auto doc = json::Document::parse(m.body);
  ASSERT_TRUE(doc);
  json::Value root = doc->root();
  EXPECT_EQ(root.find("resourceType").str(), "CapabilityStatement");
  EXPECT_EQ(root.find("fhirVersion").str(), "4.0.1");
  EXPECT_EQ(root.find("format")[0].str(), "json");
  json::Value rest = root.find("rest")[0];
  EXPECT_EQ(rest.find("mode").str(), "server");
  EXPECT_EQ(rest.find("operation")[0].find("name").str(), "validate");
  EXPECT_EQ(rest.find("security").find("service")[0].find("coding")[0].find("code").str(), "Certificates");

  // _format=application/json is honoured; xml is refused with 406.
  EXPECT_EQ(c.request("GET", "/fhir/metadata?_format=application/json").header("content-type"), "application/json");
  Reply xml = c.request("GET", "/fhir/metadata?_format=xml");
  EXPECT_EQ(xml.status, 406);
  EXPECT_NE(xml.body.find("OperationOutcome"), std::string::npos);
}

TEST(HttpServer, MetricsCountRequestsByRouteTemplateNeverRawPaths) {
  Running s = start(test_config(), validate_router());
  TestClient c(as("demo-clinic"));
  ASSERT_FALSE(c.connect(s.port));
  EXPECT_EQ(c.request("GET", "/healthz").status, 200);
  EXPECT_EQ(c.request("GET", "/healthz").status, 200);
  EXPECT_EQ(c.request("GET", "/fhir/Patient/secret-id-123").status, 404);
  EXPECT_EQ(c.request("POST", "/fhir/Patient/$validate", std::string(kPatient), kFhirJson).status, 200);

  const std::string text = metrics_text(s.port);
  EXPECT_NE(text.find("gw_http_requests_total{method=\"GET\",route=\"/healthz\",code=\"200\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("gw_http_requests_total{method=\"GET\",route=\"unmatched\",code=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("gw_http_requests_total{method=\"POST\",route=\"/fhir/{type}/$validate\",code=\"200\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("gw_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("gw_http_connections_open 2\n"), std::string::npos);  // c and the scraper
  EXPECT_EQ(text.find("secret-id-123"), std::string::npos);
}

// --- mutual TLS ---------------------------------------------------------------

TEST(HttpServer, AcceptsRegisteredClientCertificateOnValidate) {
  Running s = start(test_config(), validate_router());
  TestClient c(as("demo-hospital"));
  ASSERT_FALSE(c.connect(s.port));
  Reply ok = c.request("POST", "/fhir/$validate", std::string(kPatient), kFhirJson);
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("\"informational\""), std::string::npos) << ok.body;

  Reply bad = c.request("POST", "/fhir/Bundle/$validate", std::string(kPatient), kFhirJson);
  EXPECT_EQ(bad.status, 200);  // $validate reports problems inside a 200
  EXPECT_NE(bad.body.find("\"error\""), std::string::npos);

  Reply broken = c.request("POST", "/fhir/$validate", "{\"resourceType\":", kFhirJson);
  EXPECT_EQ(broken.status, 200);
  EXPECT_NE(broken.body.find("\"fatal\""), std::string::npos);
}

TEST(HttpServer, RefusesHandshakeWithoutClientCertificate) {
  Running s = start(test_config());
  ClientOptions o = as("");
  o.tls12_only = true;  // in TLS 1.2 the server's verdict ends the handshake itself
  TestClient c12(o);
  EXPECT_TRUE(c12.connect(s.port));

  // In TLS 1.3 the client may finish its side first; then the first
  // exchange fails. Either way no HTTP response is ever read.
  TestClient c13(as(""));
  if (!c13.connect(s.port)) {
    Reply r = c13.request("GET", "/healthz");
    EXPECT_TRUE(r.ec);
    EXPECT_EQ(r.status, 0);
  }
  EXPECT_TRUE(eventually_in_metrics(s.port, "gw_http_tls_handshake_failures_total 2\n"));
}

TEST(HttpServer, RefusesClientCertificateFromAnotherCa) {
  Running s = start(test_config());
  ClientOptions o = as("demo-hospital", certs().other);
  o.tls12_only = true;
  TestClient c12(o);
  EXPECT_TRUE(c12.connect(s.port));

  TestClient c13(as("demo-hospital", certs().other));
  if (!c13.connect(s.port)) {
    Reply r = c13.request("GET", "/healthz");
    EXPECT_TRUE(r.ec);
    EXPECT_EQ(r.status, 0);
  }
}

TEST(HttpServer, UnregisteredClientGets403OnProtectedRoutes) {
  Running s = start(test_config(), validate_router());
  TestClient c(as("stranger"));
  ASSERT_FALSE(c.connect(s.port));
  EXPECT_EQ(c.request("GET", "/healthz").status, 200);  // probes need no registered identity
  Reply r = c.request("POST", "/fhir/$validate", std::string(kPatient), kFhirJson);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.header("content-type"), "application/fhir+json");
  EXPECT_NE(r.body.find("\"security\""), std::string::npos);
}

TEST(HttpServer, IdentifiesCallerFromCertificate) {
  Router router;
  ASSERT_TRUE(router.add("GET", "/whoami", [](const Request& req) {
    return Response::text(200, req.client ? req.client->id + "/" + req.client->kind : "nobody");
  }));
  Running s = start(test_config(), std::move(router));
  for (auto [who, expect] : {std::pair{"demo-hospital", "demo-hospital/hospital"},
                             std::pair{"demo-clinic", "demo-clinic/community-clinic"}}) {
    TestClient c(as(who));
    ASSERT_FALSE(c.connect(s.port));
    EXPECT_EQ(c.request("GET", "/whoami").body, expect);
  }
}

// --- malformed and oversized requests ------------------------------------------

TEST(HttpServer, OversizedBodyGets413OperationOutcome) {
  ServerConfig cfg = test_config();
  cfg.limits.body_bytes = 1024;
  Running s = start(cfg, validate_router());
  TestClient c(as("demo-hospital"));
  ASSERT_FALSE(c.connect(s.port));
  // Content-Length above the limit: refused before the body is read.
  ASSERT_FALSE(c.send_raw("POST /fhir/$validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
                          "Content-Length: 5000\r\n\r\n"));
  Reply r = c.read_response();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.status, 413);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_NE(r.body.find("\"too-costly\""), std::string::npos);

  // Chunked body that grows past the limit while it is read.
  TestClient c2(as("demo-hospital"));
  ASSERT_FALSE(c2.connect(s.port));
  std::string chunked = "POST /fhir/$validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n800\r\n" + std::string(0x800, ' ') + "\r\n";
  ASSERT_FALSE(c2.send_raw(chunked));
  Reply r2 = c2.read_response();
  EXPECT_EQ(r2.status, 413);
}

TEST(HttpServer, OversizedHeaderGets431) {
  ServerConfig cfg = test_config();
  cfg.limits.header_bytes = 2048;
  Running s = start(cfg);
  TestClient c(as("demo-clinic"));
  ASSERT_FALSE(c.connect(s.port));
  Reply r = c.request("GET", "/healthz", {}, {{"X-Padding", std::string(4000, 'a')}});
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.header("content-type"), "application/fhir+json");
  EXPECT_EQ(r.body.find("aaaa"), std::string::npos);
}

TEST(HttpServer, MalformedRequestGets400WithoutEchoingIt) {
  Running s = start(test_config());
  TestClient c(as("demo-clinic"));
  ASSERT_FALSE(c.connect(s.port));
  ASSERT_FALSE(c.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Name With Spaces: leak-me\r\n\r\n"));
  Reply r = c.read_response();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.status, 400);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos);
  EXPECT_EQ(r.body.find("leak-me"), std::string::npos);
  EXPECT_TRUE(c.wait_closed());

  TestClient c2(as("demo-clinic"));
  ASSERT_FALSE(c2.connect(s.port));
  Reply bad_target = c2.request("GET", "/fhir/metadata?x=%zz");
  EXPECT_EQ(bad_target.status, 400);
}

TEST(HttpServer, UnknownRoute404WrongMethod405WrongMediaType415) {
  Running s = start(test_config(), validate_router());
  TestClient c(as("demo-hospital"));
  ASSERT_FALSE(c.connect(s.port));
  Reply nf = c.request("GET", "/fhir/Nothing/here");
  EXPECT_EQ(nf.status, 404);
  EXPECT_NE(nf.body.find("\"not-found\""), std::string::npos);
  EXPECT_EQ(nf.body.find("Nothing"), std::string::npos);

  Reply na = c.request("DELETE", "/healthz");
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(na.header("allow"), "GET");

  Reply um = c.request("POST", "/fhir/$validate", std::string(kPatient), {{"Content-Type", "text/plain"}});
  EXPECT_EQ(um.status, 415);
  EXPECT_TRUE(um.keep_alive);  // request errors after a complete read keep the connection
  EXPECT_EQ(c.request("GET", "/healthz").status, 200);
}

// --- connection behaviour --------------------------------------------------------

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  Running s = start(test_config(), validate_router());
  TestClient c(as("demo-hospital"));
  ASSERT_FALSE(c.connect(s.port));
  for (int i = 0; i < 5; ++i) {
    Reply r = c.request("GET", "/healthz");
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.keep_alive);
  }
  EXPECT_EQ(c.request("POST", "/fhir/$validate", std::string(kPatient), kFhirJson).status, 200);
  const std::string text = metrics_text(s.port);
  EXPECT_NE(text.find("gw_http_connections_total 2\n"), std::string::npos) << text;  // c and the scraper
}

TEST(HttpServer, PipelinedResponsesKeepRequestOrder) {
  Running s = start(test_config(), validate_router());
  TestClient c(as("demo-hospital"));
  ASSERT_FALSE(c.connect(s.port));
  // The first request runs on the CPU pool, the second inline: the second
  // is ready first but must wait for its turn in the queue.
  std::string body(kPatient);
  std::string two = "POST /fhir/$validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body +
                    "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_FALSE(c.send_raw(two));
  Reply first = c.read_response();
  Reply second = c.read_response();
  EXPECT_EQ(first.status, 200);
  EXPECT_NE(first.body.find("OperationOutcome"), std::string::npos);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "ok\n");
}

TEST(HttpServer, ConnectionCloseIsHonoured) {
  Running s = start(test_config());
  TestClient c(as("demo-clinic"));
  ASSERT_FALSE(c.connect(s.port));
  Reply r = c.request("GET", "/healthz", {}, {{"Connection", "close"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(c.wait_closed());
}

TEST(HttpServer, SlowHeaderIsCutOffAtTheDeadline) {
  ServerConfig cfg = test_config();
  cfg.limits.read_header = 150ms;
  Running s = start(cfg);
  TestClient c(as("demo-clinic"));
  ASSERT_FALSE(c.connect(s.port));
  // A header that never ends (slowloris): the server closes the connection.
  ASSERT_FALSE(c.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "));
  const auto ec = c.wait_closed();
  EXPECT_TRUE(ec);
  EXPECT_NE(ec, boost::beast::error::timeout) << "the client deadline fired first: the server never cut off";
  EXPECT_TRUE(eventually_in_metrics(s.port, "gw_http_deadline_expired_total{phase=\"header\"} 1\n"));
}

TEST(HttpServer, SlowBodyIsCutOffAtTheDeadline) {
  ServerConfig cfg = test_config();
  cfg.limits.read_body = 150ms;
  Running s = start(cfg, validate_router());
  TestClient c(as("demo-hospital"));
  ASSERT_FALSE(c.connect(s.port));
  ASSERT_FALSE(c.send_raw("POST /fhir/$validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
                          "Content-Length: 100\r\n\r\n{\"resourceType\""));
  const auto ec = c.wait_closed();
  EXPECT_TRUE(ec);
  EXPECT_NE(ec, boost::beast::error::timeout);
  EXPECT_TRUE(eventually_in_metrics(s.port, "gw_http_deadline_expired_total{phase=\"body\"} 1\n"));
}

TEST(HttpServer, SilentConnectionIsCutOffAtTheHandshakeDeadline) {
  ServerConfig cfg = test_config();
  cfg.limits.handshake = 150ms;
  Running s = start(cfg);
  ClientOptions o = as("demo-clinic");
  o.tls = false;  // raw TCP: never starts TLS
  TestClient c(o);
  ASSERT_FALSE(c.connect_tcp(s.port));
  const auto ec = c.wait_closed();
  EXPECT_TRUE(ec);
  EXPECT_NE(ec, boost::beast::error::timeout);
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosedAtTheIdleDeadline) {
  ServerConfig cfg = test_config();
  cfg.limits.idle = 150ms;
  Running s = start(cfg);
  TestClient c(as("demo-clinic"));
  ASSERT_FALSE(c.connect(s.port));
  EXPECT_EQ(c.request("GET", "/healthz").status, 200);
  const auto ec = c.wait_closed();
  EXPECT_TRUE(ec);
  EXPECT_NE(ec, boost::beast::error::timeout);
}

TEST(HttpServer, ConnectionsAboveTheLimitAreClosed) {
  ServerConfig cfg = test_config();
  cfg.limits.max_connections = 1;
  Running s = start(cfg);
  TestClient first(as("demo-clinic"));
  ASSERT_FALSE(first.connect(s.port));
  EXPECT_EQ(first.request("GET", "/healthz").status, 200);
  TestClient second(as("demo-clinic"));
  const auto ec = second.connect(s.port);
  if (!ec) {
    EXPECT_TRUE(second.request("GET", "/healthz").ec);
  }
  EXPECT_EQ(first.request("GET", "/healthz").status, 200);  // the first one is unaffected
}

// --- handlers ---------------------------------------------------------------------

TEST(HttpServer, SlowHandlerGets503AtTheHandlerDeadline) {
  auto held = std::make_shared<Held>();
  Router router;
  ASSERT_TRUE(router.add_async("GET", "/test/hold", [held](RequestPtr, Responder done) { held->add(done); }));
  ServerConfig cfg = test_config();
  cfg.limits.handler = 150ms;
  Running s = start(cfg, std::move(router));
  TestClient c(as("demo-clinic"));
  ASSERT_FALSE(c.connect(s.port));
  Reply r = c.request("GET", "/test/hold");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("\"timeout\""), std::string::npos);
  held->answer_all(Response::text(200, "late"));  // ignored: already answered
  EXPECT_EQ(c.request("GET", "/healthz").status, 200);
}

// A handler that outlasts the idle deadline: the connection waits for its
// response (the idle deadline is for a connection with nothing in flight).
// Found by the bad-input catalogue: a 3 MB bundle validated for longer than
// idle_ms lost its answer.
TEST(HttpServer, AnswerOfAHandlerSlowerThanTheIdleDeadlineStillArrives) {
  auto held = std::make_shared<Held>();
  Router router;
  ASSERT_TRUE(router.add_async("GET", "/test/hold", [held](RequestPtr, Responder done) { held->add(done); }));
  ServerConfig cfg = test_config();
  cfg.limits.idle = 100ms;
  cfg.limits.handler = 5000ms;
  Running s = start(cfg, std::move(router));
  std::thread late([held, arrived = held->arrived.get_future()] {
    arrived.wait();
    std::this_thread::sleep_for(600ms);  // several idle deadlines: the input of this test
    held->answer_all(Response::text(200, "late"));
  });
  TestClient c(as("demo-clinic"));
  ASSERT_FALSE(c.connect(s.port));
  Reply r = c.request("GET", "/test/hold");
  late.join();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "late");
}

TEST(HttpServer, ThrowingHandlerGets500AndIsCounted) {
  Router router;
  ASSERT_TRUE(router.add("GET", "/test/throw", [](const Request&) -> Response { throw std::runtime_error("x"); }));
  ASSERT_TRUE(router.add(
      "GET", "/test/throw-pool", [](const Request&) -> Response { throw std::runtime_error("x"); },
      Execution::kCpuPool));
  Running s = start(test_config(), std::move(router));
  TestClient c(as("demo-clinic"));
  ASSERT_FALSE(c.connect(s.port));
  EXPECT_EQ(c.request("GET", "/test/throw").status, 500);
  EXPECT_EQ(c.request("GET", "/test/throw-pool").status, 500);
  EXPECT_NE(metrics_text(s.port).find("gw_http_handler_exceptions_total 2\n"), std::string::npos);
}

TEST(HttpServer, ForgottenResponderAnswers500) {
  Router router;
  ASSERT_TRUE(router.add_async("GET", "/test/forget", [](RequestPtr, Responder) {}));
  Running s = start(test_config(), std::move(router));
  TestClient c(as("demo-clinic"));
  ASSERT_FALSE(c.connect(s.port));
  EXPECT_EQ(c.request("GET", "/test/forget").status, 500);
}

TEST(HttpServer, RateLimitPerClientWithInjectedClock) {
  auto clock = std::make_shared<FakeSteadyClock>();
  ServerConfig cfg = test_config();
  cfg.limits.rate = {.per_second = 1, .burst = 2};
  ServerDeps deps;
  deps.steady_clock = clock;
  Running s = start(cfg, {}, deps);
  TestClient hospital(as("demo-hospital"));
  ASSERT_FALSE(hospital.connect(s.port));
  EXPECT_EQ(hospital.request("GET", "/fhir/metadata").status, 200);
  EXPECT_EQ(hospital.request("GET", "/fhir/metadata").status, 200);
  Reply limited = hospital.request("GET", "/fhir/metadata");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("retry-after"), "1");
  EXPECT_NE(limited.body.find("\"throttled\""), std::string::npos);
  EXPECT_EQ(hospital.request("GET", "/healthz").status, 200);  // probes are not limited

  TestClient clinic(as("demo-clinic"));  // another client has its own bucket
  ASSERT_FALSE(clinic.connect(s.port));
  EXPECT_EQ(clinic.request("GET", "/fhir/metadata").status, 200);

  clock->advance(1000ms);
  EXPECT_EQ(hospital.request("GET", "/fhir/metadata").status, 200);
}

// --- shutdown ---------------------------------------------------------------------

TEST(HttpServer, GracefulShutdownFinishesInFlightRequestAndRefusesNewConnections) {
  auto held = std::make_shared<Held>();
  auto arrived = held->arrived.get_future();
  Router router;
  ASSERT_TRUE(router.add_async("GET", "/test/hold", [held](RequestPtr, Responder done) { held->add(done); }));
  Running s = start(test_config(), std::move(router));

  TestClient idle(as("demo-clinic"));  // an idle keep-alive connection is closed at once
  ASSERT_FALSE(idle.connect(s.port));
  EXPECT_EQ(idle.request("GET", "/healthz").status, 200);

  auto in_flight = std::async(std::launch::async, [port = s.port] {
    TestClient c(as("demo-hospital"));
    if (c.connect(port)) return Reply{};
    return c.request("GET", "/test/hold");
  });
  ASSERT_EQ(arrived.wait_for(20s), std::future_status::ready);

  s.server->stop();
  ASSERT_TRUE(s.server->wait_for_state(Server::State::kDraining, 20s));
  EXPECT_FALSE(s.server->ready());
  TestClient late(as("demo-clinic"));
  EXPECT_EQ(late.connect_tcp(s.port), boost::asio::error::connection_refused);
  EXPECT_TRUE(idle.wait_closed());
  EXPECT_NE(s.server->state(), Server::State::kStopped);  // still waiting for the in-flight request

  held->answer_all(Response::text(200, "done"));
  Reply r = in_flight.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "done");
  EXPECT_FALSE(r.keep_alive);
  s.server->wait();
  EXPECT_EQ(s.server->state(), Server::State::kStopped);
}

TEST(HttpServer, DrainDeadlineCancelsWhatIsLeft) {
  auto held = std::make_shared<Held>();
  auto arrived = held->arrived.get_future();
  Router router;
  ASSERT_TRUE(router.add_async("GET", "/test/hold", [held](RequestPtr, Responder done) { held->add(done); }));
  ServerConfig cfg = test_config();
  cfg.limits.drain = 100ms;
  Running s = start(cfg, std::move(router));
  auto in_flight = std::async(std::launch::async, [port = s.port] {
    TestClient c(as("demo-hospital"));
    if (c.connect(port)) return Reply{};
    return c.request("GET", "/test/hold");
  });
  ASSERT_EQ(arrived.wait_for(20s), std::future_status::ready);
  s.server->stop();
  s.server->wait();  // returns although the handler never answered
  EXPECT_EQ(s.server->state(), Server::State::kStopped);
  Reply r = in_flight.get();
  EXPECT_TRUE(r.ec);
  EXPECT_NE(r.ec, boost::beast::error::timeout);
  held->answer_all(Response::text(200, "too late"));  // harmless after the stop
}

TEST(HttpServer, SigtermStopsTheServer) {
  ServerConfig cfg = test_config();
  cfg.handle_signals = true;
  Running s = start(cfg);
  ASSERT_TRUE(s.server->ready());
  std::raise(SIGTERM);
  s.server->wait();
  EXPECT_EQ(s.server->state(), Server::State::kStopped);
}

TEST(HttpServer, PlainHttpOnlyWhenExplicitlyConfigured) {
  ServerConfig cfg = test_config();
  cfg.tls = {};
  EXPECT_FALSE(Server::create(cfg, {}));  // no TLS files and no plain opt-in: refused
  cfg.plain_http_for_local_tests = true;
  Running s = start(cfg);
  ClientOptions o;
  o.tls = false;
  TestClient c(o);
  ASSERT_FALSE(c.connect(s.port));
  EXPECT_EQ(c.request("GET", "/healthz").status, 200);
}

TEST(HttpServer, ReportsUnusableTlsFilesAtCreate) {
  ServerConfig cfg = test_config();
  cfg.tls.private_key_file = certs().good + "/demo-clinic.key";  // not the server certificate's key
  auto s = Server::create(cfg, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kIntegrity);
  cfg.tls.private_key_file = certs().good + "/missing.key";
  auto m = Server::create(cfg, {});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace gw::http
