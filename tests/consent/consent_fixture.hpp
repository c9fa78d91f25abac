// Shared set-up for the consent tests: the R4 model, the default policy from
// config/, the demo recipients, fixture files.
#pragma once

#include "gateway/consent/consent.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "tests/support/test_support.hpp"

namespace gw::consent::testing {

/// The R4 model (null + test failure when the package cache is missing).
inline std::shared_ptr<const fhir::Model> model() {
  const auto* defs = gw::testing::core_definitions();
  return defs ? defs->model : nullptr;
}

inline std::string config_path(const std::string& name) {
  return gw::testing::source_dir() + "/config/" + name;
}
inline std::string data_path(const std::string& name) {
  return gw::testing::source_dir() + "/tests/data/consent/" + name;
}

/// The default policy (config/consent-policy.json), loaded once.
inline std::shared_ptr<const Policy> default_policy() {
  static std::shared_ptr<const Policy> policy = [] {
    auto m = model();
    if (!m) return std::shared_ptr<const Policy>();
    auto p = Policy::load_file(config_path("consent-policy.json"), m);
    if (!p) {
      ADD_FAILURE() << p.error().to_string();
      return std::shared_ptr<const Policy>();
    }
    return *p;
  }();
  return policy;
}

inline json::Document parse(std::string text) {
  auto d = json::Document::parse(std::move(text));
  EXPECT_TRUE(d) << (d ? "" : d.error().to_string());
  return d ? std::move(*d) : json::Document();
}

inline json::Document load(const std::string& fixture) {
  return parse(gw::testing::read_file(data_path(fixture)));
}

/// A point in time inside the fixture consents' periods.
inline TimePoint fixture_now() {
  return TimePoint(std::chrono::seconds(1718000000));  // 2024-06-10T06:13:20Z
}

/// Lower case and single spaces, written independently of the engine's
/// normalisation.
inline std::string normalised(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

/// Audit reason and findings, for failure messages.
inline std::string describe(const AuditRecord& a) {
  std::string s = std::string(to_string(a.outcome)) + " (" + a.reason + ")";
  for (const Finding& f : a.findings) {
    s += "\n  " + std::string(to_string(f.kind)) + " " + f.category + " at " + f.path;
  }
  return s;
}

}  // namespace gw::consent::testing
