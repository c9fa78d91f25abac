// The invariant step's seam: a compiled constraint expression evaluated on
// an element. The FHIRPath module implements it; the validator only needs
// "does this constraint hold here?".
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/fhir/fhir.hpp"

#include <memory>
#include <string_view>

namespace gw::validation::detail {

/// Resolves a reference string seen from a given resource (contained
/// "#id", bundle fullUrl or relative Type/id) to the resource it names, for
/// FHIRPath's resolve(). Implemented by the walker, valid during one call.
class ReferenceResolver {
 public:
  virtual ~ReferenceResolver() = default;
  /// The resolved resource as a Node (type from its resourceType), or a
  /// Node with a null type when the reference cannot be resolved locally.
  virtual fhir::Node resolve(std::string_view reference) const = 0;
};

struct EvalContext {
  fhir::Node focus;          ///< the element the constraint is declared on
  fhir::Node resource;       ///< %resource: the resource containing the focus
  fhir::Node root_resource;  ///< %rootResource: the container of a contained resource
  const ReferenceResolver* resolver = nullptr;
};

/// A constraint expression compiled once. Immutable, thread-safe.
class CompiledExpression {
 public:
  virtual ~CompiledExpression() = default;
  /// True when the constraint holds. Errors are evaluation failures (an
  /// unsupported function, a type error): the caller reports them once.
  virtual Result<bool> holds(const EvalContext& ctx) const = 0;
};

/// Compiles expressions. Immutable, thread-safe.
class ExpressionEngine {
 public:
  virtual ~ExpressionEngine() = default;
  /// `context_type` is the type the expression is evaluated on (for
  /// static checks); may be null. Errors: kParse for a bad expression,
  /// kUnsupported for a function the engine does not implement.
  virtual Result<std::shared_ptr<const CompiledExpression>> compile(
      std::string_view expression, const fhir::TypeDef* context_type) const = 0;
};

/// The engine backed by the FHIRPath module; null when the build has none.
std::shared_ptr<const ExpressionEngine> make_fhirpath_engine(std::shared_ptr<const fhir::Model> model);

}  // namespace gw::validation::detail
