// Operator commands of the forward module.
//
// `fhir-gateway outbox list|replay`: the view of the delivery queues and the
// way back for dead letters. Works on the database directly, so it runs
// beside a live gateway: the Store serializes writers across processes and
// the gateway's workers see replayed rows at their next poll.
//
// `fhir-gateway forward`: the Forwarder as a process of its own (the demo,
// the crash test, or a deployment that runs delivery apart from the HTTP
// front end), until SIGINT/SIGTERM, then a graceful stop.
#include "gateway/forward/detail/audit.hpp"
#include "gateway/forward/forward.hpp"
#include "gateway/store/store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <csignal>
#include <filesystem>
#include <thread>

namespace gw::forward {

namespace {

int usage(std::ostream& err, std::string_view why) {
  err << "outbox: " << why << "\n"
      << "usage: fhir-gateway outbox list [--recipient ID] [STORE]\n"
      << "       fhir-gateway outbox replay (--recipient ID | --id N) [STORE]\n"
      << "STORE: --store PATH (SQLite file) | --postgres CONNINFO | --config FILE\n"
      << "       (the config's \"store\" object; default config/demo.json)\n";
  return 2;
}

// The same store selection as `fhir-gateway audit`: options first, then the
// config file's "store" object.
Status store_from_config(const std::string& path, std::string& sqlite, std::string& postgres) {
  GW_TRY(json::Document doc, json::Document::parse_file(path));
  json::Value store = doc.root().find("store");
  if (json::Value s = store.find("sqlite"); s.is_string()) sqlite = std::string(s.str());
  if (json::Value p = store.find("postgres"); p.is_string()) postgres = std::string(p.str());
  if (sqlite.empty() && postgres.empty()) {
    return fail(ErrorCode::kNotFound, "no \"store\" object with \"sqlite\" or \"postgres\"", path);
  }
  return {};
}

struct StoreChoice {
  std::string sqlite, postgres, config = "config/demo.json";
  /// Accepts --store/--postgres/--config at args[i]; advances i.
  bool take(std::span<const std::string_view> args, std::size_t& i) {
    if (i + 1 >= args.size()) return false;
    const std::string_view a = args[i];
    std::string* target = a == "--store" ? &sqlite : a == "--postgres" ? &postgres : a == "--config" ? &config : nullptr;
    if (!target) return false;
    *target = std::string(args[++i]);
    return true;
  }
};

// Opens the chosen store. `must_exist`: a missing SQLite file is an error
// rather than a fresh empty store (listing an empty outbox that is not the
// gateway's would mislead).
Result<std::shared_ptr<store::Store>> open_store(StoreChoice c, std::shared_ptr<const Clock> clock, bool must_exist) {
  if (c.sqlite.empty() && c.postgres.empty()) {
    if (auto found = store_from_config(c.config, c.sqlite, c.postgres); !found) return found.error();
  }
  if (!c.postgres.empty()) {
    store::PostgresOptions o;
    o.conninfo = c.postgres;
    o.clock = std::move(clock);
    return store::open_postgres(o);
  }
  if (must_exist && !std::filesystem::exists(c.sqlite)) {
    return fail(ErrorCode::kNotFound, "no such store file", c.sqlite);
  }
  store::SqliteOptions o;
  o.path = c.sqlite;
  o.clock = std::move(clock);
  return store::open_sqlite(o);
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
  StoreChoice choice;
  std::string recipient;
  std::optional<std::int64_t> id;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (choice.take(args, i)) continue;
    const std::string_view a = args[i];
    if (i + 1 >= args.size()) return usage(err, "option without a value");
    const std::string_view v = args[++i];
    if (a == "--recipient") {
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
  if (sub == "replay" && recipient.empty() == !id.has_value()) return usage(err, "give exactly one of --recipient and --id");

  auto clock = std::make_shared<SystemClock>();
  auto st = open_store(choice, clock, /*must_exist=*/true);
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
    out << "recipient\tpending\tin_flight\tdead\tdelivered\toldest_pending\tcancelled\n";
    for (const store::QueueStats& q : *stats) {
      if (!recipient.empty() && q.recipient != recipient) continue;
      out << q.recipient << "\t" << q.pending << "\t" << q.in_flight << "\t" << q.dead << "\t" << q.delivered << "\t"
          << (q.oldest_pending ? gw::format_instant(*q.oldest_pending, true) : "-") << "\t" << q.cancelled << "\n";
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

int run_forward_command(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  auto usage = [&](std::string_view why) {
    err << "forward: " << why << "\n"
        << "usage: fhir-gateway forward [--config FILE] [--store PATH | --postgres CONNINFO] [--threads N]\n";
    return 2;
  };
  StoreChoice choice;
  unsigned threads = 2;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      usage("deliver the outbox to the configured recipients until SIGINT/SIGTERM");
      return 0;
    }
    if (choice.take(args, i)) continue;
    if (args[i] == "--threads" && i + 1 < args.size()) {
      const std::string_view v = args[++i];
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), threads);
      if (ec != std::errc() || end != v.data() + v.size() || threads == 0 || threads > 64) {
        return usage("--threads must be 1..64");
      }
      continue;
    }
    return usage("unknown option");
  }
  auto config = load_forward_config(choice.config);
  if (!config) {
    err << "forward: " << config.error().to_string() << "\n";
    return 2;
  }
  auto clock = std::make_shared<SystemClock>();
  auto st = open_store(choice, clock, /*must_exist=*/false);
  if (!st) {
    err << "forward: " << st.error().to_string() << "\n";
    return 2;
  }
  boost::asio::io_context ioc;
  auto fwd = Forwarder::create(ioc, **st, *config, ForwarderDeps{clock, nullptr});
  if (!fwd) {
    err << "forward: " << fwd.error().to_string() << "\n";
    return 2;
  }
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) (*fwd)->stop();
  });
  (*fwd)->start();
  out << "forward: delivering to " << config->recipients.size() << " recipient(s)" << std::endl;
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  // The main thread waits for the workers, then lets the io_context end.
  std::thread waiter([&] {
    (*fwd)->wait_stopped();
    boost::asio::post(ioc, [&] { signals.cancel(); });
  });
  ioc.run();
  waiter.join();
  for (auto& t : pool) t.join();
  for (const RecipientStats& s : (*fwd)->stats()) {
    out << "forward: " << s.recipient_id << " delivered " << s.delivered << ", retried " << s.retried
        << ", dead letters " << s.dead_lettered << "\n";
  }
  return 0;
}

}  // namespace gw::forward
