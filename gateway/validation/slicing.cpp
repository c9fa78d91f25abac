// Slicing: assigning the items of a sliced element to its slices, then
// checking slice cardinality, the slicing rules (open, closed, openAtEnd)
// and order, and validating each item against its slice.
//
// An item belongs to the first slice all of whose discriminators match:
//   value / pattern  the value at the discriminator path equals the slice's
//                    fixed[x] (or matches its pattern[x]) at that path
//   exists           the path is present iff the slice requires it (min>0),
//                    absent iff the slice forbids it (max=0)
//   type             the value's type is one the slice allows at that path
//   profile          the value conforms to a profile the slice names there
//                    (a full, memoized validation of that value)
// Discriminator paths are the restricted FHIRPath the specification allows
// for them: element names, $this, resolve(), extension('url') and ofType(T).
// A slicing with no discriminator assigns by validating against each slice.
#include "gateway/validation/detail/walker.hpp"

#include <deque>

namespace gw::validation::detail {

// A step of a discriminator path. Outside the anonymous namespace, as is
// PathTarget: Walker::DiscriminatorPlan holds both.
struct PathStep {
  enum class Kind : std::uint8_t { kThis, kName, kResolve, kExtension, kOfType };
  Kind kind = Kind::kName;
  std::string_view arg;  ///< views the plan's Discriminator::path
};

// Where a discriminator path leads in a slice's plan.
struct PathTarget {
  const ElementPlan* node = nullptr;  ///< the first candidate
  std::vector<const ElementPlan*> candidates;
  bool after_resolve = false;
  std::string_view of_type;

  // For value discriminators: the fixed/pattern value along the path. A
  // slice may put it one level down in a slice of its own (bp: the code is
  // fixed in component:SystolicBP.code.coding:SBPCode.code), so every
  // candidate is looked at.
  const ElementPlan* with_value() const {
    for (const ElementPlan* c : candidates) {
      if (c->fixed || c->pattern) return c;
    }
    return node;
  }
};

namespace {

// Splits a discriminator path at top-level dots.
std::vector<PathStep> parse_path(std::string_view path) {
  std::vector<PathStep> out;
  std::size_t start = 0;
  int depth = 0;
  bool quoted = false;
  auto emit = [&](std::string_view s) {
    PathStep seg;
    if (s == "$this" || s.empty()) {
      seg.kind = PathStep::Kind::kThis;
    } else if (s == "resolve()") {
      seg.kind = PathStep::Kind::kResolve;
    } else if (s.substr(0, 10) == "extension(") {
      seg.kind = PathStep::Kind::kExtension;
      auto q1 = s.find('\'');
      auto q2 = s.rfind('\'');
      if (q1 != std::string_view::npos && q2 > q1) seg.arg = s.substr(q1 + 1, q2 - q1 - 1);
    } else if (s.substr(0, 7) == "ofType(" && s.back() == ')') {
      seg.kind = PathStep::Kind::kOfType;
      seg.arg = s.substr(7, s.size() - 8);
    } else {
      seg.kind = PathStep::Kind::kName;
      seg.arg = s;
    }
    out.push_back(seg);
  };
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '\'') quoted = !quoted;
    if (quoted) continue;
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == '.' && depth == 0) {
      emit(path.substr(start, i - start));
      start = i + 1;
    }
  }
  emit(path.substr(start));
  return out;
}

std::string_view strip_version(std::string_view canonical) {
  auto bar = canonical.find('|');
  return bar == std::string_view::npos ? canonical : canonical.substr(0, bar);
}

const ElementPlan* child_named(const ElementPlan& n, std::string_view name) {
  for (const ElementPlan* c : n.children) {
    if (c->name == name) return c;
  }
  return nullptr;
}

// The url an extension slice stands for: its fixed Extension.url, else the
// profile of its type.
std::string_view extension_slice_url(const ElementPlan& slice) {
  if (const ElementPlan* u = child_named(slice, "url"); u && u->fixed.is_string()) return u->fixed.str();
  for (const TypeRule& t : slice.types) {
    if (!t.profiles.empty()) return strip_version(t.profiles.front());
  }
  return {};
}


PathTarget find_target(const ElementPlan& slice, const std::vector<PathStep>& segs) {
  PathTarget t;
  t.candidates.push_back(&slice);
  std::vector<const ElementPlan*> next;
  for (const PathStep& s : segs) {
    if (t.candidates.empty()) break;
    switch (s.kind) {
      case PathStep::Kind::kThis: break;
      case PathStep::Kind::kResolve: t.after_resolve = true; break;
      case PathStep::Kind::kOfType: t.of_type = s.arg; break;
      case PathStep::Kind::kName:
        next.clear();
        for (const ElementPlan* c : t.candidates) {
          if (const ElementPlan* child = child_named(*c, s.arg)) {
            next.push_back(child);
            for (const ElementPlan* sl : child->slices) next.push_back(sl);
          }
        }
        t.candidates.swap(next);
        break;
      case PathStep::Kind::kExtension: {
        next.clear();
        for (const ElementPlan* c : t.candidates) {
          const ElementPlan* ext = child_named(*c, "extension");
          if (!ext) continue;
          for (const ElementPlan* sl : ext->slices) {
            if (extension_slice_url(*sl) == s.arg) next.push_back(sl);
          }
        }
        t.candidates.swap(next);
        break;
      }
    }
  }
  t.node = t.candidates.empty() ? nullptr : t.candidates.front();
  return t;
}

