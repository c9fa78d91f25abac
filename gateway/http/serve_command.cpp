// `fhir-gateway serve`: configuration, logging to stderr as JSON lines, the
// server, and a blocking wait for SIGINT/SIGTERM. The app module calls
// run_serve_command from its command table with the validator it wires.
#include "gateway/http/http.hpp"

#include <optional>
#include <string>

namespace gw::http {

namespace {

constexpr std::string_view kHelp =
    "Usage: fhir-gateway serve [--config FILE] [--listen ADDR:PORT] [--log-level LEVEL]\n\n"
    "Runs the HTTPS FHIR server until SIGINT or SIGTERM, then stops gracefully\n"
    "(in-flight requests finish within limits.drain_ms).\n"
    "  --config FILE      configuration (default config/demo.json): keys server, tls, limits, recipients, smart\n"
    "  --listen ADDR:PORT overrides server.listen (port 0 picks a free port)\n"
    "  --log-level LEVEL  debug, info, warn or error (default from the config, else info)\n"
    "Endpoints: GET /healthz, /readyz, /metrics, /fhir/metadata; POST /fhir/$validate,\n"
    "/fhir/{type}/$validate; with smart.enabled also GET /.well-known/smart-configuration and\n"
    "POST /auth/token (SMART Backend Services). Logs go to stderr, one JSON object per line.\n"
    "Exit: 0 stopped cleanly, 1 could not start (bind, TLS files), 2 usage or configuration error.\n";

}  // namespace

int run_serve_command(std::span<const std::string_view> args, const ServeOptions& options, std::ostream& out,
                      std::ostream& err) {
  std::string config_path = "config/demo.json";
  std::optional<std::string> listen;
  std::optional<LogLevel> level;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "--help" || a == "-h") {
      out << kHelp;
      return 0;
    }
    const bool takes_value = a == "--config" || a == "--listen" || a == "--log-level";
    if (!takes_value) {
      err << "serve: unknown argument\n" << kHelp;
      return 2;
    }
    if (i + 1 >= args.size()) {
      err << "serve: " << a << " needs a value\n";
      return 2;
    }
    const std::string_view v = args[++i];
    if (a == "--config") config_path = std::string(v);
    if (a == "--listen") listen = std::string(v);
    if (a == "--log-level") {
      level = parse_log_level(v);
      if (!level) {
        err << "serve: --log-level must be debug, info, warn or error\n";
        return 2;
      }
    }
  }
  auto config = load_server_config(config_path);
  if (!config) {
    err << "serve: " << config.error().to_string() << "\n";
    return 2;
  }
  if (listen) config->listen = *listen;
  if (level) config->log_level = *level;
  // The serve command owns the process: SIGINT/SIGTERM start the graceful
  // stop. Library users (tests) leave signals alone.
  config->handle_signals = true;
  if (auto s = check_server_config(*config); !s) {
    err << "serve: " << s.error().to_string() << "\n";
    return 2;
  }

  Router router;
  auto exchange_metrics = options.exchange_metrics ? options.exchange_metrics : std::make_shared<ExchangeMetrics>();
  if (auto s = add_validate_routes(router, options.validate ? options.validate : parse_gate_validator(),
                                   exchange_metrics);
      !s) {
    err << "serve: " << s.error().to_string() << "\n";
    return 2;
  }
  if (options.add_routes) {
    if (auto s = options.add_routes(router); !s) {
      err << "serve: " << s.error().to_string() << "\n";
      return 2;
    }
  }
  // Declared before the server so it outlives the logger that refers to it.
  auto clock = std::make_shared<SystemClock>();
  ServerDeps deps;
  deps.clock = clock;
  deps.logger = std::make_shared<JsonLineLogger>(err, config->log_level, *clock);
  deps.metric_sources = options.metric_sources;
  deps.metric_sources.push_back(exchange_metrics);
  const bool plain = config->plain_http_for_local_tests;
  auto server = Server::create(std::move(*config), std::move(router), deps);
  if (!server) {
    err << "serve: " << server.error().to_string() << "\n";
    return server.error().code() == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  if (auto s = (*server)->start(); !s) {
    err << "serve: " << s.error().to_string() << "\n";
    return 1;
  }
  const auto addr = (*server)->config().listen.substr(0, (*server)->config().listen.rfind(':'));
  out << "listening on " << (plain ? "http://" : "https://") << addr << ":" << (*server)->port() << "\n"
      << std::flush;
  if (plain) {
    err << "serve: WARNING plain HTTP (server.plain_http_for_local_tests): no TLS, no client identity\n";
  }
  (*server)->wait();
  return 0;
}

}  // namespace gw::http
