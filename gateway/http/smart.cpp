// SMART Backend Services (see detail/smart.hpp for the flow).
//
// Why our own HS256 tokens: every gateway node must accept a token that
// another node issued, without a round trip to an introspection service.
// A MAC under one secret file that all nodes mount does that with the
// least machinery; an asymmetric (ES256) token would let third parties
// verify tokens too, which nobody needs here. The secret never leaves the
// process and rotating it invalidates outstanding tokens, which live five
// minutes by default.
//
// Error policy: the token endpoint answers OAuth errors (RFC 6749 §5.2):
// every failure of the client assertion is `invalid_client` (401), as RFC
// 7523 §3.2 prescribes for JWT client authentication; a malformed request
// is `invalid_request`, a wrong grant `unsupported_grant_type`, scopes none
// of which may be granted `invalid_scope` (400). Descriptions are fixed
// texts: they never echo the assertion, its claims or the requested scopes.
#include "gateway/http/detail/smart.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace gw::http::detail {

namespace {

constexpr std::string_view kPermissions = "cruds";
constexpr std::size_t kMaxAssertionBytes = 16 * 1024;
constexpr std::size_t kMaxJtiBytes = 256;
constexpr std::size_t kMinSecretBytes = 32;

// SMART Backend Services asks servers for RS384 and ES384 (the JOSE code
// in gw::signing knows the *256 pair as well, for handoff signatures).
bool smart_alg(JwsAlg a) { return a == JwsAlg::kRs384 || a == JwsAlg::kEs384; }

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return (x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x) == (y >= 'A' && y <= 'Z' ? y - 'A' + 'a' : y);
  });
}

std::int64_t epoch_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// NumericDate as SMART wants it: an integer number of seconds.
std::optional<std::int64_t> numeric_date(json::Value v) {
  if (!v.is_number()) return std::nullopt;
  std::int64_t out = 0;
  const std::string_view s = v.str();
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return out;
}

Response oauth_error(int status, std::string_view error, std::string_view description) {
  json::Writer w;
  w.begin_object();
  w.key("error");
  w.string(error);
  w.key("error_description");
  w.string(description);
  w.end_object();
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(w).take();
  r.set_header("Cache-Control", "no-store");
  r.set_header("Pragma", "no-cache");
  return r;
}

Response invalid_client(std::string_view why) { return oauth_error(401, "invalid_client", why); }

Response bearer_error(int status, std::string_view error, std::string_view description, std::string_view scope = {}) {
  Response r = Response::outcome(status, IssueType::kSecurity, description);
  std::string challenge = "Bearer realm=\"fhir-gateway\"";
  if (!error.empty()) challenge += ", error=\"" + std::string(error) + "\"";
  if (!scope.empty()) challenge += ", scope=\"" + std::string(scope) + "\"";
  r.set_header("WWW-Authenticate", std::move(challenge));
  return r;
}

std::string format_scope(const ScopeNeed& need) {
  return "system/" + need.resource_type + "." + std::string(1, need.permission);
}

