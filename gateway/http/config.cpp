// The server's part of the configuration file (keys `server`, `tls`,
// `limits`, and the `id`/`kind` of each registered organisation in
// `recipients`, the one registry of hospitals and clinics that consent and
// delivery read as well). Other modules read their own top-level keys from
// the same file, so unknown top-level keys are ignored here; unknown keys
// *inside* our sections are errors, because a misspelt limit silently
// falling back to its default is how outages start.
#include "gateway/http/detail/internal.hpp"

#include <charconv>
#include <set>

namespace gw::http {

namespace {

Error bad(std::string_view key, std::string_view what) {
  return Error(ErrorCode::kInvalidArgument, std::string(key) + ": " + std::string(what));
}

Status check_keys(json::Value obj, std::string_view section, std::initializer_list<std::string_view> known) {
  for (std::size_t i = 0; i < obj.size(); ++i) {
    const std::string_view k = obj.key(i);
    bool ok = false;
    for (std::string_view n : known) ok = ok || n == k;
    if (!ok) return bad(std::string(section) + "." + std::string(k), "unknown key");
  }
  return {};
}

// Numbers arrive as their literal text (the json module keeps FHIR decimals
// exact); from_chars rejects signs, fractions and exponents for integers,
// which is what a limit must be.
Result<std::uint64_t> get_uint(json::Value v, std::string_view key) {
  if (!v.is_number()) return bad(key, "must be a non-negative integer");
  std::uint64_t out = 0;
  const std::string_view s = v.str();
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size()) return bad(key, "must be a non-negative integer");
  return out;
}

Result<double> get_double(json::Value v, std::string_view key) {
  if (!v.is_number()) return bad(key, "must be a number");
  double out = 0;
  const std::string_view s = v.str();
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size() || out < 0) return bad(key, "must be a non-negative number");
  return out;
}

Result<std::string> get_string(json::Value v, std::string_view key) {
  if (!v.is_string()) return bad(key, "must be a string");
  return std::string(v.str());
}

Result<bool> get_bool(json::Value v, std::string_view key) {
  if (!v.is_bool()) return bad(key, "must be true or false");
  return v.boolean();
}

Status parse_server(json::Value s, ServerConfig& c) {
  if (!s.is_object()) return bad("server", "must be an object");
  GW_CHECK_OK(check_keys(s, "server", {"listen", "io_threads", "cpu_threads", "plain_http_for_local_tests",
                                       "log_level"}));
  if (auto v = s.find("listen")) { GW_TRY(c.listen, get_string(v, "server.listen")); }
  if (auto v = s.find("io_threads")) {
    GW_TRY(auto n, get_uint(v, "server.io_threads"));
    c.io_threads = static_cast<unsigned>(n);
  }
  if (auto v = s.find("cpu_threads")) {
    GW_TRY(auto n, get_uint(v, "server.cpu_threads"));
    c.cpu_threads = static_cast<unsigned>(n);
  }
  if (auto v = s.find("plain_http_for_local_tests")) {
    GW_TRY(c.plain_http_for_local_tests, get_bool(v, "server.plain_http_for_local_tests"));
  }
  if (auto v = s.find("log_level")) {
    GW_TRY(auto text, get_string(v, "server.log_level"));
    auto level = parse_log_level(text);
    if (!level) return bad("server.log_level", "must be debug, info, warn or error");
    c.log_level = *level;
  }
  return {};
}

Status parse_tls(json::Value t, TlsConfig& c) {
  if (!t.is_object()) return bad("tls", "must be an object");
  GW_CHECK_OK(check_keys(t, "tls", {"cert", "key", "client_ca", "crl", "require_client_cert"}));
  if (auto v = t.find("cert")) { GW_TRY(c.cert_chain_file, get_string(v, "tls.cert")); }
  if (auto v = t.find("key")) { GW_TRY(c.private_key_file, get_string(v, "tls.key")); }
  if (auto v = t.find("client_ca")) { GW_TRY(c.client_ca_file, get_string(v, "tls.client_ca")); }
  if (auto v = t.find("crl")) { GW_TRY(c.crl_file, get_string(v, "tls.crl")); }
  if (auto v = t.find("require_client_cert")) {
    GW_TRY(c.require_client_cert, get_bool(v, "tls.require_client_cert"));
  }
  return {};
}

