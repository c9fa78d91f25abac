// Unit tests of forward's pure parts: URL parsing, configuration, the
// backoff policy (with a scripted random source) and the status verdicts.
#include "gateway/forward/forward.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <set>

namespace gw::forward {
namespace {

using namespace std::chrono_literals;

// Returns scripted numbers, then repeats the last one.
class ScriptedRandom final : public Random {
 public:
  explicit ScriptedRandom(std::deque<std::uint64_t> v) : values_(std::move(v)) {}
  std::uint64_t next() override {
    const std::uint64_t v = values_.front();
    if (values_.size() > 1) values_.pop_front();
    return v;
  }

 private:
  std::deque<std::uint64_t> values_;
};

TEST(ParseUrl, SplitsSchemeHostPortAndTarget) {
  auto u = parse_url("https://clinic.example.org:8443/fhir/Bundle?x=1");
  ASSERT_TRUE(u) << u.error().to_string();
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "clinic.example.org");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/fhir/Bundle?x=1");

  auto plain = parse_url("http://127.0.0.1");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->target, "/");

  auto v6 = parse_url("https://[::1]:9443/fhir");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9443);
}

TEST(ParseUrl, RejectsWhatDeliveryCannotUse) {
  for (std::string_view bad : {"ftp://x/", "https://", "https://:443/", "https://user@host/", "https://h:0/",
                               "https://h:70000/", "https://h:12x/", "https://h/a b", "https://[::1/"}) {
    EXPECT_FALSE(parse_url(bad)) << bad;
  }
}

constexpr std::string_view kConfig = R"({
  "server": {"listen": "127.0.0.1:8443"},
  "recipients": [
    {"id": "a", "organization": "A", "kind": "hospital", "endpoint": "https://a.example/fhir", "operations": ["receive"]},
    {"id": "b", "organization": "B", "kind": "ngo", "endpoint": "http://127.0.0.1:8402/fhir", "operations": ["receive", "pull"]},
    {"id": "c", "organization": "C", "kind": "ngo", "endpoint": "https://c.example/fhir", "operations": ["submit"]}
  ],
  "forward": {
    "client_tls": {"cert": "certs/gw.crt", "key": "certs/gw.key", "ca": "/etc/ca.crt"},
    "retry": {"base_ms": 100, "cap_ms": 5000, "max_attempts": 4},
    "deadlines": {"connect_ms": 1000, "handshake_ms": 1000, "write_ms": 1000, "read_ms": 2000},
    "poll_ms": 250, "lease_ms": 30000, "batch": 4,
    "recipients": {"b": {"plain_http_for_local_tests": true, "concurrency": 3}}
  }
})";

TEST(ForwardConfig, ReadsRecipientsThatReceiveAndTheForwardMember) {
  auto c = parse_forward_config(kConfig);
  ASSERT_TRUE(c) << c.error().to_string();
  ASSERT_EQ(c->recipients.size(), 2u);  // "c" only submits
  EXPECT_EQ(c->recipients[0].id, "a");
  EXPECT_FALSE(c->recipients[0].plain_http_for_local_tests);
  EXPECT_EQ(c->recipients[0].concurrency, 2u);
  EXPECT_EQ(c->recipients[1].id, "b");
  EXPECT_TRUE(c->recipients[1].plain_http_for_local_tests);
  EXPECT_EQ(c->recipients[1].concurrency, 3u);
  EXPECT_EQ(c->tls.cert_file, "certs/gw.crt");
  EXPECT_EQ(c->tls.ca_file, "/etc/ca.crt");
  EXPECT_EQ(c->retry, (RetryPolicy{100ms, 5000ms, 4}));
  EXPECT_EQ(c->deadlines.read, 2000ms);
  EXPECT_EQ(c->poll, 250ms);
  EXPECT_EQ(c->lease, 30000ms);
  EXPECT_EQ(c->batch, 4u);
}

TEST(ForwardConfig, PlainHttpNeedsTheExplicitFlag) {
  std::string text(kConfig);
  text.replace(text.find(R"("plain_http_for_local_tests": true, )"), 36, "");
  auto c = parse_forward_config(text);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(c.error().location(), "recipients[1].endpoint");
}

TEST(ForwardConfig, RejectsUnknownKeysAndUnknownRecipientsWithALocation) {
  auto unknown = parse_forward_config(R"({"forward": {"retry": {"base": 1}}})");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().location(), "forward.retry.base");

  auto stranger = parse_forward_config(R"({"forward": {"recipients": {"zz": {"concurrency": 1}}}})");
  ASSERT_FALSE(stranger);
  EXPECT_EQ(stranger.error().location(), "forward.recipients.zz");

  auto zero = parse_forward_config(R"({"forward": {"retry": {"max_attempts": 0}}})");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().location(), "forward.retry.max_attempts");

  auto short_lease = parse_forward_config(R"({"forward": {"lease_ms": 1000}})");
  ASSERT_FALSE(short_lease);
  EXPECT_EQ(short_lease.error().location(), "forward.lease_ms");
}

TEST(ForwardConfig, TheDemoConfigurationLoads) {
  auto c = load_forward_config(std::string(GW_SOURCE_DIR) + "/config/demo.json");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_FALSE(c->recipients.empty());
}

