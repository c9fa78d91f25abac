// FHIR date/dateTime/instant text <-> time points, for Consent periods and
// receipts. Partial values ("2024", "2024-05") denote an interval.
#pragma once

#include "gateway/consent/consent.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace gw::consent::detail {

/// The interval a FHIR date, dateTime or instant denotes: [low, high).
/// "2024" -> [2024-01-01T00:00Z, 2025-01-01T00:00Z); a full timestamp ->
/// [t, t + 1 s) (fractions of a second are kept in low). Values without a
/// time zone are read as UTC. nullopt when the text is not a valid FHIR
/// date/dateTime.
struct DateTimeBounds {
  TimePoint low;
  TimePoint high;
};
std::optional<DateTimeBounds> parse_fhir_datetime(std::string_view text);

}  // namespace gw::consent::detail
