// FHIR's additions to FHIRPath (FHIR R4 §2.1.9.1): extension(), hasValue(),
// getValue(), resolve(), memberOf(), conformsTo(), htmlChecks().
//
// resolve() works without a server: `#id` finds a contained resource of the
// container, `#` the container itself; inside a Bundle, absolute references
// match an entry's fullUrl and relative ones (`Patient/123`) are resolved
// against the base of the referring entry's fullUrl, falling back to type
// and id (FHIR R4 Bundle §"Resolving references in Bundles"). Anything else
// goes to the Environment. Finding the container and the entry needs the
// node's ancestors, which a Node does not carry: they are found by a
// bounded, iterative search from the roots the context names.
#include "gateway/fhirpath/detail/program.hpp"
#include "gateway/fhirpath/detail/value.hpp"
#include "gateway/fhirpath/detail/xhtml.hpp"

namespace gw::fhirpath::detail {

namespace {

Collection boolean(bool b) { return Collection{Item::boolean(b)}; }

Result<Collection> fn_extension(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(std::optional<std::string> url, ev.string_arg(call, 0, scope));
  if (!url) return Collection{};
  Collection out;
  std::vector<fhir::Node> exts;
  for (const Item& i : input) {
    if (!i.is_node()) continue;
    if (!ev.model()) return ev.error(call, "navigating FHIR elements needs a model");
    exts.clear();
    ev.model()->children(i.node(), "extension", exts);
    for (const fhir::Node& e : exts) {
      if (e.value.find("url").str() == *url) out.push_back(Item::node(e));
    }
  }
  return out;
}

Result<Collection> fn_has_value(Evaluator&, const Op&, const Collection& input, const Scope&) {
  return boolean(input.size() == 1 && input[0].is_node() && input[0].node().is_primitive() &&
                 input[0].node().has_primitive_value());
}

Result<Collection> fn_get_value(Evaluator&, const Op&, const Collection& input, const Scope&) {
  if (input.size() != 1 || !input[0].is_node() || !input[0].node().is_primitive()) return Collection{};
  std::optional<Item> v = system_value(input[0]);
  if (!v) return Collection{};
  return Collection{*v};
}

// ---- resolve() ------------------------------------------------------------------

// Containers from `root` down to (not including) `target`, found by an
// iterative depth-first search. False if `target` is not inside `root`.
bool path_to(json::Value root, json::Value target, std::vector<json::Value>& chain) {
  if (!root || !target) return false;
  if (root == target) return true;
  struct Frame {
    json::Value v;
    std::size_t next;
  };
  std::vector<Frame> stack{{root, 0}};
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next >= f.v.size()) {
      stack.pop_back();
      continue;
    }
    json::Value child = f.v[f.next++];
    if (child == target) {
      chain.clear();
      for (const Frame& s : stack) chain.push_back(s.v);
      return true;
    }
    if (child.is_object() || child.is_array()) stack.push_back({child, 0});
  }
  return false;
}

bool is_resource_object(json::Value v) { return v.is_object() && v.find("resourceType").is_string(); }

bool is_absolute(std::string_view ref) {
  return ref.find("://") != std::string_view::npos || ref.rfind("urn:", 0) == 0;
}

// "…/Patient/123" -> ("…/", "Patient", "123"); also drops "/_history/n".
struct RestRef {
  std::string_view base;
  std::string_view type;
  std::string_view id;
};
std::optional<RestRef> split_rest(std::string_view url) {
  if (auto h = url.find("/_history/"); h != std::string_view::npos) url = url.substr(0, h);
  std::size_t slash = url.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  std::size_t type_start = url.rfind('/', slash - 1);
  type_start = type_start == std::string_view::npos ? 0 : type_start + 1;
  std::string_view type = url.substr(type_start, slash - type_start);
  std::string_view id = url.substr(slash + 1);
  if (type.empty() || id.empty() || type[0] < 'A' || type[0] > 'Z') return std::nullopt;
  return RestRef{url.substr(0, type_start), type, id};
}

