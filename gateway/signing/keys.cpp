// Keys and certificates from PEM files, their JWKs, and the "signing"
// configuration section (signing.hpp). Start-up code: errors say which file
// or config path is wrong, never what a key contains.
#include "gateway/signing/signing.hpp"

#include "gateway/signing/detail/ossl.hpp"
#include "gateway/signing/detail/signing_internal.hpp"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <ctime>
#include <fstream>
#include <sstream>

namespace gw::signing {

using namespace detail;

namespace {

constexpr int kMinRsaBits = 2048;

std::optional<std::chrono::system_clock::time_point> asn1_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// The JWS algorithm a key signs with: ES256 for EC P-256, RS256 for RSA of
// at least 2048 bits. Everything else is refused at load time, so a
// misconfigured key never reaches a request.
Result<JwsAlg> algorithm_of(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(key) < kMinRsaBits) return fail(ErrorCode::kUnsupported, "RSA keys must have at least 2048 bits");
    return JwsAlg::kRs256;
  }
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    char group[64] = {0};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) == 1 &&
        (std::string_view(group) == "prime256v1" || std::string_view(group) == "P-256")) {
      return JwsAlg::kEs256;
    }
    ERR_clear_error();
    return fail(ErrorCode::kUnsupported, "EC keys must be on the P-256 curve (ES256)");
  }
  return fail(ErrorCode::kUnsupported, "keys must be EC P-256 or RSA");
}

std::string bn_param(EVP_PKEY* key, const char* name, int pad) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    ERR_clear_error();
    return {};
  }
  BnPtr bn(raw);
  std::string out(pad ? static_cast<std::size_t>(pad) : static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (pad) BN_bn2binpad(bn.get(), o, pad);
  else BN_bn2bin(bn.get(), o);
  return base64url_encode(out);
}

// Reads config members strictly: the section is ours, an unknown key is a
// typo that would otherwise silently weaken verification.
Status only_keys(json::Value obj, std::initializer_list<std::string_view> known, const std::string& path) {
  if (!obj.is_object()) return fail(ErrorCode::kParse, "expected an object", path);
  for (std::size_t i = 0; i < obj.size(); ++i) {
    if (std::find(known.begin(), known.end(), obj.key(i)) == known.end()) {
      return fail(ErrorCode::kParse, "unknown key '" + std::string(obj.key(i)) + "'", path);
    }
  }
  return {};
}

Result<std::string> required_string(json::Value obj, std::string_view key, const std::string& path) {
  json::Value v = obj.find(key);
  if (!v.is_string() || v.str().empty()) return fail(ErrorCode::kParse, "a non-empty string is required", path + "." + std::string(key));
  return std::string(v.str());
}

Result<bool> optional_bool(json::Value obj, std::string_view key, const std::string& path) {
  json::Value v = obj.find(key);
  if (!v) return false;
  if (!v.is_bool()) return fail(ErrorCode::kParse, "true or false expected", path + "." + std::string(key));
  return v.boolean();
}

}  // namespace

namespace detail {

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::kIo, "cannot read the file", path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string jwk_json(const TrustedKey& k) {
  json::Writer w;
  w.begin_object();
  EVP_PKEY* key = k.key.key.get();
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    w.key("kty"); w.string("EC");
    w.key("crv"); w.string("P-256");
    w.key("x"); w.string(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, 32));
    w.key("y"); w.string(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
  } else {
    w.key("kty"); w.string("RSA");
    w.key("n"); w.string(bn_param(key, OSSL_PKEY_PARAM_RSA_N, 0));
    w.key("e"); w.string(bn_param(key, OSSL_PKEY_PARAM_RSA_E, 0));
  }
  w.key("kid"); w.string(k.key.kid);
  w.key("alg"); w.string(to_string(k.key.alg));
  w.key("use"); w.string("sig");
  if (!k.cert_der.empty()) {
    w.key("x5c");
    w.begin_array();
    w.string(base64_encode(k.cert_der));
    w.end_array();
  }
  w.end_object();
  return std::move(w).take();
}

}  // namespace detail

Result<TrustedKey> parse_certificate_pem(std::string_view pem, std::string kid) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    ERR_clear_error();
    return fail(ErrorCode::kParse, "not a PEM X.509 certificate");
  }
  std::shared_ptr<EVP_PKEY> key = share(X509_get_pubkey(cert.get()));
  if (!key) {
    ERR_clear_error();
    return fail(ErrorCode::kParse, "the certificate's public key cannot be read");
  }
  GW_TRY(JwsAlg alg, algorithm_of(key.get()));
  TrustedKey out;
  out.key = PublicKey{std::move(kid), alg, std::move(key)};
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert.get(), &der);
  if (len <= 0) {
    ERR_clear_error();
    return fail(ErrorCode::kParse, "the certificate cannot be encoded as DER");
  }
  out.cert_der.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  out.not_before = asn1_time(X509_get0_notBefore(cert.get()));
  out.not_after = asn1_time(X509_get0_notAfter(cert.get()));
  if (!out.not_before || !out.not_after) return fail(ErrorCode::kParse, "the certificate's validity cannot be read");
  return out;
}

