// `fhir-gateway redact`: one release from the command line, for demos,
// integration tests and operators checking what a recipient would get. The
// app module owns the command table; this file owns the command's options.
#include "gateway/consent/consent.hpp"

#include <fstream>
#include <ostream>
#include <sstream>

namespace gw::consent {

namespace {

constexpr std::string_view kHelp =
    "Usage: fhir-gateway redact [--config FILE] --recipient ID --purpose CODE [--consent FILE]... "
    "FILE\n\n"
    "Releases the FHIR resource or Bundle in FILE to a registered recipient for a purpose of use,\n"
    "applying the consent policy and the patient's Consent resources, and prints\n"
    "{\"document\": <redacted>, \"receipt\": <Provenance>, \"audit\": <AuditEvent>}.\n"
    "  --config FILE     gateway configuration (recipients, policy); default config/demo.json\n"
    "  --recipient ID    recipient id from the configuration, e.g. demo-clinic\n"
    "  --purpose CODE    HL7 v3 ActReason purpose of use, e.g. TREAT\n"
    "  --consent FILE    a Consent resource (or a Bundle of them); repeatable\n"
    "A refusal (unknown recipient, enforcement or unlisted purpose), withheld input or a\n"
    "verifier finding prints {\"outcome\": <OperationOutcome>, \"audit\": <AuditEvent>} instead.\n"
    "Exit: 0 released, 1 refused / withheld / failed closed, 2 usage error or unusable input.\n";

constexpr int kOk = 0;
constexpr int kRefused = 1;
constexpr int kUsage = 2;

Result<json::Document> read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::kNotFound, "cannot open file", path);
  std::ostringstream buf;
  buf << in.rdbuf();
  auto doc = json::Document::parse(std::move(buf).str());
  if (!doc) return doc.error().with_context(path);
  return doc;
}

Status read_consents(const std::string& path, std::vector<PatientConsent>& out) {
  GW_TRY(json::Document doc, read_json(path));
  json::Value root = doc.root();
  std::vector<json::Value> resources;
  if (root.find("resourceType").str() == "Bundle") {
    for (json::Value e : root.find("entry").items()) resources.push_back(e.find("resource"));
  } else {
    resources.push_back(root);
  }
  for (json::Value r : resources) {
    auto c = parse_consent(r);
    if (!c) return c.error().with_context(path);
    out.push_back(std::move(*c));
  }
  return {};
}

void embed(json::Writer& w, std::string_view key, const std::string& text) {
  auto doc = json::Document::parse(text);
  GW_ASSERT(static_cast<bool>(doc), "the gateway wrote JSON it cannot parse");
  w.key(key);
  w.value(doc->root());
}

}  // namespace

int run_redact_command(std::span<const std::string_view> args,
                       std::shared_ptr<const fhir::Model> model, const Clock& clock,
                       std::ostream& out, std::ostream& err) {
  std::string config_path = "config/demo.json", recipient, purpose, file;
  std::vector<std::string> consent_files;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--help" || a == "-h") {
      out << kHelp;
      return kOk;
    }
    if (a == "--config" || a == "--recipient" || a == "--purpose" || a == "--consent") {
      if (i + 1 >= args.size()) {
        err << "redact: " << a << " needs a value\n" << kHelp;
        return kUsage;
      }
      std::string value(args[++i]);
      if (a == "--config") config_path = value;
      if (a == "--recipient") recipient = value;
      if (a == "--purpose") purpose = value;
      if (a == "--consent") consent_files.push_back(value);
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      err << "redact: unknown option\n" << kHelp;
      return kUsage;
    }
    if (!file.empty()) {
      err << "redact: give exactly one FILE\n";
      return kUsage;
    }
    file = std::string(a);
  }
  if (file.empty() || recipient.empty() || purpose.empty()) {
    err << "redact: FILE, --recipient and --purpose are required\n" << kHelp;
    return kUsage;
  }
  if (!model) {
    err << "redact: the FHIR model is not available\n";
    return kUsage;
  }
  auto config = load_gateway_config(config_path);
  if (!config) {
    err << "redact: " << config.error().to_string() << "\n";
    return kUsage;
  }
  auto policy = Policy::load_file(config->policy_path, model);
  if (!policy) {
    err << "redact: " << policy.error().to_string() << "\n";
    return kUsage;
  }
  ReleaseRequest req;
  req.recipient_id = recipient;
  req.purpose = purpose;
  req.now = clock.now();
  for (const std::string& f : consent_files) {
    if (Status s = read_consents(f, req.consents); !s) {
      err << "redact: " << s.error().to_string() << "\n";
      return kUsage;
    }
  }
  auto input = read_json(file);
  if (!input) {
    err << "redact: " << input.error().to_string() << "\n";
    return kUsage;
  }
  Engine engine(*policy, model, config->recipients);
  auto result = engine.release(input->root(), req);
  if (!result) {
    err << "redact: " << result.error().with_context(file).to_string() << "\n";
    return kUsage;
  }
  // One JSON object on stdout whatever happened, so scripts can read the
  // audit of a refusal the same way as the receipt of a release.
  json::Writer w(true);
  w.begin_object();
  if (result->outcome == Outcome::kReleased) {
    embed(w, "document", result->document);
    embed(w, "receipt", result->receipt);
  } else {
    embed(w, "outcome", fhir::operation_outcome_json(result->issues));
  }
  embed(w, "audit", audit_event_json(result->audit, **policy));
  w.end_object();
  out << w.str() << "\n";
  if (result->outcome != Outcome::kReleased) {
    err << "redact: " << to_string(result->outcome) << " (" << result->audit.reason << ")\n";
    return kRefused;
  }
  return kOk;
}

}  // namespace gw::consent
