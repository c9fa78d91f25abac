// Loading and compiling the consent policy.
//
// The policy is the one place where the gateway's privacy behaviour is
// written down, so loading is deliberately unforgiving: a key we do not
// know is an error (a misspelt "extensoins" must not silently disable a
// rule), every rule must name a category that exists, every selector must
// compile against the R4 model. What is accepted is then hashed in
// canonical form, so a receipt can say exactly which rule set ran.
#include "gateway/consent/detail/policy.hpp"
#include "gateway/consent/consent.hpp"
#include "gateway/consent/detail/json_read.hpp"
#include "gateway/consent/detail/sha256.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace gw::consent {

using detail::index_path;
using detail::ObjectReader;

namespace {

constexpr std::string_view kBasePlaceholder = "${canonicalBase}";

bool is_token(std::string_view s, bool allow_lower, bool allow_upper) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
              (allow_lower && c >= 'a' && c <= 'z') || (allow_upper && c >= 'A' && c <= 'Z');
    if (!ok) return false;
  }
  return true;
}

bool is_absolute_url(std::string_view s) {
  return (s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0 || s.rfind("urn:", 0) == 0) &&
         s.size() > 8 && s.find(' ') == std::string_view::npos;
}

void substitute(std::string& s, const std::string& base) {
  for (std::size_t pos = s.find(kBasePlaceholder); pos != std::string::npos;
       pos = s.find(kBasePlaceholder, pos + base.size())) {
    s.replace(pos, kBasePlaceholder.size(), base);
  }
}

// Reads {"system", "code"} (with an optional "display" for readers of the
// file). Systems must be absolute: a relative system would silently match
// nothing and disable the rule.
Result<Coding> read_coding(json::Value v, const std::string& path, const std::string& base) {
  ObjectReader r(v, path);
  GW_CHECK_OK(r.check_object());
  GW_TRY(std::string system, r.string("system"));
  GW_TRY(std::string code, r.string("code"));
  GW_TRY(std::string display, r.optional_string("display", ""));
  (void)display;
  GW_CHECK_OK(r.finish());
  substitute(system, base);
  if (!is_absolute_url(system))
    return fail(ErrorCode::kParse, "system must be an absolute URL", path + ".system");
  return Coding{std::move(system), std::move(code)};
}

Result<std::vector<Coding>> read_codings(json::Value v, const std::string& path,
                                         const std::string& base, bool required) {
  std::vector<Coding> out;
  if (!v) {
    if (required) return fail(ErrorCode::kParse, "missing required list of codings", path);
    return out;
  }
  if (!v.is_array()) return fail(ErrorCode::kParse, "expected an array of codings", path);
  for (std::size_t i = 0; i < v.size(); ++i) {
    GW_TRY(Coding c, read_coding(v[i], index_path(path, i), base));
    out.push_back(std::move(c));
  }
  if (required && out.empty()) return fail(ErrorCode::kParse, "expected at least one coding", path);
  return out;
}

Result<std::vector<std::string>> read_purpose_codes(ObjectReader& r, std::string_view key) {
  GW_TRY(std::vector<std::string> codes, r.string_array(key, key == "allowed"));
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (!is_token(codes[i], false, true)) {
      return fail(ErrorCode::kParse, "purpose codes are upper-case v3-ActReason codes",
                  index_path(r.child(key), i));
    }
  }
  return codes;
}

bool known_resource_type(const fhir::Model& model, std::string_view name) {
  const fhir::TypeDef* t = model.type(name);
  return t && t->kind == fhir::TypeKind::kResource && t->name == name;
}

Result<std::vector<std::string>> read_resource_types(ObjectReader& r, std::string_view key,
                                                     const fhir::Model& model) {
  GW_TRY(std::vector<std::string> types, r.string_array(key, false));
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (!known_resource_type(model, types[i])) {
      return fail(ErrorCode::kInvalidArgument, "not an R4 resource type",
                  index_path(r.child(key), i));
    }
  }
  return types;
}

}  // namespace

std::string_view to_string(PurposeVerdict v) {
  switch (v) {
    case PurposeVerdict::kAllowed:
      return "allowed";
    case PurposeVerdict::kEnforcement:
      return "enforcement";
    case PurposeVerdict::kUnknown:
      return "unknown";
  }
  return "unknown";
}

