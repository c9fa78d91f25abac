// Snapshot generation for profiles that ship only a differential.
//
// The base definition's snapshot becomes a tree (by element id, as in the
// plan compiler). Each differential element is then located in that tree by
// walking its id ("Observation.component:systolic.code.coding"):
//   - a segment naming a child of an element whose type the tree has not
//     expanded yet (Observation.code is a CodeableConcept, listed without
//     children in the base snapshot) expands it first, cloning the
//     datatype's own snapshot under it with paths and ids rewritten;
//   - a segment with a slice name finds that slice of the element, or
//     creates it as a deep copy of the slicing entry (children included,
//     slicing and existing slices not), with ids rewritten to "name:slice";
//   - "valueQuantity" style names of choice elements find value[x].
// The differential's properties then replace the base's, except
// `constraint`, which accumulates. The tree is written back in snapshot
// order (element, its children, then its slices with their children) and
// parsed again through the hardened JSON parser, so the plan compiler sees
// an ordinary StructureDefinition.
//
// Limits: nested expansions are bounded (kMaxBaseDepth definitions deep);
// a differential element that cannot be placed is a load problem and is
// skipped, never a crash.
#include "gateway/validation/detail/validator_impl.hpp"

#include <functional>

namespace gw::validation::detail {
namespace {

constexpr int kMaxBaseDepth = 16;

struct SNode {
  std::string id;
  std::string path;
  std::string slice_name;
  std::vector<std::pair<std::string, json::Value>> props;  // in base order, then new ones
  std::vector<json::Value> constraints;                    // accumulated constraint entries
  std::vector<std::unique_ptr<SNode>> children;
  std::vector<std::unique_ptr<SNode>> slices;

  json::Value prop(std::string_view key) const {
    for (const auto& [k, v] : props) {
      if (k == key) return v;
    }
    return {};
  }
  void set(std::string_view key, json::Value v) {
    for (auto& [k, old] : props) {
      if (k == key) {
        old = v;
        return;
      }
    }
    props.emplace_back(std::string(key), v);
  }
  void erase(std::string_view key) {
    for (auto it = props.begin(); it != props.end(); ++it) {
      if (it->first == key) {
        props.erase(it);
        return;
      }
    }
  }
  std::string_view name() const {
    auto dot = path.rfind('.');
    return dot == std::string::npos ? std::string_view(path) : std::string_view(path).substr(dot + 1);
  }
};

std::string_view strip_version(std::string_view canonical) {
  auto bar = canonical.find('|');
  return bar == std::string_view::npos ? canonical : canonical.substr(0, bar);
}

std::unique_ptr<SNode> node_from(json::Value el) {
  auto n = std::make_unique<SNode>();
  n->path = std::string(el.find("path").str());
  n->id = std::string(el.find("id").str());
  n->slice_name = std::string(el.find("sliceName").str());
  if (n->id.empty()) n->id = n->slice_name.empty() ? n->path : n->path + ":" + n->slice_name;
  for (std::size_t i = 0; i < el.size(); ++i) {
    std::string_view k = el.key(i);
    if (k == "id" || k == "path" || k == "sliceName") continue;
    if (k == "constraint") {
      for (json::Value c : el[i].items()) n->constraints.push_back(c);
      continue;
    }
    n->props.emplace_back(std::string(k), el[i]);
  }
  return n;
}

// Deep copy with an id prefix (and optionally a path prefix) rewritten.
std::unique_ptr<SNode> clone(const SNode& src, std::string_view old_id, std::string_view new_id,
                             std::string_view old_path, std::string_view new_path, bool with_slices) {
  auto n = std::make_unique<SNode>();
  n->id = std::string(new_id) + src.id.substr(std::min(old_id.size(), src.id.size()));
  n->path = std::string(new_path) + src.path.substr(std::min(old_path.size(), src.path.size()));
  n->slice_name = src.slice_name;
  n->props = src.props;
  n->constraints = src.constraints;
  for (const auto& c : src.children) {
    n->children.push_back(clone(*c, old_id, new_id, old_path, new_path, true));
  }
  if (with_slices) {
    for (const auto& s : src.slices) n->slices.push_back(clone(*s, old_id, new_id, old_path, new_path, true));
  }
  return n;
}

// Builds a tree from snapshot elements; the root is the first element.
std::unique_ptr<SNode> tree_from(json::Value elements) {
  std::unique_ptr<SNode> root;
  std::unordered_map<std::string, SNode*> by_id;
  for (json::Value el : elements.items()) {
    auto n = node_from(el);
    SNode* raw = n.get();
    if (!root) {
      root = std::move(n);
      by_id.emplace(raw->id, raw);
      continue;
    }
    std::string_view id = raw->id;
    auto dot = id.rfind('.');
    if (dot == std::string_view::npos) continue;
    std::string_view seg = id.substr(dot + 1);
    auto colon = seg.find(':');
    SNode* parent = nullptr;
    bool slice = colon != std::string_view::npos;
    if (slice) {
      std::string entry(id.substr(0, dot + 1 + colon));
      std::string_view sl = seg.substr(colon + 1);
      if (auto slash = sl.rfind('/'); slash != std::string_view::npos) entry += ":" + std::string(sl.substr(0, slash));
      auto it = by_id.find(entry);
      if (it != by_id.end()) parent = it->second;
    } else {
      auto it = by_id.find(std::string(id.substr(0, dot)));
      if (it != by_id.end()) parent = it->second;
    }
    if (!parent) continue;
    by_id.emplace(raw->id, raw);
    (slice ? parent->slices : parent->children).push_back(std::move(n));
  }
  return root;
}

class Generator {
 public:
  Generator(const Validator::Impl& v, std::string url) : v_(v), url_(std::move(url)) {}

