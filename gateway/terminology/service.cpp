// The terminology engine: compiles ValueSets into three-valued ConceptSets,
// caches them per registry entry, and answers membership and lookup.
//
// Why compute-then-publish instead of std::call_once per entry: expansions
// recurse into imports. With a lock or once_flag held per entry, two threads
// expanding A (imports B) and B (imports A) would each wait for the other.
// Here a thread computes with no lock held, using its own import stack for
// cycle detection, and publishes under a short mutex; the first published
// result wins and later ones are dropped. Duplicate work is possible under a
// race, an unbounded cache is not: slots exist only for registry entries.
//
// Error caching: cycle and malformed-resource errors are properties of the
// ValueSet and are cached. The import-depth limit depends on where the walk
// started, so it is cached only for a top-level request.
#include "gateway/terminology/terminology.hpp"

#include "gateway/terminology/detail/code_system.hpp"
#include "gateway/terminology/detail/concept_set.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <utility>

namespace gw::terminology {

namespace detail {
namespace {

constexpr std::string_view kUcum = "http://unitsofmeasure.org";

// Values by string key, added once and never removed: the Engine's caches
// of answers per system and per canonical. The caller holds the lock that
// guards the cache.
template <class V>
class KeyedCache {
 public:
  const V* find(std::string_view key) const {
    std::int64_t i = index_.find(key, key_of());
    return i == FlatIndex::kNone ? nullptr : &entries_[static_cast<std::size_t>(i)].value;
  }
  /// Adds `value` unless `key` is present; says whether it was added.
  bool add(std::string_view key, V value) {
    if (find(key) != nullptr) return false;
    entries_.push_back({std::string(key), std::move(value)});
    index_.add(static_cast<std::uint32_t>(entries_.size() - 1), key_of());
    return true;
  }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string key;
    V value;
  };
  auto key_of() const {
    return [this](std::uint32_t k) { return std::string_view(entries_[k].key); };
  }
  std::vector<Entry> entries_;
  FlatIndex index_;
};

// "url|version" -> (url, version).
std::pair<std::string_view, std::string_view> split_canonical(std::string_view c) {
  std::size_t bar = c.find('|');
  if (bar == std::string_view::npos) return {c, {}};
  return {c.substr(0, bar), c.substr(bar + 1)};
}

std::string quoted(std::string_view s) {
  std::string out = "'";
  out.append(s);
  out.push_back('\'');
  return out;
}

// One sentence per reason. Names conformance URLs only, never the code.
std::string message_for(Reason reason, std::string_view value_set, std::string_view system) {
  // Most calls are for codes that were found: no message, no allocation.
  if (reason == Reason::kNone) return {};
  std::string vs = quoted(value_set);
  std::string sys = system.empty() ? std::string("(no system)") : quoted(system);
  switch (reason) {
    case Reason::kNone:
      return {};
    case Reason::kNotInValueSet:
      return "The code is not in the value set " + vs + " (system " + sys + ")";
    case Reason::kCodeNotInSystem:
      return "The code does not exist in the code system " + sys;
    case Reason::kValueSetNotFound:
      return "The value set " + vs + " is not loaded; membership cannot be checked";
    case Reason::kValueSetUnusable:
      return "The value set " + vs + " cannot be expanded; membership cannot be checked";
    case Reason::kSystemNotFound:
      return "The code system " + sys + " is not available locally; membership in " + vs +
             " cannot be checked";
    case Reason::kSystemIncomplete:
      return "The code system " + sys + " is only partially available locally; membership in " +
             vs + " cannot be checked";
    case Reason::kExternalSystem:
      return "The code system " + sys +
             " is external and cannot be checked offline; membership in " + vs +
             " cannot be checked";
    case Reason::kSystemVersionNotFound:
      return "The requested version of the code system " + sys +
             " is not available locally; membership in " + vs + " cannot be checked";
    case Reason::kUnsupportedFilter:
      return "The value set " + vs + " uses a filter on " + sys +
             " that cannot be evaluated locally; membership cannot be checked";
    case Reason::kImportNotFound:
      return "The value set " + vs +
             " imports a value set that is not loaded; membership cannot be checked";
    case Reason::kInvalidUcumSyntax:
      return "The code is not a syntactically valid UCUM unit";
    case Reason::kMissingCode:
      return "No code was given";
    case Reason::kPartialExpansion:
      return "The value set " + vs +
             " is only available as a partial expansion; membership cannot be checked";
  }
  return {};
}

}  // namespace

class Engine {
 public:
  Engine(std::shared_ptr<const packages::Registry> registry, Service::Options options)
      : registry_(std::move(registry)), options_(options) {
    GW_ASSERT(registry_ != nullptr, "terminology::Service needs a registry");
  }

