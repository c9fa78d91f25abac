// Unit tests of the small parts: rate limiter (injected clock), Prometheus
// formatter and Metrics, response helpers, Responder, config parsing.
#include "gateway/http/http.hpp"

#include <gtest/gtest.h>

namespace gw::http {
namespace {

using namespace std::chrono_literals;

class FakeClock final : public SteadyClock {
 public:
  std::chrono::steady_clock::time_point now() const override { return t; }
  std::chrono::steady_clock::time_point t{std::chrono::steady_clock::time_point{} + 1h};
};

// --- rate limiter ---------------------------------------------------------------

TEST(RateLimiter, BurstThenRefillAtTheConfiguredRate) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 2, .burst = 3}, clock);
  EXPECT_TRUE(limiter.acquire("a").allowed);
  EXPECT_TRUE(limiter.acquire("a").allowed);
  EXPECT_TRUE(limiter.acquire("a").allowed);
  auto denied = limiter.acquire("a");
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after, 500ms);
  EXPECT_TRUE(limiter.acquire("b").allowed);  // separate bucket
  clock.t += 250ms;
  EXPECT_FALSE(limiter.acquire("a").allowed);  // half a token
  clock.t += 250ms;
  EXPECT_TRUE(limiter.acquire("a").allowed);
  EXPECT_FALSE(limiter.acquire("a").allowed);
  clock.t += 1h;  // refills only up to the burst
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.acquire("a").allowed);
  EXPECT_FALSE(limiter.acquire("a").allowed);
}

TEST(RateLimiter, DisabledAtZeroRate) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 0, .burst = 0}, clock);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.acquire("a").allowed);
  EXPECT_EQ(limiter.tracked_keys(), 0u);
}

TEST(RateLimiter, BoundsTrackedKeysByEvictingFullBuckets) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 1, .burst = 1, .max_keys = 2}, clock);
  EXPECT_TRUE(limiter.acquire("a").allowed);
  EXPECT_TRUE(limiter.acquire("b").allowed);
  clock.t += 2s;  // a and b are full again: forgetting them changes nothing
  EXPECT_TRUE(limiter.acquire("c").allowed);
  EXPECT_LE(limiter.tracked_keys(), 2u);
  EXPECT_FALSE(limiter.acquire("c").allowed);
}

// --- Prometheus -------------------------------------------------------------------

TEST(Prometheus, WritesFamiliesSamplesAndEscapedLabels) {
  PrometheusWriter w;
  w.family("x_total", "counter", "Help with \\ and\nnewline");
  w.sample("x_total", {{"route", "/a/{id}"}, {"odd", "q\"b\\n\nl"}}, std::uint64_t{7});
  w.sample("y", {}, 1.5);
  EXPECT_EQ(w.str(),
            "# HELP x_total Help with \\\\ and\\nnewline\n"
            "# TYPE x_total counter\n"
            "x_total{route=\"/a/{id}\",odd=\"q\\\"b\\\\n\\nl\"} 7\n"
            "y 1.5\n");
}

TEST(Prometheus, HistogramBucketsAreCumulative) {
  PrometheusWriter w;
  const std::array<double, 2> bounds = {0.1, 1};
  const std::array<std::uint64_t, 3> counts = {2, 3, 1};
  w.histogram("lat", {{"r", "x"}}, bounds, counts, 4.25);
  EXPECT_EQ(w.str(),
            "lat_bucket{r=\"x\",le=\"0.1\"} 2\n"
            "lat_bucket{r=\"x\",le=\"1\"} 5\n"
            "lat_bucket{r=\"x\",le=\"+Inf\"} 6\n"
            "lat_sum{r=\"x\"} 4.25\n"
            "lat_count{r=\"x\"} 6\n");
}

