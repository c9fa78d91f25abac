// Building a HandoffDocument: the steps, in the order build() runs them.
//
//   1. index      the input entries (fullUrl, Type/id, resource position)
//   2. choose     the mapping (by name, or the first whose `accepts` holds)
//   3. select     the patient, the author and each section's resources by
//                 evaluating the mapping's FHIRPath on the input Bundle
//   4. merge      duplicates (union-find; the survivor is the earliest entry)
//   5. place      each survivor in the first section that selected it, then
//                 follow references from what is included to resources of
//                 the mapping's `follow` types
//   6. write      Composition, entries (references rewritten, narrative
//                 regenerated, meta.profile set) and one Provenance per
//                 derived entry
//
// The input is never modified: json::Document is immutable, so the output is
// written afresh with json::Writer while walking the input.
#include "gateway/handoff/detail/mapping.hpp"
#include "gateway/handoff/detail/narrative.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>

namespace gw::handoff {

namespace {

using detail::Mapping;

constexpr std::string_view kLoinc = "http://loinc.org";
constexpr std::uint32_t kNone = static_cast<std::uint32_t>(-1);
// Deeper than any FHIR resource needs; the JSON parser's own limit (256 by
// default) normally stops hostile nesting first.
constexpr int kMaxCopyDepth = 300;

struct Entry {
  json::Value resource;
  std::string_view full_url;
  std::string_view type;
  std::string_view id;
  std::string source;  ///< how provenance names it: fullUrl, else Type/id, else entry[N]
};

std::string_view strip_history(std::string_view ref) {
  auto h = ref.find("/_history/");
  return h == std::string_view::npos ? ref : ref.substr(0, h);
}

bool is_absolute(std::string_view ref) {
  auto colon = ref.find(':');
  auto slash = ref.find('/');
  return colon != std::string_view::npos && colon > 0 &&
         (slash == std::string_view::npos || colon < slash);
}

class Builder {
 public:
  Builder(const MappingSet::Impl& set, json::Value bundle, const BuildOptions& options)
      : set_(set), model_(*set.model), bundle_(bundle), options_(options) {}

  Result<Handoff> run() {
    GW_CHECK_OK(index());
    GW_TRY(const Mapping* m, choose());
    mapping_ = m;
    out_.mapping = m->name;
    GW_CHECK_OK(select());
    merge_identities();
    merge_clinical();
    place();
    follow();
    GW_CHECK_OK(write());
    return std::move(out_);
  }

 private:
  // ---- 1. index ---------------------------------------------------------

  Status index() {
    if (!bundle_.is_object() || bundle_.find("resourceType").str() != "Bundle") {
      return fail(ErrorCode::kInvalidArgument, "the input is not a Bundle");
    }
    auto root = model_.resource(bundle_);
    if (!root) return root.error();
    root_ = *root;
    json::Value ident = bundle_.find("identifier");
    if (ident.find("value").is_string()) source_bundle_ = std::string(ident.find("value").str());
    std::uint32_t i = 0;
    for (json::Value e : bundle_.find("entry").items()) {
      Entry en;
      en.resource = e.find("resource");
      en.full_url = e.find("fullUrl").str();
      if (en.resource.is_object()) {
        en.type = en.resource.find("resourceType").str();
        en.id = en.resource.find("id").str();
        by_offset_.emplace(en.resource.offset(), i);
      }
      if (!en.full_url.empty()) {
        en.source = std::string(en.full_url);
      } else if (!en.type.empty() && !en.id.empty()) {
        en.source = std::string(en.type) + "/" + std::string(en.id);
      } else {
        en.source = "entry[" + std::to_string(i) + "]";
      }
      entries_.push_back(std::move(en));
      ++i;
    }
    parent_.resize(entries_.size());
    std::iota(parent_.begin(), parent_.end(), 0u);
    for (i = 0; i < entries_.size(); ++i) {
      const Entry& en = entries_[i];
      if (!en.full_url.empty()) by_full_url_.emplace(en.full_url, i);  // first wins
      if (!en.type.empty() && !en.id.empty()) {
        by_type_id_.emplace(std::string(en.type) + "/" + std::string(en.id), i);
      }
    }
    return {};
  }

  // The entry a reference (made from entry `from`) names, or kNone. Follows
  // the Bundle resolution rules: absolute URLs and URNs match fullUrl; a
  // relative Type/id is made absolute against the RESTful base of the
  // referring entry's fullUrl, and failing that matched by Type/id.
  std::uint32_t resolve(std::string_view ref, std::uint32_t from) const {
    ref = strip_history(ref);
    if (ref.empty() || ref[0] == '#') return kNone;
    if (auto it = by_full_url_.find(ref); it != by_full_url_.end()) return it->second;
    if (is_absolute(ref)) return kNone;
    if (from != kNone) {
      std::string_view base = entries_[from].full_url;
      if (!base.empty() && !base.starts_with("urn:")) {
        // ".../Type/id" -> "..."
        auto s1 = base.rfind('/');
        auto s2 = s1 == std::string_view::npos || s1 == 0 ? std::string_view::npos
                                                          : base.rfind('/', s1 - 1);
        if (s2 != std::string_view::npos) {
          std::string abs(base.substr(0, s2 + 1));
          abs += ref;
          if (auto it = by_full_url_.find(std::string_view(abs)); it != by_full_url_.end())
            return it->second;
        }
      }
    }
    if (auto it = by_type_id_.find(std::string(ref)); it != by_type_id_.end()) return it->second;
    return kNone;
  }

