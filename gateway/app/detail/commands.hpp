// Commands implemented inside the app module. Each takes the arguments after
// its name and returns an exit code (see app.hpp).
#pragma once

#include <ostream>
#include <span>
#include <string_view>

namespace gw::app::detail {

int run_validate(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace gw::app::detail