Status parse_limits(json::Value l, Limits& c) {
  if (!l.is_object()) return bad("limits", "must be an object");
  GW_CHECK_OK(check_keys(l, "limits",
                         {"body_bytes", "header_bytes", "max_connections", "pipeline_depth", "read_buffer_bytes",
                          "handshake_ms", "read_header_ms", "read_body_ms", "handler_ms", "write_ms", "idle_ms",
                          "drain_ms", "rate_per_second", "rate_burst", "rate_max_clients"}));
  auto uint_key = [&](std::string_view key, auto& field) -> Status {
    if (auto v = l.find(key)) {
      GW_TRY(auto n, get_uint(v, "limits." + std::string(key)));
      field = static_cast<std::remove_reference_t<decltype(field)>>(n);
    }
    return {};
  };
  auto ms_key = [&](std::string_view key, std::chrono::milliseconds& field) -> Status {
    if (auto v = l.find(key)) {
      GW_TRY(auto n, get_uint(v, "limits." + std::string(key)));
      field = std::chrono::milliseconds(static_cast<std::int64_t>(n));
    }
    return {};
  };
  GW_CHECK_OK(uint_key("body_bytes", c.body_bytes));
  GW_CHECK_OK(uint_key("header_bytes", c.header_bytes));
  GW_CHECK_OK(uint_key("max_connections", c.max_connections));
  GW_CHECK_OK(uint_key("pipeline_depth", c.pipeline_depth));
  GW_CHECK_OK(uint_key("read_buffer_bytes", c.read_buffer_bytes));
  GW_CHECK_OK(uint_key("rate_max_clients", c.rate.max_keys));
  GW_CHECK_OK(ms_key("handshake_ms", c.handshake));
  GW_CHECK_OK(ms_key("read_header_ms", c.read_header));
  GW_CHECK_OK(ms_key("read_body_ms", c.read_body));
  GW_CHECK_OK(ms_key("handler_ms", c.handler));
  GW_CHECK_OK(ms_key("write_ms", c.write));
  GW_CHECK_OK(ms_key("idle_ms", c.idle));
  GW_CHECK_OK(ms_key("drain_ms", c.drain));
  if (auto v = l.find("rate_per_second")) { GW_TRY(c.rate.per_second, get_double(v, "limits.rate_per_second")); }
  if (auto v = l.find("rate_burst")) { GW_TRY(c.rate.burst, get_double(v, "limits.rate_burst")); }
  return {};
}

// Only `id` and `kind` are the server's; the consent module checks every
// key of a registration, so other members are not errors here.
Status parse_clients(json::Value a, std::vector<ClientEntry>& out) {
  if (!a.is_array()) return bad("recipients", "must be an array");
  for (std::size_t i = 0; i < a.size(); ++i) {
    json::Value e = a[i];
    const std::string where = "recipients[" + std::to_string(i) + "]";
    if (!e.is_object()) return bad(where, "must be an object");
    ClientEntry c;
    json::Value id = e.find("id");
    if (!id) return bad(where + ".id", "is required");
    GW_TRY(c.id, get_string(id, where + ".id"));
    if (c.id.empty()) return bad(where + ".id", "must not be empty");
    if (auto k = e.find("kind")) { GW_TRY(c.kind, get_string(k, where + ".kind")); }
    out.push_back(std::move(c));
  }
  return {};
}