  // ---- 2. choose --------------------------------------------------------

  fhirpath::EvaluationContext context() const {
    fhirpath::EvaluationContext ctx;
    ctx.model = &model_;
    ctx.resource = root_;
    ctx.root_resource = root_;
    ctx.bundle = root_;
    ctx.clock = options_.clock;
    return ctx;
  }

  Error eval_error(const Mapping& m, std::string_view key, const Error& e) const {
    return Error(e.code(), "mapping '" + m.name + "' " + std::string(key) + ": " + e.message(),
                 m.file);
  }

  Result<bool> accepts(const Mapping& m) const {
    auto r = m.accepts->evaluate_boolean(root_, context());
    if (!r) return eval_error(m, "accepts", r.error());
    return r->value_or(false);
  }

  Result<const Mapping*> choose() const {
    if (!options_.mapping.empty()) {
      for (const Mapping& m : set_.mappings) {
        if (m.name != options_.mapping) continue;
        GW_TRY(bool ok, accepts(m));
        if (!ok)
          return fail(ErrorCode::kNotFound, "mapping '" + m.name + "' does not accept this input");
        return &m;
      }
      return fail(ErrorCode::kNotFound,
                  "no mapping named '" + options_.mapping.substr(0, 64) + "'");
    }
    for (const Mapping& m : set_.mappings) {
      GW_TRY(bool ok, accepts(m));
      if (ok) return &m;
    }
    return fail(ErrorCode::kNotFound, "no mapping accepts this input (tried " +
                                          std::to_string(set_.mappings.size()) + ")");
  }

  // ---- 3. select --------------------------------------------------------

  void warn(std::string code, std::string expression, std::string diagnostics) {
    fhir::Issue i;
    i.severity = fhir::Issue::Severity::kWarning;
    i.code = std::move(code);
    i.expression = std::move(expression);
    i.diagnostics = std::move(diagnostics);
    out_.warnings.push_back(std::move(i));
  }

  // Entries named by the items of a selector result. Items that are not
  // entry resources (a contained resource, an element) are skipped with a
  // warning; the input's Composition is never copied (the document gets a
  // new one).
  Result<std::vector<std::uint32_t>> entries_of(const fhirpath::Expression& e,
                                                std::string_view key) {
    auto items = e.evaluate(root_, context());
    if (!items) return eval_error(*mapping_, key, items.error());
    std::vector<std::uint32_t> out;
    bool warned = false;
    for (const fhirpath::Item& it : *items) {
      auto found = it.is_node() ? by_offset_.find(it.node().value.offset()) : by_offset_.end();
      if (found == by_offset_.end() || !(entries_[found->second].resource == it.node().value)) {
        if (!warned) {
          warn("not-supported", std::string(key),
               "the selector picked something that is not a Bundle entry resource; it was skipped");
          warned = true;
        }
        continue;
      }
      if (entries_[found->second].type == "Composition") continue;
      if (std::find(out.begin(), out.end(), found->second) == out.end())
        out.push_back(found->second);
    }
    return out;
  }

  Status select() {
    GW_TRY(auto patients, entries_of(*mapping_->patient, "patient"));
    for (std::uint32_t p : patients) {
      if (entries_[p].type == "Patient") {
        patient_ = p;
        break;
      }
    }
    if (patient_ == kNone) {
      return fail(ErrorCode::kInvalidArgument,
                  "mapping '" + mapping_->name + "': the patient selector finds no Patient entry");
    }
    if (mapping_->author) {
      GW_TRY(auto authors, entries_of(*mapping_->author, "author"));
      for (std::uint32_t a : authors) {
        if (entries_[a].type == "Organization") {
          author_ = a;
          break;
        }
      }
    }
    for (const detail::Section& s : mapping_->sections) {
      std::vector<std::uint32_t> picked;
      if (s.select) {
        GW_TRY(picked, entries_of(*s.select, "section " + std::string(s.kind->code)));
      }
      selected_.push_back(std::move(picked));
    }
    return {};
  }

  // ---- 4. merge ---------------------------------------------------------

  std::uint32_t find(std::uint32_t i) {
    while (parent_[i] != i) {
      parent_[i] = parent_[parent_[i]];
      i = parent_[i];
    }
    return i;
  }
  void unite(std::uint32_t a, std::uint32_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return;
    if (b < a) std::swap(a, b);
    parent_[b] = a;  // the earliest entry survives
  }