namespace detail {

int confidentiality_rank(std::string_view code) {
  static constexpr std::string_view kOrder[] = {"U", "L", "M", "N", "R", "V"};
  for (int i = 0; i < 6; ++i) {
    if (kOrder[i] == code) return i;
  }
  return -1;
}

namespace {
void write_canonical(json::Writer& w, json::Value v, int depth) {
  GW_ASSERT(depth < 1024, "canonical_json nesting beyond the parser's limit");
  switch (v.kind()) {
    case json::Kind::kObject: {
      std::vector<std::size_t> order(v.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(),
                [&](std::size_t a, std::size_t b) { return v.key(a) < v.key(b); });
      w.begin_object();
      for (std::size_t i : order) {
        w.key(v.key(i));
        write_canonical(w, v[i], depth + 1);
      }
      w.end_object();
      return;
    }
    case json::Kind::kArray:
      w.begin_array();
      for (json::Value item : v.items()) write_canonical(w, item, depth + 1);
      w.end_array();
      return;
    default:
      w.value(v);
      return;
  }
}
}  // namespace

std::string canonical_json(json::Value v) {
  json::Writer w;
  write_canonical(w, v, 0);
  return std::move(w).take();
}

}  // namespace detail

// Builds a Policy; a friend of Policy so it can fill the compiled form.
struct PolicyLoader {
  static Result<std::shared_ptr<const Policy>> load(std::string_view text,
                                                    std::shared_ptr<const fhir::Model> model);
  static Status read_categories(ObjectReader& root, detail::CompiledPolicy& p);
  static Status read_rules(ObjectReader& root, detail::CompiledPolicy& p);
  static Result<detail::Rule> read_rule(json::Value v, const std::string& path,
                                        const detail::CompiledPolicy& p);
};

Status PolicyLoader::read_categories(ObjectReader& root, detail::CompiledPolicy& p) {
  json::Value cats = root.get("categories");
  if (!cats || !cats.is_array() || cats.size() == 0) {
    return fail(ErrorCode::kParse, "expected a non-empty array of categories",
                root.child("categories"));
  }
  for (std::size_t i = 0; i < cats.size(); ++i) {
    std::string path = index_path("categories", i);
    ObjectReader r(cats[i], path);
    GW_CHECK_OK(r.check_object());
    Category c;
    GW_TRY(c.code, r.string("code"));
    if (!is_token(c.code, true, false)) {
      return fail(ErrorCode::kParse, "category codes are lower-case tokens", r.child("code"));
    }
    if (p.categories.end() != std::find_if(p.categories.begin(), p.categories.end(),
                                           [&](const Category& o) { return o.code == c.code; })) {
      return fail(ErrorCode::kInvalidArgument, "duplicate category code '" + c.code + "'",
                  r.child("code"));
    }
    GW_TRY(c.display, r.string("display"));
    GW_TRY(c.labels, read_codings(r.get("labels"), r.child("labels"), p.canonical_base, true));
    GW_TRY(c.confidentiality, r.string("confidentiality"));
    if (detail::confidentiality_rank(c.confidentiality) < 0) {
      return fail(ErrorCode::kParse, "not a v3-Confidentiality code (U, L, M, N, R, V)",
                  r.child("confidentiality"));
    }
    GW_TRY(std::string def, r.optional_string("default", "deny"));
    if (def != "deny" && def != "permit") {
      return fail(ErrorCode::kParse, "expected \"deny\" or \"permit\"", r.child("default"));
    }
    c.permitted_by_default = def == "permit";
    GW_CHECK_OK(r.finish());
    p.categories.push_back(std::move(c));
  }
  return {};
}