// `smart`: SMART Backend Services (see SmartConfig). Registrations are
// keyed by organisation id rather than nested in `recipients`, whose keys
// the consent module checks one by one.
Status parse_smart(json::Value s, SmartConfig& c) {
  if (!s.is_object()) return bad("smart", "must be an object");
  GW_CHECK_OK(check_keys(s, "smart", {"enabled", "base_url", "token_secret_file", "token_lifetime_s",
                                      "replay_cache_entries", "clients"}));
  if (auto v = s.find("enabled")) { GW_TRY(c.enabled, get_bool(v, "smart.enabled")); }
  if (auto v = s.find("base_url")) { GW_TRY(c.base_url, get_string(v, "smart.base_url")); }
  if (auto v = s.find("token_secret_file")) { GW_TRY(c.token_secret_file, get_string(v, "smart.token_secret_file")); }
  if (auto v = s.find("token_lifetime_s")) {
    GW_TRY(auto n, get_uint(v, "smart.token_lifetime_s"));
    c.token_lifetime = std::chrono::seconds(static_cast<std::int64_t>(std::min<std::uint64_t>(n, 1u << 30)));
  }
  if (auto v = s.find("replay_cache_entries")) {
    GW_TRY(auto n, get_uint(v, "smart.replay_cache_entries"));
    c.replay_cache_entries = static_cast<std::size_t>(n);
  }
  if (auto clients = s.find("clients")) {
    if (!clients.is_object()) return bad("smart.clients", "must be an object keyed by organisation id");
    for (std::size_t i = 0; i < clients.size(); ++i) {
      SmartClient sc;
      sc.id = std::string(clients.key(i));
      const std::string where = "smart.clients." + sc.id;
      json::Value e = clients[i];
      if (!e.is_object()) return bad(where, "must be an object");
      GW_CHECK_OK(check_keys(e, where, {"jwks", "jwks_file", "scopes"}));
      if (auto j = e.find("jwks")) {
        if (!j.is_object()) return bad(where + ".jwks", "must be a JWK Set object");
        json::Writer w;
        w.value(j);
        sc.jwks_json = std::move(w).take();
      }
      if (auto f = e.find("jwks_file")) { GW_TRY(sc.jwks_file, get_string(f, where + ".jwks_file")); }
      if (auto a = e.find("scopes")) {
        if (!a.is_array()) return bad(where + ".scopes", "must be an array of strings");
        for (std::size_t k = 0; k < a.size(); ++k) {
          GW_TRY(auto one, get_string(a[k], where + ".scopes"));
          sc.scopes.push_back(std::move(one));
        }
      }
      c.clients.push_back(std::move(sc));
    }
  }
  return {};
}

}  // namespace

namespace detail {

// IPv6 literals need brackets, as in URLs, because their colons would be
// ambiguous with the port separator; host names other than localhost are
// refused later by start() (no resolver at start-up: it could block).
std::optional<ListenAddress> parse_listen(std::string_view text) {
  ListenAddress out;
  std::string_view host, port;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // v6 needs brackets
  }
  if (host.empty() || port.empty()) return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535) return std::nullopt;
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

}  // namespace detail

Result<ServerConfig> parse_server_config(json::Value root) {
  if (!root.is_object()) return bad("config", "the root must be a JSON object");
  ServerConfig c;
  if (auto s = root.find("server")) GW_CHECK_OK(parse_server(s, c));
  if (auto t = root.find("tls")) GW_CHECK_OK(parse_tls(t, c.tls));
  if (auto l = root.find("limits")) GW_CHECK_OK(parse_limits(l, c.limits));
  if (root.find("clients")) {
    return bad("clients", "is no longer read: register organisations once, in `recipients`");
  }
  if (auto a = root.find("recipients")) GW_CHECK_OK(parse_clients(a, c.clients));
  if (auto sm = root.find("smart")) GW_CHECK_OK(parse_smart(sm, c.smart));
  GW_CHECK_OK(check_server_config(c));
  return c;
}

