// A small in-memory packages::Registry over HL7 definition bundles and
// folders of resource files, used by the validation tests until the
// packages module's Registry::load is available on main.
#pragma once

#include "gateway/packages/packages.hpp"

#include <memory>
#include <string>
#include <vector>

namespace gw::testing {

/// Loads every resource of the given files (Bundles are split into their
/// entries) and folders (every *.json file directly inside). Null on failure.
std::shared_ptr<const packages::Registry> load_dev_registry(const std::vector<std::string>& paths);

}  // namespace gw::testing