  const packages::Registry& registry() const { return *registry_; }
  /// Entries of every cache: expansions, CodeSystem indexes, expansions by
  /// canonical, resolved systems.
  std::size_t cache_size() const {
    std::shared_lock lock(mu_);
    return expansions_.size() + code_systems_.size() + expanded_.size() + resolved_.size();
  }

  Result<std::shared_ptr<const Expansion>> expand(std::string_view canonical) const {
    {
      std::shared_lock lock(mu_);
      if (const auto* x = expanded_.find(canonical)) return *x;
    }
    const packages::Entry* entry = registry_->find("ValueSet", canonical);
    if (entry == nullptr) {
      return fail(ErrorCode::kNotFound, "terminology: ValueSet is not loaded",
                  std::string(canonical));
    }
    std::vector<const packages::Entry*> stack;
    Result<std::shared_ptr<const Expansion>> x = expand_entry(entry, stack);
    if (x) {
      std::unique_lock lock(mu_);
      expanded_.add(canonical, *x);
    }
    return x;
  }

  CodeCheck validate(std::string_view value_set, std::string_view system_version,
                     std::string_view code, std::optional<std::string_view> display) const;
  LookupResult lookup(std::string_view system_version, std::string_view code) const;
  CodeFound find_code(std::string_view system_version, std::string_view code) const;

 private:
  // What lookup and find_code decide: the concept when found, else why not.
  struct Found {
    CodeStatus status = CodeStatus::kCannotCheck;
    Reason reason = Reason::kNone;
    const CsConcept* entry = nullptr;  // the concept
    const CodeSystemIndex* cs = nullptr;  // owned by code_systems_, never evicted
  };
  Found find(std::string_view system, std::string_view version, std::string_view code) const;

  // Where a system's concepts come from.
  struct Resolved {
    const CodeSystemIndex* cs = nullptr;  // null when not loaded/usable; owned by code_systems_
    Reason reason = Reason::kNone;              // kNone: local and complete
    bool complete() const { return cs != nullptr && reason == Reason::kNone; }
    bool case_sensitive() const { return cs == nullptr || cs->case_sensitive(); }
  };

  template <class T>
  struct Slot {
    std::optional<Result<std::shared_ptr<const T>>> value;
  };

  Resolved resolve_system(std::string_view system, std::string_view version) const;
  Resolved resolve_uncached(std::string_view system, std::string_view version) const;
  Result<std::shared_ptr<const CodeSystemIndex>> code_system(const packages::Entry* e) const;
  Result<std::shared_ptr<const Expansion>> expand_entry(
      const packages::Entry* entry, std::vector<const packages::Entry*>& stack) const;
  Result<ConceptSet> compile(json::Value vs, std::string_view url,
                             std::vector<const packages::Entry*>& stack) const;
  Result<ConceptSet> compile_include(json::Value inc, std::string_view url,
                                     std::vector<const packages::Entry*>& stack) const;
  ConceptSet system_part(json::Value inc, std::string_view system, std::string_view version) const;
  ConceptSet from_expansion(json::Value expansion) const;
  Status check_size(const ConceptSet& s, std::string_view url) const {
    if (s.size() > options_.max_expansion_size) {
      return fail(ErrorCode::kLimit, "terminology: expansion exceeds the size limit",
                  std::string(url));
    }
    return {};
  }