Result<ServerConfig> load_server_config(const std::string& path) {
  GW_TRY(auto doc, json::Document::parse_file(path));
  auto c = parse_server_config(doc.root());
  if (!c) return c.error().with_context(path);
  return c;
}

// Checks what cannot work, not what is merely unusual: a one-second body
// deadline is odd but valid; a zero one would cut every request.
Status check_server_config(const ServerConfig& c) {
  if (!detail::parse_listen(c.listen)) return bad("server.listen", "must be ADDR:PORT (IPv6 as [ADDR]:PORT)");
  // TLS is the default and needs its files; plain HTTP is an explicit
  // opt-in for local tests and benchmarks.
  if (!c.plain_http_for_local_tests) {
    if (c.tls.cert_chain_file.empty()) return bad("tls.cert", "is required unless plain HTTP is configured");
    if (c.tls.private_key_file.empty()) return bad("tls.key", "is required unless plain HTTP is configured");
    if (!c.tls.crl_file.empty() && c.tls.client_ca_file.empty()) {
      return bad("tls.crl", "needs tls.client_ca (revocation applies to client certificates)");
    }
    if (c.tls.require_client_cert && c.tls.client_ca_file.empty()) {
      return bad("tls.client_ca", "is required when client certificates are required");
    }
  }
  const Limits& l = c.limits;
  if (l.body_bytes == 0) return bad("limits.body_bytes", "must be positive");
  if (l.header_bytes < 1024) return bad("limits.header_bytes", "must be at least 1024");
  if (l.max_connections == 0) return bad("limits.max_connections", "must be positive");
  if (l.pipeline_depth == 0) return bad("limits.pipeline_depth", "must be positive");
  if (l.read_buffer_bytes < 1024) return bad("limits.read_buffer_bytes", "must be at least 1024");
  for (auto [d, key] : {std::pair{l.handshake, "limits.handshake_ms"}, {l.read_header, "limits.read_header_ms"},
                        {l.read_body, "limits.read_body_ms"}, {l.handler, "limits.handler_ms"},
                        {l.write, "limits.write_ms"}, {l.idle, "limits.idle_ms"}}) {
    if (d.count() <= 0) return bad(key, "must be positive");
  }
  if (l.rate.per_second > 0 && l.rate.burst < 1) return bad("limits.rate_burst", "must be at least 1 when rate limiting is on");
  std::set<std::string> ids;
  for (const ClientEntry& e : c.clients) {
    if (!ids.insert(e.id).second) return bad("recipients", "organisation id listed twice: " + e.id);
  }
  if (const SmartConfig& s = c.smart; s.enabled) {
    // Bearer tokens travel only over TLS (RFC 6750 §5.3).
    if (c.plain_http_for_local_tests) return bad("smart.enabled", "needs TLS (not plain_http_for_local_tests)");
    if (!s.base_url.starts_with("https://") || s.base_url.ends_with('/')) {
      return bad("smart.base_url", "must be the public https:// base URL, without a trailing '/'");
    }
    if (s.token_secret_file.empty()) return bad("smart.token_secret_file", "is required when SMART is enabled");
    if (s.token_lifetime.count() <= 0 || s.token_lifetime.count() > 3600) {
      return bad("smart.token_lifetime_s", "must be between 1 and 3600");
    }
    if (s.replay_cache_entries == 0) return bad("smart.replay_cache_entries", "must be positive");
    std::set<std::string> seen;
    for (const SmartClient& sc : s.clients) {
      if (!ids.contains(sc.id)) return bad("smart.clients." + sc.id, "is not a registered organisation (recipients)");
      if (!seen.insert(sc.id).second) return bad("smart.clients", "organisation listed twice: " + sc.id);
      if (sc.jwks_json.empty() && sc.jwks_file.empty()) return bad("smart.clients." + sc.id, "needs jwks or jwks_file");
      if (sc.scopes.empty()) return bad("smart.clients." + sc.id + ".scopes", "must name at least one scope");
    }
  }
  return {};
}

}  // namespace gw::http
