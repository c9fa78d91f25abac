// Format checks for FHIR primitive values.
//
// Each R4 primitive publishes a regex on its `.value` element. For the ones
// R4 defines we carry hand-written matchers of exactly the same language
// (RE2 semantics: `\s` is [\t\n\f\r ]), because they run on every primitive
// of every resource and a regex engine costs several times more. The
// compiler uses a fast matcher only when the definition's regex is the one
// it was written for (see `r4_regex`); otherwise it falls back to RE2 on the
// published regex. A test cross-checks the two on a corpus of samples.
// Calendar checks (day of month, leap years) come on top of the regex, as
// the regexes alone accept 2023-02-31.
#pragma once

#include "gateway/json/json.hpp"

#include <cstdint>
#include <string_view>

namespace gw::validation::detail {

enum class PrimitiveKind : std::uint8_t {
  kOther,  ///< not an R4 primitive with a fast matcher
  kBoolean,
  kInteger,
  kDecimal,
  kPositiveInt,
  kUnsignedInt,
  kString,
  kMarkdown,
  kCode,
  kId,
  kUri,
  kUrl,
  kCanonical,
  kOid,
  kUuid,
  kDate,
  kDateTime,
  kInstant,
  kTime,
  kBase64Binary,
  kXhtml,
};

PrimitiveKind primitive_kind(std::string_view type_name);

/// The regex R4 publishes for a kind ("" for kOther and kXhtml).
std::string_view r4_regex(PrimitiveKind kind);

/// True for kinds carried as JSON numbers (integer, decimal, ...).
bool is_numeric(PrimitiveKind kind);

/// The JSON kind a primitive must be written as.
enum class JsonShape : std::uint8_t { kString, kNumber, kBoolean };
JsonShape json_shape(PrimitiveKind kind);

/// Full match of `text` against the R4 regex of `kind` (kind != kOther).
bool matches_r4_regex(PrimitiveKind kind, std::string_view text);

/// Calendar validity of a value that already matches the regex of a date,
/// dateTime or instant (day within its month, leap years). Other kinds: true.
bool calendar_valid(PrimitiveKind kind, std::string_view text);

/// For integer kinds: the value fits a signed 32-bit integer (and is > 0
/// for positiveInt). Assumes the regex matched.
bool integer_in_range(PrimitiveKind kind, std::string_view text);

/// String content rule shared by string-like primitives: no control
/// characters other than tab, CR and LF (C0, DEL, C1). True when clean.
bool no_illegal_controls(std::string_view text);

/// True when every character is whitespace (space, tab, CR, LF, FF).
bool all_whitespace(std::string_view text);

/// Compares two decimals/integers written as JSON number literals
/// numerically, without converting to binary floating point. Returns <0, 0, >0.
int compare_decimal(std::string_view a, std::string_view b);

}  // namespace gw::validation::detail
