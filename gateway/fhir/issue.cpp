// Issues and OperationOutcome output, and the first gate every input passes:
// bytes -> JSON -> "is this a resource at all?".
#include "gateway/fhir/fhir.hpp"

namespace gw::fhir {

namespace {
constexpr std::string_view kLineExt = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line";
constexpr std::string_view kColExt = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col";

// "line 3, column 7" -> {3, 7}; the json module's location format.
json::Position parse_location(std::string_view loc) {
  json::Position p;
  auto read = [&](std::string_view word) -> std::uint32_t {
    auto at = loc.find(word);
    if (at == std::string_view::npos) return 0;
    std::uint32_t v = 0;
    for (std::size_t i = at + word.size(); i < loc.size() && loc[i] >= '0' && loc[i] <= '9'; ++i) {
      v = v * 10 + static_cast<std::uint32_t>(loc[i] - '0');
    }
    return v;
  };
  p.line = read("line ");
  p.column = read("column ");
  return p;
}
}  // namespace

std::string_view to_string(Issue::Severity s) {
  switch (s) {
    case Issue::Severity::kFatal: return "fatal";
    case Issue::Severity::kError: return "error";
    case Issue::Severity::kWarning: return "warning";
    case Issue::Severity::kInformation: return "information";
  }
  return "error";
}

std::string operation_outcome_json(std::span<const Issue> issues, bool pretty, std::size_t max_listed) {
  // Which issues are listed: all, or errors first up to the cap.
  std::vector<bool> listed(issues.size(), issues.size() <= max_listed);
  std::size_t left_out = 0;
  if (issues.size() > max_listed) {
    std::size_t taken = 0;
    for (int pass = 0; pass < 2; ++pass) {
      for (std::size_t k = 0; k < issues.size() && taken < max_listed; ++k) {
        const bool error = issues[k].severity == Issue::Severity::kFatal ||
                           issues[k].severity == Issue::Severity::kError;
        if (!listed[k] && error == (pass == 0)) {
          listed[k] = true;
          ++taken;
        }
      }
    }
    left_out = issues.size() - taken;
  }

  json::Writer w(pretty);
  w.begin_object();
  w.key("resourceType");
  w.string("OperationOutcome");
  w.key("issue");
  w.begin_array();
  if (issues.empty()) {
    // An OperationOutcome needs at least one issue: say that all is well.
    w.begin_object();
    w.key("severity");
    w.string("information");
    w.key("code");
    w.string("informational");
    w.key("diagnostics");
    w.string("No issues detected");
    w.end_object();
  }
  for (std::size_t k = 0; k < issues.size(); ++k) {
    if (!listed[k]) continue;
    const Issue& i = issues[k];
    w.begin_object();
    if (i.position.line > 0) {
      w.key("extension");
      w.begin_array();
      w.begin_object();
      w.key("url");
      w.string(kLineExt);
      w.key("valueInteger");
      w.integer(i.position.line);
      w.end_object();
      w.begin_object();
      w.key("url");
      w.string(kColExt);
      w.key("valueInteger");
      w.integer(i.position.column);
      w.end_object();
      w.end_array();
    }
    w.key("severity");
    w.string(to_string(i.severity));
    w.key("code");
    w.string(i.code.empty() ? "processing" : i.code);
    if (!i.diagnostics.empty()) {
      w.key("diagnostics");
      w.string(i.diagnostics);
    }
    if (!i.expression.empty()) {
      w.key("expression");
      w.begin_array();
      w.string(i.expression);
      w.end_array();
    }
    w.end_object();
  }
  if (left_out > 0) {
    w.begin_object();
    w.key("severity");
    w.string("information");
    w.key("code");
    w.string("too-costly");
    w.key("diagnostics");
    w.string(std::to_string(left_out) + " further issues are not listed (at most " + std::to_string(max_listed) +
             " are, errors first)");
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return std::move(w).take();
}

ParsedResource parse_resource(std::string bytes) {
  ParsedResource out;
  auto doc = json::Document::parse(std::move(bytes));
  if (!doc) {
    Issue i;
    i.severity = Issue::Severity::kFatal;
    i.code = doc.error().code() == ErrorCode::kLimit ? "too-costly" : "structure";
    i.position = parse_location(doc.error().location());
    i.diagnostics = doc.error().to_string();
    out.issues.push_back(std::move(i));
    return out;
  }
  out.document = std::move(*doc);
  json::Value root = out.document.root();
  auto problem = [&](std::string text, json::Value at) {
    Issue i;
    i.severity = Issue::Severity::kFatal;
    i.code = "structure";
    i.position = at.position();
    i.diagnostics = std::move(text);
    out.issues.push_back(std::move(i));
  };
  if (!root.is_object()) {
    problem("a FHIR resource must be a JSON object", root);
  } else if (json::Value rt = root.find("resourceType"); !rt) {
    problem("the JSON object has no resourceType", root);
  } else if (!rt.is_string() || rt.str().empty()) {
    problem("resourceType must be a non-empty string", rt);
  }
  return out;
}

}  // namespace gw::fhir
