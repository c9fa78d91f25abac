// Unit tests of the SMART Backend Services pieces: base64url, ECDSA
// signature forms, JWK parsing into OpenSSL keys, RS384/ES384 checks,
// scopes, the `smart` config section, and the domain metrics' label rules.
// Keys are generated at run time; the server-level flow is tested in
// exchange_routes_test.cpp.
#include "gateway/http/detail/jose.hpp"
#include "gateway/http/detail/smart.hpp"
#include "gateway/http/http.hpp"

#include "tests/http/jose_test_keys.hpp"

#include <gtest/gtest.h>

namespace gw::http {
namespace {

using detail::base64url_decode;
using detail::base64url_encode;

json::Document parse(std::string text) {
  auto d = json::Document::parse(std::move(text));
  EXPECT_TRUE(d) << d.error().to_string();
  return std::move(*d);
}

const testing::TestKey& ec_key() {
  static const testing::TestKey k = testing::make_ec_key("ec-1");
  return k;
}
const testing::TestKey& rsa_key() {
  static const testing::TestKey k = testing::make_rsa_key("rsa-1");
  return k;
}

TEST(Base64Url, Rfc4648VectorsWithoutPadding) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(base64url_encode(plain), encoded);
    EXPECT_EQ(base64url_decode(encoded), std::string(plain));
  }
  EXPECT_EQ(base64url_encode(std::string_view("\xfb\xff", 2)), "-_8");  // the URL-safe letters
  EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff", 2));
}

TEST(Base64Url, RefusesPaddingOtherAlphabetsAndNonCanonicalText) {
  EXPECT_FALSE(base64url_decode("Zg=="));
  EXPECT_FALSE(base64url_decode("a+b/"));
  EXPECT_FALSE(base64url_decode("Z"));   // one symbol cannot end a group
  EXPECT_FALSE(base64url_decode("Zh"));  // trailing bits set: a second spelling of "f"
}

TEST(Ecdsa, RawAndDerFormsOfAFixedSignature) {
  // r = 1, s = 0x80 followed by 47 zero bytes: s needs a leading 0x00 in DER.
  std::string raw(96, '\0');
  raw[47] = '\x01';
  raw[48] = '\x80';
  std::string der("\x30\x36\x02\x01\x01\x02\x31\x00\x80", 9);
  der.append(47, '\0');
  EXPECT_EQ(detail::ecdsa_raw_to_der(raw), der);
  EXPECT_EQ(detail::ecdsa_der_to_raw(der), raw);
  EXPECT_FALSE(detail::ecdsa_raw_to_der(raw.substr(0, 95)));        // wrong length
  EXPECT_FALSE(detail::ecdsa_der_to_raw(der.substr(0, der.size() - 1)));  // truncated DER
  EXPECT_FALSE(detail::ecdsa_der_to_raw(der + "x"));                // trailing bytes
}

TEST(Jwk, EcAndRsaKeysVerifyTheirOwnSignaturesOnly) {
  auto ec = detail::parse_jwk(parse(testing::public_jwk(ec_key())).root());
  ASSERT_TRUE(ec) << ec.error().to_string();
  EXPECT_EQ(ec->alg, detail::JwsAlg::kEs384);
  EXPECT_EQ(ec->kid, "ec-1");
  auto rsa = detail::parse_jwk(parse(testing::public_jwk(rsa_key())).root());
  ASSERT_TRUE(rsa) << rsa.error().to_string();
  EXPECT_EQ(rsa->alg, detail::JwsAlg::kRs384);

  const std::string input = "header.payload";
  const std::string ec_sig = testing::sign(ec_key(), input);
  const std::string rsa_sig = testing::sign(rsa_key(), input);
  ASSERT_EQ(ec_sig.size(), 96u);
  EXPECT_TRUE(detail::verify_signature(*ec, input, ec_sig));
  EXPECT_TRUE(detail::verify_signature(*rsa, input, rsa_sig));
  EXPECT_FALSE(detail::verify_signature(*ec, "header.payloaD", ec_sig));
  EXPECT_FALSE(detail::verify_signature(*rsa, "header.payloaD", rsa_sig));
  EXPECT_FALSE(detail::verify_signature(*ec, input, rsa_sig));
  std::string flipped = ec_sig;
  flipped[10] = static_cast<char>(flipped[10] ^ 1);
  EXPECT_FALSE(detail::verify_signature(*ec, input, flipped));
  // A DER signature is not a JWS ES384 signature.
  EXPECT_FALSE(detail::verify_signature(*ec, input, *detail::ecdsa_raw_to_der(ec_sig)));
}