bool type_allowed(const fhir::TypeDef* type, std::string_view code, const fhir::Model& model) {
  if (!type) return false;
  if (type->name == code) return true;
  const fhir::TypeDef* want = model.type(code);
  return want && type->is_a(want);
}

}  // namespace

struct Walker::DiscriminatorPlan {
  std::vector<PathStep> steps;
  PathTarget target;
};

struct SliceMatcher {
  Walker& w;
  // The values at each discriminator's path for the item being assigned.
  // The path is the slicing's, not a slice's, so every slice tried for the
  // item would evaluate it again (Composition.section against each of its
  // sliced sections). A deque: references handed out stay valid.
  mutable const Item* memo_item = nullptr;
  mutable std::deque<std::pair<const Discriminator*, std::vector<fhir::Node>>> memo;

  const std::vector<fhir::Node>& values_at(const Item& item, const Discriminator& d,
                                           const std::vector<PathStep>& steps) const {
    if (memo_item != &item) {
      memo_item = &item;
      memo.clear();
    }
    for (const auto& [disc, values] : memo) {
      if (disc == &d) return values;
    }
    memo.emplace_back(&d, std::vector<fhir::Node>{});
    eval(item, steps, false, memo.back().second);
    return memo.back().second;
  }

  const Walker::DiscriminatorPlan& plan_for(const ElementPlan& slice, const Discriminator& d) const {
    auto [it, fresh] = w.discriminator_plans_.try_emplace(Walker::DiscriminatorKey{&slice, &d});
    if (fresh) {
      auto p = std::make_shared<Walker::DiscriminatorPlan>();
      p->steps = parse_path(d.path);
      p->target = find_target(slice, p->steps);
      it->second = std::move(p);
    }
    return *it->second;
  }

  fhir::Node node_of(const Item& item) const {
    fhir::Node n;
    n.value = item.value;
    n.extension_part = item.ext;
    n.type = item.type;
    n.name = item.key;
    n.index = item.index;
    if (!n.type && item.value.is_object()) {
      const fhir::TypeDef* t = w.v_.model->type(item.value.find("resourceType").str());
      if (t && t->kind == fhir::TypeKind::kResource) n.type = t;
    }
    return n;
  }

  // Values at `segs` from the item; stops before a resolve() when
  // `stop_at_resolve` (the caller resolves with full location information).
  void eval(const Item& item, const std::vector<PathStep>& segs, bool stop_at_resolve,
            std::vector<fhir::Node>& out) const {
    std::vector<fhir::Node> cur{node_of(item)};
    std::vector<fhir::Node> next;
    for (const PathStep& s : segs) {
      next.clear();
      switch (s.kind) {
        case PathStep::Kind::kThis: continue;
        case PathStep::Kind::kName:
          for (const fhir::Node& n : cur) w.v_.model->children(n, s.arg, next);
          break;
        case PathStep::Kind::kExtension: {
          std::vector<fhir::Node> exts;
          for (const fhir::Node& n : cur) w.v_.model->children(n, "extension", exts);
          for (const fhir::Node& e : exts) {
            if (e.value.find("url").str() == s.arg) next.push_back(e);
          }
          break;
        }
        case PathStep::Kind::kOfType:
          for (const fhir::Node& n : cur) {
            if (n.type && n.type->name == s.arg) next.push_back(n);
          }
          break;
        case PathStep::Kind::kResolve:
          if (stop_at_resolve) {
            out = std::move(cur);
            return;
          }
          for (const fhir::Node& n : cur) {
            if (auto r = w.resolve(n.value.find("reference").str())) next.push_back(*r);
          }
          break;
      }
      cur.swap(next);
    }
    out = std::move(cur);
  }

  // Where a resource value sits, for a conformance check with the right
  // frame: an entry of the current bundle, or a resource with no location.
  Resolved locate(json::Value resource, const fhir::TypeDef* type) const {
    Resolved r;
    r.resource = resource;
    r.type = type;
    if (!w.bundles_.empty()) {
      BundleScope* scope = w.bundles_.back();
      std::int32_t entry = scope->entry_of(resource);
      if (entry >= 0) {
        r.bundle = scope;
        r.entry = entry;
      }
    }
    return r;
  }

