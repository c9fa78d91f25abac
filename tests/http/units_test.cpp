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
  ASSERT_EQ(c->clients.size(), 4u);
  EXPECT_EQ(c->clients[1], (ClientEntry{"demo-clinic", "community-clinic"}));
  EXPECT_EQ(c->clients[3], (ClientEntry{"demo-ops", "operator"}));  // the dashboard's operator
}


// --- de-identified continuity metrics (issue #10) ------------------------------

using store::ContinuityCount;
using store::ContinuityFact;
using store::DeliveredCount;

Cell bucket_of(const ContinuityReport& r, std::string_view name) {
  for (const auto& [b, c] : r.follow_up) {
    if (b == name) return c;
  }
  ADD_FAILURE() << "no bucket " << name;
  return {};
}

TEST(Deidentify, FewerThanKHandoffsShowNothingThatSinglesSomeoneOut) {
  // Three handoffs in all, k = 5: one patient with an interpreter need and
  // a follow-up within a week would be recognisable by anyone who knows
  // the clinic. Nothing but zeros and "<k" may come out.
  const std::vector<ContinuityCount> counts = {{ContinuityFact{"0-7d", true, true}, 1},
                                               {ContinuityFact{"none", false, false}, 2}};
  const std::vector<DeliveredCount> delivered = {{"demo-ngo", 1}, {"demo-clinic", 2}};
  const ContinuityReport r = deidentify(counts, delivered, 5);
  EXPECT_EQ(r.min_cell_size, 5);
  EXPECT_EQ(r.handoffs, (Cell{0, true}));
  EXPECT_EQ(r.immunizations, (Cell{0, true}));
  EXPECT_EQ(r.interpreter, (Cell{0, true}));
  EXPECT_FALSE(r.immunization_share.has_value());
  EXPECT_FALSE(r.interpreter_share.has_value());
  for (const auto& [bucket, c] : r.follow_up) {
    EXPECT_EQ(c.count, 0) << bucket;  // suppressed or a true zero
  }
  EXPECT_TRUE(bucket_of(r, "0-7d").suppressed);
  EXPECT_TRUE(bucket_of(r, "none").suppressed);
  EXPECT_EQ(bucket_of(r, "31-90d"), (Cell{0, false}));
  ASSERT_EQ(r.delivered.size(), 2u);
  for (const auto& [recipient, c] : r.delivered) EXPECT_EQ(c, (Cell{0, true})) << recipient;

  // And /metrics leaves every suppressed family empty.
  ContinuityMetrics m([&]() -> Result<ContinuityReport> { return deidentify(counts, delivered, 5); }, 5);
  PrometheusWriter w;
  m.write(w);
  const std::string text = w.str();
  EXPECT_EQ(text.find("\ngw_continuity_handoffs "), std::string::npos) << text;
  EXPECT_EQ(text.find("bucket=\"0-7d\""), std::string::npos) << text;
  EXPECT_EQ(text.find("gw_continuity_share{"), std::string::npos) << text;
  EXPECT_EQ(text.find("recipient=\""), std::string::npos) << text;
  EXPECT_NE(text.find("gw_continuity_min_cell_size 5"), std::string::npos) << text;
  EXPECT_NE(text.find("gw_continuity_up 1"), std::string::npos) << text;
}

TEST(Deidentify, CellsAtOrAboveKAreShownWithComplementarySuppression) {
  // 20 handoffs: 12 within a week, 6 without follow-up, 2 after 8-14 days.
  // The 2 is suppressed; with the total shown it would be 20 - 12 - 6, so
  // the smallest other non-zero bucket (6) is hidden too.
  const std::vector<ContinuityCount> counts = {{ContinuityFact{"0-7d", true, true}, 6},
                                               {ContinuityFact{"0-7d", true, false}, 6},
                                               {ContinuityFact{"none", false, true}, 6},
                                               {ContinuityFact{"8-14d", true, false}, 2}};
  const ContinuityReport r = deidentify(counts, std::vector<DeliveredCount>{{"demo-clinic", 7}}, 5);
  EXPECT_EQ(r.handoffs, (Cell{20, false}));
  EXPECT_EQ(bucket_of(r, "0-7d"), (Cell{12, false}));
  EXPECT_EQ(bucket_of(r, "8-14d"), (Cell{0, true}));
  EXPECT_EQ(bucket_of(r, "none"), (Cell{0, true}));  // complementary
  // 14 with immunizations, 6 without: both >= k, so the share is given.
  EXPECT_EQ(r.immunizations, (Cell{14, false}));
  ASSERT_TRUE(r.immunization_share.has_value());
  EXPECT_DOUBLE_EQ(*r.immunization_share, 0.7);
  // 12 need an interpreter, 8 do not.
  EXPECT_EQ(r.interpreter, (Cell{12, false}));
  ASSERT_TRUE(r.interpreter_share.has_value());
  EXPECT_DOUBLE_EQ(*r.interpreter_share, 0.6);
  EXPECT_EQ(r.delivered, (std::vector<std::pair<std::string, Cell>>{{"demo-clinic", Cell{7, false}}}));
}

