// TLS set-up and client identification (OpenSSL through Asio's ssl layer).
#pragma once

#include "gateway/http/http.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

typedef struct ssl_st SSL;

namespace gw::http::detail {

/// A server context: TLS 1.2 minimum, ECDHE + AEAD ciphers for TLS 1.2,
/// no renegotiation, no compression, server cipher preference; with
/// `require_client_cert`, peer verification against the client CA and
/// failure without a certificate. Errors are values (kIo for unreadable
/// files, kIntegrity when the key does not match the certificate).
Result<std::shared_ptr<boost::asio::ssl::context>> make_server_context(const TlsConfig& tls);

/// The names a verified peer certificate carries: SAN DNS and URI entries,
/// then the subject CN. Empty without a (verified) certificate.
std::vector<std::string> peer_names(SSL* ssl);

/// The registered client the names identify (first match wins).
std::optional<ClientIdentity> identify(const std::vector<std::string>& names,
                                       const std::vector<ClientEntry>& clients);

}  // namespace gw::http::detail