  // The same resource twice: the same fullUrl, the same Type/id, or a
  // shared business identifier (system + value), always on resources of
  // one type. (A fullUrl shared by two types is an error the validator
  // reports; merging them here made a non-Patient the patient's
  // representative, which handoff_map_fuzz found.)
  void merge_identities() {
    std::unordered_map<std::string, std::uint32_t> seen;
    for (std::uint32_t i = 0; i < entries_.size(); ++i) {
      const Entry& en = entries_[i];
      if (!en.resource.is_object()) continue;
      auto key = [&](std::string k) {
        auto [it, fresh] = seen.emplace(std::move(k), i);
        if (!fresh) unite(it->second, i);
      };
      if (!en.full_url.empty()) key("u|" + std::string(en.type) + "|" + std::string(en.full_url));
      if (!en.type.empty() && !en.id.empty())
        key("t|" + std::string(en.type) + "/" + std::string(en.id));
      json::Value ids = en.resource.find("identifier");
      auto one = [&](json::Value id) {
        json::Value sys = id.find("system");
        json::Value val = id.find("value");
        if (sys.is_string() && val.is_string() && !sys.str().empty() && !val.str().empty()) {
          key("i|" + std::string(en.type) + "|" + std::string(sys.str()) + "|" +
              std::string(val.str()));
        }
      };
      if (ids.is_array()) {
        for (json::Value id : ids.items()) one(id);
      } else if (ids.is_object()) {
        one(ids);
      }
    }
  }

  static std::vector<std::string> codings(json::Value cc) {
    std::vector<std::string> out;
    for (json::Value c : cc.find("coding").items()) {
      json::Value sys = c.find("system");
      json::Value code = c.find("code");
      if (sys.is_string() && code.is_string())
        out.push_back(std::string(sys.str()) + "|" + std::string(code.str()));
    }
    return out;
  }

  // Clinically the same statement twice (two systems sent the same problem
  // list): for Condition and AllergyIntolerance the same patient, the same
  // clinicalStatus and a shared code; for MedicationStatement and
  // MedicationRequest (each with its own kind) the same patient, the same
  // status and a shared medication code (a medicationReference counts by
  // the Medication it resolves to); for Immunization and Procedure the
  // same patient, status, date-time and a shared code. Only resources some
  // section selected take part. (The pull use case merges several stored
  // handoffs this way: their copies of one fact carry different ids.)
  void merge_clinical() {
    std::map<std::string, std::uint32_t> seen;
    std::vector<std::uint32_t> order;
    for (const auto& picked : selected_) order.insert(order.end(), picked.begin(), picked.end());
    for (std::uint32_t i : order) {
      const Entry& en = entries_[i];
      json::Value r = en.resource;
      std::string subject_key;
      bool by_patient = en.type == "AllergyIntolerance" || en.type == "Immunization";
      json::Value subject = by_patient ? r.find("patient") : r.find("subject");
      if (en.type == "Appointment") {
        for (json::Value p : r.find("participant").items()) {
          std::uint32_t a = resolve(p.find("actor").find("reference").str(), i);
          if (a != kNone && entries_[a].type == "Patient") subject = p.find("actor");
        }
      }
      std::string_view sref = subject.find("reference").str();
      if (sref.empty()) continue;
      std::uint32_t s = resolve(sref, i);
      subject_key = s == kNone ? "r|" + std::string(sref) : "e|" + std::to_string(find(s));
      std::string status;
      std::vector<std::string> codes;
      if (en.type == "Condition" || en.type == "AllergyIntolerance") {
        status = detail::concept_text(r.find("clinicalStatus"));
        codes = codings(r.find("code"));
      } else if (en.type == "MedicationStatement" || en.type == "MedicationRequest") {
        status = std::string(r.find("status").str());
        if (json::Value cc = r.find("medicationCodeableConcept"); cc.is_object()) {
          codes = codings(cc);
        } else if (std::string_view mref = r.find("medicationReference").find("reference").str();
                   !mref.empty()) {
          std::uint32_t m = resolve(mref, i);
          if (m != kNone) {
            codes = codings(entries_[m].resource.find("code"));
            codes.push_back("e|" + std::to_string(find(m)));
          }
        }
      } else if (en.type == "Immunization" || en.type == "Procedure") {
        // Events: the same code on the same day (status and time written
        // into the key, so two doses of one vaccine stay two).
        bool imm = en.type == "Immunization";
        status = std::string(r.find("status").str()) + "|";
        json::Value when = imm ? r.find("occurrenceDateTime") : r.find("performedDateTime");
        if (!when.is_string() && !imm) when = r.find("performedPeriod").find("start");
        if (!when.is_string()) continue;  // undated events are never merged
        status += when.str();
        codes = codings(imm ? r.find("vaccineCode") : r.find("code"));
      } else if (en.type == "Appointment") {
        // The patient is a participant, not a subject: same status and
        // start, and a shared service type (or none coded on either).
        if (!r.find("start").is_string()) continue;
        status = std::string(r.find("status").str()) + "|" + std::string(r.find("start").str());
        for (json::Value t : r.find("serviceType").items()) {
          for (std::string& c : codings(t)) codes.push_back(std::move(c));
        }
        if (codes.empty()) codes.push_back("*");
      } else {
        continue;
      }
      std::string prefix = std::string(en.type) + "|" + subject_key + "|" + status + "|";
      std::uint32_t match = kNone;
      for (const std::string& c : codes) {
        if (auto it = seen.find(prefix + c); it != seen.end()) {
          match = it->second;
          break;
        }
      }
      if (match != kNone) unite(match, i);
      for (const std::string& c : codes) seen.emplace(prefix + c, find(i));
    }
  }

