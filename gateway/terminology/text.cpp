// Small text rules of the terminology module: names of enums, the display
// comparison, the UCUM syntax check and the list of external code systems.
#include "gateway/terminology/terminology.hpp"

#include <array>

namespace gw::terminology {

std::string_view to_string(Membership m) noexcept {
  switch (m) {
    case Membership::kMember:
      return "member";
    case Membership::kNotMember:
      return "not-member";
    case Membership::kCannotCheck:
      return "cannot-check";
  }
  return "unknown";
}

std::string_view to_string(Reason r) noexcept {
  switch (r) {
    case Reason::kNone:
      return "none";
    case Reason::kNotInValueSet:
      return "not-in-value-set";
    case Reason::kCodeNotInSystem:
      return "code-not-in-system";
    case Reason::kValueSetNotFound:
      return "value-set-not-found";
    case Reason::kValueSetUnusable:
      return "value-set-unusable";
    case Reason::kSystemNotFound:
      return "system-not-found";
    case Reason::kSystemIncomplete:
      return "system-incomplete";
    case Reason::kExternalSystem:
      return "external-system";
    case Reason::kSystemVersionNotFound:
      return "system-version-not-found";
    case Reason::kUnsupportedFilter:
      return "unsupported-filter";
    case Reason::kImportNotFound:
      return "import-not-found";
    case Reason::kInvalidUcumSyntax:
      return "invalid-ucum-syntax";
    case Reason::kMissingCode:
      return "missing-code";
    case Reason::kPartialExpansion:
      return "partial-expansion";
  }
  return "unknown";
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Trim, collapse whitespace runs to one space, fold ASCII case.
std::string normalize_display(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char c : s) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

}  // namespace

bool display_matches(std::string_view given, std::string_view display,
                     const std::vector<std::string>& designations) {
  std::string g = normalize_display(given);
  if (!display.empty() && g == normalize_display(display)) return true;
  for (const std::string& d : designations) {
    if (g == normalize_display(d)) return true;
  }
  return false;
}

// UCUM syntax (the grammar of the UCUM specification, §2, without the atom
// table): a term is components joined by '.' or '/', optionally led by '/';
// a component is an annotation `{...}`, a parenthesized term, or a unit
// symbol (printable ASCII, with [bracketed] parts, ending in an optional
// exponent) optionally followed by an annotation. Written as a loop with an
// explicit depth counter so hostile input cannot recurse.
bool ucum_syntax_ok(std::string_view code) {
  constexpr std::size_t kMaxLength = 512;
  constexpr int kMaxDepth = 32;
  if (code.empty() || code.size() > kMaxLength) return false;
  auto printable = [](char c) { return c > 32 && c < 127; };
  auto special = [](char c) {
    return c == '.' || c == '/' || c == '(' || c == ')' || c == '{' || c == '}' || c == '[' ||
           c == ']';
  };
  std::size_t i = 0;
  const std::size_t n = code.size();
  int depth = 0;
  if (code[0] == '/') ++i;
  bool expect_component = true;
  while (true) {
    if (expect_component) {
      if (i >= n) return false;
      if (code[i] == '(') {
        if (++depth > kMaxDepth) return false;
        ++i;
        continue;  // still expecting a component inside
      }
      bool any = false;
      if (code[i] != '{') {
        // Unit symbol: plain characters and [bracketed] runs.
        while (i < n) {
          char c = code[i];
          if (c == '[') {
            std::size_t close = code.find(']', i + 1);
            if (close == std::string_view::npos || close == i + 1) return false;
            for (std::size_t k = i + 1; k < close; ++k) {
              if (!printable(code[k]) || code[k] == '[') return false;
            }
            i = close + 1;
            any = true;
            continue;
          }
          if (!printable(c) || special(c)) break;
          ++i;
          any = true;
        }
      }
      if (i < n && code[i] == '{') {
        std::size_t close = code.find('}', i + 1);
        if (close == std::string_view::npos) return false;
        for (std::size_t k = i + 1; k < close; ++k) {
          if (!printable(code[k]) || code[k] == '{') return false;
        }
        i = close + 1;
        any = true;
      }
      if (!any) return false;
      expect_component = false;
      continue;
    }
    if (i >= n) return depth == 0;
    char c = code[i];
    if (c == ')') {
      if (--depth < 0) return false;
      ++i;
      continue;
    }
    if (c == '.' || c == '/') {
      ++i;
      expect_component = true;
      continue;
    }
    return false;
  }
}

bool is_external_system(std::string_view system) {
  static constexpr std::array<std::string_view, 13> kExternal = {
      "http://snomed.info/sct",
      "http://loinc.org",
      "http://www.nlm.nih.gov/research/umls/rxnorm",
      "http://unitsofmeasure.org",
      "http://hl7.org/fhir/sid/icd-9-cm",
      "http://hl7.org/fhir/sid/icd-10",
      "http://hl7.org/fhir/sid/icd-10-cm",
      "http://hl7.org/fhir/sid/icd-10-pcs",
      "http://id.who.int/icd/release/11/mms",
      "http://id.who.int/icd/release/11/foundation",
      "http://www.ama-assn.org/go/cpt",
      "http://hl7.org/fhir/sid/ndc",
      "http://hl7.org/fhir/sid/cvx",
  };
  for (std::string_view s : kExternal) {
    if (system == s) return true;
  }
  return false;
}

}  // namespace gw::terminology