TEST(Metrics, RecordsByRouteStatusAndLatencyBucket) {
  Metrics m;
  const std::size_t s = m.add_series("GET", "/fhir/Bundle/{id}");
  m.record_request(s, 200, 0.003);
  m.record_request(s, 200, 0.2);
  m.record_request(s, 404, 0.0001);
  m.record_request(m.special_series("BREW", false), 404, 0.001);
  m.connection_opened();
  m.deadline_expired(Metrics::Phase::kHeader);
  m.bytes(10, 20);
  EXPECT_EQ(m.requests(s, 200), 2u);
  const std::string t = m.prometheus_text();
  EXPECT_NE(t.find("gw_http_requests_total{method=\"GET\",route=\"/fhir/Bundle/{id}\",code=\"200\"} 2\n"),
            std::string::npos);
  EXPECT_NE(t.find("gw_http_requests_total{method=\"OTHER\",route=\"unmatched\",code=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(t.find("gw_http_request_duration_seconds_bucket{method=\"GET\",route=\"/fhir/Bundle/{id}\",le=\"0.005\"} 2\n"),
            std::string::npos);
  EXPECT_NE(t.find("gw_http_request_duration_seconds_count{method=\"GET\",route=\"/fhir/Bundle/{id}\"} 3\n"),
            std::string::npos);
  EXPECT_NE(t.find("gw_http_connections_open 1\n"), std::string::npos);
  EXPECT_NE(t.find("gw_http_deadline_expired_total{phase=\"header\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("gw_http_received_bytes_total 10\n"), std::string::npos);
  EXPECT_NE(t.find("gw_http_sent_bytes_total 20\n"), std::string::npos);
  EXPECT_EQ(Metrics::method_label("BREW"), "OTHER");
}

// --- response helpers -----------------------------------------------------------------

TEST(Response, OperationOutcomeCarriesTypeAndDiagnostics) {
  Response r = Response::outcome(413, IssueType::kTooCostly, "too \"big\"");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.content_type, "application/fhir+json");
  auto doc = json::Document::parse(r.body);
  ASSERT_TRUE(doc);
  json::Value issue = doc->root().find("issue")[0];
  EXPECT_EQ(issue.find("severity").str(), "error");
  EXPECT_EQ(issue.find("code").str(), "too-costly");
  EXPECT_EQ(issue.find("diagnostics").str(), "too \"big\"");
}

TEST(Response, EtagAndHttpDate) {
  EXPECT_EQ(etag_for_version("3"), "W/\"3\"");
  const auto t = std::chrono::system_clock::from_time_t(784111777);  // 1994-11-06 08:49:37 UTC
  EXPECT_EQ(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), t);
  EXPECT_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
}

TEST(Response, ConditionalReads) {
  const auto modified = std::chrono::system_clock::from_time_t(784111777);
  Request r;
  r.headers = {{"if-none-match", "W/\"2\", W/\"3\""}};
  EXPECT_TRUE(not_modified(r, "W/\"3\"", modified));
  EXPECT_FALSE(not_modified(r, "W/\"4\"", modified));
  r.headers = {{"if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT"}};
  EXPECT_TRUE(not_modified(r, "W/\"4\"", modified));
  EXPECT_FALSE(not_modified(r, "W/\"4\"", modified + 1s));
  r.headers = {};
  EXPECT_FALSE(not_modified(r, "W/\"4\"", modified));
  EXPECT_EQ(Response::not_modified().status, 304);
}

TEST(Response, ApplyPrefer) {
  Request r;
  r.prefer = PreferReturn::kMinimal;
  Response created = Response::fhir_json(201, "{\"resourceType\":\"Bundle\"}");
  apply_prefer(r, created);
  EXPECT_TRUE(created.body.empty());
  r.prefer = PreferReturn::kOperationOutcome;
  Response oo = Response::fhir_json(201, "{\"resourceType\":\"Bundle\"}");
  apply_prefer(r, oo);
  EXPECT_NE(oo.body.find("OperationOutcome"), std::string::npos);
  r.prefer = PreferReturn::kRepresentation;
  Response rep = Response::fhir_json(201, "{}");
  apply_prefer(r, rep);
  EXPECT_EQ(rep.body, "{}");
}

TEST(Responder, FirstCallWinsAndAForgottenOneAnswers500) {
  std::vector<int> seen;
  {
    Responder r([&](Response x) { seen.push_back(x.status); });
    Responder copy = r;
    EXPECT_TRUE(r.pending());
    copy(Response::text(201, ""));
    r(Response::text(202, ""));
    EXPECT_FALSE(r.pending());
  }
  { Responder forgotten([&](Response x) { seen.push_back(x.status); }); }
  EXPECT_EQ(seen, (std::vector<int>{201, 500}));
}

// --- config ------------------------------------------------------------------------------

Result<ServerConfig> parse(std::string text) {
  auto doc = json::Document::parse(std::move(text));
  EXPECT_TRUE(doc);
  return parse_server_config(doc->root());
}

TEST(Config, ReadsTheServerSectionsAndIgnoresOtherModulesKeys) {
  auto c = parse(R"({"server":{"listen":"127.0.0.1:0","io_threads":3,"log_level":"warn"},
    "tls":{"cert":"s.crt","key":"s.key","client_ca":"ca.crt"},
    "limits":{"body_bytes":1000,"read_header_ms":250,"rate_per_second":2.5,"rate_burst":5},
    "recipients":[{"id":"demo-hospital","kind":"hospital","endpoint":"https://127.0.0.1:1/fhir",
                   "operations":["submit"]}],
    "consentPolicy":"belongs to consent"})");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->listen, "127.0.0.1:0");
  EXPECT_EQ(c->io_threads, 3u);
  EXPECT_EQ(c->log_level, LogLevel::kWarn);
  EXPECT_EQ(c->tls.cert_chain_file, "s.crt");
  EXPECT_TRUE(c->tls.require_client_cert);
  EXPECT_EQ(c->limits.body_bytes, 1000u);
  EXPECT_EQ(c->limits.read_header, 250ms);
  EXPECT_EQ(c->limits.rate.per_second, 2.5);
  EXPECT_EQ(c->limits.write, Limits{}.write);  // default kept
  ASSERT_EQ(c->clients.size(), 1u);
  EXPECT_EQ(c->clients[0], (ClientEntry{"demo-hospital", "hospital"}));
}

