// One validation call: a walk over the JSON tree guided by compiled plans.
//
// The walk runs once against the base definitions (mode kBase: JSON shape,
// unknown members, primitive formats, base cardinalities, base invariants,
// extensions by url) and once per profile (mode kProfile: only what the
// profile constrains; it descends only where the profile has children or
// names a type profile). Both modes share one recursive core:
//
//   walk_resource  -> a resource: its frame, base pass, meta.profile passes
//   walk_item      -> one element value: its rules, then its children
//   walk_object    -> the members of one JSON object, grouped by element,
//                     with cardinality, arrays, `_x` pairing and slicing
//
// The current FHIRPath location is one buffer (`path_`, a PathBuf) that
// grows and shrinks with the recursion; it is copied only when an issue is
// made.
// Scratch vectors are kept per depth and reused, so a warmed-up walker does
// not allocate per node.
//
// A Walker lives for one validate() call, on one thread.
#pragma once

#include "gateway/core/flat_index.hpp"
#include "gateway/validation/detail/plan.hpp"
#include "gateway/validation/detail/validator_impl.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <span>
#include <string>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace gw::validation::detail {

enum class Mode : std::uint8_t { kBase, kProfile };

/// One element value found in JSON: the value and its `_x` sibling for
/// primitives (either may be absent, not both).
struct Item {
  json::Value value;
  json::Value ext;
  std::string_view key;        ///< JSON member name (choice expanded, no underscore)
  std::string_view type_code;  ///< concrete type code from the model
  const fhir::TypeDef* type = nullptr;
  std::int32_t index = -1;     ///< array index, -1 for single values
  json::Value anchor() const { return value ? value : ext; }
};

struct BundleScope;

/// The FHIRPath location under walk. A char buffer that never shrinks:
/// pushing a member name is a bounds check and a copy, popping is an
/// assignment. (std::string's append and resize are out-of-line calls, and
/// this runs for every member of every object.)
class PathBuf {
 public:
  PathBuf() : buf_(256) {}
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {buf_.data(), size_}; }
  std::string str() const { return std::string(view()); }
  void assign(std::string_view s) {
    size_ = 0;
    append(s);
  }
  /// Back to an earlier length (n <= size()).
  void truncate(std::size_t n) { size_ = n; }
  void push(char c) {
    grow(1);
    buf_[size_++] = c;
  }
  void append(std::string_view s) {
    if (s.empty()) return;
    grow(s.size());
    copy(buf_.data() + size_, s.data(), s.size());
    size_ += s.size();
  }

 private:
  // Member names are short: two overlapping fixed-size copies (inlined)
  // instead of a call to memcpy for every name pushed. Reads and writes
  // stay within [src, src + n) and [dst, dst + n).
  static void copy(char* dst, const char* src, std::size_t n) {
    if (n >= 8 && n <= 16) {
      std::memcpy(dst, src, 8);
      std::memcpy(dst + n - 8, src + n - 8, 8);
    } else if (n >= 4 && n < 8) {
      std::memcpy(dst, src, 4);
      std::memcpy(dst + n - 4, src + n - 4, 4);
    } else if (n < 4) {
      for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
    } else {
      std::memcpy(dst, src, n);
    }
  }
  void grow(std::size_t more) {
    if (size_ + more > buf_.size()) buf_.resize(std::max(buf_.size() * 2, size_ + more));
  }
  std::vector<char> buf_;
  std::size_t size_ = 0;
};

/// The resource being walked and where it sits.
struct ResourceFrame {
  json::Value obj;
  const fhir::TypeDef* type = nullptr;
  const ResourceFrame* container = nullptr;  ///< holder of `contained` for a contained resource
  BundleScope* bundle = nullptr;             ///< bundle of which this is an entry resource
  std::int32_t entry = -1;
  std::string_view full_url;
  std::size_t path_len = 0;                  ///< length of path_ at the resource root
};

/// What the object under walk is, for extension context checks.
struct ObjContext {
  const fhir::TypeDef* type = nullptr;   ///< type of the object
  std::size_t elem_path_len = 0;         ///< elem_path_ prefix naming it ("Patient.name")
  const fhir::ElementDef* element = nullptr;  ///< its definition (HumanName.family), null for roots
  std::int32_t index = -1;               ///< its index in its parent's array (Bundle.entry[i])
  std::string_view extension_url;        ///< when the object is an Extension
  bool resource_root = false;
};

