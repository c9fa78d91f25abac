// Element-level rules: fixed/pattern values, primitive formats, lengths,
// value ranges, bindings and invariants.
#include "gateway/validation/detail/fold.hpp"
#include "gateway/validation/detail/walker.hpp"
#include "gateway/validation/detail/xhtml.hpp"
#include "gateway/primitives/primitives.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

namespace gw::validation::detail {
namespace {

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// True when `s` has more than `max` characters (code points). A text of at
// most `max` bytes cannot: such (nearly every) value skips the count.
bool longer_than(std::string_view s, std::int64_t max) {
  return max >= 0 && s.size() > static_cast<std::size_t>(max) && utf8_length(s) > static_cast<std::size_t>(max);
}

bool scalars_equal(json::Value a, json::Value b) {
  if (a.is_number() && b.is_number()) return compare_decimal(a.str(), b.str()) == 0;
  if (a.is_bool() || b.is_bool()) return a.is_bool() && b.is_bool() && a.boolean() == b.boolean();
  return a.is_string() && b.is_string() && a.str() == b.str();
}

bool is_string_kind(PrimitiveKind k) {
  return k == PrimitiveKind::kString || k == PrimitiveKind::kMarkdown;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// urn:uuid: with hex in either case (HL7 accepts upper case in uri values;
// only the uuid type itself insists on lower case).
bool loose_uuid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  if (s.size() != kPrefix.size() + 36) return false;
  s.remove_prefix(kPrefix.size());
  for (std::size_t i = 0; i < 36; ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

// Collects every string starting with '#' in a subtree (contained
// reference candidates), with an explicit stack.
void local_refs(json::Value root, std::unordered_set<std::string_view>& out, bool& has_self) {
  std::vector<json::Value> stack{root};
  while (!stack.empty()) {
    json::Value v = stack.back();
    stack.pop_back();
    if (v.is_string()) {
      std::string_view s = v.str();
      if (!s.empty() && s[0] == '#') {
        out.insert(s);
        if (s.size() == 1) has_self = true;
      }
      continue;
    }
    for (json::Value c : v.items()) stack.push_back(c);
  }
}

// A value[x] member: `_valueString` alone counts, FHIRPath sees the element.
bool has_choice_value(json::Value obj) {
  for (std::size_t i = 0; i < obj.size(); ++i) {
    std::string_view k = obj.key(i);
    if (!k.empty() && k[0] == '_') k.remove_prefix(1);
    if (k.size() > 5 && k.substr(0, 5) == "value" && k[5] >= 'A' && k[5] <= 'Z') return true;
  }
  return false;
}

// The prefilters (is_prefilter): true when the invariant holds without
// evaluating it. obs-7 needs FHIRPath's Coding equality only when an
// Observation has both a value and components; per-1 needs dateTime order
// (precision, time zones) only when start and end both have values; tim-9
// reads `when` only when there is an offset.
bool holds_plainly(NativeCheck check, json::Value obj) {
  if (!obj.is_object()) return true;
  switch (check) {
    case NativeCheck::kObs7: return !obj.find("component") || !has_choice_value(obj);
    case NativeCheck::kPer1: return !obj.find("start").is_string() || !obj.find("end").is_string();
    case NativeCheck::kTim9: return !obj.find("offset");
    // Bundle invariants (once per Bundle, a third of the FHIRPath
    // evaluations on the R4 examples). `type = 'document' implies ...`
    // holds whenever type has another value; an absent type is left to
    // FHIRPath (empty implies X is not plainly true).
    case NativeCheck::kBdl1: return !obj.find("total") && !obj.find("_total");
    case NativeCheck::kBdl2: {
      json::Value entries = obj.find("entry");
      if (!entries) return true;
      if (!entries.is_array()) return false;
      for (json::Value e : entries.items()) {
        if (!e.is_object() || e.find("search")) return false;
      }
      return true;
    }
    case NativeCheck::kBdl9:
    case NativeCheck::kBdl10:
    case NativeCheck::kBdl11: return obj.find("type").is_string() && obj.find("type").str() != "document";
    case NativeCheck::kBdl12: return obj.find("type").is_string() && obj.find("type").str() != "message";
    default: return false;
  }
}

// per-1 when start and end both have values: `start <= end` as FHIRPath
// decides it (the same parse and the same primitives::compare, so
// precision and time zones give the same answers, an indeterminate order
// included: it makes the invariant empty, which holds). Null when a value
// does not parse: FHIRPath then decides, and the format error is reported
// with the primitive.
std::optional<bool> period_in_order(json::Value obj) {
  auto start = primitives::parse_datetime(obj.find("start").str(), primitives::TemporalSyntax::kFhir);
  auto end = primitives::parse_datetime(obj.find("end").str(), primitives::TemporalSyntax::kFhir);
  if (!start || !end) return std::nullopt;
  std::optional<int> order = primitives::compare(*start, *end);
  return !order || *order <= 0;
}

// tim-4, tim-5: a decimal `>= 0`. Anything but a JSON number is a format
// error reported with the primitive (or, `_period` alone, no value to
// compare: the constraint does not apply).
bool not_negative(json::Value v) {
  if (!v.is_number()) return true;
  std::string_view text = v.str();
  if (text.empty() || text[0] != '-') return true;
  for (char c : text) {
    if (c >= '1' && c <= '9') return false;
    if (c == 'e' || c == 'E') break;  // -0e5 is zero; the exponent's digits do not count
  }
  return true;
}

}  // namespace

// fixed[x] means exactly this value; an instance may still carry an id and
// extensions (HL7's validator allows those unless the fixed value has
// extensions of its own). Numbers compare as decimals: 1.50 equals 1.5.
bool equals_fixed(json::Value instance, json::Value fixed) {
  if (!instance || !fixed) return false;
  if (fixed.is_scalar()) return instance.is_scalar() && scalars_equal(instance, fixed);
  if (fixed.is_array()) {
    if (!instance.is_array() || instance.size() != fixed.size()) return false;
    for (std::size_t i = 0; i < fixed.size(); ++i) {
      if (!equals_fixed(instance[i], fixed[i])) return false;
    }
    return true;
  }
  if (!instance.is_object()) return false;
  for (std::size_t i = 0; i < fixed.size(); ++i) {
    if (!equals_fixed(instance.find(fixed.key(i)), fixed[i])) return false;
  }
  for (std::size_t i = 0; i < instance.size(); ++i) {
    std::string_view k = instance.key(i);
    if (k == "id" || k == "extension" || (!k.empty() && k[0] == '_')) continue;
    if (!fixed.find(k)) return false;
  }
  return true;
}

// pattern[x] means "at least this": every member the pattern has must be in
// the instance with a matching value, and each pattern array item must
// match some instance item (order and extra items do not matter).
bool matches_pattern(json::Value instance, json::Value pattern) {
  if (!instance || !pattern) return false;
  if (pattern.is_scalar()) return instance.is_scalar() && scalars_equal(instance, pattern);
  if (pattern.is_array()) {
    if (!instance.is_array()) return false;
    for (json::Value p : pattern.items()) {
      bool found = false;
      for (json::Value i : instance.items()) {
        if (matches_pattern(i, p)) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }
  if (!instance.is_object()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (!matches_pattern(instance.find(pattern.key(i)), pattern[i])) return false;
  }
  return true;
}

// Rules of a plan node on one value. Everything here reads the plan and
// the JSON only; the terminology and FHIRPath calls are the expensive
// parts, so they are skipped when the base pass already made them (a
// profile's snapshot repeats base bindings and constraints; the compiler
// marks those with check_binding = false / leaves them out).
void Walker::check_rules(const ElementPlan& node, const Item& item, Mode mode) {
  const bool primitive = item.type && item.type->kind == fhir::TypeKind::kPrimitive;
  if (node.fixed) {
    bool ok = primitive ? item.value && item.value.is_scalar() && scalars_equal(item.value, node.fixed)
                        : equals_fixed(item.value, node.fixed);
    if (!ok) {
      std::string msg = "value does not match the fixed value required by " +
                        node.structure->url + " (" + node.id + ")";
      if (primitive && node.fixed.str().size() <= 128) msg += ": expected '" + std::string(node.fixed.str()) + "'";
      error("value", item.anchor(), std::move(msg));
    }
  }
  if (node.pattern) {
    bool ok = primitive ? item.value && item.value.is_scalar() && scalars_equal(item.value, node.pattern)
                        : matches_pattern(item.value, node.pattern);
    if (!ok) {
      std::string msg = "value does not match the pattern required by " + node.structure->url + " (" +
                        node.id + ")";
      if (primitive && node.pattern.str().size() <= 128) {
        msg += ": expected '" + std::string(node.pattern.str()) + "'";
      }
      error("value", item.anchor(), std::move(msg));
    }
  }
  if (primitive && item.value && item.value.is_scalar()) {
    std::string_view text = item.value.str();
    if (longer_than(text, node.max_length)) {
      error("value", item.value, "value is longer than the maximum length " +
                                     std::to_string(node.max_length) + " of " + node.id);
    }
    if (node.regex && !RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *node.regex)) {
      error("value", item.value, "value does not match the regex of " + node.id);
    }
    if (node.min_value || node.max_value) {
      PrimitiveKind k = primitive_kind(item.type->name);
      auto cmp = [&](json::Value bound) {
        if (is_numeric(k)) return compare_decimal(text, bound.str());
        // Dates and times of the same precision compare as strings.
        return text.compare(bound.str()) < 0 ? -1 : text == bound.str() ? 0 : 1;
      };
      if (node.min_value && cmp(node.min_value) < 0) {
        error("value", item.value, "value is below the minimum allowed by " + node.id);
      }
      if (node.max_value && cmp(node.max_value) > 0) {
        error("value", item.value, "value is above the maximum allowed by " + node.id);
      }
    }
  }
  if (node.check_binding && v_.options.terminology) check_binding(node, item);
  if (mode == Mode::kBase && v_.options.terminology && v_.options.check_code_systems &&
      (item.type == v_.t_coding || item.type == v_.t_quantity) && item.value.is_object()) {
    check_code_system(item);
  }
  if (item.type == v_.t_reference && item.value.is_object()) {
    const TypeRule* rule = node.type_rule("Reference");
    if (rule && (mode == Mode::kBase || !rule->target_profiles.empty())) {
      check_reference(node, rule, item, mode);
    }
  }
  if (!node.invariants.empty()) check_invariants(node.invariants, node, item);
}

bool Walker::check_primitive(const StructurePlan& tp, const Item& item) {
  json::Value v = item.value;
  if (!v) return true;
  const PrimitiveRules& r = tp.primitive;
  const PrimitiveKind k = r.kind;
  JsonShape shape = json_shape(k);
  bool kind_ok = shape == JsonShape::kBoolean  ? v.is_bool()
                 : shape == JsonShape::kNumber ? v.is_number()
                                               : v.is_string();
  if (!kind_ok) {
    const char* want = shape == JsonShape::kBoolean  ? "a JSON boolean"
                       : shape == JsonShape::kNumber ? "a JSON number"
                                                     : "a JSON string";
    error("structure", v, "a value of type " + tp.type_name + " must be " + want);
    return false;
  }
  std::string_view text = v.str();
  if (v.is_string() && text.empty()) {
    error("value", v, "a " + tp.type_name + " value must not be empty");
    return false;
  }
  if (k == PrimitiveKind::kXhtml) {
    std::vector<XhtmlProblem> problems;
    check_xhtml(text, problems);
    for (const XhtmlProblem& p : problems) {
      switch (p.rule) {
        case XhtmlProblem::Rule::kWellFormed:
        case XhtmlProblem::Rule::kNamespace: error("value", v, p.message); break;
        case XhtmlProblem::Rule::kElement:
        case XhtmlProblem::Rule::kAttribute: error("invariant", v, "txt-1: " + p.message); break;
        case XhtmlProblem::Rule::kEmpty: error("invariant", v, "txt-2: " + p.message); break;
      }
    }
    return problems.empty();
  }
  if (is_string_kind(k) && !no_illegal_controls(text)) {
    error("value", v, "a " + tp.type_name + " value must not contain control characters other than tab, CR and LF");
    return false;
  }
  bool format_ok = true;
  if (r.fast && is_string_kind(k)) {
    // R4's regex for string and markdown, [ \r\n\t\S]+, refuses only
    // the empty string and form feed; both were refused just above, so a
    // second scan of every string value would find nothing.
  } else if (r.fast) {
    format_ok = matches_r4_regex(k, text);
  } else if (r.regex) {
    format_ok = RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *r.regex);
  }
  if (!format_ok) {
    error("value", v, "not a valid " + tp.type_name + " (does not match the format of the type)");
    return false;
  }
  if (!calendar_valid(k, text)) {
    error("value", v, "not a valid " + tp.type_name + ": the day does not exist in that month");
    return false;
  }
  if ((k == PrimitiveKind::kInteger || k == PrimitiveKind::kPositiveInt ||
       k == PrimitiveKind::kUnsignedInt) &&
      !integer_in_range(k, text)) {
    error("value", v, "not a valid " + tp.type_name + ": out of the 32-bit integer range");
    return false;
  }
  if (k == PrimitiveKind::kUri || k == PrimitiveKind::kUrl || k == PrimitiveKind::kCanonical) {
    if (starts_with(text, "urn:oid:") && !matches_r4_regex(PrimitiveKind::kOid, text)) {
      error("value", v, "not a valid OID in a urn:oid: " + tp.type_name);
    } else if (starts_with(text, "urn:uuid:") && !loose_uuid(text)) {
      error("value", v, "not a valid UUID in a urn:uuid: " + tp.type_name);
    }
  }
  if (k == PrimitiveKind::kString && all_whitespace(text)) {
    warning("value", v, "a string value should not be whitespace only");
  }
  if (longer_than(text, r.max_length)) {
    error("value", v, "a " + tp.type_name + " value must not be longer than " +
                          std::to_string(r.max_length) + " characters");
  }
  return true;
}

namespace {

struct CodeRef {
  std::string_view system;
  std::string_view code;
  json::Value at;
};

// Systems HL7's validator checks by grammar rather than by a code list:
// BCP 13 media types and BCP 47 language tags.
bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$&-^_.+").find(c) != std::string_view::npos;
}

bool is_media_type(std::string_view s) {
  s = s.substr(0, s.find(';'));
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  auto slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i != slash && !is_token_char(s[i])) return false;
  }
  return true;
}

bool is_language_tag(std::string_view s) {
  std::size_t i = 0;
  bool first = true;
  while (i <= s.size()) {
    std::size_t j = s.find('-', i);
    std::string_view part = s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
    if (part.empty() || part.size() > 8) return false;
    for (char c : part) {
      if (first ? !std::isalpha(static_cast<unsigned char>(c)) : !std::isalnum(static_cast<unsigned char>(c))) {
        return false;
      }
    }
    first = false;
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return !s.empty();
}

enum class Grammar : std::uint8_t { kNone, kMediaType, kLanguage };

Grammar grammar_for(std::string_view value_set, std::string_view system) {
  std::string_view vs = value_set.substr(0, value_set.find('|'));
  if (system == "urn:ietf:bcp:13" || (system.empty() && vs == "http://hl7.org/fhir/ValueSet/mimetypes")) {
    return Grammar::kMediaType;
  }
  if (system == "urn:ietf:bcp:47" ||
      (system.empty() && (vs == "http://hl7.org/fhir/ValueSet/languages" ||
                          vs == "http://hl7.org/fhir/ValueSet/all-languages"))) {
    return Grammar::kLanguage;
  }
  return Grammar::kNone;
}

std::string shown_code(std::string_view code) {
  return code.size() <= 64 ? "'" + std::string(code) + "'" : std::string("the code");
}

}  // namespace

// Offline bindings. Required: a code outside the value set is an error;
// extensible: a warning; preferred/example: nothing (as HL7's validator).
// When local data cannot decide (SNOMED CT, LOINC, a value set that is not
// loaded), the answer is a warning, never an error: the gateway must not
// reject a record for what it cannot know. A CodeableConcept is in the
// value set when any of its codings is.
void Walker::check_binding(const ElementPlan& node, const Item& item) {
  if (node.strength != Strength::kRequired && node.strength != Strength::kExtensible) return;
  const terminology::Service& ts = *v_.options.terminology;
  const bool required = node.strength == Strength::kRequired;
  const fhir::TypeDef* t = item.type;
  if (!t) return;
  CodeRef codes[16];
  std::size_t n = 0;
  bool concept_without_codes = false;
  if (t->kind == fhir::TypeKind::kPrimitive) {
    if (!item.value || !item.value.is_string() || item.value.str().empty()) return;
    codes[n++] = {{}, item.value.str(), item.value};
  } else if (t == v_.t_coding || t == v_.t_quantity) {
    json::Value c = item.value.find("code");
    if (!c.is_string()) return;
    codes[n++] = {item.value.find("system").str(), c.str(), c};
  } else if (t == v_.t_codeable_concept) {
    for (json::Value coding : item.value.find("coding").items()) {
      json::Value c = coding.find("code");
      if (!c.is_string() || n == 16) continue;
      codes[n++] = {coding.find("system").str(), c.str(), c};
    }
    concept_without_codes = n == 0;
  } else {
    return;
  }
  const std::string_view vs(node.value_set);
  // Only issues need the value set's name as text.
  auto vs_shown = [&] { return std::string(vs.substr(0, vs.find('|'))); };
  if (concept_without_codes) {
    if (required && item.value.find("text")) {
      error("code-invalid", item.anchor(),
            "no code provided, and a code is required from the value set " + vs_shown());
    }
    return;
  }
  bool any_member = false;
  bool any_not_member = false;
  bool value_set_missing = false;
  std::string_view open_system;
  terminology::Reason open_reason = terminology::Reason::kNone;
  // Fast path: a code the expansion lists is a member, whatever else.
  if (const terminology::Expansion* exp = v_.expansion_for(node)) {
    for (std::size_t i = 0; i < n; ++i) {
      if (exp->contains(codes[i].system, codes[i].code) == terminology::Membership::kMember) return;
    }
  }
  // Membership only: the display is not passed, because a binding does
  // not judge it (check_code_system compares displays with the code
  // system's), and the display check copied and normalised every
  // designation of the concept.
  for (std::size_t i = 0; i < n; ++i) {
    terminology::CodeCheck r = ts.validate_code(vs, codes[i].system, codes[i].code, std::nullopt);
    switch (r.membership) {
      case terminology::Membership::kMember:
        any_member = true;
        break;
      case terminology::Membership::kNotMember: any_not_member = true; break;
      case terminology::Membership::kCannotCheck:
        if (Grammar g = grammar_for(vs, codes[i].system); g != Grammar::kNone) {
          bool ok = g == Grammar::kMediaType ? is_media_type(codes[i].code) : is_language_tag(codes[i].code);
          if (ok) {
            any_member = true;
          } else {
            any_not_member = true;
          }
          break;
        }
        if (r.reason == terminology::Reason::kValueSetNotFound ||
            r.reason == terminology::Reason::kValueSetUnusable) {
          value_set_missing = true;
        } else {
          open_system = codes[i].system;
          open_reason = r.reason;
        }
        break;
    }
  }
  if (any_member) return;
  if (value_set_missing) {
    warning("not-found", item.anchor(), "value set " + vs_shown() + " is not available offline; the " +
                                            (required ? "required" : "extensible") + " binding was not checked");
    return;
  }
  if (open_reason != terminology::Reason::kNone) {
    std::string sys = open_system.empty() ? std::string("its code system")
                                          : std::string(gw::utf8_prefix(open_system, 128));
    warning("not-supported", item.anchor(),
            "codes from " + sys + " cannot be checked offline against the value set " + vs_shown() + " (" +
                std::string(terminology::to_string(open_reason)) + ")");
    return;
  }
  if (!any_not_member) return;
  std::string what = n == 1 ? "code " + shown_code(codes[0].code) : std::string("none of the codes");
  if (required) {
    error("code-invalid", item.anchor(), what + " is not in the value set " + vs_shown() + " (required binding)");
  } else {
    warning("code-invalid", item.anchor(),
            what + " is not in the value set " + vs_shown() + " (extensible binding)");
  }
}

void Walker::check_code_system(const Item& item) {
  const terminology::Service& ts = *v_.options.terminology;
  json::Value code = item.value.find("code");
  json::Value system = item.value.find("system");
  if (!code.is_string() || !system.is_string() || code.str().empty() || system.str().empty()) return;
  terminology::CodeFound r = ts.find_code(system.str(), code.str());
  if (r.status == terminology::CodeStatus::kNotFound) {
    error("code-invalid", code, "code " + shown_code(code.str()) + " is not defined in the code system " +
                                    std::string(gw::utf8_prefix(system.str(), 128)));
    return;
  }
  if (r.status != terminology::CodeStatus::kFound || !v_.options.check_displays) return;
  json::Value display = item.value.find("display");
  if (display.is_string() && !r.display.empty() &&
      !terminology::display_matches(display.str(), r.display, *r.designations)) {
    warning("code-invalid", display, "display does not match the code system's display for code " +
                                         shown_code(code.str()) + " in " +
                                         std::string(gw::utf8_prefix(system.str(), 128)));
  }
}

// Invariants: native ones first (see NativeCheck), then folded ones for
// objects lacking every member the expression reads (detail/fold.hpp),
// then FHIRPath. An empty result means the constraint does not apply. An
// evaluation error is a load problem reported once per invariant per call,
// never an issue in the data: the data did nothing wrong.
void Walker::check_invariants(std::span<const Invariant* const> invariants, const ElementPlan& node,
                              const Item& item) {
  ContainedMemo contained;
  for (const Invariant* inv : invariants) {
    if (inv->best_practice && !v_.options.best_practice_warnings) continue;
    bool holds = true;
    if (inv->native == NativeCheck::kExistence && item.type && item.value.is_object()) {
      holds = existence_holds(*inv, item);
    } else if (inv->native != NativeCheck::kNone && inv->native != NativeCheck::kExistence &&
               !is_prefilter(inv->native)) {
      holds = native_invariant(*inv, item, contained);
    } else {
      if (!v_.options.check_invariants || !inv->compiled) continue;
      if (is_prefilter(inv->native) && holds_plainly(inv->native, item.value)) continue;
      std::optional<bool> verdict = inv->native == NativeCheck::kPer1 ? period_in_order(item.value) : std::nullopt;
      if (!verdict) verdict = fhirpath_verdict(*inv, node, item);
      if (!verdict) continue;  // does not apply, or could not be evaluated
      holds = *verdict;
    }
    if (!holds) {
      Issue::Severity sev = inv->best_practice ? Issue::Severity::kWarning : inv->severity;
      report(sev, "invariant", item.anchor(), inv->key + ": " + inv->human);
    }
  }
}

// An invariant through FHIRPath: folded when the object lacks every member
// the expression reads, else evaluated. Null when it does not apply (an
// empty result) or cannot be evaluated (a load problem, reported once).
std::optional<bool> Walker::fhirpath_verdict(const Invariant& inv, const ElementPlan& node, const Item& item) {
  if (inv.foldable && item.value.is_object()) {
    bool relevant = false;
    for (std::size_t m = 0; m < item.value.size() && !relevant; ++m) {
      std::string_view key = item.value.key(m);
      for (const std::string& name : inv.reads) {
        if (key_may_hold(key, name)) {
          relevant = true;
          break;
        }
      }
    }
    if (!relevant) {
      if (inv.folded.value_or(true)) return std::nullopt;
      return false;
    }
  }
  fhir::Node focus;
  focus.value = item.value;
  focus.extension_part = item.ext;
  focus.type = item.type;
  focus.element = node.base;
  focus.name = node.base ? std::string_view(node.base->name) : std::string_view();
  focus.index = item.index;
  fp_ctx_.model = v_.model.get();
  fp_ctx_.environment = this;
  fp_ctx_.resource.reset();
  fp_ctx_.root_resource.reset();
  if (!frames_.empty()) {
    const ResourceFrame& f = frame();
    fhir::Node res;
    res.value = f.obj;
    res.type = f.type;
    fp_ctx_.resource = res;
    const ResourceFrame* top = &f;
    while (top->container) top = top->container;
    fhir::Node root;
    root.value = top->obj;
    root.type = top->type;
    fp_ctx_.root_resource = root;
  }
  auto r = inv.compiled->evaluate_boolean(focus, fp_ctx_);
  if (!r) {
    if (std::find(failed_invariants_.begin(), failed_invariants_.end(), &inv) == failed_invariants_.end()) {
      failed_invariants_.push_back(&inv);
      v_.problem(node.structure ? node.structure->url : std::string(), inv.key,
                 "invariant could not be evaluated: " + r.error().message());
    }
    return std::nullopt;
  }
  if (!*r) return std::nullopt;  // empty: the constraint does not apply
  return **r;
}

// kExistence: which of the program's names the object carries, by the
// model's reading of each key (choice keys, `_x` siblings), then the
// program. A member counts when FHIRPath would see it: not null, not an
// empty array, not an array of nulls without `_x` partners.
bool Walker::existence_holds(const Invariant& inv, const Item& item) {
  const ExistenceProgram& program = *inv.existence;
  const std::size_t names = program.names.size();
  std::uint64_t present = 0;
  json::Value obj = item.value;
  for (std::size_t m = 0; m < obj.size(); ++m) {
    std::string_view key = obj.key(m);
    if (!key.empty() && key[0] == '_') key.remove_prefix(1);
    // A member can only hold a name it starts with (the name itself, or a
    // choice key "valueQuantity" for "value"): most members start with
    // none of the program's one to three names, and skip the model lookup
    // that settles the rest.
    bool candidate = false;
    for (std::size_t n = 0; n < names && !candidate; ++n) {
      const std::string& name = program.names[n];
      candidate = key.size() >= name.size() && gw::flat_equal(key.substr(0, name.size()), name);
    }
    if (!candidate) continue;
    const fhir::TypeDef::KeyMatch* km = item.type->find_key(key);
    if (!km) continue;
    for (std::size_t n = 0; n < names; ++n) {
      const std::uint64_t bit = std::uint64_t{1} << n;
      if ((present & bit) != 0 || km->element->name != program.names[n]) continue;
      json::Value v = obj[m];
      bool seen = !v.is_null() && !v.is_array();
      for (std::size_t k = 0; !seen && v.is_array() && k < v.size(); ++k) seen = !v[k].is_null();
      if (seen) present |= bit;
    }
  }
  return run_existence(program, present);
}

bool Walker::native_invariant(const Invariant& inv, const Item& item, ContainedMemo& contained_memo) {
  json::Value obj = item.value;
  // Prefilters are decided in check_invariants (then FHIRPath).
  if (is_prefilter(inv.native)) return true;
  switch (inv.native) {
    default:  // the prefilters above
    case NativeCheck::kNone:
    case NativeCheck::kExistence:
    case NativeCheck::kCovered:
    case NativeCheck::kTxt1:
    case NativeCheck::kTxt2:
    case NativeCheck::kRef1: return true;
    case NativeCheck::kExt1: {
      if (!obj.is_object()) return true;
      bool has_ext = obj.find("extension").is_array() && obj.find("extension").size() > 0;
      return has_ext != has_choice_value(obj);
    }
    case NativeCheck::kTim4: return not_negative(obj.find("duration"));
    case NativeCheck::kTim5: return not_negative(obj.find("period"));
    case NativeCheck::kBdl8: {
      // A fullUrl that is not one string is a structural error already
      // (and FHIRPath's contains() would not apply to it).
      json::Value fu = obj.find("fullUrl");
      return !fu.is_string() || fu.str().find("/_history/") == std::string_view::npos;
    }
    case NativeCheck::kDom2:
    case NativeCheck::kDom4:
    case NativeCheck::kDom5: {
      for (json::Value c : contained_memo.get(obj).items()) {
        if (inv.native == NativeCheck::kDom2 && c.find("contained")) return false;
        json::Value meta = c.find("meta");
        if (inv.native == NativeCheck::kDom4 && (meta.find("versionId") || meta.find("lastUpdated"))) {
          return false;
        }
        if (inv.native == NativeCheck::kDom5 && meta.find("security")) return false;
      }
      return true;
    }
    case NativeCheck::kDom3: {
      json::Value contained = contained_memo.get(obj);
      if (!contained.is_array() || contained.size() == 0) return true;
      std::unordered_set<std::string_view> refs;
      bool ignored = false;
      // References anywhere in the resource, contained ones included, minus
      // each contained resource's own id declaration (an id is not '#'-prefixed).
      local_refs(obj, refs, ignored);
      for (json::Value c : contained.items()) {
        std::string_view id = c.find("id").str();
        bool referenced = false;
        for (std::string_view r : refs) {
          if (r.size() == id.size() + 1 && r.substr(1) == id) {
            referenced = true;
            break;
          }
        }
        if (referenced) continue;
        std::unordered_set<std::string_view> inner;
        bool self = false;
        local_refs(c, inner, self);
        if (!self) return false;
      }
      return true;
    }
    case NativeCheck::kDom6: {
      if (!frames_.empty() && frame().container) return true;  // contained: the container's narrative covers it
      return static_cast<bool>(obj.find("text").find("div"));
    }
    case NativeCheck::kBdl3:
    case NativeCheck::kBdl4: {
      std::string_view type = obj.find("type").str();
      bool want = inv.native == NativeCheck::kBdl3
                      ? (type == "batch" || type == "transaction" || type == "history")
                      : (type == "batch-response" || type == "transaction-response" || type == "history");
      if (const BundleScope* scope = scope_of(obj)) {
        std::size_t with = inv.native == NativeCheck::kBdl3 ? scope->with_request : scope->with_response;
        return with == (want ? scope->entries.size() : 0);
      }
      const char* member = inv.native == NativeCheck::kBdl3 ? "request" : "response";
      for (json::Value e : obj.find("entry").items()) {
        if (static_cast<bool>(e.find(member)) != want) return false;
      }
      return true;
    }
    case NativeCheck::kSdf9: {
      for (const char* part : {"snapshot", "differential"}) {
        for (json::Value el : obj.find(part).find("element").items()) {
          if (el.find("path").str().find('.') != std::string_view::npos) continue;
          if (el.find("label") || el.find("code") || el.find("requirements")) return false;
        }
      }
      return true;
    }
    case NativeCheck::kBdl7: {
      if (obj.find("type").str() == "history") return true;
      // Without a repeated fullUrl (the index saw each once) there is
      // nothing to compare.
      if (const BundleScope* scope = scope_of(obj); scope && !scope->repeated_full_url) return true;
      // (fullUrl, versionId) views sorted, duplicates adjacent: no string
      // or node allocated per entry (a 100k-entry Bundle built 100k keys).
      std::vector<std::pair<std::string_view, std::string_view>> keys;
      json::Value entries = obj.find("entry");
      keys.reserve(entries.size());
      for (json::Value e : entries.items()) {
        json::Value fu = e.find("fullUrl");
        if (!fu.is_string()) continue;
        keys.emplace_back(fu.str(), e.find("resource").find("meta").find("versionId").str());
      }
      std::sort(keys.begin(), keys.end());
      return std::adjacent_find(keys.begin(), keys.end()) == keys.end();
    }
  }
  return true;
}

}  // namespace gw::validation::detail