TEST(Deidentify, AllButOneIsSuppressedLikeOne) {
  // 9 of 10 handoffs carry immunizations: the one without is as exposed as
  // a cell of one, so neither the count nor the share is published.
  const std::vector<ContinuityCount> counts = {{ContinuityFact{"0-7d", true, false}, 9},
                                               {ContinuityFact{"0-7d", false, false}, 1}};
  const ContinuityReport r = deidentify(counts, {}, 5);
  EXPECT_EQ(r.handoffs, (Cell{10, false}));
  EXPECT_EQ(r.immunizations, (Cell{0, true}));
  EXPECT_FALSE(r.immunization_share.has_value());
  EXPECT_EQ(r.interpreter, (Cell{0, false}));  // a true zero: nobody singled out
  EXPECT_FALSE(r.interpreter_share.has_value());
  // k below 2 would publish ones: it is raised to 2.
  EXPECT_EQ(deidentify(counts, {}, 1).min_cell_size, 2);
}

TEST(Deidentify, ContinuityMetricsPublishShownCells) {
  const std::vector<ContinuityCount> counts = {{ContinuityFact{"15-30d", true, true}, 5},
                                               {ContinuityFact{"0-7d", false, false}, 5}};
  ContinuityMetrics m([&]() -> Result<ContinuityReport> { return deidentify(counts, {}, 5); }, 5);
  PrometheusWriter w;
  m.write(w);
  const std::string text = w.str();
  EXPECT_NE(text.find("gw_continuity_handoffs 10"), std::string::npos) << text;
  EXPECT_NE(text.find("gw_continuity_follow_up_handoffs{bucket=\"15-30d\"} 5"), std::string::npos) << text;
  EXPECT_NE(text.find("gw_continuity_share{fact=\"immunizations\"} 0.5"), std::string::npos) << text;
  // A store that cannot be read shows up as down, with no figures.
  ContinuityMetrics broken([]() -> Result<ContinuityReport> { return fail(ErrorCode::kIo, "down"); }, 5);
  PrometheusWriter b;
  broken.write(b);
  EXPECT_NE(b.str().find("gw_continuity_up 0"), std::string::npos) << b.str();
  EXPECT_EQ(b.str().find("\ngw_continuity_handoffs "), std::string::npos) << b.str();
}

TEST(DeliveryLatency, QuantileIsTheUpperBoundOfItsBucket) {
  DeliveryLatency l{"demo-clinic", {1, 5, 30}, {0, 0, 0, 0}, 0};
  EXPECT_FALSE(quantile_bound(l, 0.5).has_value());  // nothing delivered
  l.buckets = {5, 4, 1, 0};
  EXPECT_EQ(quantile_bound(l, 0.5), 1.0);
  EXPECT_EQ(quantile_bound(l, 0.9), 5.0);
  EXPECT_EQ(quantile_bound(l, 1.0), 30.0);
  l.buckets = {0, 0, 0, 3};
  EXPECT_FALSE(quantile_bound(l, 0.5).has_value());  // above every bound
  DeliveryLatencyMetrics m([] {
    DeliveryLatency l{"demo-clinic", {1, 5}, {2, 1, 0}, 3.5, {}};
    l.outcomes = {7, 3, 3, 1, 2, 0};
    return std::vector<DeliveryLatency>{l, DeliveryLatency{"other-clinic", {1, 5}, {0, 0, 0}, 0, {}}};
  });
  PrometheusWriter w;
  m.write(w);
  // The outcomes, as counters per recipient (every family declared once,
  // its samples together).
  for (const char* line : {"# TYPE gw_delivery_attempts_total counter\n"
                           "gw_delivery_attempts_total{recipient=\"demo-clinic\"} 7\n"
                           "gw_delivery_attempts_total{recipient=\"other-clinic\"} 0\n",
                           "gw_delivery_outcomes_total{recipient=\"demo-clinic\",outcome=\"delivered\"} 3\n",
                           "gw_delivery_outcomes_total{recipient=\"demo-clinic\",outcome=\"retried\"} 3\n",
                           "gw_delivery_outcomes_total{recipient=\"demo-clinic\",outcome=\"dead_lettered\"} 1\n",
                           "gw_delivery_store_errors_total{recipient=\"demo-clinic\"} 2\n",
                           "gw_delivery_worker_failures_total{recipient=\"other-clinic\"} 0\n"}) {
    EXPECT_NE(w.str().find(line), std::string::npos) << line << "\n" << w.str();
  }
  EXPECT_EQ(w.str().find("# TYPE gw_delivery_outcomes_total"), w.str().rfind("# TYPE gw_delivery_outcomes_total"));
  EXPECT_NE(w.str().find("gw_delivery_latency_seconds_bucket{recipient=\"demo-clinic\",le=\"5\"} 3"),
            std::string::npos)
      << w.str();
  EXPECT_NE(w.str().find("gw_delivery_latency_seconds_count{recipient=\"demo-clinic\"} 3"), std::string::npos)
      << w.str();
}