struct BundleEntry {
  json::Value resource;
  const fhir::TypeDef* type = nullptr;
  std::string_view full_url;
  bool request = false;   ///< has entry.request
  bool response = false;  ///< has entry.response
};

/// A Bundle's entries, indexed in one pass over them before the walk: the
/// reference index and what the entry-level rules (fullUrl, bdl-3, bdl-4,
/// bdl-7) need, so that those rules do not fetch a large Bundle's entries
/// from memory again.
struct BundleScope {
  json::Value bundle;
  std::string_view type;
  std::string path;  ///< FHIRPath location of the Bundle
  std::vector<BundleEntry> entries;
  /// Entry index by fullUrl (keyed with the validator's hash seed: the URLs
  /// are the sender's). A 100k-entry Bundle's index is 2 MiB, a fifth of a
  /// node-based map's, built and freed on every validation.
  FlatIndex by_full_url;
  std::string_view full_url_of(std::uint32_t i) const { return entries[i].full_url; }
  bool repeated_full_url = false;  ///< some fullUrl appears twice (bdl-7 looks closer)
  std::size_t with_request = 0;
  std::size_t with_response = 0;
  /// fullUrl problems found by the index pass, reported by check_bundle.
  std::vector<std::pair<std::uint32_t, std::string>> full_url_problems;
  // Built on first use only (most Bundles never need them):
  std::unordered_map<std::string, std::uint32_t> by_type_id;  ///< "Patient/123"
  std::unordered_map<std::uint32_t, std::uint32_t> by_offset; ///< resource JSON offset -> entry
  bool type_id_built = false;
  bool offset_built = false;
  const std::unordered_map<std::string, std::uint32_t>& type_ids();
  std::int32_t entry_of(json::Value resource);
  BundleScope* parent = nullptr;
};

/// Outcome of resolving a reference string locally.
struct Resolved {
  json::Value resource;
  const fhir::TypeDef* type = nullptr;
  BundleScope* bundle = nullptr;              ///< set for bundle entries
  std::int32_t entry = -1;
  const ResourceFrame* container = nullptr;   ///< set for contained resources
  std::int32_t contained_index = -1;
  bool self = false;                          ///< "#": the container itself
  explicit operator bool() const { return static_cast<bool>(resource); }
};

// One JSON member matched to its element. Built with emplace_back,
// fields written straight into the vector: a struct assembled on the
// stack with narrow stores and copied with wide loads stalled on store
// forwarding (measured: a fifth of walk_object's own time).
struct MemberRef {
  // A constructor, not an aggregate: clang 14 (the fuzz build) has no
  // parenthesized aggregate initialization for emplace_back.
  MemberRef(const MemberKey* m, std::uint32_t e, std::uint32_t i, bool u)
      : match(m), elem(e), member(i), underscore(u) {}
  const MemberKey* match;  // the key's element and type (ElementPlan::members)
  std::uint32_t elem;    // element index in the owner type (match->elem, kept here for the sort)
  std::uint32_t member;  // member index in the JSON object
  bool underscore;
};

// walk_object's vectors for one depth. A walker holds one per depth by
// pointer: a reference taken at one depth survives deeper calls growing
// the list. (A deque did the same, but its size() and operator[] were a
// tenth of walk_object's instructions.)
struct DepthScratch {
  std::vector<MemberRef> refs;
  std::vector<Item> items;
};

class Walker final : public fhirpath::Environment {
 public:
  Walker(const Validator::Impl& v, std::vector<Issue>& out);
  ~Walker() override;
  Walker(const Walker&) = delete;
  Walker& operator=(const Walker&) = delete;
  /// See ValidateOptions::max_errors.
  void limit_errors(std::size_t n) { max_errors_ = n; }
  bool stopped() const { return stopped_; }

  /// Validates a root resource against the base definitions, its
  /// meta.profile and `profiles`.
  void validate(json::Value root, std::span<const StructurePlan* const> profiles);