  std::shared_ptr<const packages::Registry> registry_;
  Service::Options options_;
  mutable std::shared_mutex mu_;  // guards the two maps; never held while computing
  mutable std::unordered_map<const packages::Entry*, Slot<Expansion>> expansions_;
  mutable std::unordered_map<const packages::Entry*, Slot<CodeSystemIndex>> code_systems_;
  // Every Coding of an instance asks how its system resolves; the answer
  // for a version-less system never changes, and the full resolution (a
  // registry lookup, then the CodeSystem cache) cost more than the code
  // lookup itself. Systems the registry holds or the external list names
  // are all kept; systems that resolve to nothing (an example's own
  // "http://acme.org/...") only up to kMaxUnknownSystems, since data can
  // name any number of them. Guarded by mu_.
  mutable KeyedCache<Resolved> resolved_;
  static constexpr std::size_t kMaxUnknownSystems = 1024;
  mutable std::size_t unknown_systems_ = 0;
  // Expansions by the canonical a binding names ("url" or "url|version"),
  // for the validator's per-code calls: the registry lookup behind each was
  // a third of validate_code. Only canonicals the registry holds are kept
  // (a failed expansion is not), so data cannot grow this. Guarded by mu_.
  mutable KeyedCache<std::shared_ptr<const Expansion>> expanded_;
};

Result<std::shared_ptr<const CodeSystemIndex>> Engine::code_system(const packages::Entry* e) const {
  {
    std::shared_lock lock(mu_);
    auto it = code_systems_.find(e);
    if (it != code_systems_.end() && it->second.value) return *it->second.value;
  }
  Result<std::shared_ptr<const CodeSystemIndex>> built =
      [&]() -> Result<std::shared_ptr<const CodeSystemIndex>> {
    GW_TRY(json::Value root, e->json());
    return CodeSystemIndex::build(root, options_.max_expansion_size);
  }();
  std::unique_lock lock(mu_);
  Slot<CodeSystemIndex>& slot = code_systems_[e];
  if (!slot.value) slot.value = std::move(built);
  return *slot.value;
}

// Decides whether a system is checkable here. Order matters: the external
// list wins over whatever a package ships (R4 core has a not-present SNOMED
// CodeSystem; an IG could ship a "complete" fragment of LOINC by mistake),
// then the exact version, then any version only to say which reason applies.
Engine::Resolved Engine::resolve_system(std::string_view system, std::string_view version) const {
  if (!version.empty()) return resolve_uncached(system, version);
  {
    std::shared_lock lock(mu_);
    if (const Resolved* r = resolved_.find(system)) return *r;
  }
  Resolved r = resolve_uncached(system, version);
  const bool known = r.cs != nullptr || r.reason == Reason::kExternalSystem;
  std::unique_lock lock(mu_);
  if (!known && unknown_systems_ >= kMaxUnknownSystems) return r;
  if (resolved_.add(system, r) && !known) ++unknown_systems_;
  return r;
}

Engine::Resolved Engine::resolve_uncached(std::string_view system, std::string_view version) const {
  Resolved r;
  if (is_external_system(system)) {
    r.reason = Reason::kExternalSystem;
    return r;
  }
  const packages::Entry* e = nullptr;
  if (version.empty()) {
    e = registry_->find("CodeSystem", system);
  } else {
    std::string canonical(system);
    canonical.push_back('|');
    canonical.append(version);
    e = registry_->find("CodeSystem", canonical);
    if (e == nullptr) {
      // R4 core quirk: some v2 CodeSystems carry the version inside their
      // url ("http://terminology.hl7.org/CodeSystem/v2-0006|2.1").
      for (const packages::Entry* c : registry_->candidates(canonical)) {
        if (c->resource_type() == "CodeSystem") {
          e = c;
          break;
        }
      }
    }
    if (e == nullptr && registry_->find("CodeSystem", system) != nullptr) {
      r.reason = Reason::kSystemVersionNotFound;
      return r;
    }
  }
  if (e == nullptr) {
    r.reason = Reason::kSystemNotFound;
    return r;
  }
  // A CodeSystem whose file cannot be read or is not a CodeSystem is
  // reported like an incomplete one: the validator warns instead of failing
  // every code of that system.
  auto cs = code_system(e);
  if (!cs) {
    r.reason = Reason::kSystemIncomplete;  // unreadable resource: trust nothing
    return r;
  }
  r.cs = cs->get();
  if (r.cs->content() != Content::kComplete) r.reason = Reason::kSystemIncomplete;
  return r;
}

Result<std::shared_ptr<const Expansion>> Engine::expand_entry(
    const packages::Entry* entry, std::vector<const packages::Entry*>& stack) const {
  {
    std::shared_lock lock(mu_);
    auto it = expansions_.find(entry);
    if (it != expansions_.end() && it->second.value) return *it->second.value;
  }
  if (std::find(stack.begin(), stack.end(), entry) != stack.end()) {
    std::string path;
    for (const packages::Entry* e : stack) {
      path.append(e->url());
      path.append(" -> ");
    }
    path.append(entry->url());
    return fail(ErrorCode::kInvalidArgument, "terminology: ValueSet import cycle: " + path,
                std::string(entry->url()));
  }
  if (stack.size() >= options_.max_import_depth) {
    return fail(ErrorCode::kLimit, "terminology: ValueSet imports nested too deeply",
                std::string(entry->url()));
  }

  // The stack holds the ValueSets being compiled on this thread, outermost
  // first; it is both the cycle detector and the depth counter.
  stack.push_back(entry);
  Result<std::shared_ptr<const Expansion>> built =
      [&]() -> Result<std::shared_ptr<const Expansion>> {
    GW_TRY(json::Value root, entry->json());
    if (!root.is_object() || root.find("resourceType").str() != "ValueSet") {
      return fail(ErrorCode::kInvalidArgument, "terminology: resource is not a ValueSet",
                  std::string(entry->url()));
    }
    GW_TRY(ConceptSet set, compile(root, entry->url(), stack));
    return std::make_shared<const Expansion>(std::string(entry->url()),
                                             std::string(entry->version()),
                                             std::make_unique<const ConceptSet>(std::move(set)));
  }();
  stack.pop_back();

  bool cacheable = built || built.error().code() != ErrorCode::kLimit || stack.empty();
  if (!cacheable) return built;
  std::unique_lock lock(mu_);
  Slot<Expansion>& slot = expansions_[entry];
  if (!slot.value) slot.value = std::move(built);
  return *slot.value;
}

Result<ConceptSet> Engine::compile(json::Value vs, std::string_view url,
                                   std::vector<const packages::Entry*>& stack) const {
  json::Value compose = vs.find("compose");
  json::Value expansion = vs.find("expansion");
  if (!compose.is_object()) {
    if (expansion.is_object()) {
      ConceptSet listed = from_expansion(expansion);
      GW_CHECK_OK(check_size(listed, url));
      return listed;
    }
    return fail(ErrorCode::kInvalidArgument,
                "terminology: ValueSet has neither compose nor expansion", std::string(url));
  }
  json::Value includes = compose.find("include");
  if (!includes.is_array() || includes.size() == 0) {
    return fail(ErrorCode::kInvalidArgument, "terminology: ValueSet compose has no include",
                std::string(url));
  }
  // Includes are united, then each exclude is subtracted from the union
  // (an exclude removes codes whichever include brought them).
  ConceptSet acc;
  for (json::Value inc : includes.items()) {
    GW_TRY(ConceptSet part, compile_include(inc, url, stack));
    acc = unite(acc, part);
    GW_CHECK_OK(check_size(acc, url));
  }
  for (json::Value exc : compose.find("exclude").items()) {
    GW_TRY(ConceptSet part, compile_include(exc, url, stack));
    acc = subtract(acc, part);
  }
  // compose.inactive = false: inactive concepts are not in the value set.
  if (json::Value inactive = compose.find("inactive"); inactive.is_bool() && !inactive.boolean()) {
    ConceptSet drop;
    for (const SystemPart& p : acc.parts) {
      for (const Item& it : p.items) {
        if (it.state == Tri::kIn && it.info.inactive)
          drop.part_for(p.system, p.case_sensitive).put(it);
      }
    }
    acc = subtract(acc, drop);
  }

  // A pre-computed expansion next to an undecidable compose (typically
  // SNOMED filters) still tells us definite members: add those, and only
  // where the compose left the answer open, so a stale expansion can never
  // contradict what local data decided.
  if (expansion.is_object()) {
    ConceptSet listed = from_expansion(expansion);
    for (const SystemPart& p : listed.parts) {
      for (const Item& it : p.items) {
        if (it.state != Tri::kIn) continue;
        if (acc.state(p.system, it.info.code) != Tri::kMaybe) continue;
        acc.part_for(p.system, p.case_sensitive).put(it);
      }
    }
  }
  return acc;
}

Result<ConceptSet> Engine::compile_include(json::Value inc, std::string_view url,
                                           std::vector<const packages::Entry*>& stack) const {
  if (!inc.is_object()) {
    return fail(ErrorCode::kInvalidArgument, "terminology: compose include is not an object",
                std::string(url));
  }
  std::optional<ConceptSet> acc;
  // "url|version" in include.system (an R4 core quirk) means url + version.
  auto [system, system_version] = split_canonical(inc.find("system").str());
  if (json::Value v = inc.find("version"); v.is_string()) system_version = v.str();
  if (!system.empty()) {
    acc = system_part(inc, system, system_version);
  } else if (inc.find("concept") || inc.find("filter")) {
    return fail(ErrorCode::kInvalidArgument,
                "terminology: compose include has concepts or filters but no system",
                std::string(url));
  }
  // Imports are intersected with each other and with the system part
  // (R4 ValueSet.compose.include.valueSet).
  for (json::Value ref : inc.find("valueSet").items()) {
    ConceptSet imported;
    const packages::Entry* e = ref.is_string() ? registry_->find("ValueSet", ref.str()) : nullptr;
    if (e == nullptr) {
      imported = ConceptSet::unknown(Reason::kImportNotFound);
    } else {
      GW_TRY(std::shared_ptr<const Expansion> x, expand_entry(e, stack));
      imported = *x->set_;
    }
    acc = acc ? intersect(*acc, imported) : std::move(imported);
  }
  if (!acc) {
    return fail(ErrorCode::kInvalidArgument,
                "terminology: compose include has neither system nor valueSet", std::string(url));
  }
  return std::move(*acc);
}

ConceptSet Engine::system_part(json::Value inc, std::string_view system,
                               std::string_view version) const {
  Resolved res = resolve_system(system, version);
  ConceptSet out;
  SystemPart& part = out.part_for(system, res.case_sensitive());
  std::string cs_version = !version.empty()    ? std::string(version)
                           : res.cs != nullptr ? res.cs->version()
                                               : std::string();

  auto member = [&](const CsConcept* c, std::string_view code, std::string_view display) {
    Item item;
    item.key = part.normalize(code);
    item.state = Tri::kIn;
    item.info.system = std::string(system);
    item.info.version = cs_version;
    item.info.code = std::string(code);
    item.info.display = !display.empty() ? std::string(display)
                        : c != nullptr   ? c->display
                                         : std::string();
    if (c != nullptr) {
      item.info.abstract = c->abstract;
      item.info.inactive = c->inactive;
    }
    return item;
  };

  json::Value concepts = inc.find("concept");
  json::Value filters = inc.find("filter");
  if (concepts.size() > 0) {
    // Enumeration: decidable even for external systems. A code that a
    // complete local CodeSystem does not have is dropped (it cannot be valid).
    for (json::Value c : concepts.items()) {
      std::string_view code = c.find("code").str();
      if (code.empty()) continue;
      const CsConcept* known = nullptr;
      if (res.cs != nullptr) {
        if (auto i = res.cs->find(code)) known = &res.cs->concepts()[*i];
      }
      if (known == nullptr && res.complete()) continue;
      part.put(member(known, code, c.find("display").str()));
    }
    return out;
  }

  if (filters.size() == 0) {
    // The whole system: every local concept, open if the system is not
    // complete locally.
    if (res.cs != nullptr) {
      for (const CsConcept& c : res.cs->concepts()) part.put(member(&c, c.code, {}));
    }
    if (!res.complete()) {
      part.other = Tri::kMaybe;
      part.other_reason = res.reason;
    }
    return out;
  }

  // Filters on a system we cannot enumerate: every code of it is undecided.
  // (Evaluating them over a fragment's few concepts would give false
  // certainty for the codes it does not list.)
  if (!res.complete()) {
    part.other = Tri::kMaybe;
    part.other_reason = res.reason;
    return out;
  }
  // Filters of one include are ANDed; each gives a mask over the concepts.
  const std::vector<CsConcept>& all = res.cs->concepts();
  std::vector<bool> mask(all.size(), true);
  bool unsupported = false;
  for (json::Value f : filters.items()) {
    auto m = res.cs->filter(f.find("property").str(), f.find("op").str(), f.find("value").str());
    if (!m) {
      unsupported = true;
      continue;
    }
    for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = mask[i] && (*m)[i];
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (!mask[i]) continue;
    Item item = member(&all[i], all[i].code, {});
    if (unsupported) {
      // Passed the filters we understand; the others might still drop it.
      item.state = Tri::kMaybe;
      item.reason = Reason::kUnsupportedFilter;
    }
    part.put(std::move(item));
  }
  return out;
}

ConceptSet Engine::from_expansion(json::Value expansion) const {
  ConceptSet out;
  std::size_t listed = 0;
  std::vector<json::Value> work;
  for (json::Value c : expansion.find("contains").items()) work.push_back(c);
  std::reverse(work.begin(), work.end());
  while (!work.empty()) {
    json::Value c = work.back();
    work.pop_back();
    json::Value kids = c.find("contains");
    for (std::size_t i = kids.size(); i-- > 0;) work.push_back(kids[i]);
    std::string_view system = c.find("system").str();
    std::string_view code = c.find("code").str();
    if (system.empty() || code.empty()) continue;  // a grouping header
    ++listed;
    bool case_sensitive = out.part(system) != nullptr ||  // existing part: flag unused
                          resolve_system(system, {}).case_sensitive();
    SystemPart* part = &out.part_for(system, case_sensitive);
    Item item;
    item.key = part->normalize(code);
    item.state = Tri::kIn;
    item.info.system = std::string(system);
    item.info.version = std::string(c.find("version").str());
    item.info.code = std::string(code);
    item.info.display = std::string(c.find("display").str());
    item.info.abstract = c.find("abstract").boolean();
    item.info.inactive = c.find("inactive").boolean();
    part->put(std::move(item));
  }
  // A paged or truncated expansion lists only part of the ValueSet.
  std::string_view total = expansion.find("total").str();
  std::string_view offset = expansion.find("offset").str();
  bool partial =
      (!offset.empty() && offset != "0") || (!total.empty() && total != std::to_string(listed));
  if (partial) {
    out.other = Tri::kMaybe;
    out.other_reason = Reason::kPartialExpansion;
    for (SystemPart& p : out.parts) {
      p.other = Tri::kMaybe;
      p.other_reason = Reason::kPartialExpansion;
    }
  }
  return out;
}

LookupResult Engine::lookup(std::string_view system_version, std::string_view code) const {
  // Named, not a structured binding: the lambda below captures `system`,
  // which clang before 16 refuses for bindings (the fuzz build uses clang 14).
  const auto canonical = split_canonical(system_version);
  const auto& system = canonical.first;
  const auto& version = canonical.second;
  LookupResult r;
  auto finish = [&](CodeStatus status, Reason reason) {
    r.status = status;
    r.reason = reason;
    if (reason == Reason::kExternalSystem || reason == Reason::kSystemNotFound ||
        reason == Reason::kSystemIncomplete || reason == Reason::kSystemVersionNotFound) {
      r.message = "The code system " + quoted(system) +
                  (reason == Reason::kSystemVersionNotFound ? " (requested version)" : "") +
                  " cannot be checked locally (" + std::string(to_string(reason)) + ")";
    } else {
      r.message = message_for(reason, {}, system);
    }
    return r;
  };
  Found f = find(system, version, code);
  if (f.cs) {
    r.case_sensitive = f.cs->case_sensitive();
    r.system_version = f.cs->version();
  }
  if (f.entry) {
    r.display = f.entry->display;
    r.designations = f.entry->designations;
    r.abstract = f.entry->abstract;
    r.inactive = f.entry->inactive;
  }
  return finish(f.status, f.reason);
}

Engine::Found Engine::find(std::string_view system, std::string_view version, std::string_view code) const {
  Found f;
  auto finish = [&](CodeStatus status, Reason reason) {
    f.status = status;
    f.reason = reason;
    return f;
  };
  if (code.empty()) return finish(CodeStatus::kNotFound, Reason::kMissingCode);
  // UCUM has no finite code list; its grammar is the only thing we can check.
  if (system == kUcum) {
    if (!ucum_syntax_ok(code)) return finish(CodeStatus::kNotFound, Reason::kInvalidUcumSyntax);
    return finish(CodeStatus::kCannotCheck, Reason::kExternalSystem);
  }
  Resolved res = resolve_system(system, version);
  if (res.cs == nullptr) return finish(CodeStatus::kCannotCheck, res.reason);
  f.cs = res.cs;
  if (auto i = res.cs->find(code)) {
    f.entry = &res.cs->concepts()[*i];
    return finish(CodeStatus::kFound, Reason::kNone);
  }
  if (res.complete()) return finish(CodeStatus::kNotFound, Reason::kCodeNotInSystem);
  return finish(CodeStatus::kCannotCheck, res.reason);
}

CodeFound Engine::find_code(std::string_view system_version, std::string_view code) const {
  const auto [system, version] = split_canonical(system_version);
  Found f = find(system, version, code);
  CodeFound out;
  out.status = f.status;
  if (f.entry) {
    out.display = f.entry->display;
    out.designations = &f.entry->designations;
  }
  return out;
}

CodeCheck Engine::validate(std::string_view value_set, std::string_view system_version,
                           std::string_view code, std::optional<std::string_view> display) const {
  auto system = split_canonical(system_version).first;
  CodeCheck out;
  auto finish = [&](Membership m, Reason reason) {
    out.membership = m;
    out.reason = reason;
    out.message = message_for(reason, value_set, system);
    return out;
  };
  if (code.empty()) return finish(Membership::kNotMember, Reason::kMissingCode);

  auto x = expand(value_set);
  if (!x) {
    return finish(Membership::kCannotCheck, x.error().code() == ErrorCode::kNotFound
                                                ? Reason::kValueSetNotFound
                                                : Reason::kValueSetUnusable);
  }
  const Expansion& exp = **x;

  Membership m = exp.contains(system, code);
  const Concept* found = exp.find(system, code);

  // Existence in the code system decides before the ValueSet does: a code
  // that a complete CodeSystem lacks is wrong whatever the ValueSet says.
  // Without a version on the Coding, the version the ValueSet bound is the
  // one to consult; and when the ValueSet binds a version we do not have,
  // the loaded versions cannot veto.
  // (find, not lookup: the concept is read where the CodeSystem holds it,
  // not copied with its designations and a message for every code.)
  std::optional<Found> looked;
  if (!system.empty()) {
    std::string_view version = split_canonical(system_version).second;
    if (system_version.find('|') == std::string_view::npos && found != nullptr &&
        !found->version.empty()) {
      version = found->version;
    }
    looked = find(system, version, code);
    if (looked->status == CodeStatus::kNotFound) {
      bool version_gap = m == Membership::kCannotCheck &&
                         exp.open_reason(system, code) == Reason::kSystemVersionNotFound;
      if (!version_gap) return finish(Membership::kNotMember, looked->reason);
    }
  }

  if (found != nullptr) {
    out.display = found->display;
    out.abstract = found->abstract;
    out.inactive = found->inactive;
  }
  const CsConcept* in_system = looked && looked->status == CodeStatus::kFound ? looked->entry : nullptr;
  if (in_system != nullptr) {
    if (out.display.empty()) out.display = in_system->display;
    out.abstract = out.abstract || in_system->abstract;
    out.inactive = out.inactive || in_system->inactive;
  }
  if (display && !display->empty()) {
    // The code system's display and designations, and the value set's own
    // display for the code: a match with any of them is a match.
    const bool cs_text = in_system != nullptr && (!in_system->display.empty() || !in_system->designations.empty());
    const bool vs_text = found != nullptr && !found->display.empty();
    if (!cs_text && !vs_text) {
      out.display_check = DisplayCheck::kNotChecked;
    } else {
      const bool match = (cs_text && display_matches(*display, in_system->display, in_system->designations)) ||
                         (vs_text && display_matches(*display, found->display, {}));
      out.display_check = match ? DisplayCheck::kMatches : DisplayCheck::kMismatch;
    }
  }
  switch (m) {
    case Membership::kMember:
      return finish(m, Reason::kNone);
    case Membership::kNotMember:
      return finish(m, Reason::kNotInValueSet);
    case Membership::kCannotCheck:
      break;
  }
  // kCannotCheck: say which open system (or missing import) is to blame so
  // the validator's warning names the cause.
  Reason why = exp.open_reason(system, code);
  if (why == Reason::kNone) why = Reason::kValueSetUnusable;
  // An open UCUM include cannot accept a malformed unit.
  if (system == kUcum && !ucum_syntax_ok(code)) {
    return finish(Membership::kNotMember, Reason::kInvalidUcumSyntax);
  }
  return finish(Membership::kCannotCheck, why);
}

}  // namespace detail

