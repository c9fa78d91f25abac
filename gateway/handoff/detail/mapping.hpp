// The compiled form of a mapping file, and the catalogue of section codes a
// HandoffDocument may hold. Private to gw::handoff.
#pragma once

#include "gateway/fhirpath/fhirpath.hpp"
#include "gateway/handoff/handoff.hpp"

#include <map>
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

/// Something the target profiles need that only the input can supply: when
/// `expression` (on each included resource of `type`) is not true, build()
/// reports a warning instead of inventing data.
struct Check {
  std::string type;
  std::optional<fhirpath::Expression> expression;  ///< always set after load
  std::string location;  ///< element path inside the resource, for the warning
  std::string message;
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