  // fhirpath::Environment: what invariants need from the validation call.
  std::optional<fhir::Node> resolve(std::string_view reference) const override;
  Result<std::optional<bool>> member_of(std::span<const fhirpath::Code> codes,
                                        std::string_view value_set_url) const override;

 private:
  friend struct SliceMatcher;

  // ---- core walk (walker.cpp) ----
  void walk_resource(json::Value obj, ResourceFrame frame, std::span<const StructurePlan* const> extra);
  void walk_item(const ElementPlan& node, const Item& item, Mode mode, const ObjContext& parent);
  void walk_object(json::Value obj, const ElementPlan& kids, Mode mode, const ObjContext& ctx);
  /// The members of one element that walk_object is gathering into items.
  struct MemberGroup {
    const fhir::TypeDef* owner;
    std::uint32_t elem;  ///< the element: owner->elements[elem] (read for messages only)
    Mode mode;
    const ObjContext* ctx;
    std::vector<Item>* items;
    std::size_t distinct_keys = 0;  ///< JSON keys seen (a choice allows one)
    const fhir::ElementDef& def() const { return owner->elements[elem]; }
  };
  void collect_items(MemberGroup& group, json::Value v, json::Value x, std::string_view key, const MemberKey& mk);
  void walk_items(const ElementPlan& child, std::span<const Item> items, Mode mode,
                  const ObjContext& ctx, json::Value parent_obj);
  void walk_against_profile(const StructurePlan& plan, const Item& item, const ObjContext& parent);
  void check_extension(const ElementPlan& node, const Item& item, const ObjContext& parent);
  bool context_allows(const StructurePlan& ext, const ObjContext& parent) const;
  /// Full validation of a resource against one profile (memoized per
  /// call). Returns true when it conforms (no errors).
  bool conforms(json::Value resource, const StructurePlan& plan);
  bool conforms_resolved(const Resolved& r, const StructurePlan& plan);

  // ---- element rules (rules.cpp) ----
  void check_rules(const ElementPlan& node, const Item& item, Mode mode);
  /// False when the value is malformed (an issue was reported).
  bool check_primitive(const StructurePlan& type_plan, const Item& item);
  void check_binding(const ElementPlan& node, const Item& item);
  void check_code_system(const Item& item);
  void check_invariants(std::span<const Invariant* const> invariants, const ElementPlan& node,
                        const Item& item);
  // `contained` of the object under check, looked up on first use: dom-2
  // to dom-5 all read it, and on the usual resource without it each lookup
  // was a scan of every member.
  struct ContainedMemo {
    json::Value get(json::Value obj) {
      if (!known) {
        value = obj.find("contained");
        known = true;
      }
      return value;
    }
    json::Value value;
    bool known = false;
  };
  bool native_invariant(const Invariant& inv, const Item& item, ContainedMemo& contained);
  bool existence_holds(const Invariant& inv, const Item& item);
  std::optional<bool> fhirpath_verdict(const Invariant& inv, const ElementPlan& node, const Item& item);

  // ---- references and bundles (references.cpp) ----
  void check_reference(const ElementPlan& node, const TypeRule* rule, const Item& item, Mode mode);
  void index_bundle(json::Value bundle, BundleScope& scope);
  void check_bundle(const BundleScope& scope);
  /// The index of `bundle` when it is a Bundle under walk, else null.
  const BundleScope* scope_of(json::Value bundle) const {
    for (auto it = bundles_.rbegin(); it != bundles_.rend(); ++it) {
      if ((*it)->bundle == bundle) return *it;
    }
    return nullptr;
  }
  Resolved resolve_reference(std::string_view ref) const;
  std::string location_of(const Resolved& r) const;

  // ---- slicing (slicing.cpp) ----
  void walk_sliced(const ElementPlan& child, std::span<const Item> items, Mode mode,
                   const ObjContext& ctx, json::Value parent_obj);

  // ---- reporting ----
  // Cold: most values pass, and a call here marks its branch as unlikely,
  // so GCC moves the message building out of the hot functions' code (the
  // walk's code no longer fits the instruction cache with it inline).
  [[gnu::cold]] void report(Issue::Severity sev, std::string_view code, json::Value at, std::string message);
  [[gnu::cold]] void error(std::string_view code, json::Value at, std::string message) {
    report(Issue::Severity::kError, code, at, std::move(message));
  }
  [[gnu::cold]] void warning(std::string_view code, json::Value at, std::string message) {
    report(Issue::Severity::kWarning, code, at, std::move(message));
  }
  bool silent() const { return silent_ > 0; }

