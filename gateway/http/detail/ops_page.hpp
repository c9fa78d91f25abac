// The operator dashboard's static files (ops_page.cpp), served by
// add_ops_routes. No patient data and no server-side templating: the
// script fetches /ops/api/* and fills the tables with textContent only.
#pragma once

#include <string_view>

namespace gw::http::detail {

extern const std::string_view kOpsPageHtml;
extern const std::string_view kOpsPageJs;
extern const std::string_view kOpsPageCss;

}  // namespace gw::http::detail
