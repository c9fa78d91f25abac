// Snapshot generation for differential-only profiles.
#include "gateway/validation/detail/validator_impl.hpp"

namespace gw::validation::detail {

Result<std::shared_ptr<const json::Document>> generate_snapshot(const Validator::Impl& v, json::Value sd) {
  (void)v;
  return fail(ErrorCode::kUnsupported, "snapshot generation is not implemented yet",
              std::string(sd.find("url").str()));
}

}  // namespace gw::validation::detail
