// The FHIR REST face of the push and pull use cases (gw::exchange): request
// parameters in, Reply out, FHIR conventions (Location under the FHIR base,
// Last-Modified, Prefer) applied here so the use cases stay HTTP-free.
#include "gateway/http/http.hpp"

#include "gateway/exchange/exchange.hpp"
#include "gateway/json/json.hpp"
#include "gateway/signing/signing.hpp"

#include <algorithm>
#include <optional>
#include <utility>

namespace gw::http {

namespace {

constexpr std::string_view kSummaryDefinition = "http://hl7.org/fhir/uv/ips/OperationDefinition/summary";

// Every release carries a purpose of use (v3-ActReason): the `purpose`
// parameter or the X-Purpose-Of-Use header; treatment when neither is
// given. Enforcement and unknown purposes are refused by the consent
// engine, whatever the route.
std::string purpose_of(const Request& req) {
  if (auto p = req.query_param("purpose")) return std::string(*p);
  if (auto h = req.header("x-purpose-of-use"); !h.empty()) return std::string(h);
  return "TREAT";
}

// `_count` / `_offset`: digits only. A number too large for any page is
// still a number: it is clamped (the exchange serves at most its page
// size), not refused, as FHIR lets a server return fewer than asked.
std::optional<std::size_t> page_number(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::size_t n = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return std::nullopt;
    n = std::min<std::size_t>(n * 10 + static_cast<std::size_t>(ch - '0'), std::size_t{1} << 40);
  }
  return n;
}

// "system|value" token search parameter.
exchange::PatientRef patient_by_token(std::string_view token) {
  exchange::PatientRef p;
  auto bar = token.find('|');
  if (bar == std::string_view::npos) return p;
  p.system = std::string(token.substr(0, bar));
  p.value = std::string(token.substr(bar + 1));
  return p;
}

Response to_response(const Request& req, exchange::Reply reply) {
  Response r = Response::fhir_json(reply.status, std::move(reply.body), req.response_media_type);
  for (auto& [name, value] : reply.headers) {
    if (name == "Location" && !value.starts_with('/')) value = "/fhir/" + value;
    r.set_header(std::move(name), std::move(value));
  }
  if (reply.last_modified) r.set_header("Last-Modified", http_date(*reply.last_modified));
  return r;
}

exchange::Caller caller_of(const Request& req) { return exchange::Caller{req.client ? req.client->id : ""}; }

// `$patient-copy` answers HTML for `_format=html` (or text/html), or when
// the client accepts text/html and no _format says otherwise.
bool wants_html(const Request& req) {
  if (auto f = req.query_param("_format")) return *f == "html" || *f == "text/html";
  return req.header("accept").find("text/html") != std::string_view::npos;
}

}  // namespace