json::Value resolve_in_bundle(json::Value bundle, std::string_view entry_full_url, std::string_view ref) {
  json::Value entries = bundle.find("entry");
  if (is_absolute(ref)) {
    for (json::Value e : entries.items()) {
      if (e.find("fullUrl").str() == ref) return e.find("resource");
    }
    return {};
  }
  std::optional<RestRef> target = split_rest(ref);
  if (!target) return {};
  if (std::optional<RestRef> from = split_rest(entry_full_url); from && is_absolute(entry_full_url)) {
    std::string wanted = std::string(from->base) + std::string(target->type) + "/" + std::string(target->id);
    for (json::Value e : entries.items()) {
      if (e.find("fullUrl").str() == wanted) return e.find("resource");
    }
  }
  for (json::Value e : entries.items()) {
    json::Value r = e.find("resource");
    if (r.find("resourceType").str() == target->type && r.find("id").str() == target->id) return r;
  }
  return {};
}

std::optional<std::string> reference_text(const Item& item) {
  if (item.is_node() && !item.node().is_primitive()) {
    if (!derives_from(item.node().type, "Reference")) return std::nullopt;
    json::Value r = item.node().value.find("reference");
    if (!r.is_string()) return std::nullopt;
    return std::string(r.str());
  }
  return string_value(item);
}

Result<Collection> fn_resolve(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  const EvaluationContext& ctx = ev.context();
  std::vector<json::Value> roots;
  for (const auto* n : {&ctx.bundle, &ctx.root_resource, &ctx.resource}) {
    if (*n) roots.push_back((*n)->value);
  }
  for (const Item& i : ev.root_input()) {
    if (i.is_node()) roots.push_back(i.node().value);
  }
  Collection out;
  std::vector<json::Value> chain;
  for (const Item& item : input) {
    std::optional<std::string> ref = reference_text(item);
    if (!ref || ref->empty()) continue;
    json::Value found;
    bool located = false;
    if (item.is_node()) {
      json::Value target = item.node().value ? item.node().value : item.node().extension_part;
      for (json::Value root : roots) {
        chain.clear();
        if (path_to(root, target, chain)) {
          chain.push_back(target);
          located = true;
          break;
        }
      }
    }
    // The nearest Bundle above the reference, and the entry it sits in.
    json::Value bundle, entry;
    std::size_t after_bundle = 0;
    if (located) {
      for (std::size_t k = 0; k < chain.size(); ++k) {
        if (is_resource_object(chain[k]) && chain[k].find("resourceType").str() == "Bundle") {
          bundle = chain[k];
          entry = k + 2 < chain.size() ? chain[k + 2] : json::Value();
          after_bundle = k + 1;
        }
      }
    }
    if ((*ref)[0] == '#') {
      json::Value container;
      for (std::size_t k = after_bundle; located && k < chain.size(); ++k) {
        if (is_resource_object(chain[k])) {
          container = chain[k];
          break;
        }
      }
      if (!container && ctx.root_resource) container = ctx.root_resource->value;
      if (!container && ctx.resource) container = ctx.resource->value;
      if (container) {
        if (ref->size() == 1) {
          found = container;
        } else {
          for (json::Value c : container.find("contained").items()) {
            if (c.find("id").str() == std::string_view(*ref).substr(1)) found = c;
          }
        }
      }
    } else if (bundle) {
      found = resolve_in_bundle(bundle, entry.find("fullUrl").str(), *ref);
    } else if (ctx.bundle) {
      found = resolve_in_bundle(ctx.bundle->value, "", *ref);
    }
    if (found) {
      if (!ev.model()) return ev.error(call, "resolve() needs a model");
      auto node = ev.model()->resource(found);
      if (node) out.push_back(Item::node(*node));
      continue;
    }
    if ((*ref)[0] != '#' && ctx.environment) {
      if (std::optional<fhir::Node> n = ctx.environment->resolve(*ref)) out.push_back(Item::node(*n));
    }
  }
  return out;
}