  bool conforms_value(const fhir::Node& v, const StructurePlan& plan) const {
    if (!v.type || !v.type->is_a(plan.type)) return false;
    if (plan.is_base) return true;
    if (v.type->kind == fhir::TypeKind::kResource) {
      Resolved r = locate(v.value, v.type);
      if (r.bundle) return w.conforms_resolved(r, plan);
      return w.conforms(v.value, plan);
    }
    Item it;
    it.value = v.value;
    it.ext = v.extension_part;
    it.type = v.type;
    it.type_code = v.type->name;
    it.index = v.index;
    std::vector<Issue> local;
    std::vector<Issue>* saved = w.out_;
    w.out_ = &local;
    w.walk_item(*plan.root, it, Mode::kProfile, ObjContext{});
    w.out_ = saved;
    return !has_errors(local);
  }

  bool discriminator(const ElementPlan& slice, const Item& item, const Discriminator& d) const {
    // The common case, extensions sliced by url, without building nodes.
    if ((d.kind == DiscriminatorKind::kValue || d.kind == DiscriminatorKind::kPattern) && d.path == "url") {
      if (!item.value.is_object()) return false;
      std::string_view want;
      if (const ElementPlan* u = child_named(slice, "url"); u && (u->fixed || u->pattern)) {
        want = u->fixed ? u->fixed.str() : u->pattern.str();
      } else {
        want = extension_slice_url(slice);
      }
      return !want.empty() && item.value.find("url").str() == want;
    }
    const Walker::DiscriminatorPlan& dp = plan_for(slice, d);
    const std::vector<PathStep>& segs = dp.steps;
    const PathTarget& t = dp.target;
    switch (d.kind) {
      case DiscriminatorKind::kValue:
      case DiscriminatorKind::kPattern: {
        if (!t.node) return false;
        const ElementPlan* holder = t.with_value();
        json::Value want = holder->fixed ? holder->fixed : holder->pattern;
        const std::vector<fhir::Node>& values = values_at(item, d, segs);
        if (!want) {
          // A value discriminator may also be bound to a required value set.
          if (t.node->strength == Strength::kRequired && w.v_.options.terminology) {
            for (const fhir::Node& v : values) {
              Item it;
              it.value = v.value;
              it.type = v.type;
              std::vector<Issue> local;
              std::vector<Issue>* saved = w.out_;
              w.out_ = &local;
              w.check_binding(*t.node, it);
              w.out_ = saved;
              if (!has_errors(local)) return true;
            }
          }
          return false;
        }
        bool fixed = static_cast<bool>(holder->fixed);
        for (const fhir::Node& v : values) {
          if (fixed ? equals_fixed(v.value, want) : matches_pattern(v.value, want)) return true;
        }
        return false;
      }
      case DiscriminatorKind::kExists: {
        if (!t.node) return false;
        const std::vector<fhir::Node>& values = values_at(item, d, segs);
        if (t.node->min > 0) return !values.empty();
        if (t.node->max == 0) return values.empty();
        return true;
      }
      case DiscriminatorKind::kType: {
        if (!t.node) return false;
        const std::vector<fhir::Node>& values = values_at(item, d, segs);
        if (values.empty()) return false;
        for (const fhir::Node& v : values) {
          bool ok = false;
          for (const TypeRule& r : t.node->types) {
            if (t.after_resolve) {
              for (const fhir::TypeDef* tt : r.target_types) ok = ok || (v.type && v.type->is_a(tt));
              if (r.target_types.empty()) ok = true;
            } else {
              std::string_view code = r.code;
              if (is_resource_code(code) && v.type) {
                ok = ok || v.type->kind == fhir::TypeKind::kResource;
              } else {
                ok = ok || type_allowed(v.type, code, *w.v_.model);
              }
            }
          }
          if (!ok) return false;
        }
        return true;
      }
      case DiscriminatorKind::kProfile: {
        if (!t.node) return false;
        std::vector<const StructurePlan*> plans;
        for (const TypeRule& r : t.node->types) {
          for (const std::string& p : t.after_resolve ? r.target_profiles : r.profiles) {
            if (const StructurePlan* plan = w.plan_of(p)) plans.push_back(plan);
          }
        }
        if (plans.empty()) return false;
        if (t.after_resolve) {
          std::vector<fhir::Node> refs;
          eval(item, segs, true, refs);
          if (refs.empty()) return false;
          for (const fhir::Node& ref : refs) {
            Resolved r = w.resolve_reference(ref.value.find("reference").str());
            if (!r) return false;
            bool ok = false;
            for (const StructurePlan* plan : plans) ok = ok || w.conforms_resolved(r, *plan);
            if (!ok) return false;
          }
          return true;
        }
        const std::vector<fhir::Node>& values = values_at(item, d, segs);
        if (values.empty()) return false;
        for (const fhir::Node& v : values) {
          bool ok = false;
          for (const StructurePlan* plan : plans) ok = ok || conforms_value(v, *plan);
          if (!ok) return false;
        }
        return true;
      }
    }
    return false;
  }

