// Running a helper program (npm, tar) without a shell.
#pragma once

#include "gateway/core/core.hpp"

#include <string>
#include <vector>

namespace gw::packages::detail {

struct ProcessResult {
  int exit_code = 0;  ///< exit status, or 128 + signal number when killed
  std::string out;    ///< everything written to stdout
  std::string err;    ///< everything written to stderr
};

/// Starts argv[0] (looked up in PATH) with the given arguments, working
/// directory `cwd` (unchanged when empty), stdin from /dev/null and the
/// inherited environment, and collects its stdout and stderr. No shell is
/// involved, so arguments need no quoting. Errors: kIo when the program
/// cannot be started (a non-zero exit is not an error here).
Result<ProcessResult> run_process(const std::vector<std::string>& argv, const std::string& cwd);

/// The last lines of a program's stderr, for error messages (at most
/// `max_chars`, whole lines, trimmed).
std::string tail_of(const std::string& text, std::size_t max_chars = 600);

}  // namespace gw::packages::detail
