// The PostgreSQL side of the SQL seam (detail/db.hpp), over libpq.
//
// Parameters travel as text (PQexecParams, text format): the store binds only
// integers and JSON/identifier text, so there is nothing to gain from binary
// format and text keeps the two adapters symmetric. The `?N` placeholders of
// the shared SQL are rewritten to `$N` once per distinct statement.
//
// A connection that broke (server restart, network) is reset once before the
// next statement; the statement that saw the break reports kIo, and the
// engine fails that batch rather than guessing whether it committed.
//
// The Listener runs `LISTEN channel` on its own connection and thread, and
// waits with poll() on the libpq socket and a self-pipe used to stop it.
#include "gateway/store/detail/db.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <mutex>
#include <thread>
#include <unordered_map>

namespace gw::store::detail {

namespace {

Error pg_error(PGconn* conn, const PGresult* res, std::string_view what) {
  std::string msg = "postgres " + std::string(what) + ": ";
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  // The primary message names the constraint; the DETAIL field (not used)
  // is where PostgreSQL would quote key values.
  const char* primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  if (primary) {
    msg += primary;
  } else if (conn) {
    std::string m = PQerrorMessage(conn);
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    msg += m;
  }
  const bool constraint = state && state[0] == '2' && state[1] == '3';
  return Error(constraint ? ErrorCode::kInvalidArgument : ErrorCode::kIo, std::move(msg));
}

std::string to_dollar_placeholders(std::string_view sql) {
  std::string out(sql);
  for (char& c : out) {
    if (c == '?') c = '$';
  }
  return out;
}

class PgConnection final : public Connection {
 public:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  ~PgConnection() override { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Dialect dialect() const noexcept override { return Dialect::kPostgres; }

  Status exec(std::string_view sql) override {
    ensure_connected();
    std::string text(sql);
    PGresult* res = PQexec(conn_, text.c_str());
    ExecStatusType st = PQresultStatus(res);
    Status out;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) out = pg_error(conn_, res, "exec");
    PQclear(res);
    return out;
  }

  Result<std::vector<Row>> query(std::string_view sql, std::initializer_list<Param> params) override {
    ensure_connected();
    auto it = translated_.find(std::string(sql));
    if (it == translated_.end()) it = translated_.emplace(std::string(sql), to_dollar_placeholders(sql)).first;
    std::vector<std::string> storage;
    storage.reserve(params.size());
    std::vector<const char*> values;
    std::vector<int> lengths;
    values.reserve(params.size());
    lengths.reserve(params.size());
    for (const Param& p : params) {
      switch (p.kind) {
        case Param::Kind::kNull:
          values.push_back(nullptr);
          lengths.push_back(0);
          break;
        case Param::Kind::kInt:
          storage.push_back(std::to_string(p.i));
          values.push_back(storage.back().c_str());
          lengths.push_back(static_cast<int>(storage.back().size()));
          break;
        case Param::Kind::kText:
          // Text format needs NUL-terminated values: copy.
          storage.emplace_back(p.s);
          values.push_back(storage.back().c_str());
          lengths.push_back(static_cast<int>(storage.back().size()));
          break;
      }
    }
    PGresult* res = PQexecParams(conn_, it->second.c_str(), static_cast<int>(values.size()), nullptr,
                                 values.data(), lengths.data(), nullptr, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      Error e = pg_error(conn_, res, "query");
      PQclear(res);
      return e;
    }
    std::vector<Row> rows;
    const int nrows = PQntuples(res);
    const int ncols = PQnfields(res);
    rows.reserve(static_cast<std::size_t>(nrows));
    for (int r = 0; r < nrows; ++r) {
      Row row;
      row.reserve(static_cast<std::size_t>(ncols));
      for (int c = 0; c < ncols; ++c) {
        if (PQgetisnull(res, r, c)) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(std::string(PQgetvalue(res, r, c), static_cast<std::size_t>(PQgetlength(res, r, c))));
        }
      }
      rows.push_back(std::move(row));
    }
    PQclear(res);
    return rows;
  }