  bool matches(const ElementPlan& slice, const Item& item, const Slicing& s,
               const ObjContext& ctx) const {
    if (s.discriminators.empty()) {
      std::vector<Issue> local;
      std::vector<Issue>* saved = w.out_;
      w.out_ = &local;
      w.walk_item(slice, item, Mode::kProfile, ctx);
      w.out_ = saved;
      return !has_errors(local);
    }
    for (const Discriminator& d : s.discriminators) {
      if (!discriminator(slice, item, d)) return false;
    }
    return true;
  }
};

void Walker::walk_sliced(const ElementPlan& child, std::span<const Item> items, Mode mode,
                         const ObjContext& ctx, json::Value parent_obj) {
  const Slicing& s = *child.slicing;
  const std::vector<ElementPlan*>& slices = child.slices;
  SliceMatcher m{*this};
  std::vector<std::int32_t> assign(items.size(), -1);
  for (std::size_t i = 0; i < items.size(); ++i) {
    for (std::size_t k = 0; k < slices.size(); ++k) {
      if (m.matches(*slices[k], items[i], s, ctx)) {
        assign[i] = static_cast<std::int32_t>(k);
        break;
      }
    }
  }
  std::vector<std::uint32_t> counts(slices.size(), 0);
  for (std::int32_t a : assign) {
    if (a >= 0) ++counts[static_cast<std::size_t>(a)];
  }
  for (std::size_t k = 0; k < slices.size(); ++k) {
    const ElementPlan& sl = *slices[k];
    if (counts[k] < sl.min) {
      error("required", parent_obj, "slice '" + sl.slice_name + "' of element '" + child.name +
                                        "' requires at least " + std::to_string(sl.min) +
                                        " item(s), found " + std::to_string(counts[k]) + " (" +
                                        child.structure->url + ")");
    }
    if (sl.max != kUnbounded && counts[k] > sl.max) {
      // Reported at the first item beyond the maximum.
      std::uint32_t seen = 0;
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (assign[i] != static_cast<std::int32_t>(k) || ++seen <= sl.max) continue;
        std::size_t len = push_key(items[i].key);
        if (items[i].index >= 0) push_index(items[i].index);
        error("structure", items[i].anchor(),
              sl.max == 0 ? "slice '" + sl.slice_name + "' of element '" + child.name + "' is not allowed (" +
                                child.structure->url + ")"
                          : "slice '" + sl.slice_name + "' of element '" + child.name + "' allows at most " +
                                std::to_string(sl.max) + " item(s), found " + std::to_string(counts[k]) + " (" +
                                child.structure->url + ")");
        pop(len);
        break;
      }
    }
  }
  bool seen_unmatched = false;
  std::int32_t last = -1;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    std::size_t len = push_key(it.key);
    if (it.index >= 0) push_index(it.index);
    if (assign[i] < 0) {
      if (s.rules == SlicingRules::kClosed) {
        error("structure", it.anchor(), "item does not match any slice of the closed slicing of '" +
                                            child.name + "' (" + child.structure->url + ")");
      }
      seen_unmatched = true;
    } else {
      if (s.rules == SlicingRules::kOpenAtEnd && seen_unmatched) {
        error("structure", it.anchor(), "items matching no slice must come last (openAtEnd slicing of '" +
                                            child.name + "')");
      }
      if (s.ordered && assign[i] < last) {
        error("structure", it.anchor(), "slices of '" + child.name + "' are out of the defined order");
      }
      last = std::max(last, assign[i]);
    }
    pop(len);
  }

  for (std::size_t k = 0; k < slices.size(); ++k) {
    const ElementPlan& sl = *slices[k];
    if (!sl.slicing || sl.slices.empty()) continue;
    // Reslicing: the items of this slice are sliced again by its own slices.
    std::vector<Item> sub;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (assign[i] == static_cast<std::int32_t>(k)) sub.push_back(items[i]);
    }
    if (!sub.empty()) walk_sliced(sl, sub, mode, ctx, parent_obj);
  }
  std::size_t elem_len = elem_path_.size();
  elem_path_.push('.');
  elem_path_.append(child.name);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const ElementPlan* node = assign[i] >= 0 ? slices[static_cast<std::size_t>(assign[i])] : &child;
    if (node != &child && node->slicing && !node->slices.empty()) continue;
    const Item& it = items[i];
    std::size_t len = push_key(it.key);
    if (it.index >= 0) push_index(it.index);
    walk_item(*node, it, mode, ctx);
    pop(len);
  }
  elem_path_.truncate(elem_len);
}

}  // namespace gw::validation::detail
