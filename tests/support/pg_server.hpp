// A throwaway PostgreSQL server for tests: initdb into a temporary folder,
// start `postgres` on 127.0.0.1 at a free port, stop and delete it on
// destruction. PostgreSQL refuses to run as root, so when the tests run as
// root the server runs as an unprivileged account ("postgres", which the
// Debian package creates, else "nobody") through runuser.
//
// Binaries: $GW_PG_BINDIR, else the newest /usr/lib/postgresql/<v>/bin.
#pragma once

#include "gateway/core/core.hpp"

#include <memory>
#include <string>

namespace gw::testing {

class PostgresServer {
 public:
  /// Starts a server. Errors: kNotFound (no PostgreSQL binaries), kIo
  /// (initdb or start failed; the message carries the server log's tail).
  static Result<std::unique_ptr<PostgresServer>> start();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  /// Creates a fresh database and returns its libpq connection string.
  Result<std::string> create_database();
  /// Connection string of database `db`.
  std::string conninfo(const std::string& db) const;

 private:
  PostgresServer() = default;
  std::string bindir_;
  std::string dir_;
  std::string run_as_;  // empty: the current user
  int port_ = 0;
  int next_db_ = 0;
};

/// One server per test process, started on first use; null (and `why`
/// says why) when PostgreSQL cannot be started here.
PostgresServer* shared_postgres(std::string* why);

}  // namespace gw::testing
