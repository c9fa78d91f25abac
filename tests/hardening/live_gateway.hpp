// The live gateway of the hardening tests: the real `fhir-gateway serve`
// binary, started on 127.0.0.1 port 0 with its own demo certificates, the
// untrusted/expired/revoked client certificates and their CRL
// (make-bad-certs), SMART keys and a fresh SQLite store; stopped with
// SIGTERM at the end. The catalogue and the soak share it.
#pragma once

#include "tests/http/jose_test_keys.hpp"
#include "tests/http/test_client.hpp"
#include "tests/support/process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace gw::hardening {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using http::testing::ClientOptions;
using http::testing::Reply;
using http::testing::TestClient;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kMarker = "Zorblaxine";  // the patient's given name in every body
constexpr std::string_view kBaseUrl = "https://gateway.test";
constexpr std::string_view kTokenUrl = "https://gateway.test/auth/token";
constexpr std::string_view kPush = "/fhir?recipient=demo-clinic";
constexpr std::size_t kBodyLimit = 4u << 20;

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `text` with the first `from` replaced by `to`. A case whose edit does not
// apply would test nothing, so a missing `from` fails the test loudly.
inline std::string with(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "catalogue edit does not apply: " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// Who makes a request: a client certificate (or none), or a bearer token.
enum class Who { kHospital, kClinic, kStranger, kAnonymous, kWrongCa, kExpired, kRevoked };

// --- the gateway under test -----------------------------------------------------

struct Live {
  /// Where the gateway delivers to demo-clinic (nothing listens on port 1:
  /// deliveries wait in the outbox) and, when set, to demo-ngo.
  std::string clinic_endpoint = "https://127.0.0.1:1/fhir";
  std::string ngo_endpoint;
  std::string retry = R"({"base_ms": 60000, "cap_ms": 600000, "max_attempts": 3})";
  std::vector<std::string> env;  ///< for the gateway process (NAME=VALUE)
  /// JSON appended inside the configuration (each starts with a comma):
  /// more `recipients` entries, more `smart.clients` members, more
  /// top-level keys (e.g. `"ops"`).
  std::string extra_recipients, extra_smart_clients, extra_top_level;

  std::string dir, certs;
  std::unique_ptr<testing::ChildProcess> gateway;
  std::uint16_t port = 0;
  http::testing::TestKey hospital_key = http::testing::make_ec_key("hospital-ec");
  http::testing::TestKey clinic_key = http::testing::make_ec_key("clinic-ec");
  std::string token_secret = "catalogue-token-secret-0123456789abcdef";
  std::string demo;  // the demo discharge summary
  int jti = 0;

  ClientOptions as(Who who) const {
    ClientOptions o;
    o.ca_file = certs + "/ca.crt";
    auto cert = [&](const std::string& name) {
      o.cert_file = certs + "/" + name + ".crt";
      o.key_file = certs + "/" + name + ".key";
    };
    switch (who) {
      case Who::kHospital: cert("demo-hospital"); break;
      case Who::kClinic: cert("demo-clinic"); break;
      case Who::kStranger: cert("stranger"); break;
      case Who::kWrongCa: cert("wrong-ca"); break;
      case Who::kExpired: cert("expired"); break;
      case Who::kRevoked: cert("revoked"); break;
      case Who::kAnonymous: break;
    }
    return o;
  }

  std::string config() const {
    const std::string c = certs;
    return R"({
  "server": {"listen": "127.0.0.1:0", "io_threads": 1, "cpu_threads": 2, "log_level": "error"},
  "tls": {"cert": ")" + c + R"(/server.crt", "key": ")" + c + R"(/server.key", "client_ca": ")" + c +
           R"(/ca.crt", "crl": ")" + c + R"(/crl.pem", "require_client_cert": false},
  "limits": {"body_bytes": )" + std::to_string(kBodyLimit) + R"(, "header_bytes": 16384, "max_connections": 48,
             "handshake_ms": 1000, "read_header_ms": 1000, "read_body_ms": 8000, "handler_ms": 60000,
             "write_ms": 5000, "idle_ms": 2000, "drain_ms": 2000, "rate_per_second": 0},
  "store": {"sqlite": ")" + dir + R"(/gateway.db"},
  "consentPolicy": ")" + std::string(GW_SOURCE_DIR) + R"(/config/consent-policy.json",
  "forward": {
    "client_tls": {"cert": ")" + c + R"(/gateway.crt", "key": ")" + c + R"(/gateway.key", "ca": ")" + c +
           R"(/ca.crt"},
    "retry": )" + retry + R"(
  },
  "smart": {"enabled": true, "base_url": ")" + std::string(kBaseUrl) + R"(", "token_secret_file": ")" + dir +
           R"(/token.key",
    "clients": {
      "demo-hospital": {"jwks": )" + http::testing::jwks_of({&hospital_key}) +
           R"(, "scopes": ["system/Bundle.c", "system/Bundle.rs"]},
      "demo-clinic": {"jwks": )" + http::testing::jwks_of({&clinic_key}) +
           R"(, "scopes": ["system/Bundle.read", "system/DocumentReference.read"]})" + extra_smart_clients + R"(}},
  "recipients": [
    {"id": "demo-hospital", "organization": "Demo General Hospital", "kind": "hospital",
     "endpoint": "https://127.0.0.1:1/unused", "operations": ["submit", "pull"]},
    {"id": "demo-clinic", "organization": "Demo Community Clinic", "kind": "community-clinic",
     "endpoint": ")" + clinic_endpoint + R"(", "operations": ["receive", "pull"]})" +
           (ngo_endpoint.empty() ? std::string()
                                 : R"(,
    {"id": "demo-ngo", "organization": "Demo NGO", "kind": "ngo",
     "endpoint": ")" + ngo_endpoint + R"(", "operations": ["receive"]})") +
           extra_recipients + R"(
  ])" + extra_top_level + R"(
})";
  }

  bool start() { return prepare() && launch(); }

  /// Folder, certificates and token secret (before any simulator that
  /// needs the certificates starts).
  bool prepare() {
    char tmpl[] = "/tmp/gw_hardening_XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    if (!d) return false;
    dir = d;
    certs = dir + "/certs";
    const std::string src = GW_SOURCE_DIR;
    if (std::system((src + "/scripts/make-demo-certs " + certs +
                     " demo-hospital demo-clinic stranger gateway >/dev/null && " + src +
                     "/tests/hardening/make-bad-certs " + certs)
                        .c_str()) != 0) {
      ADD_FAILURE() << "certificates could not be made";
      return false;
    }
    std::ofstream(dir + "/token.key") << token_secret << "\n";
    demo = read_text(src + "/config/demo/discharge-summary.json");
    demo = with(demo, "\"Amina\"", "\"" + std::string(kMarker) + "\"");
    return true;
  }

  /// Writes the configuration and starts the gateway (GW_HARDENING_GATEWAY
  /// names another binary, e.g. a Release build for the long soak).
  bool launch() {
    const std::string src = GW_SOURCE_DIR;
    std::ofstream(dir + "/gateway.json") << config();
    const char* bin = std::getenv("GW_HARDENING_GATEWAY");
    testing::ProcessOptions o;
    o.argv = {bin && *bin ? bin : GW_GATEWAY_BIN, "serve", "--config", dir + "/gateway.json"};
    o.cwd = src;
    o.stderr_path = dir + "/gateway.log";
    o.env = env;
    auto child = testing::ChildProcess::spawn(o);
    if (!child) {
      ADD_FAILURE() << child.error().to_string();
      return false;
    }
    gateway = std::move(*child);
    auto line = gateway->wait_for_line("listening on", 120s);
    if (!line) {
      ADD_FAILURE() << "the gateway did not start; its log: " << read_text(dir + "/gateway.log");
      return false;
    }
    port = testing::port_of_listening_line(*line);
    return port != 0;
  }

  ~Live() {
    if (gateway) {
      gateway->signal(SIGTERM);
      gateway->wait();
    }
    std::error_code ec;
    if (!::testing::Test::HasFailure() && !dir.empty()) fs::remove_all(dir, ec);
  }

  // A copy of the demo bundle with its own Bundle.identifier (a push is
  // idempotent on it: a repeated identifier would get the first answer).
  std::string bundle(std::string_view tag) const {
    // 48 bits of FNV-1a of the tag: distinct tags, distinct identifiers.
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char ch : tag) h = (h ^ ch) * 1099511628211ull;
    char hex[16];
    std::snprintf(hex, sizeof hex, "%012llx", static_cast<unsigned long long>(h & 0xffffffffffffull));
    return with(demo, "6a1c0000-0000-4000-8000-0000000000ff", std::string("6a1c0000-0000-4000-8000-") + hex);
  }

  static std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // A client assertion's claims (SMART Backend Services).
  std::string claims(std::string_view client, std::int64_t exp_in = 240, std::string_view aud = kTokenUrl,
                     std::string_view iss = {}, bool with_jti = true) {
    const std::string i = iss.empty() ? std::string(client) : std::string(iss);
    std::string out = R"({"iss":")" + i + R"(","sub":")" + std::string(client) + R"(","aud":")" + std::string(aud) +
                      R"(","exp":)" + std::to_string(now_s() + exp_in);
    if (with_jti) out += R"(,"jti":"catalogue-)" + std::to_string(++jti) + R"(")";
    return out + "}";
  }
  static std::string form(const std::string& assertion, std::string_view scope = "system/Bundle.c",
                          std::string_view grant = "client_credentials") {
    std::string sc(scope);
    for (char& ch : sc) ch = ch == ' ' ? '+' : ch;
    return "grant_type=" + std::string(grant) + "&scope=" + sc +
           "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
           "&client_assertion=" + assertion;
  }
  // An access token of the gateway's own shape, made with its secret (as
  // an attacker who stole the secret of ANOTHER deployment could not).
  std::string minted(std::string_view sub, std::int64_t exp_in, std::string_view aud,
                     std::string_view alg = "HS256", std::string_view secret = {}) const {
    using http::detail::base64url_encode;
    const std::string payload = R"({"iss":")" + std::string(kBaseUrl) + R"(","sub":")" + std::string(sub) +
                                R"(","aud":")" + std::string(aud) + R"(","exp":)" +
                                std::to_string(now_s() + exp_in) + R"(,"jti":"m","scope":"system/Bundle.c"})";
    const std::string input = base64url_encode(R"({"alg":")" + std::string(alg) + R"(","typ":"at+jwt"})") + "." +
                              base64url_encode(payload);
    if (alg == "none") return input + ".";
    return input + "." +
           base64url_encode(http::detail::hmac_sha256(secret.empty() ? token_secret : std::string(secret), input));
  }
  std::string token(Who who, std::string_view scope) {
    const auto& key = who == Who::kClinic ? clinic_key : hospital_key;
    const char* client = who == Who::kClinic ? "demo-clinic" : "demo-hospital";
    return token_for(client, key, scope);
  }
  /// An access token for any registered SMART client; "" on failure.
  std::string token_for(std::string_view client, const http::testing::TestKey& key, std::string_view scope) {
    TestClient c(as(Who::kAnonymous));
    if (c.connect(port)) return {};
    Reply r = c.request("POST", "/auth/token", form(http::testing::make_jws(key, claims(client)), scope),
                        {{"Content-Type", "application/x-www-form-urlencoded"}});
    const auto at = r.body.find("\"access_token\":\"");
    if (r.status != 200 || at == std::string::npos) return {};
    return r.body.substr(at + 16, r.body.find('"', at + 16) - at - 16);
  }

  bool healthy() const {
    TestClient c(as(Who::kHospital));
    if (c.connect(port)) return false;
    return c.request("GET", "/healthz").status == 200;
  }

  /// The gateway's resident memory (VmRSS), in KiB; 0 if unreadable.
  std::size_t rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(gateway->pid()) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.starts_with("VmRSS:")) return std::strtoull(line.c_str() + 6, nullptr, 10);
    }
    return 0;
  }

  std::size_t open_fds() const {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator("/proc/" + std::to_string(gateway->pid()) + "/fd", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      ++n;
    }
    return n;
  }
};

}  // namespace gw::hardening
