// A complete gateway below HTTP for tests: the real validator (R4 + IPS +
// the migrant-care package built from fhir-profiles/, so every handoff is
// checked against HandoffDocument), the real mappings, the demo consent policy and registrations,
// and a real SQLite store in a folder the caller owns.
#pragma once

#include "gateway/exchange/exchange.hpp"
#include "gateway/store/store.hpp"

#include <memory>
#include <string>

namespace gw::exchange::testing {

/// 2026-09-21T... fixed.
class FixedClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1'790'000'000));
  }
};

struct World {
  std::shared_ptr<store::Store> store;
  std::shared_ptr<const Exchange> exchange;
  std::string error;  ///< set when the world could not be built
};

/// Builds a world whose store lives in `dir` (created). Definitions are
/// loaded once per process.
World make_world(const std::string& dir, std::shared_ptr<const Clock> clock);

/// The demo discharge summary (config/demo/discharge-summary.json).
std::string demo_bundle();

/// The demo bundle with a home address and a passport number planted in
/// its Patient: data no clinic may receive without the patient's consent.
std::string bundle_with_sensitive_data();

}  // namespace gw::exchange::testing
