// The selector step: which nodes of a resource a policy rule's `select`
// expression picks. A small interface so the engine does not care how
// selection is done: plain element paths ("Patient.contact.address") are
// walked directly over the fhir::Model, everything else is compiled with
// the FHIRPath engine.
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/fhir/fhir.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gw::consent::detail {

/// Picks nodes of one resource. Implementations are immutable and
/// thread-safe.
class Selector {
 public:
  virtual ~Selector() = default;
  /// The resource type the expression starts from ("Patient"), or "" when
  /// it applies to any resource. The engine skips other types without
  /// evaluating.
  virtual const std::string& resource_type() const = 0;
  /// Appends the selected nodes of `resource` (a root resource node;
  /// `container` is the outermost resource, for %rootResource and
  /// resolve()). Errors are evaluation failures (kLimit, kInvalidArgument):
  /// the engine fails the release rather than skip a rule.
  virtual Status select(const fhir::Node& resource, const fhir::Node& container,
                        std::vector<fhir::Node>& out) const = 0;
};

/// Splits "Patient.contact.address" into segments. True only for a plain
/// dotted path of identifiers (letters, digits, '_') whose first segment
/// starts with an upper-case letter (a type name).
bool parse_simple_path(std::string_view text, std::vector<std::string>& segments);

/// Compiles a selector. Plain paths are checked against the model (every
/// segment must name an element: kInvalidArgument otherwise) and walked
/// directly; other expressions go to the FHIRPath engine (compile errors are
/// returned with its location).
Result<std::shared_ptr<const Selector>> compile_selector(
    std::string_view text, const std::shared_ptr<const fhir::Model>& model);

}  // namespace gw::consent::detail
