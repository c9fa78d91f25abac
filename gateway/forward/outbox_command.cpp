// `fhir-gateway outbox list|replay`: the operator's view of the delivery
// queues and the way back for dead letters. Works on the database directly
// (SQLite), so it runs beside a live gateway: the Store serializes writers
// across processes and the gateway's workers see replayed rows at their next
// poll.
#include "gateway/forward/detail/audit.hpp"
#include "gateway/forward/forward.hpp"
#include "gateway/store/store.hpp"

#include <charconv>

namespace gw::forward {

namespace {

int usage(std::ostream& err, std::string_view why) {
  err << "outbox: " << why << "\n"
      << "usage: fhir-gateway outbox list [--recipient ID] --db PATH\n"
      << "       fhir-gateway outbox replay (--recipient ID | --id N) --db PATH\n";
  return 2;
}

}  // namespace

int run_outbox_command(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  if (args.empty()) return usage(err, "a subcommand is required");
  const std::string_view sub = args[0];
  if (sub == "--help" || sub == "-h") {
    usage(out, "list delivery queues and dead letters, replay dead letters");
    return 0;
  }
  if (sub != "list" && sub != "replay") return usage(err, "unknown subcommand");
  std::string db, recipient;
  std::optional<std::int64_t> id;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (i + 1 >= args.size()) return usage(err, "option without a value");
    const std::string_view v = args[++i];
    if (a == "--db") {
      db = std::string(v);
    } else if (a == "--recipient") {
      recipient = std::string(v);
    } else if (a == "--id") {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || end != v.data() + v.size() || n <= 0) return usage(err, "--id must be a positive integer");
      id = n;
    } else {
      return usage(err, "unknown option");
    }
  }
  if (db.empty()) return usage(err, "--db is required");
  if (sub == "replay" && recipient.empty() == !id.has_value()) return usage(err, "give exactly one of --recipient and --id");

  store::SqliteOptions options;
  options.path = db;
  auto clock = std::make_shared<SystemClock>();
  options.clock = clock;
  auto st = store::open_sqlite(options);
  if (!st) {
    err << "outbox: " << st.error().to_string() << "\n";
    return 2;
  }
  store::Store& s = **st;

  if (sub == "list") {
    auto stats = s.queue_stats();
    auto dead = s.dead_letters(recipient);
    if (!stats || !dead) {
      err << "outbox: " << (!stats ? stats.error() : dead.error()).to_string() << "\n";
      return 2;
    }
    out << "recipient\tpending\tin_flight\tdead\tdelivered\toldest_pending\n";
    for (const store::QueueStats& q : *stats) {
      if (!recipient.empty() && q.recipient != recipient) continue;
      out << q.recipient << "\t" << q.pending << "\t" << q.in_flight << "\t" << q.dead << "\t" << q.delivered << "\t"
          << (q.oldest_pending ? detail::iso_time(*q.oldest_pending) : "-") << "\n";
    }
    out << "\ndead letters: " << dead->size() << "\n";
    for (const store::Delivery& d : *dead) {
      out << "  id " << d.id << "\t" << d.recipient << "\tattempts " << d.attempts << "\t" << d.last_error << "\n";
    }
    return 0;
  }

  auto dead = s.dead_letters(recipient);
  if (!dead) {
    err << "outbox: " << dead.error().to_string() << "\n";
    return 2;
  }
  const auto now = clock->now();
  if (id) {
    for (const store::Delivery& d : *dead) {
      if (d.id != *id) continue;
      auto r = s.replay_dead_letter(d.id, {detail::delivery_audit("0", "", "replay", d.recipient, d, now)});
      if (!r) {
        err << "outbox: " << r.error().to_string() << "\n";
        return r.error().code() == ErrorCode::kNotFound ? 1 : 2;
      }
      out << "replayed 1\n";
      return 0;
    }
    err << "outbox: no dead letter with this id\n";
    return 1;
  }
  std::vector<std::string> audit;
  for (const store::Delivery& d : *dead) audit.push_back(detail::delivery_audit("0", "", "replay", d.recipient, d, now));
  auto n = s.replay_dead_letters(recipient, std::move(audit));
  if (!n) {
    err << "outbox: " << n.error().to_string() << "\n";
    return 2;
  }
  out << "replayed " << *n << "\n";
  return *n > 0 ? 0 : 1;
}

}  // namespace gw::forward