Result<std::string> read_file(const std::string& path, std::string_view key) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return fail(ErrorCode::kIo, std::string(key) + " is not readable", path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

// --- scopes --------------------------------------------------------------------

std::uint8_t permission_bit(char permission) {
  const std::size_t at = kPermissions.find(permission);
  return at == std::string_view::npos || permission == 0 ? 0 : static_cast<std::uint8_t>(1u << at);
}

std::optional<SmartScope> parse_smart_scope(std::string_view text) {
  if (!text.starts_with("system/")) return std::nullopt;
  text.remove_prefix(7);
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  SmartScope out;
  out.resource_type = std::string(text.substr(0, dot));
  if (out.resource_type != "*") {
    // A FHIR resource type: an upper-case letter, then letters.
    if (out.resource_type.size() > 64 || out.resource_type.front() < 'A' || out.resource_type.front() > 'Z') {
      return std::nullopt;
    }
    for (char c : out.resource_type) {
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return std::nullopt;
    }
  }
  const std::string_view perm = text.substr(dot + 1);
  if (perm == "read") out.permissions = permission_bit('r') | permission_bit('s');
  else if (perm == "write") out.permissions = permission_bit('c') | permission_bit('u') | permission_bit('d');
  else if (perm == "*") out.permissions = 0x1F;
  else {
    // v2: letters of "cruds", each at most once and in that order.
    std::size_t next = 0;
    for (char c : perm) {
      const std::size_t at = kPermissions.find(c, next);
      if (at == std::string_view::npos) return std::nullopt;
      out.permissions |= static_cast<std::uint8_t>(1u << at);
      next = at + 1;
    }
    if (out.permissions == 0) return std::nullopt;
  }
  return out;
}

bool scope_covers(const SmartScope& have, const SmartScope& want) {
  const bool type_ok = have.resource_type == "*" || have.resource_type == want.resource_type;
  return type_ok && (want.permissions & ~have.permissions) == 0;
}

bool AccessGrant::allows(const ScopeNeed& need) const {
  if (need.resource_type.empty()) return true;  // any valid token
  const SmartScope want{need.resource_type, permission_bit(need.permission)};
  if (want.permissions == 0) return false;
  return std::any_of(scopes.begin(), scopes.end(), [&](const SmartScope& s) { return scope_covers(s, want); });
}

// --- set-up --------------------------------------------------------------------

Result<std::shared_ptr<const SmartAuth>> SmartAuth::create(const ServerConfig& config,
                                                           std::shared_ptr<const Clock> clock) {
  const SmartConfig& c = config.smart;
  auto auth = std::shared_ptr<SmartAuth>(new SmartAuth);
  auth->clock_ = clock ? std::move(clock) : std::make_shared<SystemClock>();
  auth->base_url_ = c.base_url;
  auth->lifetime_ = c.token_lifetime;
  auth->replay_capacity_ = c.replay_cache_entries;
  GW_TRY(auth->secret_, read_file(c.token_secret_file, "smart.token_secret_file"));
  while (!auth->secret_.empty() && std::isspace(static_cast<unsigned char>(auth->secret_.back()))) {
    auth->secret_.pop_back();
  }
  if (auth->secret_.size() < kMinSecretBytes) {
    return fail(ErrorCode::kInvalidArgument, "smart.token_secret_file: the key must have at least 32 bytes");
  }
  auth->entries_ = config.clients;
  std::set<std::string> all_scopes;
  for (const SmartClient& sc : c.clients) {
    const std::string where = "smart.clients." + sc.id;
    Client client;
    for (const ClientEntry& e : auth->entries_) {
      if (e.id == sc.id) client.entry = &e;
    }
    if (!client.entry) return fail(ErrorCode::kInvalidArgument, where + ": not a registered organisation (recipients)");
    auto add_keys = [&](std::string text, std::string_view what) -> Status {
      auto doc = json::Document::parse(std::move(text));
      if (!doc) return doc.error().with_context(where + "." + std::string(what));
      auto keys = parse_jwks(doc->root());
      if (!keys) return keys.error().with_context(where + "." + std::string(what));
      for (PublicKey& k : *keys) {
        // SMART uses RS384 and ES384 only; other keys of a set (P-256,
        // RS256) are skipped as keys of unused types are (RFC 7517 §5).
        if (!smart_alg(k.alg)) continue;
        for (const PublicKey& seen : client.keys) {
          if (seen.kid == k.kid) return fail(ErrorCode::kInvalidArgument, where + ": a kid is listed twice");
        }
        client.keys.push_back(std::move(k));
      }
      return {};
    };
    if (!sc.jwks_json.empty()) GW_CHECK_OK(add_keys(sc.jwks_json, "jwks"));
    if (!sc.jwks_file.empty()) {
      GW_TRY(auto text, read_file(sc.jwks_file, where + ".jwks_file"));
      GW_CHECK_OK(add_keys(std::move(text), "jwks_file"));
    }
    if (client.keys.empty()) {
      return fail(ErrorCode::kInvalidArgument, where + ": needs at least one RS384 or ES384 key (jwks or jwks_file)");
    }
    for (const std::string& s : sc.scopes) {
      auto parsed = parse_smart_scope(s);
      if (!parsed) return fail(ErrorCode::kInvalidArgument, where + ".scopes: not a system/<Type>.<permissions> scope: " + s);
      client.allowed.push_back(std::move(*parsed));
      all_scopes.insert(s);
    }
    auth->clients_.emplace(sc.id, std::move(client));
  }

  json::Writer w;
  w.begin_object();
  w.key("token_endpoint");
  w.string(auth->token_url());
  w.key("grant_types_supported");
  w.begin_array();
  w.string("client_credentials");
  w.end_array();
  w.key("token_endpoint_auth_methods_supported");
  w.begin_array();
  w.string("private_key_jwt");
  w.end_array();
  w.key("token_endpoint_auth_signing_alg_values_supported");
  w.begin_array();
  w.string("RS384");
  w.string("ES384");
  w.end_array();
  w.key("scopes_supported");
  w.begin_array();
  for (const std::string& s : all_scopes) w.string(s);
  w.end_array();
  w.key("capabilities");
  w.begin_array();
  w.string("client-confidential-asymmetric");
  w.string("permission-v1");
  w.string("permission-v2");
  w.end_array();
  w.end_object();
  auth->configuration_ = std::move(w).take();
  return std::shared_ptr<const SmartAuth>(std::move(auth));
}

// --- the token endpoint ----------------------------------------------------------

Response SmartAuth::token_endpoint(const Request& request) const {
  try {
    return issue(request);
  } catch (const std::bad_alloc&) {
    return oauth_error(500, "server_error", "the token could not be issued");
  }
}

Response SmartAuth::issue(const Request& req) const {
  const std::string_view type = req.header("content-type");
  if (!iequals(type.substr(0, std::min(type.size(), std::size_t{33})), "application/x-www-form-urlencoded")) {
    return oauth_error(400, "invalid_request", "the token request must be application/x-www-form-urlencoded");
  }
  auto form = parse_query(req.body);
  if (!form) return oauth_error(400, "invalid_request", "the form is not validly encoded");
  std::map<std::string, std::string, std::less<>> params;
  for (auto& [k, v] : *form) {
    if (!params.emplace(k, v).second) return oauth_error(400, "invalid_request", "a parameter is repeated");
  }
  auto param = [&](std::string_view name) -> std::optional<std::string_view> {
    auto it = params.find(name);
    if (it == params.end()) return std::nullopt;
    return std::string_view(it->second);
  };
  const auto grant = param("grant_type");
  if (!grant) return oauth_error(400, "invalid_request", "grant_type is required");
  if (*grant != "client_credentials") {
    return oauth_error(400, "unsupported_grant_type", "only client_credentials is supported");
  }
  if (param("client_assertion_type") != std::optional<std::string_view>(kAssertionType)) {
    return oauth_error(400, "invalid_request",
                       "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  }
  const auto assertion = param("client_assertion");
  if (!assertion || assertion->empty()) return oauth_error(400, "invalid_request", "client_assertion is required");
  const auto scope = param("scope");
  if (!scope || scope->empty()) return oauth_error(400, "invalid_request", "scope is required");
  if (assertion->size() > kMaxAssertionBytes) return invalid_client("the client assertion is too large");

  // 1. The JWS and the key it names.
  auto jws = split_jws(*assertion);
  if (!jws) return invalid_client("the client assertion is not a compact JWS");
  auto header = json::Document::parse(jws->header_json);
  auto claims = json::Document::parse(jws->payload_json);
  if (!header || !claims || !header->root().is_object() || !claims->root().is_object()) {
    return invalid_client("the client assertion's header or claims are not a JSON object");
  }
  const json::Value h = header->root();
  const json::Value c = claims->root();
  const auto alg = parse_jws_alg(h.find("alg").str());
  if (!alg || !smart_alg(*alg)) return invalid_client("the client assertion must be signed with RS384 or ES384");
  if (json::Value typ = h.find("typ"); typ && typ.str() != "JWT") return invalid_client("typ must be JWT");
  const json::Value kid = h.find("kid");
  if (!kid.is_string() || kid.str().empty()) return invalid_client("the client assertion's header needs a kid");
  const json::Value iss = c.find("iss");
  const json::Value sub = c.find("sub");
  if (!iss.is_string() || !sub.is_string() || iss.str() != sub.str() || iss.str().empty()) {
    return invalid_client("iss and sub must both be the client id");
  }
  if (auto id = param("client_id"); id && *id != iss.str()) {
    return invalid_client("client_id does not match the assertion's issuer");
  }
  const auto client = clients_.find(iss.str());
  if (client == clients_.end()) return invalid_client("the client is not registered for SMART Backend Services");
  const PublicKey* key = nullptr;
  for (const PublicKey& k : client->second.keys) {
    if (k.kid == kid.str() && k.alg == *alg) key = &k;
  }
  if (!key) return invalid_client("no registered key of the client has this kid and algorithm");
  if (!verify_signature(*key, jws->signing_input, jws->signature)) {
    return invalid_client("the client assertion's signature does not verify");
  }

  // 2. The claims (only now: an unauthenticated party learns nothing from them).
  const std::string url = token_url();
  const json::Value aud = c.find("aud");
  bool aud_ok = aud.is_string() && aud.str() == url;
  for (std::size_t i = 0; aud.is_array() && i < aud.size(); ++i) aud_ok = aud_ok || aud[i].str() == url;
  if (!aud_ok) return invalid_client("aud must be this server's token endpoint URL");
  const auto exp = numeric_date(c.find("exp"));
  if (!exp) return invalid_client("exp is required (an integer NumericDate)");
  const auto now = clock_->now();
  const std::int64_t now_s = epoch_seconds(now);
  if (*exp + kClockSkew.count() <= now_s) return invalid_client("the client assertion has expired");
  if (*exp > now_s + kMaxAssertionLifetime.count() + kClockSkew.count()) {
    return invalid_client("exp must be at most five minutes in the future");
  }
  const json::Value jti = c.find("jti");
  if (!jti.is_string() || jti.str().empty() || jti.str().size() > kMaxJtiBytes) {
    return invalid_client("jti is required (a string of at most 256 characters)");
  }
  bool full = false;
  const auto expires = std::chrono::system_clock::time_point(std::chrono::seconds(*exp)) + kClockSkew;
  if (!remember_jti(std::string(iss.str()) + '\n' + std::string(jti.str()), expires, full)) {
    if (full) return oauth_error(503, "temporarily_unavailable", "too many client assertions in flight; retry later");
    return invalid_client("this client assertion was used already (jti replay)");
  }

  // 3. Scopes: the requested ones that the registration allows.
  std::string granted;
  std::string_view rest = *scope;
  while (!rest.empty()) {
    const std::size_t sp = rest.find(' ');
    const std::string_view one = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    auto parsed = parse_smart_scope(one);
    if (!parsed) continue;
    const auto& allowed = client->second.allowed;
    if (std::any_of(allowed.begin(), allowed.end(), [&](const SmartScope& a) { return scope_covers(a, *parsed); })) {
      if (!granted.empty()) granted += ' ';
      granted += one;
    }
  }
  if (granted.empty()) return oauth_error(400, "invalid_scope", "none of the requested scopes may be granted to this client");

  const std::string token = mint_access_token(iss.str(), granted, now + lifetime_);
  if (token.empty()) return oauth_error(500, "server_error", "the token could not be issued");
  json::Writer w;
  w.begin_object();
  w.key("access_token");
  w.string(token);
  w.key("token_type");
  w.string("bearer");
  w.key("expires_in");
  w.integer(lifetime_.count());
  w.key("scope");
  w.string(granted);
  w.end_object();
  Response r;
  r.status = 200;
  r.content_type = "application/json";
  r.body = std::move(w).take();
  r.set_header("Cache-Control", "no-store");
  r.set_header("Pragma", "no-cache");
  return r;
}

bool SmartAuth::remember_jti(const std::string& key, std::chrono::system_clock::time_point expires,
                             bool& full) const {
  const auto now = clock_->now();
  std::lock_guard lock(mutex_);
  if (auto it = seen_.find(key); it != seen_.end()) {
    if (it->second > now) return false;
    seen_.erase(it);
  }
  if (seen_.size() >= replay_capacity_) {
    // Amortised: a sweep only when the cache is full; assertions live at
    // most five minutes, so most entries have expired by then.
    std::erase_if(seen_, [&](const auto& e) { return e.second <= now; });
    if (seen_.size() >= replay_capacity_) {
      full = true;
      return false;
    }
  }
  seen_.emplace(key, expires);
  return true;
}

// --- access tokens -----------------------------------------------------------------

std::string SmartAuth::mint_access_token(std::string_view client_id, std::string_view scope,
                                         std::chrono::system_clock::time_point expires) const {
  const std::string id = random_bytes(16);
  if (id.empty()) return {};
  json::Writer p;
  p.begin_object();
  p.key("iss");
  p.string(base_url_);
  p.key("sub");
  p.string(client_id);
  p.key("aud");
  p.string(base_url_ + "/fhir");
  p.key("iat");
  p.integer(epoch_seconds(clock_->now()));
  p.key("exp");
  p.integer(epoch_seconds(expires));
  p.key("jti");
  p.string(base64url_encode(id));
  p.key("scope");
  p.string(scope);
  p.end_object();
  std::string token = base64url_encode(std::string_view(R"({"alg":"HS256","typ":"at+jwt"})")) + "." +
                      base64url_encode(p.str());
  const std::string mac = hmac_sha256(secret_, token);
  if (mac.empty()) return {};
  return token + "." + base64url_encode(mac);
}

Result<AccessGrant> SmartAuth::verify_access_token(std::string_view token) const {
  const Error invalid(ErrorCode::kIntegrity, "the access token is invalid or has expired");
  auto jws = split_jws(token);
  if (!jws) return invalid;
  auto header = json::Document::parse(jws->header_json);
  if (!header || header->root().find("alg").str() != "HS256") return invalid;
  const std::string mac = hmac_sha256(secret_, jws->signing_input);
  if (mac.empty() || !constant_time_equal(mac, jws->signature)) return invalid;
  auto claims = json::Document::parse(jws->payload_json);
  if (!claims) return invalid;
  const json::Value c = claims->root();
  if (c.find("iss").str() != base_url_) return invalid;
  // Our tokens are for our FHIR base only: one minted for another service
  // sharing the secret (or one of ours replayed there) is refused here.
  if (c.find("aud").str() != base_url_ + "/fhir") return invalid;
  const auto exp = numeric_date(c.find("exp"));
  if (!exp || *exp <= epoch_seconds(clock_->now())) return invalid;
  const json::Value sub = c.find("sub");
  if (!sub.is_string() || clients_.find(sub.str()) == clients_.end()) return invalid;  // registration withdrawn
  AccessGrant grant;
  grant.client_id = std::string(sub.str());
  std::string_view rest = c.find("scope").str();
  while (!rest.empty()) {
    const std::size_t sp = rest.find(' ');
    if (auto s = parse_smart_scope(rest.substr(0, sp))) grant.scopes.push_back(std::move(*s));
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
  }
  return grant;
}

std::optional<Response> SmartAuth::authorize(Request& request, const Route& route) const {
  const std::string_view h = request.header("authorization");
  if (h.empty()) return std::nullopt;
  if (h.size() <= 7 || !iequals(h.substr(0, 7), "Bearer ")) {
    return bearer_error(401, "invalid_request", "the Authorization header must use the Bearer scheme");
  }
  std::string_view token = h.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  auto grant = verify_access_token(token);
  if (!grant) return bearer_error(401, "invalid_token", grant.error().message());
  const Client& client = clients_.find(grant->client_id)->second;
  if (request.client && request.client->id != grant->client_id) {
    return Response::outcome(403, IssueType::kSecurity,
                             "the client certificate and the access token name different organisations");
  }
  if (!grant->allows(route.scope)) {
    return bearer_error(403, "insufficient_scope", "the access token does not grant the scope this endpoint needs",
                        format_scope(route.scope));
  }
  request.client = ClientIdentity{client.entry->id, client.entry->kind};
  return std::nullopt;
}

}  // namespace gw::http::detail

namespace gw::http::detail {

// Discovery lives at the FHIR base ([base]/.well-known/...) as SMART says,
// and at the host root, where generic OAuth tooling looks first. Neither
// route needs a client (it is how a client learns to become one); both are
// rate limited by address. The token endpoint runs on the CPU pool: an
// RSA or ECDSA verification is too slow for an I/O thread.
Status add_smart_routes(Router& router, std::shared_ptr<const SmartAuth> auth) {
  for (std::string path : {"/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"}) {
    Route r;
    r.method = "GET";
    r.path_template = std::move(path);
    r.require_client = false;
    r.fhir_api = false;
    r.handler = SyncHandler([auth](const Request&) {
      Response out = Response::text(200, auth->configuration_json(), "application/json");
      out.set_header("Cache-Control", "public, max-age=300");
      return out;
    });
    GW_CHECK_OK(router.add(std::move(r)));
  }
  Route token;
  token.method = "POST";
  token.path_template = std::string(SmartAuth::kTokenPath);
  token.require_client = false;
  token.fhir_api = false;
  token.execution = Execution::kCpuPool;
  token.handler = SyncHandler([auth](const Request& req) { return auth->token_endpoint(req); });
  return router.add(std::move(token));
}

}  // namespace gw::http::detail
