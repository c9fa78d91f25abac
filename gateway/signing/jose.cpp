// JOSE with OpenSSL 3's EVP interface (see signing.hpp for the contract;
// moved here from the http module, which keeps using it for SMART client
// assertions). Keys are built with EVP_PKEY_fromdata from the JWK's public
// numbers, so no deprecated RSA/EC_KEY calls are needed; every OpenSSL
// object is owned by a unique_ptr with its free function, and the error
// queue is cleared after a failed call so that bad input from one client
// cannot leave state that confuses the next TLS operation on the thread.
#include "gateway/signing/signing.hpp"

#include "gateway/signing/detail/ossl.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <array>

namespace gw::signing {

using namespace detail;

namespace {

constexpr std::string_view kUrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kStdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int kMinRsaBits = 2048;

int decode_char(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::string encode(std::span<const std::uint8_t> in, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (const std::size_t rest = in.size() - i; rest > 0) {
    std::uint32_t v = std::uint32_t{in[i]} << 16;
    if (rest == 2) v |= std::uint32_t{in[i + 1]} << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    if (pad) out.append(3 - rest, '=');
  }
  return out;
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Error bad_key(std::string what) { return Error(ErrorCode::kParse, "JWK: " + std::move(what)); }

// A base64url member holding an unsigned big-endian integer.
Result<std::string> member_bytes(json::Value jwk, std::string_view name) {
  json::Value v = jwk.find(name);
  if (!v.is_string()) return bad_key(std::string(name) + " must be a base64url string");
  auto bytes = base64url_decode(v.str());
  if (!bytes || bytes->empty()) return bad_key(std::string(name) + " is not valid base64url");
  return std::move(*bytes);
}

Result<std::shared_ptr<EVP_PKEY>> from_params(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return bad_key("the public numbers do not form a key");
  }
  std::shared_ptr<EVP_PKEY> key = share(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return bad_key("the public key fails OpenSSL's check (point not on the curve, bad modulus)");
  }
  return key;
}

Result<std::shared_ptr<EVP_PKEY>> rsa_key(json::Value jwk) {
  GW_TRY(auto n, member_bytes(jwk, "n"));
  GW_TRY(auto e, member_bytes(jwk, "e"));
  BnPtr bn_n(BN_bin2bn(bytes_of(n), static_cast<int>(n.size()), nullptr));
  BnPtr bn_e(BN_bin2bn(bytes_of(e), static_cast<int>(e.size()), nullptr));
  BldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    ERR_clear_error();
    return Error(ErrorCode::kInternal, "JWK: out of memory building an RSA key");
  }
  GW_TRY(auto key, from_params("RSA", bld.get()));
  if (EVP_PKEY_get_bits(key.get()) < kMinRsaBits) return bad_key("RSA keys must have at least 2048 bits");
  return key;
}

// EC keys on P-256 (ES256) or P-384 (ES384): the curve decides the
// algorithm and the coordinate length.
Result<std::pair<std::shared_ptr<EVP_PKEY>, JwsAlg>> ec_key(json::Value jwk) {
  json::Value crv = jwk.find("crv");
  if (!crv.is_string()) return bad_key("crv is required for kty EC");
  const bool p384 = crv.str() == "P-384";
  if (!p384 && crv.str() != "P-256") {
    return Error(ErrorCode::kUnsupported, "JWK: only the P-256 and P-384 curves are supported");
  }
  const std::size_t len = p384 ? 48 : 32;
  GW_TRY(auto x, member_bytes(jwk, "x"));
  GW_TRY(auto y, member_bytes(jwk, "y"));
  if (x.size() != len || y.size() != len) return bad_key("x and y must be as long as the curve's field");
  std::string point = "\x04" + x + y;  // SEC 1 uncompressed point
  BldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, p384 ? "P-384" : "P-256", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    ERR_clear_error();
    return Error(ErrorCode::kInternal, "JWK: out of memory building an EC key");
  }
  GW_TRY(auto key, from_params("EC", bld.get()));
  return std::pair{std::move(key), p384 ? JwsAlg::kEs384 : JwsAlg::kEs256};
}

bool is_ec(JwsAlg a) { return a == JwsAlg::kEs256 || a == JwsAlg::kEs384; }
bool is_384(JwsAlg a) { return a == JwsAlg::kEs384 || a == JwsAlg::kRs384; }

}  // namespace

