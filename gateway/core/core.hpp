// gw::core — the vocabulary every other module speaks.
//
// What lives here: the error value (`gw::Error`), the result type
// (`gw::Result<T>`), the propagation macro `GW_TRY`, the invariant check
// `GW_ASSERT`, and the clock interface. Nothing here does I/O.
//
// Errors are split three ways (STYLE.md §3):
//   (a) problems *in the data* are not errors at all: they are issues that a
//       validator collects and returns inside a successful result;
//   (b) operational failures (bad input that cannot be parsed, a missing
//       package, an I/O failure) are returned as `gw::Error` inside
//       `gw::Result<T>`;
//   (c) broken invariants of our own code hit `GW_ASSERT` and abort.
#pragma once

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace gw {

/// Classification of an operational failure. Callers branch on the code,
/// humans read the message. Keep the list short: a new code is warranted only
/// when some caller must react differently to it.
enum class ErrorCode : std::uint8_t {
  kOk = 0,
  kInvalidArgument,  ///< the caller passed something unusable (usage errors)
  kParse,            ///< input bytes are not what they claim (JSON, FHIRPath)
  kNotFound,         ///< a named thing (file, package, canonical) is absent
  kUnsupported,      ///< well-formed but not something we implement
  kIo,               ///< the operating system said no
  kIntegrity,        ///< a checksum, signature or hash did not match
  kLimit,            ///< a configured limit (depth, size, count) was exceeded
  kInternal,         ///< a failure of our own code that is not an invariant
};

/// Short stable name of a code, e.g. "parse"; used in CLI output and logs.
std::string_view to_string(ErrorCode code) noexcept;

/// An operational failure, as a value.
///
/// `location` says where the problem is, in the vocabulary of the input:
/// a file path with line and column for JSON, a character offset for
/// FHIRPath, a FHIRPath-style element path for FHIR data. Messages and
/// locations must never contain patient data: describe the shape of the
/// problem ("duplicate key 'birthDate'"), never the value.
///
/// Thread-compatible value type. Not an aggregate on purpose: the default
/// constructor is needed by boost::system::result (STYLE.md, toolchain facts).
class Error {
 public:
  Error() = default;
  Error(ErrorCode code, std::string message, std::string location = {})
      : code_(code), message_(std::move(message)), location_(std::move(location)) {}

  ErrorCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  const std::string& location() const noexcept { return location_; }

  /// Returns a copy whose location is `outer` prefixed to this one, for
  /// callers that add context ("file.json" + "line 3, column 7").
  Error with_context(std::string_view outer) const;

  /// "location: message" (or just the message when there is no location).
  std::string to_string() const;

  friend bool operator==(const Error&, const Error&) = default;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::string location_;
};

/// The result type of every fallible operation: check `if (!r)` and then use
/// `*r` (or `r.error()`).
template <class T>
using Result = boost::system::result<T, Error>;

/// Result of an operation with no value.
using Status = boost::system::result<void, Error>;

/// Builds an error result in one expression: `return gw::fail(ErrorCode::kParse, "...")`.
inline Error fail(ErrorCode code, std::string message, std::string location = {}) {
  return Error(code, std::move(message), std::move(location));
}

/// Called by GW_ASSERT: prints the failed condition and aborts. Never returns.
[[noreturn]] void assertion_failed(const char* expr, const char* file, int line,
                                   const char* message) noexcept;

/// Source of time, passed in rather than read from a global so tests can
/// inject it. Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
};

/// A FHIR instant in UTC: "2024-05-01T12:00:00Z", or with `milliseconds`
/// "2024-05-01T12:00:00.250Z" (logs, audit events). Smaller fractions are
/// dropped, never rounded up.
std::string format_instant(std::chrono::system_clock::time_point t, bool milliseconds = false);

/// The real wall clock.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
};

/// The longest prefix of `s` of at most `max_bytes` bytes that does not end
/// inside a UTF-8 sequence. Messages quote keys and names from untrusted
/// input cut to a length; a cut through a multi-byte character made
/// OperationOutcomes that are not valid JSON text (bundle_validate_fuzz).
inline std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) noexcept {
  if (s.size() <= max_bytes) return s;
  std::size_t n = max_bytes;
  // Back off over continuation bytes (10xxxxxx) to the start of the
  // character that straddles the cut, and cut before it.
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace gw

/// Checks an invariant of our own code. On failure it aborts: a broken
/// invariant is never "handled" (STYLE.md §3c). Always on, also in release
/// builds: the cost is a predictable branch.
#define GW_ASSERT(cond, msg)                                        \
  do {                                                              \
    if (!(cond)) ::gw::assertion_failed(#cond, __FILE__, __LINE__, msg); \
  } while (0)

#define GW_CONCAT_INNER(a, b) a##b
#define GW_CONCAT(a, b) GW_CONCAT_INNER(a, b)

/// `GW_TRY(auto x, expr);` evaluates `expr` (a Result), returns its error from
/// the enclosing function if it failed, and otherwise binds the value to the
/// declaration. Like google/fhir's FHIR_ASSIGN_OR_RETURN.
#define GW_TRY(decl, expr) GW_TRY_IMPL(GW_CONCAT(gw_try_, __LINE__), decl, expr)
#define GW_TRY_IMPL(tmp, decl, expr)      \
  auto tmp = (expr);                      \
  if (!tmp) return std::move(tmp).error(); \
  decl = std::move(*tmp)

/// `GW_CHECK_OK(expr);` returns the error of a Status/Result from the
/// enclosing function, discarding any value.
#define GW_CHECK_OK(expr)                                         \
  do {                                                            \
    auto gw_check_ok_r = (expr);                                  \
    if (!gw_check_ok_r) return std::move(gw_check_ok_r).error();  \
  } while (0)
