// The compiled form of a mapping file, and the catalogue of section codes a
// HandoffDocument may hold. Private to gw::handoff.
#pragma once

#include "gateway/fhirpath/fhirpath.hpp"
#include "gateway/handoff/handoff.hpp"
#include "gateway/json/json.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gw::handoff::detail {

/// One section the HandoffDocument knows (the contract with fhir-profiles/).
struct SectionKind {
  std::string_view code;     ///< LOINC
  std::string_view display;  ///< LOINC display
  bool required;             ///< always written; empty -> emptyReason "unavailable"
  bool care_needs;           ///< also narrates the patient's language and interpreter needs
};

/// The section catalogue, in the order a HandoffDocument lists them.
std::span<const SectionKind> section_kinds();
const SectionKind* find_section_kind(std::string_view code);

/// A string with `{{FHIRPath}}` holes, evaluated against the input Bundle;
/// the items of a hole are joined with ", ".
struct Template {
  std::vector<std::string> literals;  ///< literals.size() == holes.size() + 1
  std::vector<fhirpath::Expression> holes;
  bool empty() const { return holes.empty() && (literals.empty() || literals[0].empty()); }
};

using ProfileMap =
    std::map<std::string, std::string, std::less<>>;  ///< resource type -> profile URL

struct Section {
  const SectionKind* kind = nullptr;
  std::string title;
  std::optional<fhirpath::Expression> select;  ///< absent: the section only narrates
  ProfileMap profiles;                         ///< overrides Mapping::profiles in this section
};

/// What a failed check writes into the output resource: the gap stated
/// explicitly (a data-absent-reason extension), so that the document still
/// conforms and a receiving clinic reads "unknown", not "none". Never a
/// guessed value: the template is fixed in the mapping file.
struct Absent {
  enum class Kind : std::uint8_t {
    kAppend,  ///< append `value` to the resource's top-level array `target` (created if missing)
    kFill,    ///< in the top-level object `target` (or each object item of that array), set
              ///< `member` to `value` where neither it nor its `_` twin is present
    kSet,     ///< set the top-level member `target` to `value` when neither it nor its twin is present
  };
  Kind kind = Kind::kAppend;
  std::string target;
  std::string member;                           ///< kFill only
  std::shared_ptr<const json::Document> value;  ///< its root is the template
};

/// Something the target profiles need that only the input can supply: when
/// `expression` (on each included resource of `type`) is not true, build()
/// reports a warning instead of inventing data, and writes `absent` when
/// the mapping gives one.
struct Check {
  std::string type;
  std::optional<fhirpath::Expression> expression;  ///< always set after load
  std::string location;  ///< element path inside the resource, for the warning
  std::string message;
  std::vector<Absent> absent;  ///< applied in order when the check fails
};

struct Mapping {
  std::string name;
  std::string file;
  std::string description;
  std::optional<fhirpath::Expression> accepts;  ///< always set after load
  std::optional<fhirpath::Expression> patient;  ///< always set after load
  std::optional<fhirpath::Expression> author;
  Template title;
  std::vector<std::string> follow;  ///< resource types whose references are followed
  ProfileMap profiles;
  std::vector<Section> sections;
  std::vector<Check> checks;
  std::set<std::string, std::less<>> omit;  ///< "Type.element.child" paths never copied
};

}  // namespace gw::handoff::detail

namespace gw::handoff {

struct MappingSet::Impl {
  std::shared_ptr<const fhir::Model> model;
  std::vector<detail::Mapping> mappings;
};

}  // namespace gw::handoff
