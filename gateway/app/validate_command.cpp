// `fhir-gateway validate FILE...` at the foundation stage: the parse gate
// (hardened JSON, object root with a resourceType). The full validator
// replaces the body of this command when it lands; the output formats and
// exit codes stay as documented here.
#include "gateway/app/app.hpp"
#include "gateway/app/detail/commands.hpp"
#include "gateway/fhir/fhir.hpp"
#include "gateway/json/json.hpp"
#include "gateway/packages/packages.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace gw::app::detail {

namespace {

constexpr std::string_view kHelp =
    "Usage: fhir-gateway validate [--format text|json|ndjson] [--fhir-cache DIR] FILE...\n\n"
    "Checks that each FILE is a well-formed FHIR JSON resource of a known R4 type.\n"
    "  --format text    one line per issue: FILE:LINE:COL: severity: message (default)\n"
    "  --format json    one OperationOutcome per file\n"
    "  --format ndjson  one line per file: {\"file\",\"valid\",\"errors\",\"warnings\",\"outcome\"}\n"
    "Exit: 0 every file valid, 1 some file has an error, 2 usage error.\n";

bool is_error(const fhir::Issue& i) {
  return i.severity == fhir::Issue::Severity::kError || i.severity == fhir::Issue::Severity::kFatal;
}

}  // namespace

int run_validate(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  std::string_view format = "text";
  std::string cache_flag;
  std::vector<std::string> files;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      out << kHelp;
      return kExitOk;
    }
    if (args[i] == "--format") {
      if (i + 1 >= args.size()) {
        err << "validate: --format needs a value\n" << kHelp;
        return kExitUsage;
      }
      format = args[++i];
      if (format != "text" && format != "json" && format != "ndjson") {
        err << "validate: unknown format (text, json or ndjson)\n";
        return kExitUsage;
      }
      continue;
    }
    if (args[i] == "--fhir-cache") {
      if (i + 1 >= args.size()) {
        err << "validate: --fhir-cache needs a value\n";
        return kExitUsage;
      }
      cache_flag = std::string(args[++i]);
      continue;
    }
    if (args[i].size() > 1 && args[i][0] == '-') {
      err << "validate: unknown option\n" << kHelp;
      return kExitUsage;
    }
    files.emplace_back(args[i]);
  }
  if (files.empty()) {
    err << "validate: no FILE given\n" << kHelp;
    return kExitUsage;
  }
  packages::LoadOptions load;
  load.cache_dir = packages::resolve_cache_dir(cache_flag);
  load.packages.emplace_back("hl7.fhir.r4.core#4.0.1");
  auto registry = packages::Registry::load(load);
  if (!registry) {
    err << "validate: " << registry.error().to_string() << "\n";
    return kExitUsage;
  }
  auto model = fhir::Model::from_registry(**registry);
  if (!model) {
    err << "validate: " << model.error().to_string() << "\n";
    return kExitUsage;
  }
  bool all_valid = true;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      err << file << ": cannot open file\n";
      return kExitUsage;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    fhir::ParsedResource parsed = fhir::parse_resource(std::move(buf).str());
    if (parsed.ok()) {
      if (auto root = (*model)->resource(parsed.document.root()); !root) {
        fhir::Issue i;
        i.severity = fhir::Issue::Severity::kError;
        i.code = "structure";
        i.position = parsed.document.root().position();
        i.diagnostics = root.error().message();
        parsed.issues.push_back(std::move(i));
      }
    }
    std::size_t errors = 0, warnings = 0;
    for (const fhir::Issue& i : parsed.issues) {
      if (is_error(i)) ++errors;
      if (i.severity == fhir::Issue::Severity::kWarning) ++warnings;
    }
    all_valid = all_valid && errors == 0;
    if (format == "text") {
      for (const fhir::Issue& i : parsed.issues) {
        out << file << ":" << i.position.line << ":" << i.position.column << ": "
            << fhir::to_string(i.severity) << ": "
            << (i.expression.empty() ? "" : i.expression + ": ") << i.diagnostics << "\n";
      }
      if (errors == 0) out << file << ": valid\n";
    } else if (format == "json") {
      out << fhir::operation_outcome_json(parsed.issues, true) << "\n";
    } else {
      json::Writer w;
      w.begin_object();
      w.key("file");
      w.string(file);
      w.key("valid");
      w.boolean(errors == 0);
      w.key("errors");
      w.integer(static_cast<std::int64_t>(errors));
      w.key("warnings");
      w.integer(static_cast<std::int64_t>(warnings));
      w.key("outcome");
      w.number_text(fhir::operation_outcome_json(parsed.issues));  // already JSON
      w.end_object();
      out << w.str() << "\n";
    }
  }
  return all_valid ? kExitOk : kExitFailure;
}

}  // namespace gw::app::detail
