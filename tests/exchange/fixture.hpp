// A complete gateway below HTTP for tests: the real validator (R4 + IPS +
// the migrant-care package built from fhir-profiles/, so every handoff is
// checked against HandoffDocument), the real mappings, the demo consent policy and registrations,
// and a real SQLite store in a folder the caller owns.
#pragma once

#include "gateway/exchange/exchange.hpp"
#include "gateway/store/store.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gw::consent {
struct Recipient;
}
namespace gw::validation {
class Validator;
}

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
  std::shared_ptr<const validation::Validator> validator;  ///< R4 + IPS + migrant-care
  std::string error;  ///< set when the world could not be built
};

/// Builds a world whose store lives in `dir` (created). Definitions are
/// loaded once per process.
/// `registrations` (optional) edits the demo registrations first (e.g. a
/// recipient's delivery_format or withdrawal_notice).
/// `signer` (optional) signs and checks documents (issue #12).
World make_world(const std::string& dir, std::shared_ptr<const Clock> clock,
                 std::function<void(std::vector<consent::Recipient>&)> registrations = {},
                 std::shared_ptr<const DocumentSigner> signer = nullptr);

/// A Consent (id "permit-home-visits", active, patient-privacy) permitting
/// location data (LOCIS) for treatment to each of `actors` (registration ids).
std::string location_consent(const std::vector<std::string>& actors, std::string_view status = "active");

/// The demo discharge summary (config/demo/discharge-summary.json).
std::string demo_bundle();

/// The demo bundle with a home address and a passport number planted in
/// its Patient: data no clinic may receive without the patient's consent.
std::string bundle_with_sensitive_data();

}  // namespace gw::exchange::testing
