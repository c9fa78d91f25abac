// SMART Backend Services: the token endpoint, the gateway's access tokens
// and the Bearer check on the FHIR routes (private to the http module; the
// configuration contract is SmartConfig in http.hpp).
//
//   client                                 gateway
//   ------                                 -------
//   POST /auth/token  grant_type=client_credentials, scope=...,
//     client_assertion_type=...jwt-bearer, client_assertion=<JWS RS384|ES384>
//                                          issue_token: form -> JWS header (alg, kid)
//                                          -> registered key by kid -> signature
//                                          -> iss = sub = client, aud = token URL,
//                                          exp in (now, now + 5 min], jti unseen
//                                          -> scopes = requested ∩ allowed
//   <- {"access_token": <HS256 JWT>, "token_type": "bearer", "expires_in": 300, "scope": ...}
//   GET /fhir/...  Authorization: Bearer <token>
//                                          authorize: MAC, exp, issuer, client still
//                                          registered, same org as the certificate,
//                                          scope covers Route::scope
//
// Thread-safety: immutable after create() except the replay cache, which
// has its own mutex; every member may be called from any thread.
#pragma once

#include "gateway/http/detail/jose.hpp"
#include "gateway/http/http.hpp"

#include <map>
#include <mutex>
#include <unordered_map>

namespace gw::http::detail {

/// One granted or allowed scope: a resource type ("*" for any) and a set
/// of permissions (bit i = "cruds"[i]).
struct SmartScope {
  std::string resource_type;
  std::uint8_t permissions = 0;
  friend bool operator==(const SmartScope&, const SmartScope&) = default;
};
/// `system/<Type|*>.<read|write|*|cruds subset in order>`; nullopt for
/// anything else (patient/ and user/ scopes, v2 query parameters, launch
/// and openid scopes: none of them means anything to a backend service).
std::optional<SmartScope> parse_smart_scope(std::string_view text);
/// True if `have` covers `want` (same or wildcard type, superset of permissions).
bool scope_covers(const SmartScope& have, const SmartScope& want);
/// The `cruds` bit of a permission letter, 0 for anything else.
std::uint8_t permission_bit(char permission);

/// A verified access token.
struct AccessGrant {
  std::string client_id;
  std::vector<SmartScope> scopes;
  bool allows(const ScopeNeed& need) const;
};

class SmartAuth {
 public:
  static constexpr std::string_view kTokenPath = "/auth/token";
  static constexpr std::string_view kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
  static constexpr std::chrono::seconds kMaxAssertionLifetime{300};
  static constexpr std::chrono::seconds kClockSkew{30};

  /// Loads every client's keys and the token secret. Errors name the
  /// config key (kInvalidArgument, kIo, kParse), never key material.
  static Result<std::shared_ptr<const SmartAuth>> create(const ServerConfig& config,
                                                         std::shared_ptr<const Clock> clock);

  /// POST /auth/token (form body). Always an OAuth JSON answer.
  Response token_endpoint(const Request& request) const;
  /// GET [.../].well-known/smart-configuration.
  const std::string& configuration_json() const noexcept { return configuration_; }
  std::string token_url() const { return base_url_ + std::string(kTokenPath); }

  /// The Bearer check of a routed request that needs a client: with an
  /// Authorization header, verifies the token and sets request.client (or
  /// answers 401/403); without one, leaves the request as it is. Returns
  /// the error response, if any.
  std::optional<Response> authorize(Request& request, const Route& route) const;

  /// Verifies one of our access tokens. Errors are deliberately generic.
  Result<AccessGrant> verify_access_token(std::string_view token) const;
  /// Mints an access token (exposed for tests that need expired or
  /// foreign-keyed tokens: they call it on a SmartAuth of their own).
  std::string mint_access_token(std::string_view client_id, std::string_view scope,
                                std::chrono::system_clock::time_point expires) const;

 private:
  struct Client {
    const ClientEntry* entry = nullptr;
    std::vector<PublicKey> keys;
    std::vector<SmartScope> allowed;
  };
  SmartAuth() = default;
  Response issue(const Request& request) const;
  /// Remembers (iss, jti) until `expires`; false if it was seen already
  /// or the cache is full of live ids (`full` tells which).
  bool remember_jti(const std::string& key, std::chrono::system_clock::time_point expires, bool& full) const;

  std::shared_ptr<const Clock> clock_;
  std::string base_url_;
  std::string secret_;
  std::chrono::seconds lifetime_{300};
  std::size_t replay_capacity_ = 0;
  std::vector<ClientEntry> entries_;  // copy of config.clients (Client::entry points here)
  std::map<std::string, Client, std::less<>> clients_;
  std::string configuration_;

  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, std::chrono::system_clock::time_point> seen_;
};

/// Registers GET /.well-known/smart-configuration (also under /fhir) and
/// POST /auth/token.
Status add_smart_routes(Router& router, std::shared_ptr<const SmartAuth> auth);

}  // namespace gw::http::detail