// --- base64 --------------------------------------------------------------------

std::string base64url_encode(std::span<const std::uint8_t> in) { return encode(in, kUrlAlphabet, false); }

std::string base64url_encode(std::string_view bytes) { return base64url_encode(as_bytes(bytes)); }

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;  // no length leaves one symbol over
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = decode_char(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical trailing bits
  return out;
}

std::string base64_encode(std::string_view bytes) { return encode(as_bytes(bytes), kStdAlphabet, true); }

std::optional<std::string> base64_decode(std::string_view text) {
  // The padded form has a length that is a multiple of 4 and at most two
  // '=' at the end; after dropping them the url decoder's checks apply
  // (one spelling per byte string), with '+' and '/' for '-' and '_'.
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  std::string url(text.substr(0, text.size() - pad));
  for (char& c : url) {
    if (c == '-' || c == '_') return std::nullopt;
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return base64url_decode(url);
}

std::string sha256(std::string_view bytes) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size()) {
    ERR_clear_error();
    return {};
  }
  return std::string(reinterpret_cast<const char*>(out.data()), out.size());
}

// --- algorithms and keys -------------------------------------------------------

std::optional<JwsAlg> parse_jws_alg(std::string_view name) noexcept {
  if (name == "RS256") return JwsAlg::kRs256;
  if (name == "ES256") return JwsAlg::kEs256;
  if (name == "RS384") return JwsAlg::kRs384;
  if (name == "ES384") return JwsAlg::kEs384;
  return std::nullopt;
}

std::string_view to_string(JwsAlg alg) noexcept {
  switch (alg) {
    case JwsAlg::kRs256: return "RS256";
    case JwsAlg::kEs256: return "ES256";
    case JwsAlg::kRs384: return "RS384";
    case JwsAlg::kEs384: return "ES384";
  }
  return "?";
}

Result<PublicKey> parse_jwk(json::Value jwk, JwsAlg rsa_default) {
  if (!jwk.is_object()) return bad_key("a key must be a JSON object");
  json::Value kty = jwk.find("kty");
  if (!kty.is_string()) return bad_key("kty is required");
  json::Value kid = jwk.find("kid");
  if (!kid.is_string() || kid.str().empty()) return bad_key("kid is required (keys are selected by kid)");
  if (json::Value use = jwk.find("use"); use && (!use.is_string() || use.str() != "sig")) {
    return bad_key("use must be \"sig\"");
  }
  if (json::Value ops = jwk.find("key_ops")) {
    bool verify = false;
    for (std::size_t i = 0; ops.is_array() && i < ops.size(); ++i) verify = verify || ops[i].str() == "verify";
    if (!verify) return bad_key("key_ops must include \"verify\"");
  }
  PublicKey out;
  out.kid = std::string(kid.str());
  if (kty.str() == "RSA") {
    out.alg = rsa_default;
    GW_TRY(out.key, rsa_key(jwk));
  } else if (kty.str() == "EC") {
    GW_TRY(auto ec, ec_key(jwk));
    out.key = std::move(ec.first);
    out.alg = ec.second;
  } else {
    return Error(ErrorCode::kUnsupported, "JWK: only kty RSA and EC are supported");
  }
  if (json::Value alg = jwk.find("alg")) {
    auto a = parse_jws_alg(alg.str());
    if (!a) return Error(ErrorCode::kUnsupported, "JWK: alg must be RS256, RS384, ES256 or ES384");
    // An RSA key may be used with either hash; an EC key's curve fixes it.
    if (is_ec(*a) != is_ec(out.alg) || (is_ec(*a) && *a != out.alg)) return bad_key("alg does not match the key");
    out.alg = *a;
  }
  return out;
}

