// Private helpers shared by the http module's translation units. Not part
// of the contract; other modules include only gateway/http/http.hpp.
#pragma once

#include "gateway/http/http.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace gw::http::detail {

/// "127.0.0.1:8443" / "[::1]:0" / "localhost:8443" -> host and port.
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};
std::optional<ListenAddress> parse_listen(std::string_view text);

/// The built-in routes: GET /healthz, /readyz, /metrics, /fhir/metadata.
/// `ready` and `metrics` are owned by the server and outlive the routes.
struct BuiltinContext {
  std::function<bool()> ready;
  const Metrics* metrics = nullptr;
  std::vector<std::shared_ptr<const MetricsSource>> sources;  // appended to /metrics
  std::shared_ptr<const std::string> capability_statement;  // filled after all routes exist
};
Status add_builtin_routes(Router& router, std::shared_ptr<BuiltinContext> context);

/// The CapabilityStatement JSON for the routes (fhirVersion 4.0.1, json,
/// rest mode server, resources and operations from CapabilityInfo;
/// rest.security names Certificates with `mutual_tls` and SMART-on-FHIR
/// with the oauth-uris extension when `smart_token_url` is not empty).
std::string capability_statement(const Router& router, std::chrono::system_clock::time_point date,
                                 bool mutual_tls, std::string_view smart_token_url = {});

}  // namespace gw::http::detail
