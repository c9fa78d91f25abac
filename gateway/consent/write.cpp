// Writing the redacted document. The parsed input is immutable, so the
// output is a new document: the writer walks the input in JSON order and
// copies what the plan keeps, writes coarsened addresses and regenerated
// narratives in place of the originals, and adds the DS4P labels to every
// resource's meta.security. Members the model does not know are never
// copied (the plan recorded them as removed).
#include "gateway/consent/detail/engine.hpp"

#include <algorithm>

namespace gw::consent::detail {

namespace {

std::string_view confidentiality_display(std::string_view code) {
  if (code == "U") return "unrestricted";
  if (code == "L") return "low";
  if (code == "M") return "moderate";
  if (code == "N") return "normal";
  if (code == "R") return "restricted";
  return "very restricted";
}

constexpr std::string_view kConfidentialityCodes[] = {"U", "L", "M", "N", "R", "V"};

class OutputWriter {
 public:
  explicit OutputWriter(RedactState& s) : s_(s) {}

  Result<std::string> run() {
    compute_labels();
    write_resource(0, 0);
    if (s_.limit_hit)
      return fail(ErrorCode::kLimit, "input nests deeper than the policy's depth limit");
    return std::move(w_).take();
  }

 private:
  void compute_labels() {
    const std::size_t n = s_.resources.size();
    rank_.assign(n, confidentiality_rank(s_.policy.base_confidentiality));
    for (std::size_t r = 0; r < n; ++r) {
      const ResourceInfo& info = s_.resources[r];
      for (json::Value label : info.node.value.find("meta").find("security").items()) {
        if (label.find("system").str() == kConfidentialitySystem) {
          rank_[r] = std::max(rank_[r], confidentiality_rank(label.find("code").str()));
        }
      }
      for (std::size_t c = 0; c < info.released.size(); ++c) {
        if (info.released[c]) {
          rank_[r] =
              std::max(rank_[r], confidentiality_rank(s_.policy.categories[c].confidentiality));
        }
      }
    }
    // The root (a Bundle) carries the highest label of what it holds, and is
    // "redacted" when anything inside was.
    any_modified_ = false;
    for (std::size_t r = 0; r < n; ++r) {
      const ResourceInfo& info = s_.resources[r];
      if (info.removed) {
        any_modified_ = true;
        continue;
      }
      any_modified_ = any_modified_ || info.modified;
      rank_[0] = std::max(rank_[0], rank_[r]);
    }
  }

  // DS4P labels: the input's confidentiality code is replaced by the
  // highest of (input, policy base, released categories), never lowered;
  // REDACTED is added once when something in the resource was taken out.
  // Other security labels of the input are kept.
  void write_meta(int r) {
    const ResourceInfo& info = s_.resources[static_cast<std::size_t>(r)];
    json::Value meta = info.node.value.find("meta");
    bool redacted = r == 0 ? any_modified_ : info.modified;
    w_.key("meta");
    w_.begin_object();
    const fhir::TypeDef* meta_type = s_.model.type("Meta");
    if (meta.is_object()) write_members(meta, meta_type, r, 2, /*skip_security=*/true);
    w_.key("security");
    w_.begin_array();
    for (json::Value label : meta.find("security").items()) {
      std::string_view system = label.find("system").str();
      if (system == kConfidentialitySystem) continue;
      if (system == kObservationValueSystem && label.find("code").str() == "REDACTED") continue;
      if (s_.is_dropped(label, json::Value())) continue;
      write_complex(label, s_.model.type("Coding"), r, 3);
    }
    int rank = std::clamp(rank_[static_cast<std::size_t>(r)], 0, 5);
    std::string_view code = kConfidentialityCodes[rank];
    w_.begin_object();
    w_.key("system");
    w_.string(kConfidentialitySystem);
    w_.key("code");
    w_.string(code);
    w_.key("display");
    w_.string(confidentiality_display(code));
    w_.end_object();
    if (redacted) {
      w_.begin_object();
      w_.key("system");
      w_.string(kObservationValueSystem);
      w_.key("code");
      w_.string("REDACTED");
      w_.key("display");
      w_.string("redacted");
      w_.end_object();
    }
    w_.end_array();
    w_.end_object();
  }

  void write_resource(int r, std::uint32_t depth) {
    const ResourceInfo& info = s_.resources[static_cast<std::size_t>(r)];
    GW_ASSERT(!info.removed, "writing a removed resource");
    json::Value obj = info.node.value;
    w_.begin_object();
    w_.key("resourceType");
    w_.string(info.type);
    if (json::Value id = obj.find("id"); id.is_string()) {
      w_.key("id");
      w_.value(id);
    }
    write_meta(r);
    write_members(obj, info.node.type, r, depth + 1, false, /*resource_root=*/true);
    w_.end_object();
  }

  void write_complex(json::Value obj, const fhir::TypeDef* type, int r, std::uint32_t depth) {
    w_.begin_object();
    write_members(obj, type, r, depth + 1, false);
    w_.end_object();
  }