  // Path helpers: push returns the previous length for pop.
  std::size_t push_key(std::string_view key) {
    std::size_t len = path_.size();
    if (len != 0) path_.push('.');
    path_.append(key);
    return len;
  }
  std::size_t push_index(std::int32_t index);
  void pop(std::size_t len) { path_.truncate(len); }

  const ResourceFrame& frame() const { return *frames_.back(); }

  const Validator::Impl& v_;
  std::vector<Issue>* out_;
  PathBuf path_;
  PathBuf elem_path_;  ///< definition path ("Patient.name"), for extension contexts
  std::vector<const ResourceFrame*> frames_;
  std::vector<BundleScope*> bundles_;
  std::deque<std::unique_ptr<BundleScope>> bundle_storage_;
  mutable std::string ref_key_;  // scratch for building absolute reference keys
  std::uint32_t depth_ = 0;
  std::uint32_t silent_ = 0;
  std::size_t max_errors_ = 0;
  std::size_t errors_ = 0;  // errors reported to the caller's list
  bool stopped_ = false;    // max_errors_ reached: the walk unwinds
  std::vector<Issue>* root_out_ = nullptr;

  // walk_object's vectors, one pair per depth, reused, borrowed from the
  // Validator's pool for the walker's lifetime (Impl::take_scratch).
  WalkScratch scratch_;

  struct MemoKey {
    std::uint32_t offset;
    const StructurePlan* plan;
    bool operator==(const MemoKey&) const = default;
  };
  struct MemoHash {
    std::size_t operator()(const MemoKey& k) const noexcept {
      return std::hash<const void*>()(k.plan) ^ (static_cast<std::size_t>(k.offset) * 0x9E3779B97F4A7C15ull);
    }
  };
  enum class MemoState : std::uint8_t { kRunning, kConforms, kFails };
  std::unordered_map<MemoKey, MemoState, MemoHash> conform_memo_;
  // Plans by canonical for this validation. A bundle looks the same few
  // profile strings (type rules' profiles and targetProfiles, meta.profile,
  // extension urls) up hundreds of times, and Impl::plan hashes the whole
  // URL twice on every call. Keyed by the text, viewed where it lives: the
  // plan's strings and the document's both outlive the validation.
  struct PlanMemo {
    const char* data;
    std::size_t size;
    const StructurePlan* plan;
  };
  std::vector<PlanMemo> plan_memo_;
  const StructurePlan* plan_of(std::string_view canonical);
  // A discriminator's path, parsed and followed through one slice's plan
  // (slicing.cpp). Both depend on the plan only, not on the item, so they
  // are made once per (slice, discriminator) in a validation rather than
  // for every item tried against every slice.
  struct DiscriminatorPlan;
  struct DiscriminatorKey {
    const ElementPlan* slice;
    const Discriminator* discriminator;
    bool operator==(const DiscriminatorKey&) const = default;
  };
  struct DiscriminatorKeyHash {
    std::size_t operator()(const DiscriminatorKey& k) const noexcept {
      return std::hash<const void*>()(k.slice) ^ (std::hash<const void*>()(k.discriminator) * 0x9E3779B97F4A7C15ull);
    }
  };
  std::unordered_map<DiscriminatorKey, std::shared_ptr<const DiscriminatorPlan>, DiscriminatorKeyHash>
      discriminator_plans_;
  // Load problems already reported once in this call (invariant eval errors).
  std::vector<const Invariant*> failed_invariants_;
  fhirpath::EvaluationContext fp_ctx_;
};

/// Deep equality of a JSON value with a fixed[x] value (instance may add
/// nothing but `id` and extensions).
bool equals_fixed(json::Value instance, json::Value fixed);
/// Pattern match: every member of the pattern is in the instance; array
/// items of the pattern each match some item of the instance.
bool matches_pattern(json::Value instance, json::Value pattern);

}  // namespace gw::validation::detail
