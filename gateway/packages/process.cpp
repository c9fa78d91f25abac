// Running npm and tar. posix_spawnp with an argv array rather than popen or
// system(): no shell parses the arguments, so a package name can never be
// read as shell syntax, and stderr is captured separately from stdout for
// the error message. Both pipes are drained with poll() so that a chatty
// child can never block on a full pipe while we wait on the other one.
#include "gateway/packages/detail/process.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace gw::packages::detail {
namespace {

// Closes the descriptors it holds when it goes out of scope.
struct Fds {
  int fd[4] = {-1, -1, -1, -1};  // out read, out write, err read, err write
  ~Fds() {
    for (int f : fd) {
      if (f >= 0) ::close(f);
    }
  }
  void close_at(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

struct FileActions {
  posix_spawn_file_actions_t fa;
  FileActions() { posix_spawn_file_actions_init(&fa); }
  ~FileActions() { posix_spawn_file_actions_destroy(&fa); }
};

Error errno_error(const char* what, const std::string& program) {
  return Error(ErrorCode::kIo, std::string(what) + ": " + std::strerror(errno), program);
}

}  // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& argv, const std::string& cwd) {
  GW_ASSERT(!argv.empty(), "run_process needs a program");
  const std::string& program = argv.front();
  Fds fds;
  // O_CLOEXEC: the child keeps only the ends dup2'ed onto 1 and 2.
  if (::pipe2(fds.fd, O_CLOEXEC) != 0 || ::pipe2(fds.fd + 2, O_CLOEXEC) != 0) {
    return errno_error("cannot create pipe", program);
  }
  FileActions actions;
  posix_spawn_file_actions_addopen(&actions.fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions.fa, fds.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions.fa, fds.fd[3], 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions.fa, cwd.c_str());

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, program.c_str(), &actions.fa, nullptr, args.data(), environ);
  if (rc != 0) {
    errno = rc;
    return errno_error("cannot start program", program);
  }
  fds.close_at(1);
  fds.close_at(3);

  ProcessResult result;
  pollfd pfd[2] = {{fds.fd[0], POLLIN, 0}, {fds.fd[2], POLLIN, 0}};
  std::string* sink[2] = {&result.out, &result.err};
  int open_count = 2;
  char buf[16384];
  while (open_count > 0) {
    if (::poll(pfd, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;  // give up reading; still reap the child below
    }
    for (int i = 0; i < 2; ++i) {
      if (pfd[i].fd < 0 || pfd[i].revents == 0) continue;
      ssize_t n = ::read(pfd[i].fd, buf, sizeof buf);
      if (n > 0) {
        sink[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        pfd[i].fd = -1;  // EOF or error: stop polling this pipe
        --open_count;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return errno_error("cannot wait for program", program);
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  } else {
    result.exit_code = 255;
  }
  return result;
}

std::string tail_of(const std::string& text, std::size_t max_chars) {
  std::size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return {};
  std::size_t begin = end + 1 > max_chars ? end + 1 - max_chars : 0;
  if (begin > 0) {
    std::size_t nl = text.find('\n', begin);
    if (nl != std::string::npos && nl < end) begin = nl + 1;
  }
  return text.substr(begin, end + 1 - begin);
}

}  // namespace gw::packages::detail