TEST(Jwk, RefusesKeysThatCannotBeTrusted) {
  auto err = [](std::string jwk) {
    auto k = detail::parse_jwk(parse(std::move(jwk)).root());
    return k ? ErrorCode::kOk : k.error().code();
  };
  const std::string good = testing::public_jwk(ec_key());
  auto with = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  // P-256 is known (handoff signatures, gw::signing) but x, y of P-384 do not fit it.
  EXPECT_EQ(err(with(R"("crv":"P-384")", R"("crv":"P-521")")), ErrorCode::kUnsupported);
  EXPECT_EQ(err(with(R"("crv":"P-384")", R"("crv":"P-256")")), ErrorCode::kParse);
  EXPECT_EQ(err(with(R"("kid":"ec-1")", R"("kid":"")")), ErrorCode::kParse);
  EXPECT_EQ(err(with(R"("alg":"ES384")", R"("alg":"RS384")")), ErrorCode::kParse);
  EXPECT_EQ(err(with(R"("use":"sig")", R"("use":"enc")")), ErrorCode::kParse);
  // x and y of another key: a point that is (almost surely) not on the curve.
  const std::string other = testing::public_jwk(testing::make_ec_key("ec-2"));
  const auto y_at = other.find(R"("y":")");
  std::string off_curve = good.substr(0, good.find(R"("y":")")) + other.substr(y_at);
  EXPECT_EQ(err(off_curve), ErrorCode::kParse);
  EXPECT_EQ(err(R"({"kty":"EC","crv":"P-384","kid":"k","x":"AAAA","y":"AAAA"})"), ErrorCode::kParse);
  EXPECT_EQ(err(testing::public_jwk(testing::make_rsa_key("short", 1024))), ErrorCode::kParse);
  EXPECT_EQ(err(R"({"kty":"oct","kid":"k","k":"c2VjcmV0"})"), ErrorCode::kUnsupported);

  // A set skips key types we do not use, and refuses a repeated kid.
  auto set = detail::parse_jwks(
      parse(R"({"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"},)" + good + "]}").root());
  ASSERT_TRUE(set) << set.error().to_string();
  EXPECT_EQ(set->size(), 1u);
  EXPECT_FALSE(detail::parse_jwks(parse(R"({"keys":[)" + good + "," + good + "]}").root()));
  EXPECT_FALSE(detail::parse_jwks(parse(R"({"key":[]})").root()));
}

TEST(Jws, SplitsThreePartsOnly) {
  auto jws = detail::split_jws(testing::make_jws(ec_key(), R"({"iss":"x"})"));
  ASSERT_TRUE(jws);
  EXPECT_EQ(jws->payload_json, R"({"iss":"x"})");
  EXPECT_NE(jws->header_json.find("ES384"), std::string::npos);
  EXPECT_FALSE(detail::split_jws("a.b"));
  EXPECT_FALSE(detail::split_jws("a.b.c.d"));
  EXPECT_FALSE(detail::split_jws("a.b=.c"));
}

TEST(Scopes, V1AndV2FormsAndCoverage) {
  using detail::parse_smart_scope;
  auto bits = [](std::string_view s) { return parse_smart_scope(s) ? parse_smart_scope(s)->permissions : 0xFF; };
  EXPECT_EQ(bits("system/Bundle.read"), bits("system/Bundle.rs"));
  EXPECT_EQ(bits("system/Bundle.write"), bits("system/Bundle.cud"));
  EXPECT_EQ(bits("system/Bundle.*"), bits("system/Bundle.cruds"));
  EXPECT_EQ(parse_smart_scope("system/*.rs")->resource_type, "*");
  for (std::string_view bad : {"patient/Bundle.read", "user/Bundle.rs", "system/Bundle.sr", "system/Bundle.cc",
                               "system/bundle.r", "system/Bundle.rs?category=x", "system/Bundle.", "system/.rs",
                               "launch", "openid"}) {
    EXPECT_FALSE(parse_smart_scope(bad)) << bad;
  }
  const auto have = *parse_smart_scope("system/Bundle.write");
  EXPECT_TRUE(detail::scope_covers(have, *parse_smart_scope("system/Bundle.c")));
  EXPECT_FALSE(detail::scope_covers(have, *parse_smart_scope("system/Bundle.cr")));
  EXPECT_FALSE(detail::scope_covers(have, *parse_smart_scope("system/Patient.c")));
  EXPECT_TRUE(detail::scope_covers(*parse_smart_scope("system/*.read"), *parse_smart_scope("system/Patient.s")));

  detail::AccessGrant grant{"c", {*parse_smart_scope("system/Bundle.rs")}};
  EXPECT_TRUE(grant.allows({"Bundle", 'r'}));
  EXPECT_FALSE(grant.allows({"Bundle", 'c'}));
  EXPECT_FALSE(grant.allows({"DocumentReference", 's'}));
  EXPECT_TRUE(grant.allows({}));  // any valid token
}

TEST(SmartConfig, ReadsTheSectionAndChecksIt) {
  const std::string base = R"({"tls":{"cert":"c","key":"k","client_ca":"ca","require_client_cert":false},
    "recipients":[{"id":"demo-hospital","kind":"hospital"}],
    "smart":{"enabled":true,"base_url":"https://gw.example","token_secret_file":"s","token_lifetime_s":120,
             "clients":{"demo-hospital":{"jwks":{"keys":[]},"jwks_file":"f.json","scopes":["system/Bundle.c"]}}}})";
  auto c = parse_server_config(parse(base).root());
  ASSERT_TRUE(c) << c.error().to_string();
  ASSERT_EQ(c->smart.clients.size(), 1u);
  EXPECT_EQ(c->smart.clients[0].jwks_json, R"({"keys":[]})");
  EXPECT_EQ(c->smart.clients[0].jwks_file, "f.json");
  EXPECT_EQ(c->smart.token_lifetime, std::chrono::seconds(120));
  auto error_key = [&](std::string_view from, std::string_view to) {
    std::string s = base;
    s.replace(s.find(from), from.size(), to);
    auto r = parse_server_config(parse(s).root());
    return r ? std::string() : r.error().message().substr(0, r.error().message().find(':'));
  };
  EXPECT_EQ(error_key(R"("token_lifetime_s")", R"("token_lifetime")"), "smart.token_lifetime");
  EXPECT_EQ(error_key("https://gw.example", "http://gw.example"), "smart.base_url");
  EXPECT_EQ(error_key(R"("clients":{"demo-hospital")", R"("clients":{"demo-clinic")"), "smart.clients.demo-clinic");
  EXPECT_EQ(error_key(R"("scopes":["system/Bundle.c"])", R"("scopes":[])"), "smart.clients.demo-hospital.scopes");
}