Result<detail::Rule> PolicyLoader::read_rule(json::Value v, const std::string& path,
                                             const detail::CompiledPolicy& p) {
  using detail::RuleKind;
  ObjectReader r(v, path);
  GW_CHECK_OK(r.check_object());
  detail::Rule rule;
  GW_TRY(rule.id, r.string("id"));
  if (!is_token(rule.id, true, true))
    return fail(ErrorCode::kParse, "rule ids are tokens", r.child("id"));
  GW_TRY(std::string category, r.string("category"));
  // Categories are declared before rules, so a rule can only name one that
  // exists; a typo here is exactly the mistake that would release data.
  auto cat = std::find_if(p.categories.begin(), p.categories.end(),
                          [&](const Category& c) { return c.code == category; });
  if (cat == p.categories.end()) {
    return fail(ErrorCode::kInvalidArgument, "unknown category '" + category.substr(0, 60) + "'",
                r.child("category"));
  }
  rule.category = static_cast<int>(cat - p.categories.begin());

  // Exactly one selection kind per rule keeps each rule readable on its own.
  int kinds = 0;
  if (json::Value s = r.get("select")) {
    ++kinds;
    rule.kind = RuleKind::kSelect;
    if (!s.is_string() || s.str().empty())
      return fail(ErrorCode::kParse, "expected a FHIRPath string", r.child("select"));
    rule.select_text = std::string(s.str());
    substitute(rule.select_text, p.canonical_base);
    detail::parse_simple_path(rule.select_text, rule.select_path);
    auto sel = detail::compile_selector(rule.select_text, p.model);
    if (!sel) return sel.error().with_context(r.child("select"));
    rule.selector = *sel;
  }
  if (json::Value e = r.get("extensions")) {
    ++kinds;
    rule.kind = RuleKind::kExtension;
    if (!e.is_array() || e.size() == 0)
      return fail(ErrorCode::kParse, "expected a non-empty array of URLs", r.child("extensions"));
    for (std::size_t i = 0; i < e.size(); ++i) {
      if (!e[i].is_string())
        return fail(ErrorCode::kParse, "expected a URL", index_path(r.child("extensions"), i));
      std::string url(e[i].str());
      substitute(url, p.canonical_base);
      if (!is_absolute_url(url))
        return fail(ErrorCode::kParse, "expected an absolute URL",
                    index_path(r.child("extensions"), i));
      rule.extension_urls.push_back(std::move(url));
    }
  }
  if (json::Value ids = r.get("identifiers")) {
    ++kinds;
    rule.kind = RuleKind::kIdentifier;
    ObjectReader ir(ids, r.child("identifiers"));
    GW_CHECK_OK(ir.check_object());
    GW_TRY(rule.identifier_types,
           read_codings(ir.get("types"), ir.child("types"), p.canonical_base, false));
    GW_TRY(rule.identifier_systems, ir.string_array("systems", false));
    GW_CHECK_OK(ir.finish());
    for (auto& s : rule.identifier_systems) substitute(s, p.canonical_base);
    if (rule.identifier_types.empty() && rule.identifier_systems.empty()) {
      return fail(ErrorCode::kParse, "name at least one identifier type or system", ir.path());
    }
  }
  if (json::Value codes = r.get("codes")) {
    ++kinds;
    rule.kind = RuleKind::kCode;
    GW_TRY(rule.codes, read_codings(codes, r.child("codes"), p.canonical_base, true));
  }
  GW_TRY(rule.remove_resource_types, read_resource_types(r, "removeResources", *p.model));
  if (!rule.remove_resource_types.empty() && rule.kind != RuleKind::kCode) {
    return fail(ErrorCode::kInvalidArgument, "removeResources goes with codes",
                r.child("removeResources"));
  }
  if (r.get("resourceTypes")) {
    ++kinds;
    rule.kind = RuleKind::kResourceType;
  }
  GW_TRY(rule.resource_types, read_resource_types(r, "resourceTypes", *p.model));
  if (rule.kind == RuleKind::kResourceType && rule.resource_types.empty()) {
    return fail(ErrorCode::kParse, "expected at least one resource type", r.child("resourceTypes"));
  }
  if (kinds != 1) {
    return fail(ErrorCode::kParse,
                "a rule needs exactly one of select, extensions, identifiers, codes, resourceTypes",
                path);
  }

  // Coarsening only makes sense for an element we know how to coarsen
  // (addresses, checked again at run time); other kinds always remove.
  GW_TRY(std::string action, r.optional_string("action", "remove"));
  if (action == "coarsen") {
    if (rule.kind != RuleKind::kSelect) {
      return fail(ErrorCode::kInvalidArgument, "only select rules can coarsen", r.child("action"));
    }
    rule.action = detail::RuleAction::kCoarsen;
    GW_TRY(std::string level, r.string("coarsenTo"));
    if (level == "country") {
      rule.coarsen = detail::CoarsenLevel::kCountry;
    } else if (level == "region") {
      rule.coarsen = detail::CoarsenLevel::kRegion;
    } else {
      return fail(ErrorCode::kParse, "expected \"country\" or \"region\"", r.child("coarsenTo"));
    }
  } else if (action != "remove") {
    return fail(ErrorCode::kParse, "expected \"remove\" or \"coarsen\"", r.child("action"));
  }
  GW_TRY(std::string comment, r.optional_string("comment", ""));
  (void)comment;
  GW_CHECK_OK(r.finish());
  return rule;
}

