// The built-in routes (probes, metrics) and the CapabilityStatement that
// /fhir/metadata serves, generated from the registered routes so that it
// cannot drift from what the server really answers.
#include "gateway/http/detail/internal.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace gw::http::detail {

namespace {
constexpr std::string_view kVersion = "0.1.0";
}

std::string capability_statement(const Router& router, std::chrono::system_clock::time_point date,
                                 bool mutual_tls, std::string_view smart_token_url) {
  // Routes say what they contribute through CapabilityInfo; routes without
  // it (probes, metrics, test hooks) are not part of the FHIR API and stay
  // out. A route for a concrete type lands under rest.resource; a route
  // for any type (`{type}`) or the system level lands under rest.operation,
  // because a CapabilityStatement cannot list "every type" as a resource.
  // resource type -> interactions / operations (sorted: stable output).
  struct PerType {
    std::set<std::string> interactions;
    std::map<std::string, std::string> operations;  // name -> definition
  };
  std::map<std::string, PerType> types;
  std::map<std::string, std::string> system_ops;
  std::set<std::string> system_interactions;
  for (const Route& r : router.routes()) {
    const CapabilityInfo& c = r.capability;
    if (c.interaction.empty() && c.operation.empty()) continue;
    if (c.resource_type.empty()) {
      if (!c.operation.empty()) system_ops.emplace(c.operation, c.operation_definition);
      if (!c.interaction.empty()) system_interactions.insert(c.interaction);
      continue;
    }
    PerType& t = types[c.resource_type];
    if (!c.interaction.empty()) t.interactions.insert(c.interaction);
    if (!c.operation.empty()) t.operations.emplace(c.operation, c.operation_definition);
  }
  auto write_ops = [](json::Writer& w, const std::map<std::string, std::string>& ops) {
    w.key("operation");
    w.begin_array();
    for (const auto& [name, def] : ops) {
      w.begin_object();
      w.key("name");
      w.string(name);
      w.key("definition");
      w.string(def.empty() ? "http://hl7.org/fhir/OperationDefinition/Resource-" + name : def);
      w.end_object();
    }
    w.end_array();
  };

  const std::string iso = gw::format_instant(date);

  // kind=instance: this describes one running server, so `date` is its
  // start time and the statement is generated once, at Server::create.
  json::Writer w;
  w.begin_object();
  w.key("resourceType");
  w.string("CapabilityStatement");
  w.key("status");
  w.string("active");
  w.key("date");
  w.string(iso);
  w.key("publisher");
  w.string("fhir-gateway");
  w.key("kind");
  w.string("instance");
  w.key("software");
  w.begin_object();
  w.key("name");
  w.string("fhir-gateway");
  w.key("version");
  w.string(kVersion);
  w.end_object();
  w.key("implementation");
  w.begin_object();
  w.key("description");
  w.string("Continuity-of-care gateway: validates, redacts by consent and forwards FHIR R4 documents");
  w.end_object();
  w.key("fhirVersion");
  w.string("4.0.1");
  w.key("format");
  w.begin_array();
  w.string("json");
  w.end_array();
  w.key("rest");
  w.begin_array();
  w.begin_object();
  w.key("mode");
  w.string("server");
  w.key("security");
  w.begin_object();
  w.key("cors");
  w.boolean(false);
  // restful-security-service codes: Certificates for mutual TLS,
  // SMART-on-FHIR for Backend Services tokens, whose token endpoint the
  // SMART oauth-uris extension announces (SMART App Launch, "conformance").
  const bool smart = !smart_token_url.empty();
  if (smart) {
    w.key("extension");
    w.begin_array();
    w.begin_object();
    w.key("url");
    w.string("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
    w.key("extension");
    w.begin_array();
    w.begin_object();
    w.key("url");
    w.string("token");
    w.key("valueUri");
    w.string(smart_token_url);
    w.end_object();
    w.end_array();
    w.end_object();
    w.end_array();
  }
  if (mutual_tls || smart) {
    w.key("service");
    w.begin_array();
    auto service = [&](std::string_view code) {
      w.begin_object();
      w.key("coding");
      w.begin_array();
      w.begin_object();
      w.key("system");
      w.string("http://terminology.hl7.org/CodeSystem/restful-security-service");
      w.key("code");
      w.string(code);
      w.end_object();
      w.end_array();
      w.end_object();
    };
    if (mutual_tls) service("Certificates");
    if (smart) service("SMART-on-FHIR");
    w.end_array();
  }
  w.key("description");
  std::string description = mutual_tls ? "Mutual TLS: clients authenticate with certificates issued by the gateway's client CA"
                                       : "TLS without client certificates";
  if (smart) {
    description += "; SMART Backend Services: client_credentials with private_key_jwt (RS384, ES384) at the token "
                   "endpoint, then Authorization: Bearer with system/ scopes";
  }
  w.string(description);
  w.end_object();
  w.key("resource");
  w.begin_array();
  for (const auto& [type, t] : types) {
    w.begin_object();
    w.key("type");
    w.string(type);
    if (!t.interactions.empty()) {
      w.key("interaction");
      w.begin_array();
      for (const std::string& i : t.interactions) {
        w.begin_object();
        w.key("code");
        w.string(i);
        w.end_object();
      }
      w.end_array();
    }
    if (!t.operations.empty()) write_ops(w, t.operations);
    w.end_object();
  }
  w.end_array();
  if (!system_interactions.empty()) {
    w.key("interaction");
    w.begin_array();
    for (const std::string& i : system_interactions) {
      w.begin_object();
      w.key("code");
      w.string(i);
      w.end_object();
    }
    w.end_array();
  }
  if (!system_ops.empty()) write_ops(w, system_ops);
  w.end_object();
  w.end_array();
  w.end_object();
  return std::move(w).take();
}

// Probes and metrics are not FHIR routes (no _format/Accept rules), need no
// registered client (an orchestrator's probe has none) and are never rate
// limited (a throttled probe would restart a healthy pod). /fhir/metadata
// needs no client either: FHIR clients read it before anything else.
Status add_builtin_routes(Router& router, std::shared_ptr<BuiltinContext> ctx) {
  auto probe = [](std::string path, SyncHandler h) {
    Route r;
    r.method = "GET";
    r.path_template = std::move(path);
    r.handler = std::move(h);
    r.require_client = false;
    r.rate_limited = false;
    r.fhir_api = false;
    return r;
  };
  GW_CHECK_OK(router.add(probe("/healthz", [](const Request&) { return Response::text(200, "ok\n"); })));
  GW_CHECK_OK(router.add(probe("/readyz", [ctx](const Request&) {
    if (ctx->ready && ctx->ready()) return Response::text(200, "ready\n");
    Response r = Response::text(503, "not ready\n");
    r.set_header("Retry-After", "1");
    return r;
  })));
  // With extra sources (which may read the store), a scrape runs on the
  // CPU pool; the server's own counters alone are cheap enough to answer
  // inline.
  Route metrics = probe("/metrics", [ctx](const Request&) {
    std::string text = ctx->metrics->prometheus_text();
    PrometheusWriter w;
    for (const auto& source : ctx->sources) source->write(w);
    text += w.str();
    return Response::text(200, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
  });
  if (!ctx->sources.empty()) metrics.execution = Execution::kCpuPool;
  GW_CHECK_OK(router.add(std::move(metrics)));
  Route meta;
  meta.method = "GET";
  meta.path_template = "/fhir/metadata";
  meta.require_client = false;
  meta.rate_limited = true;
  meta.capability = {.resource_type = "", .interaction = "", .operation = "", .operation_definition = ""};
  meta.handler = SyncHandler([ctx](const Request& req) {
    Response r = Response::fhir_json(200, *ctx->capability_statement, req.response_media_type);
    // The statement holds no patient data: caches may keep it briefly.
    r.set_header("Cache-Control", "public, max-age=60");
    return r;
  });
  GW_CHECK_OK(router.add(std::move(meta)));
  return {};
}

}  // namespace gw::http::detail
