// The $validate routes and the foundation validator behind them until the
// full validator (branch `validation`) is wired by the app through
// ServeOptions::validate.
#include "gateway/http/http.hpp"

#include "gateway/fhir/fhir.hpp"

namespace gw::http {

namespace {

constexpr std::string_view kValidateDefinition = "http://hl7.org/fhir/OperationDefinition/Resource-validate";

// FHIR resource type names: an upper-case letter, then letters.
bool plausible_type(std::string_view t) {
  if (t.empty() || t.size() > 64 || t.front() < 'A' || t.front() > 'Z') return false;
  for (char c : t) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

Response run_validate(const ValidateFn& validate, const Request& req) {
  const std::string_view type = req.path_param("type");
  if (!type.empty() && !plausible_type(type)) {
    return Response::outcome(404, IssueType::kNotFound, "the path does not name a FHIR resource type");
  }
  // R4 ResourceValidationMode (a required binding): anything else is a
  // request we would answer wrongly, not one to ignore.
  if (auto mode = req.query_param("mode");
      mode && *mode != "create" && *mode != "update" && *mode != "delete" && *mode != "profile") {
    return Response::outcome(400, IssueType::kInvalid, "mode must be one of create, update, delete, profile");
  }
  const std::string_view profile = req.query_param("profile").value_or("");
  auto result = validate(req.body, type, profile);
  if (!result) {
    const ErrorCode code = result.error().code();
    const bool client_fault =
        code == ErrorCode::kParse || code == ErrorCode::kInvalidArgument || code == ErrorCode::kLimit;
    const bool unknown = code == ErrorCode::kNotFound || code == ErrorCode::kUnsupported;
    // An unknown type in the path is a resource endpoint that does not exist.
    if (code == ErrorCode::kUnsupported && !type.empty()) {
      return Response::outcome(404, IssueType::kNotFound, result.error().message());
    }
    return Response::outcome(client_fault ? 400 : unknown ? 422 : 500,
                             client_fault ? IssueType::kInvalid : unknown ? IssueType::kNotSupported
                                                                          : IssueType::kException,
                             result.error().message());
  }
  return Response::fhir_json(200, std::move(result->operation_outcome), req.response_media_type);
}

}  // namespace

Status add_validate_routes(Router& router, ValidateFn validate, std::shared_ptr<ExchangeMetrics> metrics) {
  if (!validate) return fail(ErrorCode::kInvalidArgument, "add_validate_routes needs a validator");
  auto shared = std::make_shared<const ValidateFn>(std::move(validate));
  for (std::string path : {"/fhir/$validate", "/fhir/{type}/$validate"}) {
    Route r;
    r.method = "POST";
    r.path_template = std::move(path);
    r.execution = Execution::kCpuPool;
    r.fhir_body = true;
    r.handler = SyncHandler([shared, metrics](const Request& req) {
      Response out = run_validate(*shared, req);
      if (metrics && out.status == 200) metrics->record_outcome(out.body);
      return out;
    });
    r.capability.operation = "validate";
    r.capability.operation_definition = std::string(kValidateDefinition);
    GW_CHECK_OK(router.add(std::move(r)));
  }
  return {};
}

ValidateFn parse_gate_validator() {
  return [](std::string_view body, std::string_view type, std::string_view) -> Result<ValidateOutcome> {
    fhir::ParsedResource parsed = fhir::parse_resource(std::string(body));
    std::vector<fhir::Issue> issues = std::move(parsed.issues);
    if (parsed.ok() && !type.empty()) {
      json::Value rt = parsed.document.root().find("resourceType");
      if (rt.str() != type) {
        fhir::Issue i;
        i.severity = fhir::Issue::Severity::kError;
        i.code = "invalid";
        i.expression = "resourceType";
        i.position = rt.position();
        i.diagnostics = "resourceType does not match the type in the request path";
        issues.push_back(std::move(i));
      }
    }
    ValidateOutcome out;
    for (const fhir::Issue& i : issues) {
      out.has_errors = out.has_errors || i.severity == fhir::Issue::Severity::kError ||
                       i.severity == fhir::Issue::Severity::kFatal;
    }
    out.operation_outcome = fhir::operation_outcome_json(issues);
    return out;
  };
}

}  // namespace gw::http