// ---- Expansion -------------------------------------------------------------

namespace {

// Strips "|version" from a system.
std::string_view bare(std::string_view system) {
  std::size_t bar = system.find('|');
  return bar == std::string_view::npos ? system : system.substr(0, bar);
}

}  // namespace

// Flattens the set once into the two lists callers iterate: the definite
// members in definition order, and the systems that keep some codes open.
Expansion::Expansion(std::string url, std::string version,
                     std::unique_ptr<const detail::ConceptSet> set)
    : url_(std::move(url)), version_(std::move(version)), set_(std::move(set)) {
  GW_ASSERT(set_ != nullptr, "Expansion needs a info set");
  for (const detail::SystemPart& p : set_->parts) {
    Reason open = p.other == detail::Tri::kMaybe ? p.other_reason : Reason::kNone;
    for (const detail::Item& it : p.items) {
      if (it.state == detail::Tri::kIn) concepts_.push_back(it.info);
      if (it.state == detail::Tri::kMaybe && open == Reason::kNone) open = it.reason;
    }
    if (open != Reason::kNone) open_.push_back({p.system, open});
  }
  if (set_->other == detail::Tri::kMaybe) open_.push_back({std::string(), set_->other_reason});
}

Expansion::~Expansion() = default;

Membership Expansion::contains(std::string_view system, std::string_view code) const {
  system = bare(system);
  auto as_membership = [](detail::Tri t) {
    switch (t) {
      case detail::Tri::kIn:
        return Membership::kMember;
      case detail::Tri::kOut:
        return Membership::kNotMember;
      case detail::Tri::kMaybe:
        break;
    }
    return Membership::kCannotCheck;
  };
  if (!system.empty()) return as_membership(set_->state(system, code));
  // Any system: the best answer over the systems we know, and the default.
  detail::Tri best = set_->other;
  for (const detail::SystemPart& p : set_->parts) {
    best = std::max(best, p.state(code));
    if (best == detail::Tri::kIn) break;
  }
  return as_membership(best);
}

