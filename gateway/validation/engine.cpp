// The invariant engine seam. Until the FHIRPath module is merged, there is
// no engine: only the invariants the walker implements natively are checked.
#include "gateway/validation/detail/engine.hpp"

namespace gw::validation::detail {

std::shared_ptr<const ExpressionEngine> make_fhirpath_engine(std::shared_ptr<const fhir::Model> model) {
  (void)model;
  return nullptr;
}

}  // namespace gw::validation::detail