Result<TrustedKey> load_certificate(const std::string& path, std::string kid) {
  GW_TRY(auto pem, read_file(path));
  auto k = parse_certificate_pem(pem, std::move(kid));
  if (!k) return k.error().with_context(path);
  return k;
}

Result<std::vector<TrustedKey>> trusted_keys_from_jwks(std::string_view jwks_json) {
  GW_TRY(auto doc, json::Document::parse(std::string(jwks_json)));
  GW_TRY(auto keys, parse_jwks(doc.root(), JwsAlg::kRs256));
  std::vector<TrustedKey> out;
  for (auto& k : keys) out.push_back(TrustedKey{std::move(k), {}, std::nullopt, std::nullopt});
  return out;
}

Result<SigningKey> load_signing_key(const std::string& key_file, const std::string& cert_file, std::string kid) {
  GW_TRY(auto pem, read_file(key_file));
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::shared_ptr<EVP_PKEY> key = share(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  // The PEM text held a private key: wipe our copy before it is freed.
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!key) {
    ERR_clear_error();
    return fail(ErrorCode::kParse, "not an unencrypted PEM private key", key_file);
  }
  auto alg = algorithm_of(key.get());
  if (!alg) return alg.error().with_context(key_file);
  GW_TRY(TrustedKey cert, load_certificate(cert_file, kid));
  if (EVP_PKEY_eq(key.get(), cert.key.key.get()) != 1) {
    ERR_clear_error();
    return fail(ErrorCode::kInvalidArgument, "the certificate is not of this private key", cert_file);
  }
  return SigningKey{std::move(kid), *alg, std::move(key), std::move(cert)};
}

Result<std::optional<SigningConfig>> parse_signing_config(json::Value root) {
  json::Value s = root.find("signing");
  if (!s) return std::optional<SigningConfig>();
  GW_CHECK_OK(only_keys(s, {"keys", "senders"}, "signing"));
  SigningConfig out;
  json::Value keys = s.find("keys");
  if (!keys.is_array() || keys.size() == 0) return fail(ErrorCode::kParse, "at least one key is required", "signing.keys");
  std::size_t signers = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string path = "signing.keys[" + std::to_string(i) + "]";
    GW_CHECK_OK(only_keys(keys[i], {"kid", "key", "cert", "sign"}, path));
    KeyConfig k;
    GW_TRY(k.kid, required_string(keys[i], "kid", path));
    GW_TRY(k.key_file, required_string(keys[i], "key", path));
    GW_TRY(k.cert_file, required_string(keys[i], "cert", path));
    GW_TRY(k.sign, optional_bool(keys[i], "sign", path));
    for (const KeyConfig& seen : out.keys) {
      if (seen.kid == k.kid) return fail(ErrorCode::kParse, "kid is not unique", path + ".kid");
    }
    signers += k.sign ? 1 : 0;
    out.keys.push_back(std::move(k));
  }
  if (out.keys.size() == 1) out.keys.front().sign = true;
  else if (signers != 1) return fail(ErrorCode::kParse, "exactly one key has \"sign\": true", "signing.keys");
  if (json::Value senders = s.find("senders")) {
    if (!senders.is_object()) return fail(ErrorCode::kParse, "expected an object of sender ids", "signing.senders");
    for (std::size_t i = 0; i < senders.size(); ++i) {
      const std::string path = "signing.senders." + std::string(senders.key(i));
      json::Value one = senders[i];
      GW_CHECK_OK(only_keys(one, {"certs", "require_signature"}, path));
      SenderConfig c;
      GW_TRY(c.require_signature, optional_bool(one, "require_signature", path));
      if (json::Value certs = one.find("certs")) {
        if (!certs.is_array()) return fail(ErrorCode::kParse, "expected an array", path + ".certs");
        for (std::size_t j = 0; j < certs.size(); ++j) {
          const std::string cpath = path + ".certs[" + std::to_string(j) + "]";
          GW_CHECK_OK(only_keys(certs[j], {"kid", "cert"}, cpath));
          SenderCert sc;
          GW_TRY(sc.kid, required_string(certs[j], "kid", cpath));
          GW_TRY(sc.cert_file, required_string(certs[j], "cert", cpath));
          for (const SenderCert& seen : c.certs) {
            if (seen.kid == sc.kid) return fail(ErrorCode::kParse, "kid is not unique", cpath + ".kid");
          }
          c.certs.push_back(std::move(sc));
        }
      }
      if (c.require_signature && c.certs.empty()) {
        return fail(ErrorCode::kParse, "a sender that must sign needs at least one certificate", path + ".certs");
      }
      out.senders.emplace(std::string(senders.key(i)), std::move(c));
    }
  }
  return std::optional<SigningConfig>(std::move(out));
}

Result<std::optional<SigningConfig>> load_signing_config(const std::string& path) {
  GW_TRY(auto doc, json::Document::parse_file(path));
  auto c = parse_signing_config(doc.root());
  if (!c) return c.error().with_context(path);
  return c;
}

}  // namespace gw::signing