TEST(ExchangeMetrics, RulesAreConstraintKeysOrIssueTypesNeverData) {
  ExchangeMetrics m;
  m.record_outcome(R"({"resourceType":"OperationOutcome","issue":[
    {"severity":"error","code":"invariant","diagnostics":"ips-pat-1: Patient.name.given, ... SHALL be present"},
    {"severity":"error","code":"invariant","diagnostics":"ips-pat-1: again"},
    {"severity":"warning","code":"invariant","diagnostics":"Maria Example: not a key"},
    {"severity":"error","code":"value","diagnostics":"value 'Maria' is not allowed"},
    {"severity":"error","code":"made-up","diagnostics":"x"},
    {"severity":"information","code":"informational","diagnostics":"ok"}]})");
  m.record_outcome("not json");
  m.record_outcome(R"({"resourceType":"Patient","issue":[{"severity":"error","code":"value"}]})");
  EXPECT_EQ(m.issues("ips-pat-1", "error"), 2u);
  EXPECT_EQ(m.issues("invariant", "warning"), 1u);
  EXPECT_EQ(m.issues("value", "error"), 1u);
  EXPECT_EQ(m.issues("other", "error"), 1u);
  EXPECT_EQ(m.issues("informational", "information"), 0u);
  m.record_push(201);
  m.record_push(422);
  PrometheusWriter w;
  m.write(w);
  EXPECT_NE(w.str().find(R"(gw_validation_issues_total{rule="ips-pat-1",severity="error"} 2)"), std::string::npos);
  EXPECT_NE(w.str().find(R"(gw_push_outcomes_total{outcome="accepted"} 1)"), std::string::npos);
  EXPECT_NE(w.str().find(R"(gw_push_outcomes_total{outcome="rejected"} 1)"), std::string::npos);
  EXPECT_EQ(w.str().find("Maria"), std::string::npos);

  // The label set is capped: later rules count as "other".
  for (int i = 0; i < 250; ++i) {
    m.record_outcome(R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invariant",)"
                     R"("diagnostics":"k-)" + std::to_string(i) + R"(: x"}]})");
  }
  EXPECT_EQ(m.issues("k-0", "error"), 1u);
  EXPECT_EQ(m.issues("k-249", "error"), 0u);
  EXPECT_GT(m.issues("other", "error"), 1u);
}

