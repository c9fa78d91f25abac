// JOSE pieces for SMART Backend Services (private to the http module). The
// generic parts (base64url, JWKs as OpenSSL public keys, compact JWS split,
// signature checks, ECDSA r||s <-> DER) live in gw::signing, which also
// signs handoff documents; they are re-exported here under the names
// smart.cpp has always used. What stays here is the gateway's own token
// MAC (HS256) and its random token ids.
//
// Nothing here knows about OAuth: smart.cpp decides what a claim must say,
// and which algorithms a client assertion may use (RS384, ES384).
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/json/json.hpp"
#include "gateway/signing/signing.hpp"

#include <string>
#include <string_view>

namespace gw::http::detail {

using signing::base64url_decode;
using signing::base64url_encode;
using signing::ecdsa_der_to_raw;
using signing::ecdsa_raw_to_der;
using signing::Jws;
using signing::JwsAlg;
using signing::parse_jwk;
using signing::parse_jwks;
using signing::parse_jws_alg;
using signing::PublicKey;
using signing::split_jws;
using signing::verify_signature;

/// HMAC-SHA256 (the gateway's own tokens) and a constant-time comparison.
std::string hmac_sha256(std::string_view key, std::string_view data);
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// Random bytes from the OpenSSL DRBG (token ids). Empty on failure.
std::string random_bytes(std::size_t n);

}  // namespace gw::http::detail
