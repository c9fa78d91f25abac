// JOSE pieces for SMART Backend Services (private to the http module):
// base64url, JSON Web Keys (RFC 7517/7518) as OpenSSL public keys, compact
// JWS (RFC 7515) split and signature checks for RS384 and ES384, and the
// HS256 MAC of the gateway's own access tokens.
//
// Nothing here knows about OAuth: smart.cpp decides what a claim must say.
// Everything returns values; no function logs or throws, and error texts
// describe the shape of a problem, never key material or token contents.
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/json/json.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;

namespace gw::http::detail {

/// RFC 4648 §5 without padding (what JOSE uses). decode refuses '=' and
/// any byte outside the alphabet, and non-zero trailing bits, so that one
/// token has exactly one spelling.
std::string base64url_encode(std::span<const std::uint8_t> bytes);
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

/// JWS algorithms we verify. SMART requires servers to support both.
enum class JwsAlg : std::uint8_t { kRs384, kEs384 };
std::optional<JwsAlg> parse_jws_alg(std::string_view name) noexcept;
std::string_view to_string(JwsAlg alg) noexcept;

/// A public key from a JWK: RSA (n, e; at least 2048 bits) for RS384 or
/// EC P-384 (x, y on the curve) for ES384. Immutable; shareable between
/// threads (OpenSSL public keys are read-only once built).
struct PublicKey {
  std::string kid;
  JwsAlg alg = JwsAlg::kRs384;
  std::shared_ptr<EVP_PKEY> key;
};

/// One JWK object. kty RSA or EC (crv P-384); `alg`, when present, must
/// agree with the key type; `use`, when present, must be "sig"; `key_ops`,
/// when present, must contain "verify". kid is required (SMART selects
/// keys by kid). Errors: kParse for a malformed member, kUnsupported for
/// another key type, curve or algorithm.
Result<PublicKey> parse_jwk(json::Value jwk);

/// A JWK Set ({"keys": [...]}). Keys of types we do not use (kty "oct",
/// other curves) are skipped, as RFC 7517 §5 allows; a malformed key of a
/// supported type is an error. Errors name the index, never the material.
Result<std::vector<PublicKey>> parse_jwks(json::Value jwks);

/// ES384 signatures in JWS are r||s, 48 bytes each (RFC 7518 §3.4);
/// OpenSSL reads and writes DER ECDSA-Sig-Value. nullopt for a wrong
/// length or an invalid DER.
std::optional<std::string> ecdsa_raw_to_der(std::string_view raw, std::size_t half = 48);
std::optional<std::string> ecdsa_der_to_raw(std::string_view der, std::size_t half = 48);

/// A compact JWS split into its parts (no signature check yet).
struct Jws {
  std::string signing_input;  ///< "header.payload" as received
  std::string header_json;
  std::string payload_json;
  std::string signature;      ///< decoded bytes
};
/// Splits "h.p.s" and decodes each part. Errors: kParse.
Result<Jws> split_jws(std::string_view compact);

/// True if `signature` over `input` verifies with `key` under key.alg.
bool verify_signature(const PublicKey& key, std::string_view input, std::string_view signature);

/// HMAC-SHA256 (the gateway's own tokens) and a constant-time comparison.
std::string hmac_sha256(std::string_view key, std::string_view data);
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// Random bytes from the OpenSSL DRBG (token ids). Empty on failure.
std::string random_bytes(std::size_t n);

}  // namespace gw::http::detail
