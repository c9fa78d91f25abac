// Checks on names that reach a subprocess's argv or the file system.
#pragma once

#include <string_view>

namespace gw::packages::detail {

/// npm's rules for a package name (lower case, URL-safe, optional
/// "@scope/"), and never starting with '-' or '.', so that it cannot be
/// read as an option or a path when handed to npm.
bool valid_npm_name(std::string_view name);

/// An exact version, not a range: "4.0.1", "2.0.0-ballot", "1.0.0+build".
bool exact_version(std::string_view version);

}  // namespace gw::packages::detail