  bool in_transaction() const noexcept override {
    PGTransactionStatusType t = PQtransactionStatus(conn_);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
  }

 private:
  void ensure_connected() {
    if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string> translated_;
};

Result<PGconn*> open_conn(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (!conn || PQstatus(conn) != CONNECTION_OK) {
    Error e = pg_error(conn, nullptr, "connect");
    PQfinish(conn);
    return e;
  }
  // Quiet NOTICEs (e.g. "relation already exists, skipping") instead of
  // libpq's default of printing them to stderr.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return conn;
}

class PgListener final : public Listener {
 public:
  PgListener(PGconn* conn, std::string channel,
             std::function<void(const std::string&)> on_notify, int wake_read, int wake_write)
      : conn_(conn), channel_(std::move(channel)),
        on_notify_(std::move(on_notify)), wake_read_(wake_read), wake_write_(wake_write) {
    thread_ = std::thread([this] { run(); });
  }
  ~PgListener() override {
    char b = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_write_, &b, 1);
    thread_.join();
    ::close(wake_read_);
    ::close(wake_write_);
    PQfinish(conn_);
  }
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  Status start() {
    std::string sql = "LISTEN " + channel_;
    PGresult* res = PQexec(conn_, sql.c_str());
    Status out;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) out = pg_error(conn_, res, "listen");
    PQclear(res);
    return out;
  }

 private:
  void run() {
    for (;;) {
      bool broken = PQstatus(conn_) != CONNECTION_OK;
      pollfd fds[2] = {{wake_read_, POLLIN, 0}, {broken ? -1 : PQsocket(conn_), POLLIN, 0}};
      // A broken connection is retried once a second (the wake pipe still
      // ends the wait at once on shutdown).
      int rc = ::poll(fds, 2, broken ? 1000 : -1);
      if (rc > 0 && (fds[0].revents & POLLIN)) return;
      if (broken) {
        PQreset(conn_);
        if (PQstatus(conn_) == CONNECTION_OK && start()) {
          // Work may have been committed while we were deaf: a spurious
          // wake-up with an empty recipient tells the listener to rescan.
          on_notify_(std::string());
        }
        continue;
      }
      if (rc <= 0) continue;
      if (!PQconsumeInput(conn_)) continue;  // status turns bad; next loop resets
      while (PGnotify* n = PQnotifies(conn_)) {
        std::string payload = n->extra ? n->extra : "";
        PQfreemem(n);
        on_notify_(payload);
      }
    }
  }

  PGconn* conn_;
  std::string channel_;
  std::function<void(const std::string&)> on_notify_;
  int wake_read_;
  int wake_write_;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<Connection>> connect_postgres(const std::string& conninfo) {
  GW_TRY(PGconn * conn, open_conn(conninfo));
  return std::unique_ptr<Connection>(std::make_unique<PgConnection>(conn));
}

Result<std::unique_ptr<Listener>> listen_postgres(const std::string& conninfo, std::string channel,
                                                  std::function<void(const std::string&)> on_notify) {
  GW_TRY(PGconn * conn, open_conn(conninfo));
  {
    std::string sql = "LISTEN " + channel;
    PGresult* res = PQexec(conn, sql.c_str());
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      Error e = pg_error(conn, res, "listen");
      PQclear(res);
      PQfinish(conn);
      return e;
    }
    PQclear(res);
  }
  int fds[2];
  if (::pipe(fds) != 0) {
    PQfinish(conn);
    return fail(ErrorCode::kIo, "postgres listen: cannot create wake pipe");
  }
  return std::unique_ptr<Listener>(
      std::make_unique<PgListener>(conn, std::move(channel), std::move(on_notify), fds[0], fds[1]));
}

}  // namespace gw::store::detail
