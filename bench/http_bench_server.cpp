// The gateway's HTTP server as bench/http_load.sh drives it: the real
// `serve` command (run_serve_command) with the $validate routes, plus
// `POST /bench/echo` (inline, answers a fixed OperationOutcome) to measure
// the server without the validator. wrk cannot present client
// certificates, so this program opens the routes to callers without a
// registered identity and switches rate limiting off for them; everything
// else (TLS, parsing, limits, deadlines, metrics, the CPU pool) is the
// production path. Never use this binary outside 127.0.0.1 benchmarks.
#include "gateway/http/http.hpp"

#include <iostream>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  gw::http::ServeOptions options;
  options.add_routes = [](gw::http::Router& router) -> gw::Status {
    gw::http::Route echo;
    echo.method = "POST";
    echo.path_template = "/bench/echo";
    echo.fhir_body = true;
    echo.handler = gw::http::SyncHandler([](const gw::http::Request&) {
      return gw::http::Response::outcome(200, gw::http::IssueType::kInformational, "received");
    });
    GW_CHECK_OK(router.add(std::move(echo)));
    for (gw::http::Route& r : router.mutable_routes()) {
      r.require_client = false;
      r.rate_limited = false;
    }
    return {};
  };
  return gw::http::run_serve_command(args, options, std::cout, std::cerr);
}