TEST(Backoff, FullJitterStaysUnderTheDoublingCeilingAndTheCap) {
  const RetryPolicy p{100ms, 1000ms, 10};
  // The largest random value maps to the ceiling itself.
  ScriptedRandom top({~0ULL});
  // ceiling+1 divides 2^64-1 only by accident; compute the expectation.
  auto expect_top = [](std::uint64_t ceiling) { return Millis(static_cast<Millis::rep>(~0ULL % (ceiling + 1))); };
  EXPECT_EQ(backoff_delay(p, 1, top), expect_top(100));
  EXPECT_EQ(backoff_delay(p, 2, top), expect_top(200));
  EXPECT_EQ(backoff_delay(p, 4, top), expect_top(800));
  EXPECT_EQ(backoff_delay(p, 5, top), expect_top(1000));    // capped
  EXPECT_EQ(backoff_delay(p, 500, top), expect_top(1000));  // no overflow

  ScriptedRandom exact({0, 150, 199, 200, 402});
  EXPECT_EQ(backoff_delay(p, 2, exact), 0ms);
  EXPECT_EQ(backoff_delay(p, 2, exact), 150ms);
  EXPECT_EQ(backoff_delay(p, 2, exact), 199ms);
  EXPECT_EQ(backoff_delay(p, 2, exact), 200ms);
  EXPECT_EQ(backoff_delay(p, 2, exact), 0ms);  // 402 % 201
}

TEST(Backoff, SystemRandomSpreadsDelays) {
  auto r = make_system_random();
  const RetryPolicy p{1000ms, 1000ms, 10};
  std::set<Millis::rep> seen;
  for (int i = 0; i < 64; ++i) {
    const Millis d = backoff_delay(p, 1, *r);
    ASSERT_GE(d.count(), 0);
    ASSERT_LE(d.count(), 1000);
    seen.insert(d.count());
  }
  EXPECT_GT(seen.size(), 8u);
}

TEST(RetryAfter, SecondsAndHttpDatesBecomeDelaysAndJunkIsIgnored) {
  // 1994-11-06T08:49:37Z, the RFC's example date.
  const auto when = std::chrono::system_clock::time_point(std::chrono::seconds(784111777));
  EXPECT_EQ(parse_retry_after("120", when), Millis(120000));
  EXPECT_EQ(parse_retry_after(" 0 ", when), Millis(0));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", when - 90s), Millis(90000));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", when + 5s), Millis(0));  // past: now
  EXPECT_EQ(parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", std::chrono::system_clock::time_point()), 10000ms);
  EXPECT_EQ(parse_retry_after("Tue, 29 Feb 2028 00:00:00 GMT", std::chrono::system_clock::time_point()),
            Millis(std::int64_t{1835395200} * 1000));
  EXPECT_FALSE(parse_retry_after("", when));
  EXPECT_FALSE(parse_retry_after("-5", when));
  EXPECT_FALSE(parse_retry_after("1.5", when));
  EXPECT_FALSE(parse_retry_after("soon", when));
  EXPECT_FALSE(parse_retry_after("Sun, 06 Nov 1994 08:49:37 UTC", when));
  EXPECT_FALSE(parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", when));
  EXPECT_FALSE(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", when));  // obsolete RFC 850 form
}

TEST(RetryAfter, TheClinicsWishDefersTheRetryWithinTheCap) {
  const RetryPolicy p{100ms, 60000ms, 10};
  ScriptedRandom zero({0});
  EXPECT_EQ(retry_delay(p, 1, zero, std::nullopt), 0ms);   // plain backoff
  EXPECT_EQ(retry_delay(p, 1, zero, 30000ms), 30000ms);    // not before the clinic asked
  EXPECT_EQ(retry_delay(p, 1, zero, 3600000ms), 60000ms);  // bounded by the cap
  ScriptedRandom top({~0ULL});
  const Millis backoff = backoff_delay(p, 3, top);
  ScriptedRandom top2({~0ULL});
  EXPECT_EQ(retry_delay(p, 3, top2, 1ms), std::max(backoff, 1ms));  // a short wish keeps the backoff
}

TEST(Classify, TwoHundredsDeliverServerErrorsRetryRefusalsDie) {
  EXPECT_EQ(classify(200), Verdict::kDelivered);
  EXPECT_EQ(classify(201), Verdict::kDelivered);
  EXPECT_EQ(classify(0), Verdict::kRetry);
  EXPECT_EQ(classify(500), Verdict::kRetry);
  EXPECT_EQ(classify(503), Verdict::kRetry);
  EXPECT_EQ(classify(408), Verdict::kRetry);
  EXPECT_EQ(classify(429), Verdict::kRetry);
  EXPECT_EQ(classify(400), Verdict::kDeadLetter);
  EXPECT_EQ(classify(404), Verdict::kDeadLetter);
  EXPECT_EQ(classify(422), Verdict::kDeadLetter);
  EXPECT_EQ(classify(301), Verdict::kDeadLetter);
}

TEST(SimMode, NamesRoundTrip) {
  for (SimMode m : {SimMode::kOk, SimMode::kFail, SimMode::kFlaky, SimMode::kHang, SimMode::kDown, SimMode::kReject,
                    SimMode::kBusy, SimMode::kThrottle}) {
    EXPECT_EQ(parse_sim_mode(to_string(m)), m);
  }
  EXPECT_FALSE(parse_sim_mode("sometimes"));
}

}  // namespace
}  // namespace gw::forward
