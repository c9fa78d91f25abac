#include "tests/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

extern char** environ;

namespace gw::testing {

namespace {

// Everything execve needs, prepared BEFORE the spawn: argv/envp as C arrays
// over strings that outlive the call.
struct CArgs {
  explicit CArgs(const std::vector<std::string>& v) {
    for (const std::string& s : v) ptrs.push_back(const_cast<char*>(s.c_str()));
    ptrs.push_back(nullptr);
  }
  std::vector<char*> ptrs;
};

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::spawn(const ProcessOptions& options) {
  if (options.argv.empty()) return fail(ErrorCode::kInvalidArgument, "no program");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(ErrorCode::kIo, "pipe failed");
  // Inherited entries first, minus the names `options.env` sets: getenv
  // returns the first match, so an appended duplicate would be ignored.
  auto name_of = [](std::string_view e) { return e.substr(0, e.find('=')); };
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view inherited(*e);
    bool replaced = false;
    for (const std::string& o : options.env) replaced = replaced || name_of(o) == name_of(inherited);
    if (!replaced) env.emplace_back(inherited);
  }
  for (const std::string& e : options.env) env.push_back(e);
  CArgs argv(options.argv), envp(env);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO,
                                   options.stderr_path.empty() ? "/dev/null" : options.stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, options.cwd.c_str());
  // The child starts with default signal dispositions and an empty mask,
  // whatever the test process did to its own.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv.ptrs[0], &fa, &attr, argv.ptrs.data(), envp.ptrs.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return fail(ErrorCode::kIo, std::string("spawn failed: ") + std::strerror(rc), options.argv[0]);
  }
  std::unique_ptr<ChildProcess> p(new ChildProcess());
  p->pid_ = pid;
  p->out_fd_ = fds[0];
  return p;
}

ChildProcess::~ChildProcess() {
  if (!status_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    (void)wait();
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

bool ChildProcess::read_some(int timeout_ms) {
  if (out_fd_ < 0) return false;
  pollfd p{out_fd_, POLLIN, 0};
  const int n = ::poll(&p, 1, timeout_ms);
  if (n < 0) return errno == EINTR;
  if (n == 0) return true;  // nothing yet
  char buf[4096];
  const ssize_t got = ::read(out_fd_, buf, sizeof buf);
  if (got <= 0) {
    if (got < 0 && errno == EINTR) return true;
    ::close(out_fd_);
    out_fd_ = -1;
    return false;
  }
  out_.append(buf, static_cast<std::size_t>(got));
  return true;
}

std::optional<std::string> ChildProcess::wait_for_line(std::string_view needle, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    // Complete lines not searched yet.
    for (std::size_t nl; (nl = out_.find('\n', scanned_)) != std::string::npos;) {
      std::string line = out_.substr(scanned_, nl - scanned_);
      scanned_ = nl + 1;
      if (line.find(needle) != std::string::npos) return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (!read_some(static_cast<int>(std::min<std::int64_t>(left.count(), 200)))) return std::nullopt;
  }
}

void ChildProcess::signal(int sig) noexcept {
  if (!status_ && pid_ > 0) ::kill(pid_, sig);
}

int ChildProcess::wait() {
  if (status_) return *status_;
  // Read to EOF first (the child's end of the pipe closes when it ends), so
  // a chatty child never blocks on a full pipe, then reap it.
  while (read_some(200)) {
  }
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
  return *status_;
}

std::uint16_t port_of_listening_line(std::string_view line) {
  const std::size_t colon = line.rfind(':');
  if (colon == std::string_view::npos) return 0;
  std::string_view digits = line.substr(colon + 1);
  while (!digits.empty() && (digits.back() == '\r' || digits.back() == ' ')) digits.remove_suffix(1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port > 65535) return 0;
  return static_cast<std::uint16_t>(port);
}

}  // namespace gw::testing