TEST(OpsConfig, ParsesOperatorsAndRefusesUnsafeCellSizes) {
  auto parse = [](std::string text) {
    auto d = json::Document::parse(std::move(text));
    EXPECT_TRUE(d);
    return parse_ops_config(d->root());
  };
  auto none = parse("{}");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->operators.empty());  // nobody is an operator by default
  EXPECT_EQ(none->min_cell_size, 5);
  auto ok = parse(R"({"ops": {"operators": ["demo-ops"], "min_cell_size": 11}})");
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(*ok, (OpsConfig{{"demo-ops"}, 11}));
  for (std::string bad : {R"({"ops": {"min_cell_size": 1}})", R"({"ops": {"min_cell_size": 2.5}})",
                          R"({"ops": {"operators": "demo-ops"}})", R"({"ops": {"operater": []}})"}) {
    auto r = parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
  auto demo = load_ops_config(std::string(GW_SOURCE_DIR) + "/config/demo.json");
  ASSERT_TRUE(demo) << demo.error().to_string();
  EXPECT_EQ(demo->operators, std::vector<std::string>{"demo-ops"});
}

class TestClock final : public gw::Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return now_; }
  std::chrono::system_clock::time_point now_{std::chrono::hours(24 * 365 * 56)};
};

TEST(ExchangeMetrics, RecentIssuesAreTheLastHoursAndBounded) {
  auto clock = std::make_shared<TestClock>();
  ExchangeMetrics m(clock);
  const std::string outcome =
      R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invariant","diagnostics":"ips-pat-1: x"},)"
      R"({"severity":"error","code":"required"}]})";
  m.record_outcome(outcome);
  clock->now_ += 2h;
  m.record_outcome(outcome);
  m.record_outcome(R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"required"}]})");
  auto snap = m.snapshot(1h);
  using Key = std::pair<std::string, std::string>;
  EXPECT_EQ(snap.issues.at(Key{"ips-pat-1", "error"}), 2u);
  EXPECT_EQ(snap.issues.at(Key{"required", "error"}), 3u);
  EXPECT_EQ(snap.recent_issues.at(Key{"ips-pat-1", "error"}), 1u);  // the first one is two hours old
  EXPECT_EQ(snap.recent_issues.at(Key{"required", "error"}), 2u);
  // Memory is bounded: only the last kRecentIssues are remembered.
  for (std::size_t i = 0; i < ExchangeMetrics::kRecentIssues; ++i) {
    m.record_outcome(R"({"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"value"}]})");
  }
  snap = m.snapshot(1h);
  EXPECT_EQ(snap.recent_issues.count(Key{"required", "error"}), 0u);
  EXPECT_EQ(snap.recent_issues.at(Key{"value", "warning"}), ExchangeMetrics::kRecentIssues);
  EXPECT_EQ(snap.issues.at(Key{"required", "error"}), 3u);  // the totals stay
}

TEST(ExchangeMetrics, CountsRedactionsByCategoryWithBoundedLabels) {
  ExchangeMetrics m;
  m.record_redactions({{"immigration-status", 2}, {"(free-text)", 1}});
  m.record_redactions({{"immigration-status", 1}, {"bad label\"", 4}});
  auto snap = m.snapshot();
  EXPECT_EQ(snap.redactions, (std::map<std::string, std::uint64_t>{
                                 {"(free-text)", 1}, {"immigration-status", 3}, {"other", 4}}));
  PrometheusWriter w;
  m.write(w);
  EXPECT_NE(w.str().find("gw_redactions_total{category=\"immigration-status\"} 3"), std::string::npos) << w.str();
}

}  // namespace
}  // namespace gw::http
