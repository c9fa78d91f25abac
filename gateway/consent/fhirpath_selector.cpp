// FHIRPath selectors. Until the FHIRPath engine lands, expressions that are
// more than a plain element path are rejected at policy load (fail closed:
// a rule that cannot run must not be skipped silently).
#include "gateway/consent/detail/selector.hpp"

namespace gw::consent::detail {

Result<std::shared_ptr<const Selector>> compile_fhirpath_selector(
    std::string_view /*text*/, const std::shared_ptr<const fhir::Model>& /*model*/) {
  return fail(ErrorCode::kUnsupported,
              "only plain element paths are supported until the FHIRPath engine is available");
}

}  // namespace gw::consent::detail
