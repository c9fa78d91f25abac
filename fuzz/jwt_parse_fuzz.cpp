// Fuzz target: every place the gateway reads a JWT or a JWK — the SMART
// token endpoint (form body, client assertion: JWS split, header, kid,
// ES384 signature, claims, jti replay cache, scopes), the Bearer check of
// its own access tokens, JWK Sets, and base64url.
//
// The first input byte picks a mode; the rest is:
//   0  the whole token-endpoint form body;
//   1  "<JOSE header JSON>\n<claims JSON>", which the harness signs with the
//      registered client's ES384 key, so the claim checks behind the
//      signature are reached (a random signature never verifies);
//   2  a raw access token for verify_access_token;
//   3  the claims of an access token the harness MACs with the gateway's
//      secret, so the checks behind the MAC are reached;
//   4  a JWK Set, a compact JWS and base64url text.
// The clock is fixed (1795168800 = 2026-11-19T10:00:00Z) so inputs replay
// the same way tomorrow; seeds carry exp values near it.
//
// Invariants: the endpoint always answers 200, 400, 401 or 503 with a JSON
// body; a 200 carries a bearer token that verifies, for the client that
// signed, with only scopes it is allowed; a verified access token names a
// registered client; base64url decoding accepts only canonical text.
#include "gateway/core/core.hpp"
#include "gateway/http/detail/jose.hpp"
#include "gateway/http/detail/smart.hpp"
#include "gateway/http/http.hpp"
#include "tests/http/jose_test_keys.hpp"

#include "fuzz/set_up.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using gw::http::detail::SmartAuth;

constexpr std::string_view kBaseUrl = "https://gateway.fuzz";
constexpr std::string_view kClient = "demo-hospital";
constexpr std::string_view kSecret = "fuzz-only-secret-fuzz-only-secret-0123";

class FixedClock final : public gw::Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1795168800));
  }
};

struct Env {
  gw::http::testing::TestKey key = gw::http::testing::make_ec_key("fuzz-ec");
  std::shared_ptr<const SmartAuth> auth;
  std::string dir;
  ~Env() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

[[noreturn]] void die(const gw::Error& e) {
  std::fprintf(stderr, "jwt_parse_fuzz: set-up failed: %s\n", e.to_string().c_str());
  std::abort();
}

std::unique_ptr<Env> make_env() {
  auto out = std::make_unique<Env>();
  std::error_code ec;
  const fs::path dir = fs::temp_directory_path(ec) / ("gw-jwt-fuzz-" + std::to_string(::getpid()));
  fs::create_directories(dir, ec);
  out->dir = dir.string();
  const std::string secret_file = (dir / "token.key").string();
  std::ofstream(secret_file) << kSecret << "\n";
  gw::http::ServerConfig c;
  c.clients = {{std::string(kClient), "hospital"}, {"demo-clinic", "community-clinic"}};
  c.smart.enabled = true;
  c.smart.base_url = std::string(kBaseUrl);
  c.smart.token_secret_file = secret_file;
  // Small, so that the fuzzer also meets a replay cache full of live ids.
  c.smart.replay_cache_entries = 64;
  c.smart.clients = {{std::string(kClient), gw::http::testing::jwks_of({&out->key}), "",
                      {"system/Bundle.c", "system/Bundle.rs"}}};
  auto auth = SmartAuth::create(c, std::make_shared<FixedClock>());
  if (!auth) die(auth.error());
  out->auth = *auth;
  return out;
}

const Env& env() {
  static const std::unique_ptr<Env> e = make_env();
  return *e;
}

std::string form_of(const std::string& assertion) {
  return "grant_type=client_credentials&scope=system%2FBundle.c+system%2FBundle.rs+system%2F*.*"
         "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
         "&client_assertion=" + assertion;
}

void check_token_answer(const Env& e, const gw::http::Response& r) {
  GW_ASSERT(r.status == 200 || r.status == 400 || r.status == 401 || r.status == 503,
            "the token endpoint answered an unexpected status");
  auto body = gw::json::Document::parse(r.body);
  GW_ASSERT(static_cast<bool>(body) && body->root().is_object(), "the token endpoint answered without a JSON object");
  if (r.status != 200) return;
  auto grant = e.auth->verify_access_token(body->root().find("access_token").str());
  GW_ASSERT(static_cast<bool>(grant), "an issued access token does not verify");
  GW_ASSERT(grant->client_id == kClient, "an access token for another client than the signer");
  for (const auto& s : grant->scopes) {
    GW_ASSERT(s.resource_type == "Bundle", "a scope beyond the client's registration was granted");
  }
}

gw::http::Request token_request(std::string body) {
  gw::http::Request req;
  req.method = "POST";
  req.path = std::string(SmartAuth::kTokenPath);
  req.headers = {{"content-type", "application/x-www-form-urlencoded"}};
  req.body = std::move(body);
  return req;
}

}  // namespace

GW_FUZZ_SET_UP(env)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace d = gw::http::detail;
  const Env& e = env();
  if (size == 0) return 0;
  const int mode = data[0] % 5;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (mode) {
    case 0:
      check_token_answer(e, e.auth->token_endpoint(token_request(rest)));
      break;
    case 1: {
      const std::size_t nl = rest.find('\n');
      const std::string header = rest.substr(0, nl);
      const std::string claims = nl == std::string::npos ? std::string() : rest.substr(nl + 1);
      const std::string input = d::base64url_encode(header) + "." + d::base64url_encode(claims);
      const std::string jws = input + "." + d::base64url_encode(gw::http::testing::sign(e.key, input));
      check_token_answer(e, e.auth->token_endpoint(token_request(form_of(jws))));
      break;
    }
    case 2:
    case 3: {
      std::string token = rest;
      if (mode == 3) {
        token = d::base64url_encode(std::string_view(R"({"alg":"HS256","typ":"at+jwt"})")) + "." +
                d::base64url_encode(rest);
        // Appended in two steps: g++ 12 at -O3 misreads `"." + string&&`
        // as an overlapping memcpy (-Wrestrict, a known false positive).
        const std::string mac = d::base64url_encode(d::hmac_sha256(kSecret, token));
        token += '.';
        token += mac;
      }
      auto grant = e.auth->verify_access_token(token);
      if (grant) GW_ASSERT(grant->client_id == kClient, "a verified token names an unregistered client");
      break;
    }
    default: {
      if (auto doc = gw::json::Document::parse(rest)) {
        (void)d::parse_jwks(doc->root());
        (void)d::parse_jwk(doc->root());
      }
      if (auto jws = d::split_jws(rest)) {
        GW_ASSERT(jws->signing_input.size() < rest.size(), "a JWS signing input longer than the JWS");
      }
      if (auto raw = d::base64url_decode(rest)) {
        GW_ASSERT(d::base64url_encode(*raw) == rest, "base64url accepted a non-canonical spelling");
      }
      break;
    }
  }
  return 0;
}