  // The snapshot elements of a definition (generated when it has none).
  Result<json::Value> snapshot_of(std::string_view canonical, int depth) {
    if (depth > kMaxBaseDepth) return fail(ErrorCode::kLimit, "base definitions nested too deeply", url_);
    const packages::Entry* e = v_.registry->find("StructureDefinition", canonical);
    if (!e) e = v_.registry->find("StructureDefinition", strip_version(canonical));
    if (!e) return fail(ErrorCode::kNotFound, "base definition not found: " + std::string(canonical), url_);
    GW_TRY(json::Value sd, e->json());
    json::Value elements = sd.find("snapshot").find("element");
    if (elements.is_array() && elements.size() > 0) return elements;
    GW_TRY(auto doc, generate(sd, depth + 1));
    docs_.push_back(doc);
    return doc->root().find("snapshot").find("element");
  }

  Result<std::shared_ptr<const json::Document>> generate(json::Value sd, int depth) {
    std::string_view base_url = sd.find("baseDefinition").str();
    if (base_url.empty()) return fail(ErrorCode::kParse, "differential without baseDefinition", url_);
    GW_TRY(json::Value base_elements, snapshot_of(base_url, depth));
    std::unique_ptr<SNode> root = tree_from(base_elements);
    if (!root) return fail(ErrorCode::kParse, "base snapshot is empty", url_);
    std::string_view type = sd.find("type").str();
    if (!type.empty() && root->path != type) {
      // A profile of a profile keeps the type's paths; nothing to rename.
    }
    for (json::Value d : sd.find("differential").find("element").items()) {
      std::string id(d.find("id").str());
      std::string path(d.find("path").str());
      std::string_view slice = d.find("sliceName").str();
      if (id.empty()) id = slice.empty() ? path : path + ":" + std::string(slice);
      SNode* target = locate(*root, id, depth);
      if (!target) {
        v_.problem(url_, id, "differential element cannot be placed on the base snapshot; skipped");
        continue;
      }
      merge(*target, d);
    }
    json::Writer w;
    w.begin_object();
    for (std::size_t i = 0; i < sd.size(); ++i) {
      std::string_view k = sd.key(i);
      if (k == "snapshot") continue;
      w.key(k);
      w.value(sd[i]);
    }
    w.key("snapshot");
    w.begin_object();
    w.key("element");
    w.begin_array();
    write(w, *root);
    w.end_array();
    w.end_object();
    w.end_object();
    GW_TRY(json::Document doc, json::Document::parse(std::move(w).take()));
    return std::make_shared<const json::Document>(std::move(doc));
  }

 private:
  // Gives `n` children from its type when the snapshot did not list them.
  bool expand(SNode& n, int depth) {
    if (!n.children.empty()) return true;
    json::Value types = n.prop("type");
    std::string code;
    std::string profile;
    if (types.is_array() && types.size() >= 1) {
      code = std::string(types[0].find("code").str());
      json::Value profiles = types[0].find("profile");
      if (profiles.is_array() && profiles.size() == 1) profile = std::string(profiles[0].str());
    }
    if (code.empty() || code == "BackboneElement" || code == "Element") return false;
    std::string source = profile.empty() ? "http://hl7.org/fhir/StructureDefinition/" + code : profile;
    auto elements = snapshot_of(source, depth + 1);
    if (!elements) return false;
    std::unique_ptr<SNode> type_root = tree_from(*elements);
    if (!type_root) return false;
    for (const auto& c : type_root->children) {
      n.children.push_back(clone(*c, type_root->id, n.id, type_root->path, n.path, true));
    }
    return !n.children.empty();
  }

