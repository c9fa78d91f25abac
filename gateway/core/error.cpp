// Error formatting and the assertion handler. Kept out of the header so the
// header stays cheap to include everywhere.
#include "gateway/core/core.hpp"

#include <cstdio>
#include <cstdlib>

namespace gw {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid-argument";
    case ErrorCode::kParse: return "parse";
    case ErrorCode::kNotFound: return "not-found";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kIntegrity: return "integrity";
    case ErrorCode::kLimit: return "limit";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

Error Error::with_context(std::string_view outer) const {
  std::string loc(outer);
  if (!location_.empty()) {
    if (!loc.empty()) loc += ": ";
    loc += location_;
  }
  return Error(code_, message_, std::move(loc));
}

std::string Error::to_string() const {
  if (location_.empty()) return message_;
  return location_ + ": " + message_;
}

void assertion_failed(const char* expr, const char* file, int line,
                      const char* message) noexcept {
  // stderr only: an invariant message names code, never data.
  std::fprintf(stderr, "GW_ASSERT failed: %s (%s) at %s:%d\n", expr, message, file, line);
  std::abort();
}

}  // namespace gw
