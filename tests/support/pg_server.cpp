#include "tests/support/pg_server.hpp"

#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace gw::testing {

namespace {

namespace fs = std::filesystem;

std::string find_bindir() {
  if (const char* env = std::getenv("GW_PG_BINDIR"); env && *env) return env;
  std::string best;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    fs::path bin = e.path() / "bin";
    if (fs::exists(bin / "initdb") && (best.empty() || e.path().filename().string() > fs::path(best).parent_path().filename().string())) {
      best = bin.string();
    }
  }
  return best;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

std::string tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 800 ? s.substr(s.size() - 800) : s;
}

}  // namespace

Result<std::unique_ptr<PostgresServer>> PostgresServer::start() {
  std::unique_ptr<PostgresServer> s(new PostgresServer());
  s->bindir_ = find_bindir();
  if (s->bindir_.empty()) return fail(ErrorCode::kNotFound, "no PostgreSQL server binaries under /usr/lib/postgresql");
  char tmpl[] = "/tmp/gw-pg-XXXXXX";
  if (!::mkdtemp(tmpl)) return fail(ErrorCode::kIo, "mkdtemp failed");
  s->dir_ = tmpl;
  std::string prefix;
  if (::geteuid() == 0) {
    const char* user = ::getpwnam("postgres") ? "postgres" : "nobody";
    const passwd* pw = ::getpwnam(user);
    if (!pw) return fail(ErrorCode::kNotFound, "running as root and no unprivileged account for PostgreSQL");
    if (::chown(s->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) return fail(ErrorCode::kIo, "chown of the data dir failed");
    s->run_as_ = user;
    prefix = "runuser -u " + s->run_as_ + " -- ";
  }
  s->port_ = free_port();
  // Two logs: the server's must be created by the server's own account.
  const std::string data = s->dir_ + "/data", log = s->dir_ + "/initdb.log", server_log = s->dir_ + "/server.log";
  std::string initdb = prefix + s->bindir_ + "/initdb -D " + data +
                       " -U postgres -A trust -E UTF8 --no-sync >" + log + " 2>&1";
  if (std::system(initdb.c_str()) != 0) return fail(ErrorCode::kIo, "initdb failed: " + tail(log));
  // fsync stays ON: the durability the store promises rests on it.
  std::string start = prefix + s->bindir_ + "/pg_ctl -D " + data + " -l " + server_log + " -w -t 60 -o \"-h 127.0.0.1 -p " +
                      std::to_string(s->port_) + " -k " + s->dir_ + " -c max_connections=60\" start >/dev/null 2>&1";
  if (std::system(start.c_str()) != 0) {
    std::string why = tail(server_log);
    s->port_ = 0;  // nothing to stop
    return fail(ErrorCode::kIo, "postgres did not start: " + why);
  }
  return s;
}

PostgresServer::~PostgresServer() {
  if (port_ != 0) {
    std::string prefix = run_as_.empty() ? "" : "runuser -u " + run_as_ + " -- ";
    std::string stop = prefix + bindir_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w stop >/dev/null 2>&1";
    (void)std::system(stop.c_str());
  }
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string PostgresServer::conninfo(const std::string& db) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + db;
}

Result<std::string> PostgresServer::create_database() {
  const std::string name = "gw_test_" + std::to_string(++next_db_);
  PGconn* c = PQconnectdb(conninfo("postgres").c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string e = PQerrorMessage(c);
    PQfinish(c);
    return fail(ErrorCode::kIo, "connect: " + e);
  }
  PGresult* r = PQexec(c, ("CREATE DATABASE " + name).c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string e = PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  if (!ok) return fail(ErrorCode::kIo, "create database: " + e);
  return conninfo(name);
}

PostgresServer* shared_postgres(std::string* why) {
  static std::once_flag once;
  static std::unique_ptr<PostgresServer> server;
  static std::string error;
  std::call_once(once, [] {
    auto s = PostgresServer::start();
    if (s) {
      server = std::move(*s);
    } else {
      error = s.error().to_string();
    }
  });
  if (why) *why = error;
  return server.get();
}

}  // namespace gw::testing