  // One kept complex (or resource) value of element `m`; `owner` is the
  // object holding it (for narratives, which describe their owner).
  void write_value(json::Value v, const fhir::TypeDef::KeyMatch& m, json::Value owner,
                   const fhir::TypeDef* owner_type, int r, std::uint32_t depth) {
    const fhir::TypeDef* t = s_.model.value_type(m, v);
    GW_ASSERT(t != nullptr, "plan kept an untyped value");
    if (t->kind == fhir::TypeKind::kResource) {
      auto it = s_.resource_at.find(v.offset());
      GW_ASSERT(it != s_.resource_at.end(), "nested resource missed by discovery");
      write_resource(it->second, depth);
      return;
    }
    if (const Mark* mk = s_.mark_of(v, json::Value())) {
      if (mk->kind == Mark::Kind::kCoarsen) {
        const Rule& rule = s_.policy.rules[static_cast<std::size_t>(mk->rule)];
        w_.begin_object();
        if (rule.coarsen == CoarsenLevel::kRegion) {
          if (json::Value st = v.find("state"); st.is_string()) {
            w_.key("state");
            w_.value(st);
          }
        }
        if (json::Value c = v.find("country"); c.is_string()) {
          w_.key("country");
          w_.value(c);
        }
        w_.end_object();
        return;
      }
      if (mk->kind == Mark::Kind::kNarrative) {
        fhir::Node owner_node;
        owner_node.value = owner;
        owner_node.type = owner_type;
        w_.begin_object();
        w_.key("status");
        w_.string("generated");
        w_.key("div");
        w_.string(generate_narrative(s_, owner_node));
        w_.end_object();
        return;
      }
    }
    write_complex(v, t, r, depth);
  }

  void write_members(json::Value obj, const fhir::TypeDef* type, int r, std::uint32_t depth,
                     bool skip_security, bool resource_root = false) {
    if (depth > s_.policy.max_depth + 2) {
      s_.limit_hit = true;
      return;
    }
    for (std::size_t i = 0; i < obj.size(); ++i) {
      std::string_view key = obj.key(i);
      if (resource_root && (key == "resourceType" || key == "id" || key == "meta")) continue;
      if (skip_security && key == "security") continue;
      bool underscore = !key.empty() && key[0] == '_';
      std::string_view base = underscore ? key.substr(1) : key;
      if (underscore && obj.find(base)) continue;
      fhir::TypeDef::KeyMatch m = type->match_key(base);
      if (!m.element) continue;
      json::Value v = underscore ? json::Value() : obj[i];
      json::Value e = underscore ? obj[i] : obj.find(std::string("_") + std::string(base));
      if (v.is_array() || e.is_array()) {
        write_array(base, m, v, e, obj, type, r, depth);
        continue;
      }
      if (v.is_null()) v = json::Value();
      if ((!v && !e) || s_.is_dropped(v, e)) continue;
      const fhir::TypeDef* t = s_.model.value_type(m, v);
      if (t && t->kind == fhir::TypeKind::kPrimitive) {
        if (v) {
          w_.key(base);
          w_.value(v);
        }
        if (e.is_object() && !s_.dropped.count(e.offset())) {
          w_.key(std::string("_") + std::string(base));
          write_complex(e, t, r, depth);
        }
        continue;
      }
      w_.key(base);
      write_value(v, m, obj, type, r, depth);
    }
  }

  // Arrays of primitives come in pairs (`given` / `_given`) aligned by
  // index; dropping item i drops it from both, and an array that ends up
  // all null is not written at all.
  void write_array(std::string_view base, const fhir::TypeDef::KeyMatch& m, json::Value v,
                   json::Value e, json::Value owner, const fhir::TypeDef* owner_type, int r,
                   std::uint32_t depth) {
    std::size_t n = std::max(v.is_array() ? v.size() : 0, e.is_array() ? e.size() : 0);
    std::vector<std::pair<json::Value, json::Value>> kept;
    bool any_value = false, any_ext = false;
    for (std::size_t j = 0; j < n; ++j) {
      json::Value iv = v.is_array() ? v[j] : json::Value();
      json::Value ie = e.is_array() ? e[j] : json::Value();
      if (iv.is_null()) iv = json::Value();
      if (ie.is_null()) ie = json::Value();
      if ((!iv && !ie) || s_.is_dropped(iv, ie)) continue;
      if (ie && s_.dropped.count(ie.offset()) && iv) ie = json::Value();  // emptied `_x` item
      kept.emplace_back(iv, ie);
      any_value = any_value || static_cast<bool>(iv);
      any_ext = any_ext || ie.is_object();
    }
    if (kept.empty()) return;
    const fhir::TypeDef* t = s_.model.value_type(m, kept.front().first);
    if (t && t->kind == fhir::TypeKind::kPrimitive) {
      if (any_value) {
        w_.key(base);
        w_.begin_array();
        for (const auto& [iv, ie] : kept) iv ? w_.value(iv) : w_.null();
        w_.end_array();
      }
      if (any_ext) {
        w_.key(std::string("_") + std::string(base));
        w_.begin_array();
        for (const auto& [iv, ie] : kept) {
          if (ie.is_object()) {
            write_complex(ie, t, r, depth);
          } else {
            w_.null();
          }
        }
        w_.end_array();
      }
      return;
    }
    w_.key(base);
    w_.begin_array();
    for (const auto& [iv, ie] : kept) write_value(iv, m, owner, owner_type, r, depth);
    w_.end_array();
  }

  RedactState& s_;
  json::Writer w_{false};
  std::vector<int> rank_;
  bool any_modified_ = false;
};

}  // namespace

Result<std::string> write_output(RedactState& s) {
  OutputWriter w(s);
  return w.run();
}

}  // namespace gw::consent::detail
