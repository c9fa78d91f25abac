// A child process for tests that run the real `fhir-gateway` binary: spawn
// it with arguments, a working directory and extra environment, read its
// standard output line by line (e.g. until "listening on ..."), send it a
// signal (SIGKILL for crash tests, SIGTERM for a graceful stop) and reap it.
//
// Standard error goes to a file the test names (the child's logs stay
// available for a failure message). The child inherits the environment
// (ASAN_OPTIONS included) plus `env`.
//
// Thread-compatible: one thread drives one ChildProcess. The destructor
// kills (SIGKILL) and reaps a child still running, so a failed assertion
// never leaves a stray gateway behind.
#pragma once

#include "gateway/core/core.hpp"

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::testing {

struct ProcessOptions {
  std::vector<std::string> argv;  ///< argv[0] is the program path
  std::string cwd;                ///< "" = the test's own
  std::string stderr_path;        ///< "" = /dev/null; appended to
  std::vector<std::string> env;   ///< NAME=VALUE entries, replacing inherited ones of that name
};

class ChildProcess {
 public:
  /// Starts the program. Errors: kIo (pipe or spawn failed).
  static Result<std::unique_ptr<ChildProcess>> spawn(const ProcessOptions& options);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }

  /// Reads standard output until a line containing `needle` arrives and
  /// returns it; nullopt when the child closes its output (exits) or
  /// `limit` passes first (the limit only turns a hang into a failure).
  std::optional<std::string> wait_for_line(std::string_view needle, std::chrono::milliseconds limit);

  /// Sends a signal (no-op once reaped).
  void signal(int sig) noexcept;

  /// Waits for the child to end: its exit code, or -N when signal N ended
  /// it. Reads the rest of its output meanwhile (see output()).
  int wait();

  /// Everything read from standard output so far.
  const std::string& output() const noexcept { return out_; }

 private:
  ChildProcess() = default;
  bool read_some(int timeout_ms);  // false on EOF or error
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string out_;
  std::size_t scanned_ = 0;  // out_ up to here has been searched line by line
  std::optional<int> status_;
};

/// Port of an "... https://127.0.0.1:PORT" line; 0 if none.
std::uint16_t port_of_listening_line(std::string_view line);

}  // namespace gw::testing