Status PolicyLoader::read_rules(ObjectReader& root, detail::CompiledPolicy& p) {
  json::Value rules = root.get("rules");
  if (!rules || !rules.is_array() || rules.size() == 0) {
    return fail(ErrorCode::kParse, "expected a non-empty array of rules", root.child("rules"));
  }
  for (std::size_t i = 0; i < rules.size(); ++i) {
    GW_TRY(detail::Rule rule, read_rule(rules[i], index_path("rules", i), p));
    for (const auto& other : p.rules) {
      if (other.id == rule.id) {
        return fail(ErrorCode::kInvalidArgument, "duplicate rule id '" + rule.id + "'",
                    index_path("rules", i) + ".id");
      }
    }
    p.rules.push_back(std::move(rule));
  }
  return {};
}

Result<std::shared_ptr<const Policy>> PolicyLoader::load(std::string_view text,
                                                         std::shared_ptr<const fhir::Model> model) {
  if (!model) return fail(ErrorCode::kInvalidArgument, "a consent policy needs the FHIR model");
  GW_TRY(json::Document doc, json::Document::parse(std::string(text)));
  json::Value root = doc.root();
  auto compiled = std::make_unique<detail::CompiledPolicy>();
  detail::CompiledPolicy& p = *compiled;
  p.model = model;
  // Hash what the operator wrote (canonicalised), before substitution, so
  // the hash identifies the file's content independent of its layout.
  p.sha256 = detail::sha256_hex(detail::canonical_json(root));

  ObjectReader r(root, "");
  GW_CHECK_OK(r.check_object());
  GW_TRY(p.id, r.string("id"));
  if (!is_token(p.id, true, true)) return fail(ErrorCode::kParse, "policy ids are tokens", "id");
  GW_TRY(p.version, r.string("version"));
  GW_TRY(std::string title, r.optional_string("title", ""));
  GW_TRY(std::string description, r.optional_string("description", ""));
  (void)title;
  (void)description;
  GW_TRY(p.canonical_base, r.string("canonicalBase"));
  if (!is_absolute_url(p.canonical_base) || p.canonical_base.back() == '/' ||
      p.canonical_base.find("${") != std::string::npos) {
    return fail(ErrorCode::kParse, "expected an http(s) URL without a trailing '/'",
                "canonicalBase");
  }
  GW_TRY(p.url,
         r.optional_string("url", std::string(kBasePlaceholder) + "/consent-policy/" + p.id));
  substitute(p.url, p.canonical_base);

  // Purposes of use.
  {
    json::Value pv = r.get("purposes");
    if (!pv) return fail(ErrorCode::kParse, "missing required key 'purposes'", "");
    ObjectReader pr(pv, "purposes");
    GW_CHECK_OK(pr.check_object());
    GW_TRY(p.purpose_system, pr.optional_string("system", std::string(detail::kActReasonSystem)));
    GW_TRY(p.allowed_purposes, read_purpose_codes(pr, "allowed"));
    GW_TRY(p.enforcement_purposes, read_purpose_codes(pr, "enforcement"));
    GW_CHECK_OK(pr.finish());
    for (const auto& a : p.allowed_purposes) {
      if (std::find(p.enforcement_purposes.begin(), p.enforcement_purposes.end(), a) !=
          p.enforcement_purposes.end()) {
        return fail(ErrorCode::kInvalidArgument,
                    "purpose '" + a + "' is both allowed and enforcement", "purposes");
      }
    }
  }
  GW_TRY(p.base_confidentiality, r.optional_string("confidentiality", "N"));
  if (detail::confidentiality_rank(p.base_confidentiality) < 0) {
    return fail(ErrorCode::kParse, "not a v3-Confidentiality code (U, L, M, N, R, V)",
                "confidentiality");
  }
  GW_CHECK_OK(read_categories(r, p));
  GW_CHECK_OK(read_rules(r, p));

  if (json::Value ft = r.get("freeText")) {
    ObjectReader fr(ft, "freeText");
    GW_CHECK_OK(fr.check_object());
    GW_TRY(std::string narrative, fr.optional_string("narrative", "regenerate"));
    if (narrative == "regenerate") {
      p.narrative = detail::NarrativeAction::kRegenerate;
    } else if (narrative == "remove") {
      p.narrative = detail::NarrativeAction::kRemove;
    } else {
      return fail(ErrorCode::kParse, "expected \"regenerate\" or \"remove\"", "freeText.narrative");
    }
    // Notes and attachments cannot be checked for sensitive content, so the
    // only accepted action is removal; the key exists to say so explicitly.
    for (std::string_view key : {"notes", "attachments"}) {
      GW_TRY(std::string action, fr.optional_string(key, "remove"));
      if (action != "remove") {
        return fail(ErrorCode::kUnsupported,
                    "free text cannot be passed through unchecked: only \"remove\"", fr.child(key));
      }
    }
    GW_CHECK_OK(fr.finish());
  }
  if (json::Value lim = r.get("limits")) {
    ObjectReader lr(lim, "limits");
    GW_CHECK_OK(lr.check_object());
    if (json::Value d = lr.get("maxDepth")) {
      std::uint32_t depth = 0;
      std::string_view s = d.str();
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), depth);
      if (!d.is_number() || ec != std::errc() || ptr != s.data() + s.size() || depth < 16 ||
          depth > 256) {
        return fail(ErrorCode::kParse, "expected an integer from 16 to 256", "limits.maxDepth");
      }
      p.max_depth = depth;
    }
    GW_CHECK_OK(lr.finish());
  }
  GW_CHECK_OK(r.finish());

  std::shared_ptr<Policy> policy(new Policy());
  policy->compiled_ = std::move(compiled);
  return std::shared_ptr<const Policy>(std::move(policy));
}

