// The narrow SQL seam under the store: one connection, text rows, numbered
// parameters. The store's logic (engine.cpp) is written once against it;
// sqlite_db.cpp and postgres_db.cpp adapt it to sqlite3 and libpq.
//
// SQL is written with numbered placeholders `?1`, `?2`, ... which SQLite
// understands as is and the PostgreSQL adapter rewrites to `$1`, `$2`. Our
// SQL never contains a `?` inside a string literal.
//
// Errors: a constraint violation (SQLite SQLITE_CONSTRAINT, PostgreSQL
// SQLSTATE class 23) is kInvalidArgument; everything else is kIo. Messages
// come from the database's primary message, which names constraints and
// tables, never values.
//
// Thread-compatible: a Connection is used by one thread at a time.
#pragma once

#include "gateway/core/core.hpp"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::store::detail {

enum class Dialect : std::uint8_t { kSqlite, kPostgres };

/// One bound parameter: NULL, an integer, or text (viewed, not copied: it
/// must outlive the query call).
struct Param {
  enum class Kind : std::uint8_t { kNull, kInt, kText } kind = Kind::kNull;
  std::int64_t i = 0;
  std::string_view s;
  Param() = default;
  Param(std::int64_t v) : kind(Kind::kInt), i(v) {}  // NOLINT(google-explicit-constructor)
  Param(int v) : kind(Kind::kInt), i(v) {}           // NOLINT(google-explicit-constructor)
  Param(std::string_view v) : kind(Kind::kText), s(v) {}  // NOLINT(google-explicit-constructor)
  Param(const std::string& v) : kind(Kind::kText), s(v) {}  // NOLINT(google-explicit-constructor)
  Param(const char* v) : kind(Kind::kText), s(v) {}  // NOLINT(google-explicit-constructor)
};

/// A result row: the text of each column (integers as decimal text), or
/// nullopt for SQL NULL.
using Row = std::vector<std::optional<std::string>>;

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const noexcept = 0;
  /// Runs one or more statements without parameters (DDL, BEGIN, ...).
  virtual Status exec(std::string_view sql) = 0;
  /// Runs one statement with parameters and returns all its rows.
  virtual Result<std::vector<Row>> query(std::string_view sql, std::initializer_list<Param> params) = 0;
  /// True when the connection has an open transaction (SQLite may roll back
  /// on its own after I/O errors; the engine then fails the whole batch).
  virtual bool in_transaction() const noexcept = 0;
};

/// Opens one more connection to the same database (reader pools).
using ConnectionFactory = std::function<Result<std::unique_ptr<Connection>>()>;

/// Parses a decimal column; 0 for NULL or garbage (our own columns only).
std::int64_t to_int(const std::optional<std::string>& text) noexcept;

// Adapters (sqlite_db.cpp, postgres_db.cpp).
struct SqliteConnectOptions {
  std::string path;
  int busy_timeout_ms = 5000;
  bool read_only = false;
  std::int64_t max_page_count = 0;  // 0: SQLite's default
};
Result<std::unique_ptr<Connection>> connect_sqlite(const SqliteConnectOptions& options);
Result<std::unique_ptr<Connection>> connect_postgres(const std::string& conninfo);

/// A LISTEN connection on PostgreSQL that calls `on_notify(payload)` for each
/// NOTIFY on `channel`, from its own thread, until destroyed.
class Listener {
 public:
  virtual ~Listener() = default;
};
Result<std::unique_ptr<Listener>> listen_postgres(const std::string& conninfo, std::string channel,
                                                  std::function<void(const std::string&)> on_notify);

}  // namespace gw::store::detail
