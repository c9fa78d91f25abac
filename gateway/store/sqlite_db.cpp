// The SQLite side of the SQL seam (detail/db.hpp).
//
// Each connection keeps its prepared statements in a small cache keyed by the
// SQL text: the store runs a handful of fixed statements millions of times,
// and preparing is a good share of a short statement's cost. Connections are
// opened with SQLITE_OPEN_NOMUTEX because each one is used by one thread at a
// time (the writer thread, or one borrower of the reader pool).
//
// Durability settings live here because they are per connection:
// journal_mode=WAL (readers do not block the writer), synchronous=FULL (a
// commit is fsync'd before COMMIT returns: this is what makes an
// acknowledgement mean "stored"), foreign_keys=ON, and a busy timeout so a
// second process holding the write lock is waited for, then reported.
#include "gateway/store/detail/db.hpp"

#include <sqlite3.h>

#include <charconv>
#include <unordered_map>

namespace gw::store::detail {

std::int64_t to_int(const std::optional<std::string>& text) noexcept {
  if (!text) return 0;
  std::int64_t v = 0;
  std::from_chars(text->data(), text->data() + text->size(), v);
  return v;
}

namespace {

Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  // The primary message names the constraint or table ("UNIQUE constraint
  // failed: handoff.handoff_id"), never a bound value.
  std::string msg = "sqlite " + std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  return Error((rc & 0xff) == SQLITE_CONSTRAINT ? ErrorCode::kInvalidArgument : ErrorCode::kIo,
               std::move(msg));
}

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Dialect dialect() const noexcept override { return Dialect::kSqlite; }

  Status exec(std::string_view sql) override {
    std::string text(sql);
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db_, rc, "exec");
    return {};
  }

  Result<std::vector<Row>> query(std::string_view sql, std::initializer_list<Param> params) override {
    GW_TRY(sqlite3_stmt * stmt, prepare(sql));
    int index = 1;
    for (const Param& p : params) {
      int rc = SQLITE_OK;
      switch (p.kind) {
        case Param::Kind::kNull: rc = sqlite3_bind_null(stmt, index); break;
        case Param::Kind::kInt: rc = sqlite3_bind_int64(stmt, index, p.i); break;
        case Param::Kind::kText:
          rc = sqlite3_bind_text64(stmt, index, p.s.data(), p.s.size(), SQLITE_STATIC, SQLITE_UTF8);
          break;
      }
      if (rc != SQLITE_OK) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return sqlite_error(db_, rc, "bind");
      }
      ++index;
    }
    std::vector<Row> rows;
    int rc = SQLITE_OK;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      const int n = sqlite3_column_count(stmt);
      Row row;
      row.reserve(static_cast<std::size_t>(n));
      for (int c = 0; c < n; ++c) {
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
          row.emplace_back(std::nullopt);
        } else {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          row.emplace_back(std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, c))));
        }
      }
      rows.push_back(std::move(row));
    }
    // Reset before reporting: a statement left mid-step holds a read
    // transaction open (and a bound view into the caller's strings).
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc != SQLITE_DONE) return sqlite_error(db_, rc, "step");
    return rows;
  }

  bool in_transaction() const noexcept override { return sqlite3_get_autocommit(db_) == 0; }

 private:
  Result<sqlite3_stmt*> prepare(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                &stmt, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db_, rc, "prepare");
    cache_.emplace(std::string(sql), stmt);
    return stmt;
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

Result<std::unique_ptr<Connection>> connect_sqlite(const SqliteConnectOptions& options) {
  sqlite3* db = nullptr;
  // Readers open read-write but with query_only: a WAL reader needs write
  // access to the -shm index even though it never writes the database.
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READWRITE | (options.read_only ? 0 : SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(db, rc, "open");
    sqlite3_close_v2(db);
    return e;
  }
  auto conn = std::make_unique<SqliteConnection>(db);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  sqlite3_extended_result_codes(db, 1);
  if (!options.read_only) {
    // WAL is a property of the file; setting it on every writable open is
    // cheap and makes a fresh file WAL before the first table exists.
    GW_CHECK_OK(conn->exec("PRAGMA journal_mode=WAL"));
  }
  GW_CHECK_OK(conn->exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON"));
  if (options.read_only) GW_CHECK_OK(conn->exec("PRAGMA query_only=ON"));
  if (options.max_page_count > 0) {
    GW_CHECK_OK(conn->exec("PRAGMA max_page_count=" + std::to_string(options.max_page_count)));
  }
  return std::unique_ptr<Connection>(std::move(conn));
}

}  // namespace gw::store::detail
