// References and Bundles.
//
// A Bundle is indexed once when its walk starts (fullUrl -> entry and
// Type/id -> entry), so resolving each reference is a hash lookup and a
// Bundle of n entries costs O(n) however many references it holds. Nested
// Bundles get their own scope. Resolution follows the FHIR rules for
// Bundles: absolute URLs and URNs match fullUrl; a relative reference is
// made absolute against the RESTful base of the referring entry's fullUrl;
// failing that, Type/id is matched against the entries' resources (as
// HL7's validator does for bundles that use urn:uuid fullUrls).
#include "gateway/validation/detail/walker.hpp"

#include <algorithm>

namespace gw::validation::detail {
namespace {

std::string_view strip_history(std::string_view ref) {
  auto h = ref.find("/_history/");
  return h == std::string_view::npos ? ref : ref.substr(0, h);
}

bool is_absolute(std::string_view ref) {
  auto colon = ref.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    char c = ref[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!ok) return false;
  }
  return true;
}

bool is_urn(std::string_view ref) { return ref.substr(0, 4) == "urn:"; }

// Splits ".../Type/id" into Type and id (the last two segments).
bool last_two(std::string_view url, std::string_view& type, std::string_view& id) {
  auto slash = url.rfind('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == url.size()) return false;
  id = url.substr(slash + 1);
  auto slash2 = url.rfind('/', slash - 1);
  type = slash2 == std::string_view::npos ? url.substr(0, slash) : url.substr(slash2 + 1, slash - slash2 - 1);
  return !type.empty();
}

}  // namespace

// One pass over the entries: what the walk and the entry-level rules need,
// including the fullUrl checks (absolute, or a URN; a RESTful fullUrl ends
// with the entry's type and id, as HL7's validator checks with
// BUNDLE_ENTRY_URL_MATCHES_TYPE_ID). check_bundle reports those after the
// walk.
void Walker::index_bundle(json::Value bundle, BundleScope& scope) {
  scope.bundle = bundle;
  scope.type = bundle.find("type").str();
  json::Value entries = bundle.find("entry");
  scope.entries.reserve(entries.size());
  scope.by_full_url = FlatIndex(v_.hash_seed);
  scope.by_full_url.reserve(entries.size());
  for (json::Value e : entries.items()) {
    BundleEntry be;
    std::string_view rid;
    be.resource = e.find("resource");
    if (be.resource.is_object()) {
      const fhir::TypeDef* t = v_.model->type(be.resource.find("resourceType").str());
      if (t && t->kind == fhir::TypeKind::kResource) be.type = t;
      rid = be.resource.find("id").str();
    }
    be.full_url = e.find("fullUrl").str();
    be.request = static_cast<bool>(e.find("request"));
    be.response = static_cast<bool>(e.find("response"));
    scope.with_request += be.request;
    scope.with_response += be.response;
    auto idx = static_cast<std::uint32_t>(scope.entries.size());
    scope.entries.push_back(be);
    if (be.full_url.empty()) continue;
    auto url_of = [&scope](std::uint32_t i) { return scope.full_url_of(i); };
    if (scope.by_full_url.add(idx, url_of) != FlatIndex::kNone) scope.repeated_full_url = true;
    if (!is_absolute(be.full_url)) {
      scope.full_url_problems.emplace_back(idx, "fullUrl must be an absolute URL or a URN");
      continue;
    }
    std::string_view t, id;
    if (!be.type || !last_two(strip_history(be.full_url), t, id)) continue;
    const fhir::TypeDef* named = v_.model->type(t);
    if (!named || named->kind != fhir::TypeKind::kResource) continue;
    if (named != be.type) {
      scope.full_url_problems.emplace_back(
          idx, "fullUrl names resource type " + named->name + " but the entry holds a " + be.type->name);
    } else if (!rid.empty() && rid != id) {
      scope.full_url_problems.emplace_back(idx, "fullUrl does not end with the resource's id");
    }
  }
}

const std::unordered_map<std::string, std::uint32_t>& BundleScope::type_ids() {
  if (!type_id_built) {
    type_id_built = true;
    std::string key;
    for (std::uint32_t i = 0; i < entries.size(); ++i) {
      const BundleEntry& be = entries[i];
      if (!be.type) continue;
      std::string_view id = be.resource.find("id").str();
      if (id.empty()) continue;
      key.assign(be.type->name);
      key += '/';
      key += id;
      by_type_id.emplace(key, i);
    }
  }
  return by_type_id;
}

std::int32_t BundleScope::entry_of(json::Value resource) {
  if (!offset_built) {
    offset_built = true;
    by_offset.reserve(entries.size());
    for (std::uint32_t i = 0; i < entries.size(); ++i) {
      if (entries[i].resource) by_offset.emplace(entries[i].resource.offset(), i);
    }
  }
  auto it = by_offset.find(resource.offset());
  return it == by_offset.end() ? -1 : static_cast<std::int32_t>(it->second);
}

// Entry-level Bundle rules that are not invariants, found by index_bundle
// and reported after the base walk, in entry order. Uniqueness is bdl-7,
// native (the FHIRPath form is quadratic in the number of entries): the
// index notes a repeated fullUrl, and only then are versionIds compared.
void Walker::check_bundle(const BundleScope& scope) {
  json::Value entries = scope.bundle.find("entry");
  for (const auto& [i, message] : scope.full_url_problems) {
    const std::size_t base_len = push_key("entry");
    push_index(static_cast<std::int32_t>(i));
    push_key("fullUrl");
    error("business-rule", entries[i].find("fullUrl"), message);
    pop(base_len);
  }
}

// Local resolution: "#id" among the container's contained resources ("#"
// is the container), then the Bundle the current resource is an entry of.
// Anything else is outside this validation call.
Resolved Walker::resolve_reference(std::string_view ref) const {
  Resolved r;
  if (ref.empty() || frames_.empty()) return r;
  const ResourceFrame* here = frames_.back();
  if (ref[0] == '#') {
    const ResourceFrame* container = here;
    while (container->container) container = container->container;
    std::string_view id = ref.substr(1);
    if (id.empty()) {
      r.resource = container->obj;
      r.type = container->type;
      r.self = true;
      return r;
    }
    std::int32_t i = 0;
    for (json::Value c : container->obj.find("contained").items()) {
      if (c.is_object() && c.find("id").str() == id) {
        r.resource = c;
        r.type = v_.model->type(c.find("resourceType").str());
        r.container = container;
        r.contained_index = i;
        return r;
      }
      ++i;
    }
    return r;
  }
  BundleScope* scope = here->bundle;
  if (!scope) return r;
  std::string_view target = strip_history(ref);
  std::int32_t found = -1;
  auto url_of = [scope](std::uint32_t i) { return scope->full_url_of(i); };
  if (is_absolute(target)) {
    found = static_cast<std::int32_t>(scope->by_full_url.find(target, url_of));
  } else {
    std::string_view t, id;
    std::string_view base_url = strip_history(here->full_url);
    if (!base_url.empty() && !is_urn(base_url) && last_two(base_url, t, id)) {
      std::string_view base = base_url.substr(0, base_url.size() - t.size() - id.size() - 1);
      ref_key_.assign(base);
      ref_key_ += target;
      found = static_cast<std::int32_t>(scope->by_full_url.find(ref_key_, url_of));
    }
    if (found < 0) {
      const auto& ids = scope->type_ids();
      auto it = ids.find(std::string(target));
      if (it != ids.end()) {
        const BundleEntry& e = scope->entries[it->second];
        r.resource = e.resource;
        r.type = e.type;
        r.bundle = scope;
        r.entry = static_cast<std::int32_t>(it->second);
        return r;
      }
    }
  }
  if (found < 0) return r;
  const BundleEntry& e = scope->entries[static_cast<std::size_t>(found)];
  if (!e.resource) return r;
  r.resource = e.resource;
  r.type = e.type;
  r.bundle = scope;
  r.entry = found;
  return r;
}

std::optional<fhir::Node> Walker::resolve(std::string_view reference) const {
  Resolved r = resolve_reference(reference);
  if (!r || !r.type) return std::nullopt;
  fhir::Node n;
  n.value = r.resource;
  n.type = r.type;
  return n;
}

Result<std::optional<bool>> Walker::member_of(std::span<const fhirpath::Code> codes,
                                              std::string_view value_set_url) const {
  if (!v_.options.terminology) return std::optional<bool>();
  bool unknown = false;
  for (const fhirpath::Code& c : codes) {
    terminology::CodeCheck r = v_.options.terminology->validate_code(value_set_url, c.system, c.code);
    if (r.membership == terminology::Membership::kMember) return std::optional<bool>(true);
    if (r.membership == terminology::Membership::kCannotCheck) unknown = true;
  }
  if (unknown || codes.empty()) return std::optional<bool>();
  return std::optional<bool>(false);
}

std::string Walker::location_of(const Resolved& r) const {
  std::string out;
  if (r.bundle) {
    out = r.bundle->path;
    out += ".entry[" + std::to_string(r.entry) + "].resource";
  } else if (r.container) {
    out = std::string(path_.view().substr(0, std::min(r.container->path_len, path_.size())));
    out += ".contained[" + std::to_string(r.contained_index) + "]";
  }
  return out;
}

// "Does this resource conform to that profile?" for slicing (profile
// discriminators) and target profiles. Memoized per call on (resource,
// profile); a cycle (A's slicing needs B, B's needs A) counts as
// conforming while it is being decided.
bool Walker::conforms(json::Value resource, const StructurePlan& plan) {
  MemoKey key{resource.offset(), &plan};
  auto it = conform_memo_.find(key);
  if (it != conform_memo_.end()) return it->second != MemoState::kFails;
  conform_memo_[key] = MemoState::kRunning;
  std::vector<Issue> local;
  std::vector<Issue>* saved = out_;
  out_ = &local;
  const fhir::TypeDef* type = v_.model->type(resource.find("resourceType").str());
  Item item;
  item.value = resource;
  item.type = type;
  item.type_code = type ? std::string_view(type->name) : std::string_view();
  std::string saved_elem = elem_path_.str();
  elem_path_.assign(type ? std::string_view(type->name) : std::string_view());
  walk_item(*plan.root, item, Mode::kProfile, ObjContext{});
  elem_path_.assign(saved_elem);
  out_ = saved;
  bool ok = !has_errors(local);
  conform_memo_[key] = ok ? MemoState::kConforms : MemoState::kFails;
  return ok;
}

bool Walker::conforms_resolved(const Resolved& r, const StructurePlan& plan) {
  if (!r || !r.type || !r.type->is_a(plan.type)) return false;
  if (plan.is_base) return true;
  std::string saved_path = path_.str();
  ResourceFrame f;
  f.obj = r.resource;
  f.type = r.type;
  if (r.bundle) {
    f.bundle = r.bundle;
    f.entry = r.entry;
    f.full_url = r.bundle->entries[static_cast<std::size_t>(r.entry)].full_url;
  } else if (r.container) {
    f.container = r.container;
    f.bundle = r.container->bundle;
    f.full_url = r.container->full_url;
  }
  if (!r.self) path_.assign(location_of(r));
  f.path_len = path_.size();
  frames_.push_back(&f);
  bool ok = conforms(r.resource, plan);
  frames_.pop_back();
  path_.assign(saved_path);
  return ok;
}

// A Reference's target type: from the resolved resource when it is in the
// Bundle or contained, else from the reference text (Type/id, or the last
// two segments of an absolute RESTful URL), else from Reference.type.
// URNs must resolve inside a Bundle (they mean nothing outside it). When
// the target is resolved and the rule names non-base target profiles, the
// target must conform to one of those that apply to its type (a memoized
// full profile validation).
void Walker::check_reference(const ElementPlan& node, const TypeRule* rule, const Item& item, Mode mode) {
  (void)node;
  json::Value refv = item.value.find("reference");
  std::string_view ref = refv.str();
  json::Value typev = item.value.find("type");
  const fhir::TypeDef* declared = nullptr;
  if (typev.is_string()) {
    declared = v_.model->type(typev.str());
    if (!declared || declared->kind != fhir::TypeKind::kResource) {
      if (mode == Mode::kBase && typev.str().find(':') == std::string_view::npos) {
        error("structure", typev, "Reference.type does not name a resource type");
      }
      declared = nullptr;
    }
  }
  if (ref.empty() || !refv.is_string()) {
    if (declared && !rule->any_target) {
      bool ok = std::any_of(rule->target_types.begin(), rule->target_types.end(),
                            [&](const fhir::TypeDef* t) { return declared->is_a(t); });
      if (!ok) error("structure", typev, "a reference to a " + declared->name + " is not allowed here");
    }
    return;
  }
  Resolved r = resolve_reference(ref);
  const fhir::TypeDef* target = nullptr;
  if (r) {
    target = r.type;
  } else if (ref[0] == '#') {
    error("not-found", refv, "contained reference cannot be resolved: no contained resource has that id");
    return;
  } else {
    std::string_view clean = strip_history(ref);
    const BundleScope* scope = frames_.empty() ? nullptr : frame().bundle;
    if (is_urn(clean)) {
      if (scope && mode == Mode::kBase) {
        error("not-found", refv, "reference to a URN that is not the fullUrl of any entry in the bundle");
      }
    } else {
      std::string_view t, id;
      if (!is_absolute(clean)) {
        auto slash = clean.find('/');
        if (slash != std::string_view::npos && clean.find('/', slash + 1) == std::string_view::npos) {
          t = clean.substr(0, slash);
        }
        const fhir::TypeDef* named = t.empty() ? nullptr : v_.model->type(t);
        if (named && named->kind == fhir::TypeKind::kResource && named->name.find('.') == std::string::npos) {
          target = named;
        } else if (mode == Mode::kBase) {
          warning("structure", refv, "a relative reference should have the form Type/id with a known resource type");
        }
      } else if (last_two(clean, t, id)) {
        const fhir::TypeDef* named = v_.model->type(t);
        if (named && named->kind == fhir::TypeKind::kResource && named->name.find('.') == std::string::npos) {
          target = named;
        }
      }
      if (scope && scope->type == "document" && mode == Mode::kBase) {
        warning("not-found", refv, "reference is not resolved inside the document bundle");
      }
    }
  }
  if (declared && target && declared != target && mode == Mode::kBase) {
    error("structure", typev, "Reference.type " + declared->name +
                                  " does not match the referenced resource type " + target->name);
  }
  if (!target) target = declared;
  if (!target) return;
  if (!rule->any_target) {
    bool ok = std::any_of(rule->target_types.begin(), rule->target_types.end(),
                          [&](const fhir::TypeDef* t) { return target->is_a(t); });
    if (!ok) {
      std::string allowed;
      for (const fhir::TypeDef* t : rule->target_types) {
        if (!allowed.empty()) allowed += ", ";
        allowed += t->name;
      }
      error("structure", refv, "a reference to a " + target->name + " is not allowed here (allowed: " +
                                   allowed + ")");
      return;
    }
  }
  if (!r || r.self) return;
  // Target profiles beyond the base types: the resolved resource must
  // conform to one of those that apply to its type.
  std::vector<const StructurePlan*> candidates;
  for (const std::string& p : rule->target_profiles) {
    const StructurePlan* plan = plan_of(p);
    if (!plan) continue;
    if (plan->is_base) {
      if (target->is_a(plan->type)) return;  // a base type target is satisfied already
      continue;
    }
    if (target->is_a(plan->type)) candidates.push_back(plan);
  }
  if (candidates.empty()) return;
  for (const StructurePlan* plan : candidates) {
    if (conforms_resolved(r, *plan)) return;
  }
  std::string names;
  for (const StructurePlan* plan : candidates) {
    if (!names.empty()) names += ", ";
    names += plan->url;
  }
  error("structure", refv, "the referenced resource does not conform to " +
                               std::string(candidates.size() > 1 ? "any of " : "") + names);
}

}  // namespace gw::validation::detail
