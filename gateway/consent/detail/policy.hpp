// The compiled form of a consent policy: what Policy::parse builds and the
// redaction engine and verifier read. Private to gw::consent.
#pragma once

#include "gateway/consent/consent.hpp"
#include "gateway/consent/detail/selector.hpp"

#include <memory>
#include <string>
#include <vector>

namespace gw::consent::detail {

enum class RuleKind : std::uint8_t {
  kSelect,        ///< FHIRPath / element-path selector
  kExtension,     ///< extensions (and modifierExtensions) with these URLs, anywhere
  kIdentifier,    ///< Identifiers of these types or systems, anywhere
  kCode,          ///< Codings with these codes, anywhere
  kResourceType,  ///< whole resources of these types
};

enum class RuleAction : std::uint8_t { kRemove, kCoarsen };
enum class CoarsenLevel : std::uint8_t { kCountry, kRegion };

struct Rule {
  std::string id;
  int category = -1;  ///< index into CompiledPolicy::categories
  RuleKind kind = RuleKind::kSelect;
  RuleAction action = RuleAction::kRemove;
  CoarsenLevel coarsen = CoarsenLevel::kCountry;
  std::string select_text;
  std::vector<std::string> select_path;  ///< segments when select_text is a plain path
  std::shared_ptr<const Selector> selector;
  std::vector<std::string> extension_urls;
  std::vector<Coding> identifier_types;
  std::vector<std::string> identifier_systems;
  std::vector<Coding> codes;
  /// For kCode: resources of these types that carry a listed code anywhere
  /// are removed whole; elsewhere only the coded element goes.
  std::vector<std::string> remove_resource_types;
  std::vector<std::string> resource_types;
};

enum class NarrativeAction : std::uint8_t { kRegenerate, kRemove };

struct CompiledPolicy {
  std::string id;
  std::string version;
  std::string url;
  std::string canonical_base;
  std::string sha256;
  std::string purpose_system;
  std::vector<std::string> allowed_purposes;
  std::vector<std::string> enforcement_purposes;
  std::vector<Category> categories;
  std::vector<Rule> rules;
  /// v3-Confidentiality code for output that carries no released sensitive
  /// category ("N").
  std::string base_confidentiality = "N";
  NarrativeAction narrative = NarrativeAction::kRegenerate;
  /// Notes (Annotation) and attachments (Attachment, Binary) are removed;
  /// the policy format reserves other values for checked pass-through.
  bool remove_notes = true;
  bool remove_attachments = true;
  std::uint32_t max_depth = 64;
  std::shared_ptr<const fhir::Model> model;

  /// Extension URL, identifier and code lookups per category for the
  /// verifier and the engine (built from rules).
  std::string recipient_id_system() const { return canonical_base + "/sid/recipient-id"; }
};

/// Well-known code systems.
inline constexpr std::string_view kConfidentialitySystem =
    "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
inline constexpr std::string_view kObservationValueSystem =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
inline constexpr std::string_view kActReasonSystem =
    "http://terminology.hl7.org/CodeSystem/v3-ActReason";

/// Rank of a v3-Confidentiality code (U < L < M < N < R < V), -1 if unknown.
int confidentiality_rank(std::string_view code);

/// The canonical JSON form of a value: object members sorted by key
/// (bytewise), no whitespace, strings escaped as json::Writer does, numbers
/// as their literal text.
std::string canonical_json(json::Value v);

}  // namespace gw::consent::detail
