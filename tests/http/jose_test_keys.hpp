// Test-only JOSE client side: key pairs made with OpenSSL at run time (no
// key material in the tree), their public JWKs, and signed client
// assertions. The ES384 DER -> r||s conversion is written out here on
// purpose rather than taken from the module under test, so a bug there
// cannot cancel itself out.
#pragma once

#include "gateway/http/detail/jose.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <memory>
#include <string>

namespace gw::http::testing {

struct TestKey {
  std::shared_ptr<EVP_PKEY> key;
  std::string alg;  // "ES384" or "RS384"
  std::string kid;
};

inline TestKey make_ec_key(std::string kid) {
  return {std::shared_ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"), EVP_PKEY_free), "ES384",
          std::move(kid)};
}

inline TestKey make_rsa_key(std::string kid, std::size_t bits = 2048) {
  return {std::shared_ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits), EVP_PKEY_free), "RS384",
          std::move(kid)};
}

inline std::string bn_param(const TestKey& k, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(k.key.get(), name, &bn) != 1) return {};
  std::string out(pad ? static_cast<std::size_t>(pad) : static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (pad) BN_bn2binpad(bn, o, pad);
  else BN_bn2bin(bn, o);
  BN_free(bn);
  return detail::base64url_encode(out);
}

/// The public JWK (one object, no surrounding set).
inline std::string public_jwk(const TestKey& k) {
  if (k.alg == "ES384") {
    return R"({"kty":"EC","crv":"P-384","alg":"ES384","use":"sig","kid":")" + k.kid + R"(","x":")" +
           bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, 48) + R"(","y":")" + bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, 48) +
           R"("})";
  }
  return R"({"kty":"RSA","alg":"RS384","kid":")" + k.kid + R"(","n":")" + bn_param(k, OSSL_PKEY_PARAM_RSA_N) +
         R"(","e":")" + bn_param(k, OSSL_PKEY_PARAM_RSA_E) + R"("})";
}

inline std::string jwks_of(std::initializer_list<const TestKey*> keys) {
  std::string out = R"({"keys":[)";
  bool first = true;
  for (const TestKey* k : keys) {
    if (!first) out += ',';
    first = false;
    out += public_jwk(*k);
  }
  return out + "]}";
}

/// Signature in JWS form (raw r||s for ES384).
inline std::string sign(const TestKey& k, std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t len = 0;
  EVP_DigestSignInit(md.get(), nullptr, EVP_sha384(), nullptr, k.key.get());
  EVP_DigestSign(md.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  if (k.alg != "ES384") return sig;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string raw(96, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 48);
  BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 48, 48);
  ECDSA_SIG_free(es);
  return raw;
}

/// A compact JWS over `claims` (JSON text) with header alg/kid of `k`
/// (or `header` verbatim when given).
inline std::string make_jws(const TestKey& k, std::string_view claims, std::string header = {}) {
  if (header.empty()) header = R"({"alg":")" + k.alg + R"(","kid":")" + k.kid + R"(","typ":"JWT"})";
  const std::string input = detail::base64url_encode(header) + "." + detail::base64url_encode(claims);
  return input + "." + detail::base64url_encode(sign(k, input));
}

}  // namespace gw::http::testing
