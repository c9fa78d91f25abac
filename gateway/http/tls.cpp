// TLS context and peer identity. The context is built once at start-up and
// shared read-only by every connection (OpenSSL's SSL_CTX is thread-safe
// for that use).
#include "gateway/http/detail/tls.hpp"

#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fstream>

namespace gw::http::detail {

namespace ssl = boost::asio::ssl;

namespace {

// Mozilla "intermediate" TLS 1.2 suites: forward secrecy and AEAD only.
// TLS 1.3 suites are OpenSSL's defaults, all of which are strong.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Status readable(const std::string& path, std::string_view what) {
  std::ifstream f(path);
  if (!f) return fail(ErrorCode::kIo, std::string(what) + " is not readable", path);
  return {};
}

// Adds every CRL in a PEM file to the context's trust store and turns on
// revocation checks for the client's certificate (the leaf; our client
// CAs are roots that sign clients directly). An empty or unreadable file
// is a start-up error: a revocation list that silently loads nothing would
// let revoked clinics in.
Status load_crls(SSL_CTX* native, const std::string& path) {
  GW_CHECK_OK(readable(path, "tls.crl"));
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), BIO_free);
  if (!bio) return fail(ErrorCode::kIo, "tls.crl is not readable", path);
  X509_STORE* store = SSL_CTX_get_cert_store(native);
  int loaded = 0;
  while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
    const int ok = X509_STORE_add_crl(store, crl);
    X509_CRL_free(crl);
    if (ok != 1) {
      ERR_clear_error();
      return fail(ErrorCode::kIo, "tls.crl holds a list that cannot be added", path);
    }
    ++loaded;
  }
  ERR_clear_error();  // the loop ends on "no start line": the end of the file
  if (loaded == 0) return fail(ErrorCode::kIo, "tls.crl holds no PEM certificate revocation list", path);
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return {};
}

}  // namespace

Result<std::shared_ptr<ssl::context>> make_server_context(const TlsConfig& tls) {
  GW_CHECK_OK(readable(tls.cert_chain_file, "tls.cert"));
  GW_CHECK_OK(readable(tls.private_key_file, "tls.key"));
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return fail(ErrorCode::kInternal, "cannot set the minimum TLS version");
  }
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                   ssl::context::single_dh_use);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return fail(ErrorCode::kInternal, "cannot set the TLS 1.2 cipher list");
  }
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(tls.cert_chain_file, ec);
  if (ec) return fail(ErrorCode::kIo, "tls.cert is not a PEM certificate chain", tls.cert_chain_file);
  ctx->use_private_key_file(tls.private_key_file, ssl::context::pem, ec);
  if (ec && ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    ERR_clear_error();
    return fail(ErrorCode::kIntegrity, "tls.key does not match tls.cert");
  }
  if (ec) return fail(ErrorCode::kIo, "tls.key is not a PEM private key", tls.private_key_file);
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return fail(ErrorCode::kIntegrity, "tls.key does not match tls.cert");
  }
  if (!tls.client_ca_file.empty()) {
    GW_CHECK_OK(readable(tls.client_ca_file, "tls.client_ca"));
    ctx->load_verify_file(tls.client_ca_file, ec);
    if (ec) return fail(ErrorCode::kIo, "tls.client_ca is not a PEM CA certificate", tls.client_ca_file);
    // Tell clients which CA we accept, so they pick the right certificate.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(native, names);
    }
    ctx->set_verify_mode(tls.require_client_cert ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                                                 : ssl::verify_peer);
    SSL_CTX_set_verify_depth(native, 4);
    if (!tls.crl_file.empty()) GW_CHECK_OK(load_crls(native, tls.crl_file));
  } else {
    ctx->set_verify_mode(ssl::verify_none);
  }
  // Session resumption cache keyed by this server.
  static constexpr unsigned char kSessionContext[] = "fhir-gateway";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
  return ctx;
}

std::vector<std::string> peer_names(SSL* ssl_handle) {
  std::vector<std::string> names;
  if (!ssl_handle || SSL_get_verify_result(ssl_handle) != X509_V_OK) return names;
  X509* cert = SSL_get1_peer_certificate(ssl_handle);
  if (!cert) return names;
  if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type == GEN_DNS || n->type == GEN_URI) {
        const ASN1_IA5STRING* s = n->type == GEN_DNS ? n->d.dNSName : n->d.uniformResourceIdentifier;
        names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           static_cast<std::size_t>(ASN1_STRING_length(s)));
      }
    }
    GENERAL_NAMES_free(sans);
  }
  if (X509_NAME* subject = X509_get_subject_name(cert)) {
    const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (at >= 0) {
      const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
      unsigned char* utf8 = nullptr;
      const int len = ASN1_STRING_to_UTF8(&utf8, cn);
      if (len >= 0 && utf8) names.emplace_back(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
      OPENSSL_free(utf8);
    }
  }
  X509_free(cert);
  // A name with an embedded NUL could impersonate a shorter one.
  std::erase_if(names, [](const std::string& n) { return n.find('\0') != std::string::npos; });
  return names;
}

std::optional<ClientIdentity> identify(const std::vector<std::string>& names,
                                       const std::vector<ClientEntry>& clients) {
  for (const std::string& n : names) {
    for (const ClientEntry& c : clients) {
      if (c.id == n) return ClientIdentity{c.id, c.kind};
    }
  }
  return std::nullopt;
}

}  // namespace gw::http::detail
