// The compiled form of a mapping file, and the catalogue of section codes a
// HandoffDocument may hold. Private to gw::handoff.
#pragma once

#include "gateway/fhirpath/fhirpath.hpp"
#include "gateway/handoff/handoff.hpp"

#include <map>
#include <optional>
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
  std::vector<std::string> literals;              ///< literals.size() == holes.size() + 1
  std::vector<fhirpath::Expression> holes;
  bool empty() const { return holes.empty() && (literals.empty() || literals[0].empty()); }
};

struct Section {
  const SectionKind* kind = nullptr;
  std::string title;
  std::optional<fhirpath::Expression> select;  ///< absent: the section only narrates
};

struct Mapping {
  std::string name;
  std::string file;
  std::string description;
  std::optional<fhirpath::Expression> accepts;  ///< always set after load
  std::optional<fhirpath::Expression> patient;  ///< always set after load
  std::optional<fhirpath::Expression> author;
  Template title;
  std::vector<std::string> follow;               ///< resource types whose references are followed
  std::map<std::string, std::string, std::less<>> profiles;  ///< resource type -> profile
  std::vector<Section> sections;
};

}  // namespace gw::handoff::detail

namespace gw::handoff {

struct MappingSet::Impl {
  std::shared_ptr<const fhir::Model> model;
  std::vector<detail::Mapping> mappings;
};

}  // namespace gw::handoff