class ManualSteady final : public SteadyClock {
 public:
  std::chrono::steady_clock::time_point now() const override { return t; }
  std::chrono::steady_clock::time_point t{};
};

TEST(OutboxMetrics, ReadsAtScrapeTimeAndCachesForTheTtl) {
  auto steady = std::make_shared<ManualSteady>();
  auto wall = std::make_shared<SystemClock>();
  int reads = 0;
  OutboxMetrics m(
      [&]() -> Result<std::vector<OutboxDepth>> {
        ++reads;
        if (reads == 3) return fail(ErrorCode::kIo, "store down");
        return std::vector<OutboxDepth>{{"demo-clinic", reads, 0, 2, wall->now() - std::chrono::seconds(90)}};
      },
      wall, steady, std::chrono::milliseconds(1000));
  auto scrape = [&] {
    PrometheusWriter w;
    m.write(w);
    return std::move(w).take();
  };
  std::string first = scrape();
  EXPECT_NE(first.find(R"(gw_outbox_pending{recipient="demo-clinic"} 1)"), std::string::npos);
  EXPECT_NE(first.find(R"(gw_outbox_dead_letters{recipient="demo-clinic"} 2)"), std::string::npos);
  EXPECT_NE(first.find(R"(gw_outbox_oldest_pending_age_seconds{recipient="demo-clinic"} 9)"), std::string::npos);
  EXPECT_NE(first.find("gw_outbox_stats_up 1"), std::string::npos);
  scrape();
  EXPECT_EQ(reads, 1);  // cached
  steady->t += std::chrono::milliseconds(1000);
  EXPECT_NE(scrape().find(R"(gw_outbox_pending{recipient="demo-clinic"} 2)"), std::string::npos);
  steady->t += std::chrono::milliseconds(1000);
  std::string failed = scrape();
  EXPECT_EQ(reads, 3);
  EXPECT_NE(failed.find("gw_outbox_stats_up 0"), std::string::npos);
  EXPECT_NE(failed.find(R"(gw_outbox_pending{recipient="demo-clinic"} 2)"), std::string::npos);  // last good values
}

}  // namespace
}  // namespace gw::http