  // ---- 5. place and follow ---------------------------------------------

  void include(std::uint32_t rep) {
    if (included_.insert(rep).second) order_.push_back(rep);
  }

  void place() {
    patient_ = find(patient_);
    include(patient_);
    if (author_ != kNone) {
      author_ = find(author_);
      include(author_);
    }
    placed_.assign(selected_.size(), {});
    for (std::size_t s = 0; s < selected_.size(); ++s) {
      for (std::uint32_t e : selected_[s]) {
        std::uint32_t r = find(e);
        if (included_.count(r)) continue;
        include(r);
        placed_[s].push_back(r);
        section_of_.emplace(r, s);
      }
    }
  }

  static void collect_references(json::Value v, std::vector<std::string_view>& out, int depth) {
    if (depth > kMaxCopyDepth) return;
    if (v.is_object()) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v.key(i) == "reference" && v[i].is_string()) {
          out.push_back(v[i].str());
        } else {
          collect_references(v[i], out, depth + 1);
        }
      }
    } else if (v.is_array()) {
      for (json::Value x : v.items()) collect_references(x, out, depth + 1);
    }
  }

  // Breadth-first from everything included: a referenced entry whose type
  // the mapping lists in `follow` is included too (a Medication behind a
  // medicationReference, the Practitioner who recorded a problem).
  void follow() {
    for (std::size_t k = 0; k < order_.size(); ++k) {
      std::uint32_t from = order_[k];
      std::vector<std::string_view> refs;
      collect_references(entries_[from].resource, refs, 0);
      for (std::string_view ref : refs) {
        std::uint32_t j = resolve(ref, from);
        if (j == kNone) continue;
        std::uint32_t r = find(j);
        if (included_.count(r) || entries_[r].type == "Composition") continue;
        const auto& f = mapping_->follow;
        if (std::find(f.begin(), f.end(), entries_[r].type) == f.end()) continue;
        include(r);
      }
    }
  }

  // ---- 6. write ---------------------------------------------------------

  std::string url_of(std::uint32_t rep) const { return "urn:uuid:" + uuid_.at(rep); }

  json::Value resolve_value(std::string_view ref, std::uint32_t from) const {
    std::uint32_t j = resolve(ref, from);
    return j == kNone ? json::Value() : entries_[j].resource;
  }

  std::string summary(std::uint32_t rep) const {
    return detail::summarize(entries_[rep].resource,
                             [&](std::string_view ref) { return resolve_value(ref, rep); });
  }

  Status write() {
    std::string bundle_uuid = options_.ids->uuid();
    std::string composition_uuid = options_.ids->uuid();
    for (std::uint32_t r : order_) uuid_.emplace(r, options_.ids->uuid());
    std::string author_url;
    std::string gateway_uuid;
    if (author_ == kNone) {
      gateway_uuid = options_.ids->uuid();
      author_url = "urn:uuid:" + gateway_uuid;
    } else {
      author_url = url_of(author_);
    }
    now_ = gw::format_instant(options_.clock->now());
    run_checks();

    json::Writer w;
    w.begin_object();
    w.key("resourceType");
    w.string("Bundle");
    w.key("id");
    w.string(bundle_uuid);
    w.key("meta");
    w.begin_object();
    w.key("profile");
    w.begin_array();
    w.string(kHandoffDocumentProfile);
    w.end_array();
    w.end_object();
    w.key("identifier");
    w.begin_object();
    w.key("system");
    w.string("urn:ietf:rfc:3986");
    w.key("value");
    w.string("urn:uuid:" + bundle_uuid);
    w.end_object();
    w.key("type");
    w.string("document");
    w.key("timestamp");
    w.string(now_);
    w.key("entry");
    w.begin_array();

    w.begin_object();
    w.key("fullUrl");
    w.string("urn:uuid:" + composition_uuid);
    w.key("resource");
    GW_CHECK_OK(write_composition(w, composition_uuid, author_url));
    w.end_object();

    for (std::size_t k = 0; k < order_.size(); ++k) {
      std::uint32_t r = order_[k];
      w.begin_object();
      w.key("fullUrl");
      w.string(url_of(r));
      w.key("resource");
      GW_CHECK_OK(write_resource(w, r));
      w.end_object();
      if (k == 0 && author_ == kNone) write_gateway_organization(w, gateway_uuid);
    }
    // Provenance: one per derived entry, after all entries.
    std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> merged;
    for (std::uint32_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].resource.is_object()) merged[find(i)].push_back(i);
    }
    for (std::uint32_t r : order_) {
      ProvenanceLink link;
      link.full_url = url_of(r);
      link.resource_type = std::string(entries_[r].type);
      for (std::uint32_t i : merged[r]) link.sources.push_back(entries_[i].source);
      std::string id = options_.ids->uuid();
      w.begin_object();
      w.key("fullUrl");
      w.string("urn:uuid:" + id);
      w.key("resource");
      write_provenance(w, id, link, author_url);
      w.end_object();
      out_.provenance.push_back(std::move(link));
    }
    w.end_array();
    w.end_object();
    out_.json = std::move(w).take();
    return {};
  }

  // Output position of an included survivor: the Composition is entry 0,
  // the gateway Organization (when written) follows the patient.
  std::size_t output_index(std::size_t k) const {
    return k + 1 + (author_ == kNone && k >= 1 ? 1 : 0);
  }

  // The mapping's checks: data the target profiles need that the input
  // lacks is reported, never invented.
  void run_checks() {
    for (const detail::Check& c : mapping_->checks) {
      for (std::size_t k = 0; k < order_.size(); ++k) {
        const Entry& en = entries_[order_[k]];
        if (en.type != c.type) continue;
        auto node = model_.resource(en.resource);
        if (!node) continue;
        fhirpath::EvaluationContext ctx = context();
        ctx.resource = *node;
        auto ok = c.expression->evaluate_boolean(*node, ctx);
        if (ok && ok->value_or(false)) continue;
        std::string where = "Bundle.entry[" + std::to_string(output_index(k)) + "].resource";
        if (!c.location.empty()) where += "." + c.location;
        warn("incomplete", std::move(where),
             ok ? c.message
                : "check on " + c.type + " could not be evaluated: " + ok.error().message());
        // Only a check that ran and said "missing" states the gap; one
        // that could not run must not make the data look known-absent.
        if (ok) {
          for (const detail::Absent& a : c.absent) absent_[order_[k]].push_back(&a);
        }
      }
    }
  }

  std::uint32_t parent_of(std::uint32_t i) const {
    while (parent_[i] != i) i = parent_[i];
    return i;
  }

  static void coding(json::Writer& w, std::string_view system, std::string_view code,
                     std::string_view display) {
    w.begin_object();
    w.key("coding");
    w.begin_array();
    w.begin_object();
    w.key("system");
    w.string(system);
    w.key("code");
    w.string(code);
    w.key("display");
    w.string(display);
    w.end_object();
    w.end_array();
    w.end_object();
  }

  static void narrative(json::Writer& w, const std::string& div) {
    w.key("text");
    w.begin_object();
    w.key("status");
    w.string("generated");
    w.key("div");
    w.string(div);
    w.end_object();
  }

  static void reference(json::Writer& w, const std::string& url) {
    w.begin_object();
    w.key("reference");
    w.string(url);
    w.end_object();
  }

  Result<std::string> title() const {
    std::string out;
    const detail::Template& t = mapping_->title;
    for (std::size_t i = 0; i < t.literals.size(); ++i) {
      out += t.literals[i];
      if (i >= t.holes.size()) break;
      auto items = t.holes[i].evaluate(root_, context());
      if (!items) return eval_error(*mapping_, "title", items.error());
      std::string joined;
      for (const fhirpath::Item& it : *items) {
        std::string s;
        if (it.is_node()) {
          if (!it.node().has_primitive_value()) continue;
          s = std::string(it.node().value.str());
        } else if (it.kind() == fhirpath::ItemKind::kString) {
          s = it.string();
        } else {
          s = it.to_string();
        }
        if (s.empty()) continue;
        if (!joined.empty()) joined += ", ";
        joined += s;
      }
      out += joined;
    }
    // Trim, and never leave the title (1..1) empty.
    while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
    std::size_t b = out.find_first_not_of(" \n");
    out = b == std::string::npos ? std::string() : out.substr(b);
    if (out.empty()) out = "Continuity-of-care handoff";
    if (out.size() > 512) {
      // Cut at a code point boundary: drop continuation bytes, then the
      // lead byte they belonged to.
      std::size_t n = 512;
      while (n > 0 && (static_cast<unsigned char>(out[n]) & 0xC0) == 0x80) --n;
      out.resize(n);
    }
    return out;
  }

  Status write_composition(json::Writer& w, const std::string& id, const std::string& author_url) {
    GW_TRY(std::string doc_title, title());
    std::vector<std::string> care = detail::care_needs(entries_[patient_].resource);

    // The sections as they will be written, for the narrative and counts.
    struct Out {
      const detail::Section* section;
      std::vector<std::string> lines;
      const std::vector<std::uint32_t>* items;
    };
    std::vector<Out> sections;
    for (std::size_t s = 0; s < mapping_->sections.size(); ++s) {
      const detail::Section& sec = mapping_->sections[s];
      Out o{&sec, {}, &placed_[s]};
      if (sec.kind->care_needs) o.lines = care;
      for (std::uint32_t r : placed_[s]) o.lines.push_back(summary(r));
      if (o.lines.empty() && o.items->empty() && !sec.kind->required) continue;
      sections.push_back(std::move(o));
    }
    // Document order of the catalogue, whatever order the mapping lists them.
    auto rank = [](const detail::SectionKind* k) {
      auto all = detail::section_kinds();
      return static_cast<std::size_t>(k - all.data());
    };
    std::stable_sort(sections.begin(), sections.end(), [&](const Out& a, const Out& b) {
      return rank(a.section->kind) < rank(b.section->kind);
    });

    w.begin_object();
    w.key("resourceType");
    w.string("Composition");
    w.key("id");
    w.string(id);
    w.key("meta");
    w.begin_object();
    w.key("profile");
    w.begin_array();
    w.string(kCompositionProfile);
    w.end_array();
    w.end_object();
    std::vector<std::string> overview;
    std::string who = summary(patient_);  // "Patient: <name>"
    constexpr std::string_view kPatientPrefix = "Patient: ";
    if (who.starts_with(kPatientPrefix)) who.erase(0, kPatientPrefix.size());
    overview.push_back("Patient: " + who);
    for (const std::string& c : care) overview.push_back(c);
    for (const Out& o : sections) {
      std::string count = !o.items->empty() ? std::to_string(o.items->size()) + " entr" +
                                                  (o.items->size() == 1 ? "y" : "ies")
                          : o.lines.empty() ? std::string("no information available")
                                            : std::string("see the section");
      overview.push_back(o.section->title + ": " + count);
    }
    narrative(w, detail::div_list(doc_title, overview));
    w.key("status");
    w.string("final");
    w.key("type");
    coding(w, kLoinc, "60591-5", "Patient summary Document");
    w.key("subject");
    reference(w, url_of(patient_));
    w.key("date");
    w.string(now_);
    w.key("author");
    w.begin_array();
    reference(w, author_url);
    w.end_array();
    w.key("title");
    w.string(doc_title);
    w.key("section");
    w.begin_array();
    for (const Out& o : sections) {
      SectionSummary sum;
      sum.code = std::string(o.section->kind->code);
      sum.title = o.section->title;
      sum.entries = o.items->size();
      w.begin_object();
      w.key("title");
      w.string(o.section->title);
      w.key("code");
      coding(w, kLoinc, o.section->kind->code, o.section->kind->display);
      if (o.lines.empty()) {
        narrative(w, detail::div_paragraph("No information available."));
        w.key("emptyReason");
        coding(w, "http://terminology.hl7.org/CodeSystem/list-empty-reason", "unavailable",
               "Unavailable");
        sum.empty_reason = true;
      } else {
        narrative(w, detail::div_list({}, o.lines));
        if (!o.items->empty()) {
          w.key("entry");
          w.begin_array();
          for (std::uint32_t r : *o.items) reference(w, url_of(r));
          w.end_array();
        }
      }
      w.end_object();
      out_.sections.push_back(std::move(sum));
    }
    w.end_array();
    w.end_object();
    return {};
  }

  void write_gateway_organization(json::Writer& w, const std::string& id) {
    const GatewayOrganization& g = options_.gateway;
    std::string name = g.name.empty() ? std::string("Migrant-care FHIR gateway") : g.name;
    w.begin_object();
    w.key("fullUrl");
    w.string("urn:uuid:" + id);
    w.key("resource");
    w.begin_object();
    w.key("resourceType");
    w.string("Organization");
    w.key("id");
    w.string(id);
    narrative(w, detail::div_paragraph("Organization: " + name));
    if (!g.identifier_value.empty()) {
      w.key("identifier");
      w.begin_array();
      w.begin_object();
      if (!g.identifier_system.empty()) {
        w.key("system");
        w.string(g.identifier_system);
      }
      w.key("value");
      w.string(g.identifier_value);
      w.end_object();
      w.end_array();
    }
    w.key("active");
    w.boolean(true);
    w.key("name");
    w.string(name);
    w.end_object();
    w.end_object();
  }

  void write_provenance(json::Writer& w, const std::string& id, const ProvenanceLink& link,
                        const std::string& author_url) {
    w.begin_object();
    w.key("resourceType");
    w.string("Provenance");
    w.key("id");
    w.string(id);
    narrative(w, detail::div_paragraph(link.resource_type + " derived by the gateway from " +
                                       std::to_string(link.sources.size()) + " source entr" +
                                       (link.sources.size() == 1 ? "y" : "ies")));
    w.key("target");
    w.begin_array();
    reference(w, link.full_url);
    w.end_array();
    w.key("recorded");
    w.string(now_);
    w.key("agent");
    w.begin_array();
    w.begin_object();
    w.key("type");
    coding(w, "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "assembler",
           "Assembler");
    w.key("who");
    reference(w, author_url);
    w.end_object();
    w.end_array();
    w.key("entity");
    w.begin_array();
    for (const std::string& src : link.sources) {
      w.begin_object();
      w.key("role");
      w.string("source");
      w.key("what");
      w.begin_object();
      w.key("identifier");
      w.begin_object();
      if (is_absolute(source_bundle_)) {
        w.key("system");
        w.string(source_bundle_);
      }
      w.key("value");
      w.string(src);
      w.end_object();
      w.end_object();
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }

  // A resource entry: the input's members, except id (the new UUID), meta
  // (our profile, the input's security labels and tags kept), and text
  // (regenerated); references rewritten on the way.
  Status write_resource(json::Writer& w, std::uint32_t r) {
    const Entry& en = entries_[r];
    json::Value res = en.resource;
    w.begin_object();
    w.key("resourceType");
    w.string(en.type);
    w.key("id");
    w.string(uuid_.at(r));
    const detail::ProfileMap* profiles = &mapping_->profiles;
    if (auto s = section_of_.find(r); s != section_of_.end()) {
      const detail::ProfileMap& own = mapping_->sections[s->second].profiles;
      if (own.count(en.type)) profiles = &own;
    }
    auto profile = profiles->find(en.type);
    json::Value meta = res.find("meta");
    bool has_profile = profile != profiles->end();
    bool has_labels = meta.find("security").is_array() || meta.find("tag").is_array();
    if (has_profile || has_labels) {
      w.key("meta");
      w.begin_object();
      if (has_profile) {
        w.key("profile");
        w.begin_array();
        w.string(profile->second);
        w.end_array();
      }
      for (std::string_view k : {std::string_view("security"), std::string_view("tag")}) {
        if (!meta.find(k).is_array()) continue;
        w.key(k);
        GW_CHECK_OK(copy(w, meta.find(k), r, 1, nullptr));
      }
      w.end_object();
    }
    narrative(w, detail::div_paragraph(summary(r)));
    static const std::vector<const detail::Absent*> kNoGaps;
    auto gaps_it = absent_.find(r);
    const std::vector<const detail::Absent*>& gaps = gaps_it == absent_.end() ? kNoGaps : gaps_it->second;
    std::string path(en.type);
    for (std::size_t i = 0; i < res.size(); ++i) {
      std::string_view k = res.key(i);
      if (k == "resourceType" || k == "id" || k == "meta" || k == "text") continue;
      std::size_t len = path.size();
      path += '.';
      path += k;
      if (!mapping_->omit.count(path)) {
        w.key(k);
        if (targets(gaps, k)) {
          GW_CHECK_OK(copy_stating_gaps(w, res[i], r, gaps, k, path));
        } else {
          GW_CHECK_OK(copy(w, res[i], r, 1, &path));
        }
      }
      path.resize(len);
    }
    // Gaps in members the input does not have at all: appends create their
    // array (each array once), sets write their member.
    std::set<std::string_view> created;
    for (const detail::Absent* a : gaps) {
      if (a->kind == detail::Absent::Kind::kSet) {
        if (!has_member(res, a->target)) {
          w.key(a->target);
          w.value(a->value->root());
        }
        continue;
      }
      if (a->kind != detail::Absent::Kind::kAppend || res.find(a->target) || !created.insert(a->target).second) {
        continue;
      }
      w.key(a->target);
      w.begin_array();
      for (const detail::Absent* b : gaps) {
        if (b->kind == detail::Absent::Kind::kAppend && b->target == a->target) w.value(b->value->root());
      }
      w.end_array();
    }
    w.end_object();
    return {};
  }

  // True when `object` has `name` or its primitive twin (`_name` / `name`).
  static bool has_member(json::Value object, std::string_view name) {
    if (object.find(name)) return true;
    return name.starts_with('_') ? bool(object.find(name.substr(1))) : bool(object.find("_" + std::string(name)));
  }

  static bool targets(const std::vector<const detail::Absent*>& gaps, std::string_view member) {
    return std::any_of(gaps.begin(), gaps.end(), [&](const detail::Absent* a) {
      return a->target == member && a->kind != detail::Absent::Kind::kSet;
    });
  }

  // A top-level member of resource r with the mapping's stated gaps: an
  // object (or each object item of an array) lacking a `fill` member gets
  // its template; `append` templates follow an array's own items.
  Status copy_stating_gaps(json::Writer& w, json::Value v, std::uint32_t r,
                           const std::vector<const detail::Absent*>& gaps, std::string_view member,
                           std::string& path) {
    if (!v.is_array()) return copy_filling(w, v, r, gaps, member, path);
    w.begin_array();
    for (json::Value item : v.items()) GW_CHECK_OK(copy_filling(w, item, r, gaps, member, path));
    for (const detail::Absent* a : gaps) {
      if (a->kind == detail::Absent::Kind::kAppend && a->target == member) w.value(a->value->root());
    }
    w.end_array();
    return {};
  }

  Status copy_filling(json::Writer& w, json::Value item, std::uint32_t r,
                      const std::vector<const detail::Absent*>& gaps, std::string_view member,
                      std::string& path) {
    std::vector<const detail::Absent*> fills;
    for (const detail::Absent* a : gaps) {
      if (a->kind == detail::Absent::Kind::kFill && a->target == member && item.is_object() &&
          !has_member(item, a->member)) {
        fills.push_back(a);
      }
    }
    if (fills.empty()) return copy(w, item, r, 2, &path);
    // Member by member (references rewritten as usual), then the gaps.
    w.begin_object();
    for (std::size_t i = 0; i < item.size(); ++i) {
      std::string_view k = item.key(i);
      if (k == "text" && is_narrative(item[i])) continue;
      std::size_t len = path.size();
      path += '.';
      path += k;
      if (!mapping_->omit.count(path)) {
        w.key(k);
        GW_CHECK_OK(copy(w, item[i], r, 3, &path));
      }
      path.resize(len);
    }
    for (const detail::Absent* a : fills) {
      w.key(a->member);
      w.value(a->value->root());
    }
    w.end_object();
    return {};
  }

  static bool is_narrative(json::Value v) { return v.is_object() && v.find("div"); }

  // Copies a value, rewriting references. Any `text` member that is a
  // Narrative (an object with a div) is dropped: input narrative never
  // passes, wherever it sits (contained resources, nested resources).
  //
  // `path` is the element path of `v` without indices
  // ("CarePlan.activity.detail"), for the mapping's `omit` list; null below
  // where omission does not apply (meta).
  Status copy(json::Writer& w, json::Value v, std::uint32_t from, int depth, std::string* path) {
    if (depth > kMaxCopyDepth)
      return fail(ErrorCode::kLimit, "input nests deeper than the handoff copy limit");
    if (v.is_array()) {
      w.begin_array();
      for (json::Value x : v.items()) GW_CHECK_OK(copy(w, x, from, depth + 1, path));
      w.end_array();
      return {};
    }
    if (!v.is_object()) {
      w.value(v);
      return {};
    }
    json::Value ref = v.find("reference");
    if (ref.is_string()) return copy_reference(w, v, from, depth, path);
    w.begin_object();
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string_view k = v.key(i);
      if (k == "text" && is_narrative(v[i])) continue;
      std::size_t len = path ? path->size() : 0;
      if (path) {
        *path += '.';
        *path += k;
        if (mapping_->omit.count(*path)) {
          path->resize(len);
          continue;
        }
      }
      w.key(k);
      GW_CHECK_OK(copy(w, v[i], from, depth + 1, path));
      if (path) path->resize(len);
    }
    w.end_object();
    return {};
  }

  // A Reference: to an included entry -> its new fullUrl; to a contained
  // resource (#id) -> unchanged; anything else -> display-only (the
  // reference is removed, a display kept or written).
  Status copy_reference(json::Writer& w, json::Value v, std::uint32_t from, int depth,
                        std::string* path) {
    std::string_view ref = v.find("reference").str();
    std::string target;
    bool keep = false;
    std::string_view type;
    if (!ref.empty() && ref[0] == '#') {
      keep = true;
      target = std::string(ref);
    } else {
      std::uint32_t j = resolve(ref, from);
      if (j != kNone) {
        std::uint32_t r = parent_of(j);
        type = entries_[r].type;
        if (included_.count(r)) {
          keep = true;
          target = url_of(r);
        }
      } else {
        std::string_view clean = strip_history(ref);
        auto s1 = clean.rfind('/');
        if (s1 != std::string_view::npos && s1 > 0) {
          auto s0 = clean.rfind('/', s1 - 1);
          std::string_view t = clean.substr(s0 == std::string_view::npos ? 0 : s0 + 1,
                                            s1 - (s0 == std::string_view::npos ? 0 : s0 + 1));
          const fhir::TypeDef* def = model_.type(t);
          if (def && def->kind == fhir::TypeKind::kResource) type = def->name;
        }
      }
    }
    w.begin_object();
    bool has_display = false;
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string_view k = v.key(i);
      if (k == "reference") {
        if (!keep) continue;
        w.key(k);
        w.string(target);
        continue;
      }
      if (k == "display" && v[i].is_string()) has_display = true;
      w.key(k);
      GW_CHECK_OK(copy(w, v[i], from, depth + 1, path));
    }
    if (!keep && !has_display) {
      w.key("display");
      w.string(std::string(type.empty() ? "Resource" : type) + " (not included in this handoff)");
    }
    w.end_object();
    return {};
  }

  const MappingSet::Impl& set_;
  const fhir::Model& model_;
  json::Value bundle_;
  const BuildOptions& options_;
  fhir::Node root_;
  const Mapping* mapping_ = nullptr;
  std::string source_bundle_;
  std::vector<Entry> entries_;
  std::unordered_map<std::uint32_t, std::uint32_t> by_offset_;
  std::unordered_map<std::string_view, std::uint32_t> by_full_url_;
  std::unordered_map<std::string, std::uint32_t> by_type_id_;
  std::vector<std::uint32_t> parent_;
  std::uint32_t patient_ = kNone;
  std::uint32_t author_ = kNone;
  std::vector<std::vector<std::uint32_t>> selected_;  // per mapping section
  std::vector<std::vector<std::uint32_t>> placed_;    // per mapping section, survivors
  std::set<std::uint32_t> included_;
  std::vector<std::uint32_t> order_;  // included survivors in entry order of the output
  std::unordered_map<std::uint32_t, std::size_t> section_of_;  // survivor -> mapping section
  std::unordered_map<std::uint32_t, std::string> uuid_;
  // Survivor -> the gaps its failed checks state (pointers into mapping_).
  std::unordered_map<std::uint32_t, std::vector<const detail::Absent*>> absent_;
  std::string now_;
  Handoff out_;
};

}  // namespace

Result<Handoff> build(const MappingSet& mappings, json::Value bundle, const BuildOptions& options) {
  GW_ASSERT(options.clock != nullptr, "BuildOptions.clock is required");
  GW_ASSERT(options.ids != nullptr, "BuildOptions.ids is required");
  Builder b(mappings.impl(), bundle, options);
  return b.run();
}

}  // namespace gw::handoff
