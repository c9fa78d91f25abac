// gw::app — the `fhir-gateway` command line: argument parsing, the command
// table, and the wiring of modules into commands. Everything else in the
// gateway is a library; this module is the only place that knows them all.
//
// `run()` is the whole CLI as a function so tests drive it in-process:
//   std::ostringstream out, err;
//   int code = gw::app::run({"fhir-gateway", "validate", "x.json"}, out, err);
//
// Exit codes (documented in `fhir-gateway --help` too):
//   0  success (for validate: every file valid)
//   1  the command ran and found a problem (invalid input, failed install)
//   2  usage error or internal error
//
// Thread-safety: run() is reentrant; it keeps no state between calls.
#pragma once

#include <ostream>
#include <span>
#include <string_view>
#include <vector>

namespace gw::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

/// Runs the CLI. `args[0]` is the program name. Output goes to `out`,
/// diagnostics to `err`; nothing is written to std::cout/std::cerr directly.
int run(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace gw::app
