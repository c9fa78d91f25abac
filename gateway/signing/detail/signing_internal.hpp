// Helpers shared by the signing module's files (not part of its contract).
#pragma once

#include "gateway/signing/signing.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gw::signing::detail {

/// The public JWK of a trusted key: kty, crv/x/y or n/e, kid, alg, use "sig",
/// and x5c when it came from a certificate.
std::string jwk_json(const TrustedKey& key);

/// The kid in the JWS header of a Bundle.signature ("" when unreadable).
std::string signature_kid(json::Value signature);

/// The bytes of a file. Errors: kIo with the path as location.
Result<std::string> read_file(const std::string& path);

/// "YYYY-MM-DDThh:mm:ssZ" (a FHIR instant, UTC, whole seconds).
/// A FHIR instant ("YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)"); nullopt
/// for anything else.
std::optional<std::chrono::system_clock::time_point> parse_instant(std::string_view text);

}  // namespace gw::signing::detail