Result<std::vector<PublicKey>> parse_jwks(json::Value jwks, JwsAlg rsa_default) {
  if (!jwks.is_object()) return bad_key("a JWK Set must be a JSON object");
  json::Value keys = jwks.find("keys");
  if (!keys.is_array()) return bad_key("a JWK Set needs a \"keys\" array");
  std::vector<PublicKey> out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto k = parse_jwk(keys[i], rsa_default);
    if (!k && k.error().code() == ErrorCode::kUnsupported) continue;
    if (!k) return k.error().with_context("keys[" + std::to_string(i) + "]");
    for (const PublicKey& seen : out) {
      if (seen.kid == k->kid) return bad_key("kid is not unique").with_context("keys[" + std::to_string(i) + "]");
    }
    out.push_back(std::move(*k));
  }
  return out;
}

// --- signatures ----------------------------------------------------------------

std::optional<std::string> ecdsa_raw_to_der(std::string_view raw, std::size_t half) {
  if (raw.size() != 2 * half) return std::nullopt;
  BnPtr r(BN_bin2bn(bytes_of(raw), static_cast<int>(half), nullptr));
  BnPtr s(BN_bin2bn(bytes_of(raw) + half, static_cast<int>(half), nullptr));
  SigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  (void)r.release();  // owned by sig now
  (void)s.release();
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::optional<std::string> ecdsa_der_to_raw(std::string_view der, std::size_t half) {
  const unsigned char* p = bytes_of(der);
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != bytes_of(der) + der.size()) {
    ERR_clear_error();
    return std::nullopt;
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * half, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, o, static_cast<int>(half)) < 0 || BN_bn2binpad(s, o + half, static_cast<int>(half)) < 0) {
    ERR_clear_error();
    return std::nullopt;  // a component longer than the curve order
  }
  return out;
}

Result<Jws> split_jws(std::string_view compact) {
  const std::size_t a = compact.find('.');
  const std::size_t b = a == std::string_view::npos ? a : compact.find('.', a + 1);
  if (b == std::string_view::npos || compact.find('.', b + 1) != std::string_view::npos) {
    return fail(ErrorCode::kParse, "a JWS in compact form has three dot-separated parts");
  }
  auto header = base64url_decode(compact.substr(0, a));
  auto payload = base64url_decode(compact.substr(a + 1, b - a - 1));
  auto signature = base64url_decode(compact.substr(b + 1));
  if (!header || !payload || !signature) return fail(ErrorCode::kParse, "a JWS part is not valid base64url");
  return Jws{std::string(compact.substr(0, b)), std::move(*header), std::move(*payload), std::move(*signature)};
}

bool verify_signature(const PublicKey& key, std::string_view input, std::string_view signature) {
  if (!key.key) return false;
  // The key's type must be the algorithm's: an RSA key never checks an
  // ES256 signature, whatever the bytes.
  if (is_ec(key.alg) != (EVP_PKEY_get_base_id(key.key.get()) == EVP_PKEY_EC)) return false;
  std::string der;
  if (is_ec(key.alg)) {
    auto d = ecdsa_raw_to_der(signature, is_384(key.alg) ? 48 : 32);
    if (!d) return false;
    der = std::move(*d);
    signature = der;
  }
  MdCtxPtr md(EVP_MD_CTX_new());
  const bool ok = md &&
                  EVP_DigestVerifyInit(md.get(), nullptr, digest_of(is_384(key.alg)), nullptr, key.key.get()) == 1 &&
                  EVP_DigestVerify(md.get(), bytes_of(signature), signature.size(), bytes_of(input), input.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace gw::signing