TEST(Config, NamesTheOffendingKey) {
  auto typo = parse(R"({"limits":{"body_byte":1},"tls":{"cert":"a","key":"b","client_ca":"c"}})");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message().find("limits.body_byte"), std::string::npos);
  auto type = parse(R"({"server":{"io_threads":"two"}})");
  ASSERT_FALSE(type);
  EXPECT_NE(type.error().message().find("server.io_threads"), std::string::npos);
  auto notls = parse(R"({"server":{"listen":"127.0.0.1:1"}})");
  ASSERT_FALSE(notls);
  EXPECT_NE(notls.error().message().find("tls.cert"), std::string::npos);
  auto plain = parse(R"({"server":{"plain_http_for_local_tests":true}})");
  EXPECT_TRUE(plain);
  auto listen = parse(R"({"server":{"plain_http_for_local_tests":true,"listen":"::1:80"}})");
  ASSERT_FALSE(listen);
  auto dup = parse(R"({"server":{"plain_http_for_local_tests":true},"recipients":[{"id":"a"},{"id":"a"}]})");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), ErrorCode::kInvalidArgument);
  // The old separate client list would silently diverge from the
  // registrations consent and delivery read; it is refused by name.
  auto old = parse(R"({"server":{"plain_http_for_local_tests":true},"clients":[{"id":"a"}]})");
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message().find("clients"), std::string::npos);
}

TEST(Config, TheDemoConfigLoads) {
  auto c = load_server_config(std::string(GW_SOURCE_DIR) + "/config/demo.json");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->listen, "127.0.0.1:8443");
  EXPECT_FALSE(c->plain_http_for_local_tests);
  ASSERT_EQ(c->clients.size(), 3u);
  EXPECT_EQ(c->clients[1], (ClientEntry{"demo-clinic", "community-clinic"}));
}

}  // namespace
}  // namespace gw::http
