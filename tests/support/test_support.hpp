// Shared helpers for tests: locating the FHIR package cache and building the
// R4 model once per test binary.
#pragma once

#include "gateway/fhir/fhir.hpp"
#include "gateway/json/json.hpp"
#include "gateway/packages/packages.hpp"

#include <memory>
#include <string>
#include <vector>

namespace gw::testing {

/// The FHIR package cache the set-up installed: $FHIR_PACKAGE_CACHE, else
/// ~/.fhir/packages.
std::string package_cache_dir();

/// Folder of an installed package ("hl7.fhir.r4.core#4.0.1" ->
/// <cache>/hl7.fhir.r4.core#4.0.1/package). Empty if absent.
std::string package_dir(const std::string& id);

/// The R4 core StructureDefinitions and the Model built from them, loaded
/// once per process. Fails the calling test (ADD_FAILURE) and returns null if
/// the cache is missing: the README's test command installs it first.
struct CoreDefinitions {
  std::shared_ptr<const packages::Registry> registry;  ///< R4 core + IPS (+ terminology)
  std::shared_ptr<const fhir::Model> model;
};
const CoreDefinitions* core_definitions();

/// Reads a whole file; empty string if unreadable.
std::string read_file(const std::string& path);

/// Source tree root (GW_SOURCE_DIR from the build).
std::string source_dir();

/// Whether Debian's Chromium is installed (/usr/bin/chromium).
bool have_chromium();

/// Opens `html_file` in headless Chromium (fresh profile under
/// `scratch_dir`, no network services) and returns the DOM it renders;
/// "" when Chromium failed or is missing (check have_chromium() first and
/// GTEST_SKIP, never pass silently).
std::string chromium_dump_dom(const std::string& html_file, const std::string& scratch_dir);

}  // namespace gw::testing