const Concept* Expansion::find(std::string_view system, std::string_view code) const {
  system = bare(system);
  auto in_part = [&](const detail::SystemPart& p) -> const Concept* {
    const detail::Item* it = p.case_sensitive ? p.item(code) : p.item(detail::fold_case(code));
    return it != nullptr && it->state == detail::Tri::kIn ? &it->info : nullptr;
  };
  if (!system.empty()) {
    const detail::SystemPart* p = set_->part(system);
    return p != nullptr ? in_part(*p) : nullptr;
  }
  for (const detail::SystemPart& p : set_->parts) {
    if (const Concept* c = in_part(p)) return c;
  }
  return nullptr;
}

Reason Expansion::open_reason(std::string_view system, std::string_view code) const {
  system = bare(system);
  if (!system.empty()) {
    Reason why = Reason::kNone;
    return set_->state(system, code, &why) == detail::Tri::kMaybe ? why : Reason::kNone;
  }
  for (const detail::SystemPart& p : set_->parts) {
    Reason why = Reason::kNone;
    if (p.state(code, &why) == detail::Tri::kMaybe) return why;
  }
  return set_->other == detail::Tri::kMaybe ? set_->other_reason : Reason::kNone;
}

// ---- Service ---------------------------------------------------------------

Service::Service(std::shared_ptr<const packages::Registry> registry)
    : Service(std::move(registry), Options{}) {}
Service::Service(std::shared_ptr<const packages::Registry> registry, Options options)
    : engine_(std::make_unique<detail::Engine>(std::move(registry), options)) {}
Service::~Service() = default;
Service::Service(Service&&) noexcept = default;
Service& Service::operator=(Service&&) noexcept = default;

Result<std::shared_ptr<const Expansion>> Service::expand(std::string_view value_set) const {
  return engine_->expand(value_set);
}

CodeCheck Service::validate_code(std::string_view value_set, std::string_view system,
                                 std::string_view code,
                                 std::optional<std::string_view> display) const {
  return engine_->validate(value_set, system, code, display);
}

LookupResult Service::lookup(std::string_view system, std::string_view code) const {
  return engine_->lookup(system, code);
}

CodeFound Service::find_code(std::string_view system, std::string_view code) const {
  return engine_->find_code(system, code);
}

const packages::Registry& Service::registry() const noexcept { return engine_->registry(); }

std::size_t Service::cache_size_ForTest() const { return engine_->cache_size(); }

}  // namespace gw::terminology