Policy::Policy() = default;
Policy::~Policy() = default;

Result<std::shared_ptr<const Policy>> Policy::parse(std::string_view json_text,
                                                    std::shared_ptr<const fhir::Model> model) {
  return PolicyLoader::load(json_text, std::move(model));
}

Result<std::shared_ptr<const Policy>> Policy::load_file(const std::string& path,
                                                        std::shared_ptr<const fhir::Model> model) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::kNotFound, "cannot open consent policy", path);
  std::ostringstream buf;
  buf << in.rdbuf();
  auto p = parse(std::move(buf).str(), std::move(model));
  if (!p) return p.error().with_context(path);
  return p;
}

const std::string& Policy::id() const { return compiled_->id; }
const std::string& Policy::version() const { return compiled_->version; }
const std::string& Policy::url() const { return compiled_->url; }
const std::string& Policy::canonical_base() const { return compiled_->canonical_base; }
const std::string& Policy::sha256() const { return compiled_->sha256; }
const std::vector<Category>& Policy::categories() const { return compiled_->categories; }
const std::string& Policy::purpose_system() const { return compiled_->purpose_system; }
std::uint32_t Policy::max_depth() const { return compiled_->max_depth; }

int Policy::category_index(std::string_view code) const {
  for (std::size_t i = 0; i < compiled_->categories.size(); ++i) {
    if (compiled_->categories[i].code == code) return static_cast<int>(i);
  }
  return -1;
}

PurposeVerdict Policy::check_purpose(std::string_view system, std::string_view code) const {
  const auto& p = *compiled_;
  // A code from another system is not ours to interpret: unknown, refused.
  if (!system.empty() && system != p.purpose_system) return PurposeVerdict::kUnknown;
  // Enforcement is checked first so a code can never be both.
  if (std::find(p.enforcement_purposes.begin(), p.enforcement_purposes.end(), code) !=
      p.enforcement_purposes.end()) {
    return PurposeVerdict::kEnforcement;
  }
  if (std::find(p.allowed_purposes.begin(), p.allowed_purposes.end(), code) !=
      p.allowed_purposes.end()) {
    return PurposeVerdict::kAllowed;
  }
  return PurposeVerdict::kUnknown;
}

}  // namespace gw::consent
