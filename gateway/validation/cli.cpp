// `fhir-gateway validate`: load packages and local conformance resources,
// build one Validator, validate each file, print issues in one of three
// formats. The app module wires this function into its command table.
#include "gateway/packages/packages.hpp"
#include "gateway/validation/validation.hpp"

#include <fstream>
#include <sstream>

namespace gw::validation {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitInvalid = 1;
constexpr int kExitUsage = 2;

constexpr std::string_view kHelp =
    "Usage: fhir-gateway validate [--ig NAME#VERSION|DIR|FILE]... [--profile URL]...\n"
    "                             [--format text|json|ndjson] [--fhir-cache DIR] [--verbose] FILE...\n\n"
    "Validates FHIR R4 JSON resources and Bundles against the base definitions, the\n"
    "profiles they name in meta.profile and the --profile URLs.\n"
    "  --ig ID|DIR|FILE  load a package from the cache (name#version), a folder of\n"
    "                    conformance resources or one resource file (repeatable;\n"
    "                    hl7.fhir.r4.core#4.0.1 is always loaded)\n"
    "  --profile URL     also validate every FILE against this profile (repeatable)\n"
    "  --format text     one line per issue: FILE:LINE:COL: severity: expression: message (default)\n"
    "  --format json     one OperationOutcome per file\n"
    "  --format ndjson   one line per file: {\"file\",\"valid\",\"errors\",\"warnings\",\"outcome\"}\n"
    "  --fhir-cache DIR  package cache (default $FHIR_PACKAGE_CACHE, else ~/.fhir/packages)\n"
    "  --verbose         also list problems found in the definitions themselves\n"
    "Exit: 0 every file valid, 1 some file has an error, 2 usage or internal error.\n";

bool looks_like_package_id(std::string_view s) {
  return s.find('#') != std::string_view::npos && s.find('/') == std::string_view::npos;
}

void print_text(std::ostream& out, const std::string& file, std::span<const Issue> issues) {
  for (const Issue& i : issues) {
    out << file << ":" << i.position.line << ":" << i.position.column << ": " << fhir::to_string(i.severity)
        << ": " << (i.expression.empty() ? std::string() : i.expression + ": ") << i.diagnostics << "\n";
  }
  if (!has_errors(issues)) out << file << ": valid\n";
}

void print_ndjson(std::ostream& out, const std::string& file, std::span<const Issue> issues) {
  json::Writer w;
  w.begin_object();
  w.key("file");
  w.string(file);
  w.key("valid");
  w.boolean(!has_errors(issues));
  w.key("errors");
  w.integer(static_cast<std::int64_t>(count_errors(issues)));
  w.key("warnings");
  w.integer(static_cast<std::int64_t>(count_warnings(issues)));
  w.key("outcome");
  w.number_text(fhir::operation_outcome_json(issues));  // already JSON text
  w.end_object();
  out << w.str() << "\n";
}

}  // namespace

int run_validate_command(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  std::string_view format = "text";
  std::string cache_flag;
  std::vector<std::string> igs;
  std::vector<std::string> profiles;
  std::vector<std::string> files;
  bool verbose = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    auto value = [&](std::string_view flag) -> const std::string_view* {
      if (i + 1 >= args.size()) {
        err << "validate: " << flag << " needs a value\n";
        return nullptr;
      }
      return &args[++i];
    };
    if (a == "--help" || a == "-h") {
      out << kHelp;
      return kExitOk;
    } else if (a == "--format") {
      const std::string_view* v = value(a);
      if (!v) return kExitUsage;
      format = *v;
      if (format != "text" && format != "json" && format != "ndjson") {
        err << "validate: unknown format (text, json or ndjson)\n";
        return kExitUsage;
      }
    } else if (a == "--fhir-cache") {
      const std::string_view* v = value(a);
      if (!v) return kExitUsage;
      cache_flag = std::string(*v);
    } else if (a == "--ig") {
      const std::string_view* v = value(a);
      if (!v) return kExitUsage;
      igs.emplace_back(*v);
    } else if (a == "--profile") {
      const std::string_view* v = value(a);
      if (!v) return kExitUsage;
      profiles.emplace_back(*v);
    } else if (a == "--verbose") {
      verbose = true;
    } else if (a.size() > 1 && a[0] == '-') {
      err << "validate: unknown option " << a.substr(0, 64) << "\n" << kHelp;
      return kExitUsage;
    } else {
      files.emplace_back(a);
    }
  }
  if (files.empty()) {
    err << "validate: no FILE given\n" << kHelp;
    return kExitUsage;
  }

  packages::LoadOptions load;
  load.cache_dir = packages::resolve_cache_dir(cache_flag);
  load.packages.emplace_back("hl7.fhir.r4.core#4.0.1");
  for (const std::string& ig : igs) {
    if (looks_like_package_id(ig)) {
      load.packages.push_back(ig);
    } else {
      load.extra_paths.push_back(ig);
    }
  }
  auto registry = packages::Registry::load(load);
  if (!registry) {
    err << "validate: " << registry.error().to_string() << "\n";
    return kExitUsage;
  }
  if (verbose) {
    for (const packages::LoadWarning& w : (*registry)->warnings()) err << "validate: note: " << w.message << "\n";
  }
  auto model = fhir::Model::from_registry(**registry);
  if (!model) {
    err << "validate: " << model.error().to_string() << "\n";
    return kExitUsage;
  }
  ValidatorOptions options;
  options.terminology = std::make_shared<const terminology::Service>(*registry);
  auto validator = Validator::create(*registry, *model, options);
  if (!validator) {
    err << "validate: " << validator.error().to_string() << "\n";
    return kExitUsage;
  }
  ValidateOptions per_call;
  per_call.profiles = profiles;
  for (const std::string& p : profiles) {
    if (Status st = (*validator)->prepare_profile(p); !st) {
      err << "validate: " << st.error().to_string() << "\n";
      return kExitUsage;
    }
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
    std::vector<Issue> issues = std::move(parsed.issues);
    if (issues.empty()) {
      auto result = (*validator)->validate(parsed.document.root(), per_call);
      if (!result) {
        err << file << ": " << result.error().to_string() << "\n";
        return kExitUsage;
      }
      issues = std::move(*result);
    }
    all_valid = all_valid && !has_errors(issues);
    if (format == "text") {
      print_text(out, file, issues);
    } else if (format == "json") {
      out << fhir::operation_outcome_json(issues, true) << "\n";
    } else {
      print_ndjson(out, file, issues);
    }
  }
  if (verbose) {
    for (const LoadProblem& p : (*validator)->load_problems()) {
      err << "validate: definition problem: " << p.definition << (p.element.empty() ? "" : " " + p.element)
          << ": " << p.message << "\n";
    }
  }
  return all_valid ? kExitOk : kExitInvalid;
}

}  // namespace gw::validation