  SNode* find_child(SNode& n, std::string_view name, int depth) {
    if (n.children.empty() && !expand(n, depth)) return nullptr;
    for (auto& c : n.children) {
      if (c->name() == name) return c.get();
    }
    // "valueQuantity" names the choice element value[x].
    for (auto& c : n.children) {
      std::string_view cn = c->name();
      if (cn.size() > 3 && cn.substr(cn.size() - 3) == "[x]") {
        std::string_view stem = cn.substr(0, cn.size() - 3);
        if (name.size() > stem.size() && name.substr(0, stem.size()) == stem &&
            name[stem.size()] >= 'A' && name[stem.size()] <= 'Z') {
          return c.get();
        }
      }
    }
    return nullptr;
  }

  SNode* find_slice(SNode& entry, std::string_view slice) {
    // Reslices: "a/b" is slice b of slice a.
    SNode* owner = &entry;
    std::string_view rest = slice;
    std::string prefix;
    while (true) {
      auto slash = rest.find('/');
      std::string_view part = rest.substr(0, slash);
      std::string full = prefix.empty() ? std::string(part) : prefix + "/" + std::string(part);
      SNode* found = nullptr;
      for (auto& s : owner->slices) {
        if (s->slice_name == full) found = s.get();
      }
      if (!found) {
        // New slice: a copy of the element it slices (the entry, or for a
        // reslice the slice it refines) without its slicing and slices.
        std::string new_id = entry.id + ":" + full;
        auto copy = clone(*owner, owner->id, new_id, owner->path, owner->path, false);
        copy->slice_name = full;
        copy->erase("slicing");
        found = copy.get();
        owner->slices.push_back(std::move(copy));
      }
      if (slash == std::string_view::npos) return found;
      owner = found;
      prefix = full;
      rest = rest.substr(slash + 1);
    }
  }

  SNode* locate(SNode& root, std::string_view id, int depth) {
    // The first segment names the root type.
    auto dot = id.find('.');
    if (dot == std::string_view::npos) return &root;
    SNode* cur = &root;
    std::string_view rest = id.substr(dot + 1);
    while (cur && !rest.empty()) {
      auto next = rest.find('.');
      std::string_view seg = rest.substr(0, next);
      rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
      auto colon = seg.find(':');
      std::string_view name = seg.substr(0, colon);
      SNode* child = find_child(*cur, name, depth);
      if (!child) return nullptr;
      if (colon != std::string_view::npos) child = find_slice(*child, seg.substr(colon + 1));
      cur = child;
    }
    return cur;
  }

  static void merge(SNode& n, json::Value d) {
    for (std::size_t i = 0; i < d.size(); ++i) {
      std::string_view k = d.key(i);
      if (k == "id" || k == "path") continue;
      if (k == "sliceName") {
        n.slice_name = std::string(d[i].str());
        continue;
      }
      if (k == "constraint") {
        for (json::Value c : d[i].items()) n.constraints.push_back(c);
        continue;
      }
      // A new fixed/pattern replaces one of another type.
      if (k.substr(0, 5) == "fixed" || k.substr(0, 7) == "pattern") {
        std::string_view stem = k.substr(0, 5) == "fixed" ? "fixed" : "pattern";
        std::vector<std::string> drop;
        for (const auto& [pk, pv] : n.props) {
          if (pk.size() > stem.size() && pk.compare(0, stem.size(), stem) == 0 && pk != k) drop.push_back(pk);
        }
        for (const std::string& x : drop) n.erase(x);
      }
      n.set(k, d[i]);
    }
  }

  static void write(json::Writer& w, const SNode& n) {
    w.begin_object();
    w.key("id");
    w.string(n.id);
    w.key("path");
    w.string(n.path);
    if (!n.slice_name.empty()) {
      w.key("sliceName");
      w.string(n.slice_name);
    }
    for (const auto& [k, v] : n.props) {
      w.key(k);
      w.value(v);
    }
    if (!n.constraints.empty()) {
      w.key("constraint");
      w.begin_array();
      for (json::Value c : n.constraints) w.value(c);
      w.end_array();
    }
    w.end_object();
    for (const auto& c : n.children) write(w, *c);
    for (const auto& s : n.slices) write(w, *s);
  }

  const Validator::Impl& v_;
  std::string url_;
  std::vector<std::shared_ptr<const json::Document>> docs_;  // generated bases, alive while writing
};

}  // namespace

Result<std::shared_ptr<const json::Document>> generate_snapshot(const Validator::Impl& v, json::Value sd) {
  Generator g(v, std::string(sd.find("url").str()));
  return g.generate(sd, 0);
}

}  // namespace gw::validation::detail