Status add_exchange_routes(Router& router, std::shared_ptr<const exchange::Exchange> exchange,
                           std::shared_ptr<ExchangeMetrics> metrics) {
  if (!exchange) return fail(ErrorCode::kInvalidArgument, "add_exchange_routes needs the exchange");

  Route push;
  push.method = "POST";
  push.path_template = "/fhir";
  push.execution = Execution::kCpuPool;
  push.fhir_body = true;
  push.capability.interaction = "transaction";
  // SMART: pushing creates a Bundle (v1 system/Bundle.write, v2 .c).
  push.scope = {"Bundle", 'c'};
  push.handler = AsyncHandler([exchange, metrics](RequestPtr req, Responder done) {
    exchange::PushRequest p;
    p.body = req->body;
    p.purpose = purpose_of(*req);
    for (const auto& [name, value] : req->query) {
      if (name != "recipient") continue;
      // Repeated parameters and comma-separated lists both name recipients.
      std::string_view rest = value;
      while (!rest.empty()) {
        auto comma = rest.find(',');
        if (auto one = rest.substr(0, comma); !one.empty()) p.recipients.emplace_back(one);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    }
    exchange->push(caller_of(*req), std::move(p), [req, done, metrics](exchange::Reply reply) {
      if (metrics) {
        metrics->record_push(reply.status);
        // A refused document's issues (parse, validation, profile) count by rule.
        if (reply.status == 400 || reply.status == 422) metrics->record_outcome(reply.body);
      }
      Response r = to_response(*req, std::move(reply));
      if (r.status == 201) apply_prefer(*req, r);
      done(std::move(r));
    });
  });
  GW_CHECK_OK(router.add(std::move(push)));

  // A consent withdrawal: the FHIR update of the Consent with status
  // inactive (or rejected). exchange.hpp, "Consent withdrawal".
  Route withdraw;
  withdraw.method = "PUT";
  withdraw.path_template = "/fhir/Consent/{id}";
  withdraw.execution = Execution::kCpuPool;
  withdraw.fhir_body = true;
  withdraw.capability = {"Consent", "update", "", ""};
  withdraw.scope = {"Consent", 'u'};  // SMART: system/Consent.u or .write
  withdraw.handler = SyncHandler([exchange](const Request& req) {
    return to_response(req, exchange->update_consent(caller_of(req), req.path_param("id"), req.body));
  });
  GW_CHECK_OK(router.add(std::move(withdraw)));

  // Pulls read Bundles: $summary answers with a document Bundle, so it
  // needs the same read scope as Bundle/{id}; the listing is a search.
  auto add_get = [&](std::string path, CapabilityInfo cap, SyncHandler h) {
    Route r;
    r.method = "GET";
    r.scope = cap.resource_type == "DocumentReference" ? ScopeNeed{"DocumentReference", 's'} : ScopeNeed{"Bundle", 'r'};
    r.path_template = std::move(path);
    r.execution = Execution::kCpuPool;
    r.capability = std::move(cap);
    r.handler = std::move(h);
    return router.add(std::move(r));
  };
  GW_CHECK_OK(add_get("/fhir/Patient/{id}/$summary",
                      {"Patient", "", "summary", std::string(kSummaryDefinition)},
                      [exchange](const Request& req) {
                        exchange::PatientRef p;
                        p.key = std::string(req.path_param("id"));
                        return to_response(req, exchange->summary(caller_of(req), p, purpose_of(req)));
                      }));
  GW_CHECK_OK(add_get("/fhir/Patient/$summary", {"Patient", "", "summary", std::string(kSummaryDefinition)},
                      [exchange](const Request& req) {
                        auto token = req.query_param("identifier");
                        if (!token) {
                          return Response::outcome(400, IssueType::kRequired,
                                                   "name the patient: Patient/{id}/$summary or ?identifier=system|value");
                        }
                        exchange::PatientRef p = patient_by_token(*token);
                        if (p.system.empty() || p.value.empty()) {
                          return Response::outcome(400, IssueType::kInvalid, "identifier must be system|value");
                        }
                        return to_response(req, exchange->summary(caller_of(req), p, purpose_of(req)));
                      }));
  GW_CHECK_OK(add_get("/fhir/Bundle/{id}", {"Bundle", "read", "", ""}, [exchange](const Request& req) {
    return to_response(req, exchange->read_bundle(caller_of(req), req.path_param("id"), purpose_of(req)));
  }));
  // A patient-held copy (issue #12): the signed document as Bundle/{id}
  // returns it, or one printable HTML page with a QR code of the document
  // id and its content digest. Not a plain FHIR route: it answers HTML, so
  // _format and Accept are read here.
  {
    Route r;
    r.method = "GET";
    r.path_template = "/fhir/Bundle/{id}/$patient-copy";
    r.scope = ScopeNeed{"Bundle", 'r'};
    r.execution = Execution::kCpuPool;
    r.fhir_api = false;
    r.capability = {"Bundle", "", "patient-copy",
                    "http://fhir.migrant-care.example.org/OperationDefinition/patient-copy"};
    r.handler = SyncHandler([exchange](const Request& req) {
      exchange::Reply reply = exchange->read_bundle(caller_of(req), req.path_param("id"), purpose_of(req));
      if (reply.status != 200 || !wants_html(req)) return to_response(req, std::move(reply));
      auto doc = json::Document::parse(std::move(reply.body));
      auto html = doc ? signing::patient_copy_html(doc->root(), req.path_param("id"))
                      : Result<std::string>(doc.error());
      if (!html) {
        return Response::outcome(500, IssueType::kException, "the patient copy could not be made: " + html.error().message());
      }
      Response out = Response::text(200, std::move(*html), "text/html; charset=utf-8");
      out.set_header("Cache-Control", "no-store");  // patient data: never kept by a shared cache
      return out;
    });
    GW_CHECK_OK(router.add(std::move(r)));
  }
  GW_CHECK_OK(add_get("/fhir/DocumentReference", {"DocumentReference", "search-type", "", ""},
                      [exchange](const Request& req) {
                        exchange::PatientRef p;
                        if (auto key = req.query_param("patient")) {
                          std::string_view k = *key;
                          if (k.starts_with("Patient/")) k.remove_prefix(8);
                          p.key = std::string(k);
                        } else if (auto token = req.query_param("patient.identifier")) {
                          p = patient_by_token(*token);
                        }
                        if (p.key.empty() && (p.system.empty() || p.value.empty())) {
                          return Response::outcome(400, IssueType::kRequired,
                                                   "search by patient=<id> or patient.identifier=system|value");
                        }
                        exchange::Page page;
                        for (auto [name, into] : {std::pair<std::string_view, std::size_t*>{"_count", &page.count},
                                                  {"_offset", &page.offset}}) {
                          auto v = req.query_param(name);
                          if (!v) continue;
                          auto n = page_number(*v);
                          if (!n) {
                            return Response::outcome(400, IssueType::kInvalid,
                                                     "search parameter " + std::string(name) +
                                                         " must be a non-negative integer");
                          }
                          *into = *n;
                        }
                        return to_response(req, exchange->document_references(caller_of(req), p, page));
                      }));
  return {};
}

Status add_jwks_route(Router& router, std::string jwks_json) {
  Route r;
  r.method = "GET";
  r.path_template = "/.well-known/jwks.json";
  r.require_client = false;
  r.fhir_api = false;
  r.handler = SyncHandler([jwks = std::make_shared<const std::string>(std::move(jwks_json))](const Request&) {
    Response out = Response::text(200, *jwks, "application/jwk-set+json");
    out.set_header("Cache-Control", "public, max-age=300");
    return out;
  });
  return router.add(std::move(r));
}

}  // namespace gw::http