// ---- memberOf(), conformsTo(), htmlChecks() ----------------------------------------

void codes_of(const Item& item, std::vector<Code>& out) {
  if (!item.is_node()) {
    if (item.kind() == ItemKind::kString) out.push_back({{}, item.string()});
    return;
  }
  const fhir::Node& n = item.node();
  if (n.is_primitive()) {
    if (n.has_primitive_value() && n.value.is_string()) out.push_back({{}, n.value.str()});
    return;
  }
  auto coding = [&](json::Value c) {
    json::Value code = c.find("code");
    if (code.is_string()) out.push_back({c.find("system").str(), code.str()});
  };
  if (derives_from(n.type, "Coding")) {
    coding(n.value);
  } else if (derives_from(n.type, "CodeableConcept")) {
    for (json::Value c : n.value.find("coding").items()) coding(c);
  }
}

Result<Collection> fn_member_of(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(const Item* x, single_item(ev, call, input, "memberOf()"));
  GW_TRY(std::optional<std::string> url, ev.string_arg(call, 0, scope));
  if (!x || !url || !ev.context().environment) return Collection{};
  std::vector<Code> codes;
  codes_of(*x, codes);
  if (codes.empty()) return Collection{};
  auto r = ev.context().environment->member_of(codes, *url);
  if (!r) return ev.error(call, "memberOf(): " + r.error().message());
  if (!*r) return Collection{};
  return boolean(**r);
}

Result<Collection> fn_conforms_to(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(const Item* x, single_item(ev, call, input, "conformsTo()"));
  GW_TRY(std::optional<std::string> url, ev.string_arg(call, 0, scope));
  if (!x || !url) return Collection{};
  if (!x->is_node()) return boolean(false);
  if (const Environment* env = ev.context().environment) {
    auto r = env->conforms_to(x->node(), *url);
    if (r) return boolean(*r);
    if (r.error().code() != ErrorCode::kUnsupported) {
      return ev.error(call, "conformsTo(): " + r.error().message());
    }
  }
  // Without profile validation: the core definition of the node's own type
  // or of an ancestor.
  const fhir::TypeDef* t = ev.model() ? ev.model()->type(*url) : nullptr;
  if (!t || url->find('/') == std::string::npos) {
    return ev.error(call, "conformsTo(): unknown profile");
  }
  return boolean(x->node().type && x->node().type->is_a(t));
}

Result<Collection> fn_html_checks(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(const Item* x, single_item(ev, call, input, "htmlChecks()"));
  if (!x) return Collection{};
  std::optional<std::string> s = string_value(*x);
  if (!s) return boolean(false);
  return boolean(check_narrative_xhtml(*s).empty());
}

constexpr FunctionDef kFunctions[] = {
    {"extension", 1, 1, fn_extension, ArgMode::kValues, ResultKind::kExtension},
    {"hasValue", 0, 0, fn_has_value, ArgMode::kValues, ResultKind::kBoolean},
    {"getValue", 0, 0, fn_get_value, ArgMode::kValues, ResultKind::kSystemOfInput},
    {"resolve", 0, 0, fn_resolve, ArgMode::kValues, ResultKind::kUnknown},
    {"memberOf", 1, 1, fn_member_of, ArgMode::kValues, ResultKind::kBoolean},
    {"conformsTo", 1, 1, fn_conforms_to, ArgMode::kValues, ResultKind::kBoolean},
    {"htmlChecks", 0, 0, fn_html_checks, ArgMode::kValues, ResultKind::kBoolean},
};

}  // namespace

std::span<const FunctionDef> fhir_functions() { return kFunctions; }

}  // namespace gw::fhirpath::detail
