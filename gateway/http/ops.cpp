// The operator dashboard's routes (contract at add_ops_routes in
// http.hpp): a static page and a small JSON API over the store, the
// exchange counters and the forwarder.
//
// Who may call. Every API route needs a client identity (certificate or
// SMART token; the session refuses anonymous callers with 401/403) and the
// Operations scope when the identity comes from a token (Route::scope, the
// router checks it); the handler then requires the identity to be one of
// the configured operators. Both gates, because a certificate holder has
// no scopes and a token's scopes alone would let any client whose
// registration happens to say `system/*.read` in.
//
// What is shown. Queue and dead-letter rows are operational facts (ids,
// counts, times, an error CLASS such as "HTTP 422" or "connect"); the
// payload, bundle identifiers and the free text of transport errors (which
// may echo hosts and paths) never leave the store through here. The
// continuity figures pass through deidentify() first.
#include "gateway/http/detail/ops_page.hpp"
#include "gateway/http/http.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>

namespace gw::http {

namespace {

Error bad(std::string_view key, std::string_view what) {
  return Error(ErrorCode::kInvalidArgument, std::string(key) + ": " + std::string(what));
}

constexpr std::int64_t kMaxCellSize = 1000;
constexpr std::string_view kJson = "application/json";
constexpr std::string_view kOpsHeader = "x-ops-request";

// RFC 3339 UTC, to the second ("2026-11-23T10:00:00Z").
std::string iso(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto day = std::chrono::floor<std::chrono::days>(secs);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(secs - day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long long>(hms.hours().count()), static_cast<long long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return buf;
}

// "HTTP 422" stays; a transport failure ("connect: Connection refused")
// is reduced to its phase, a closed vocabulary of the forward client.
std::string error_class(std::string_view last_error) {
  if (last_error.starts_with("HTTP ")) return std::string(last_error.substr(0, std::min<std::size_t>(8, last_error.size())));
  const std::size_t colon = last_error.find(':');
  std::string_view phase = last_error.substr(0, colon);
  const bool word = !phase.empty() && phase.size() <= 20 &&
                    std::all_of(phase.begin(), phase.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_' || c == '-'; });
  return word ? std::string(phase) : std::string(last_error.empty() ? "" : "other");
}

Response json_ok(std::string body) {
  Response r = Response::text(200, std::move(body), kJson);
  r.set_header("Cache-Control", "no-store");
  r.set_header("X-Content-Type-Options", "nosniff");
  return r;
}

Response store_error(const Error& e) {
  (void)e;  // store messages name tables, not data; still, the operator sees a fixed text
  return Response::outcome(503, IssueType::kTransient, "the store could not be read; try again");
}

void write_cell(json::Writer& w, const Cell& c, std::int64_t k) {
  if (c.suppressed) {
    w.string("<" + std::to_string(k));
  } else {
    w.integer(c.count);
  }
}

void write_share(json::Writer& w, const std::optional<double>& share) {
  if (!share) return w.null();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", *share);
  w.number_text(buf);
}

void write_seconds(json::Writer& w, std::optional<double> s) {
  if (!s) return w.null();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", *s);
  w.number_text(buf);
}

struct Ops {
  OpsDeps deps;

  bool is_operator(const Request& req) const {
    return req.client && std::find(deps.config.operators.begin(), deps.config.operators.end(), req.client->id) !=
                             deps.config.operators.end();
  }

  Response queues() const {
    auto stats = deps.store->queue_stats();
    if (!stats) return store_error(stats.error());
    const auto now = deps.clock->now();
    json::Writer w;
    w.begin_object();
    w.key("generated_at");
    w.string(iso(now));
    w.key("queues");
    w.begin_array();
    for (const store::QueueStats& q : *stats) {
      w.begin_object();
      w.key("recipient");
      w.string(q.recipient);
      w.key("pending");
      w.integer(q.pending);
      w.key("in_flight");
      w.integer(q.in_flight);
      w.key("dead");
      w.integer(q.dead);
      w.key("oldest_pending_age_s");
      if (q.oldest_pending) {
        w.integer(std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(now - *q.oldest_pending).count()));
      } else {
        w.null();
      }
      w.end_object();
    }
    w.end_array();
    w.end_object();
    return json_ok(std::move(w).take());
  }

  Response dead_letters() const {
    auto dead = deps.store->dead_letters("");
    if (!dead) return store_error(dead.error());
    json::Writer w;
    w.begin_object();
    w.key("dead_letters");
    w.begin_array();
    for (const store::Delivery& d : *dead) {
      w.begin_object();
      w.key("id");
      w.integer(d.id);
      w.key("recipient");
      w.string(d.recipient);
      w.key("kind");
      w.string(d.path.empty() ? "handoff" : "notice");
      w.key("attempts");
      w.integer(d.attempts);
      w.key("error_class");
      w.string(error_class(d.last_error));
      w.key("queued_at");
      w.string(iso(d.created_at));
      w.key("dead_since");
      w.string(iso(d.updated_at));
      w.end_object();
    }
    w.end_array();
    w.end_object();
    return json_ok(std::move(w).take());
  }

  Response replay(const Request& req) const {
    if (req.header(kOpsHeader) != "1") {
      return Response::outcome(403, IssueType::kSecurity, "a replay needs the header X-Ops-Request: 1");
    }
    const std::string_view text = req.path_param("id");
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
      return Response::outcome(400, IssueType::kInvalid, "the dead letter id must be a positive integer");
    }
    if (auto s = deps.replay(id, req.client->id); !s) {
      if (s.error().code() == ErrorCode::kNotFound) {
        return Response::outcome(404, IssueType::kNotFound, "no dead letter with this id");
      }
      return store_error(s.error());
    }
    json::Writer w;
    w.begin_object();
    w.key("replayed");
    w.integer(id);
    w.end_object();
    return json_ok(std::move(w).take());
  }

  Response validation() const {
    json::Writer w;
    w.begin_object();
    w.key("recent_window_s");
    w.integer(3600);
    w.key("rules");
    w.begin_array();
    if (deps.exchange_metrics) {
      const auto snap = deps.exchange_metrics->snapshot(std::chrono::hours(1));
      struct Row {
        const std::pair<std::string, std::string>* key;
        std::uint64_t recent, total;
      };
      std::vector<Row> rows;
      for (const auto& [key, n] : snap.issues) {
        auto r = snap.recent_issues.find(key);
        rows.push_back(Row{&key, r == snap.recent_issues.end() ? 0 : r->second, n});
      }
      // What failed lately first, then what failed most: what an operator
      // should look at.
      std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        return a.recent != b.recent ? a.recent > b.recent : a.total > b.total;
      });
      for (const Row& row : rows) {
        w.begin_object();
        w.key("rule");
        w.string(row.key->first);
        w.key("severity");
        w.string(row.key->second);
        w.key("last_hour");
        w.integer(static_cast<std::int64_t>(row.recent));
        w.key("since_start");
        w.integer(static_cast<std::int64_t>(row.total));
        w.end_object();
      }
    }
    w.end_array();
    w.end_object();
    return json_ok(std::move(w).take());
  }

  Response redactions() const {
    json::Writer w;
    w.begin_object();
    w.key("since");
    w.string("start");
    w.key("categories");
    w.begin_array();
    if (deps.exchange_metrics) {
      for (const auto& [category, n] : deps.exchange_metrics->snapshot().redactions) {
        w.begin_object();
        w.key("category");
        w.string(category);
        w.key("removals");
        w.integer(static_cast<std::int64_t>(n));
        w.end_object();
      }
    }
    w.end_array();
    w.end_object();
    return json_ok(std::move(w).take());
  }

  Response latency() const {
    json::Writer w;
    w.begin_object();
    w.key("since");
    w.string("start");
    w.key("recipients");
    w.begin_array();
    if (deps.latency) {
      for (const DeliveryLatency& l : deps.latency()) {
        std::uint64_t delivered = 0;
        for (std::uint64_t n : l.buckets) delivered += n;
        w.begin_object();
        w.key("recipient");
        w.string(l.recipient);
        w.key("delivered");
        w.integer(static_cast<std::int64_t>(delivered));
        w.key("mean_s");
        write_seconds(w, delivered ? std::optional<double>(l.sum_seconds / static_cast<double>(delivered)) : std::nullopt);
        // Percentiles as the upper bound of their histogram bucket
        // ("at most"); null above the last bound or without deliveries.
        const std::array<std::pair<const char*, double>, 3> quantiles = {
            std::pair{"p50_s", 0.5}, std::pair{"p90_s", 0.9}, std::pair{"p99_s", 0.99}};
        for (const auto& [name, q] : quantiles) {
          w.key(name);
          write_seconds(w, quantile_bound(l, q));
        }
        w.key("bounds_s");
        w.begin_array();
        for (double b : l.bounds) write_seconds(w, b);
        w.end_array();
        w.key("buckets");
        w.begin_array();
        for (std::uint64_t n : l.buckets) w.integer(static_cast<std::int64_t>(n));
        w.end_array();
        w.end_object();
      }
    }
    w.end_array();
    w.end_object();
    return json_ok(std::move(w).take());
  }

  Response continuity() const {
    auto report = deps.continuity();
    if (!report) return store_error(report.error());
    const std::int64_t k = report->min_cell_size;
    json::Writer w;
    w.begin_object();
    w.key("min_cell_size");
    w.integer(k);
    w.key("handoffs");
    write_cell(w, report->handoffs, k);
    w.key("follow_up");
    w.begin_array();
    for (const auto& [bucket, c] : report->follow_up) {
      w.begin_object();
      w.key("bucket");
      w.string(bucket);
      w.key("handoffs");
      write_cell(w, c, k);
      w.end_object();
    }
    w.end_array();
    struct Fact {
      const char* name;
      const Cell& cell;
      const std::optional<double>& share;
    };
    for (const Fact& f : {Fact{"immunizations", report->immunizations, report->immunization_share},
                          Fact{"interpreter", report->interpreter, report->interpreter_share}}) {
      w.key(f.name);
      w.begin_object();
      w.key("handoffs");
      write_cell(w, f.cell, k);
      w.key("share");
      write_share(w, f.share);
      w.end_object();
    }
    w.key("delivered");
    w.begin_array();
    for (const auto& [recipient, c] : report->delivered) {
      w.begin_object();
      w.key("recipient");
      w.string(recipient);
      w.key("handoffs");
      write_cell(w, c, k);
      w.end_object();
    }
    w.end_array();
    w.end_object();
    return json_ok(std::move(w).take());
  }
};

Response asset(std::string_view body, std::string_view content_type) {
  Response r = Response::text(200, std::string(body), content_type);
  // The page, its script and its style come from here and nowhere else;
  // the script talks to this origin only; nothing may frame the page.
  r.set_header("Content-Security-Policy",
               "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("Referrer-Policy", "no-referrer");
  r.set_header("X-Frame-Options", "DENY");
  r.set_header("Cache-Control", "no-cache");
  return r;
}

}  // namespace

Result<OpsConfig> parse_ops_config(json::Value root) {
  OpsConfig c;
  const json::Value ops = root.find("ops");
  if (!ops) return c;
  if (!ops.is_object()) return bad("ops", "must be an object");
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops.key(i) != "operators" && ops.key(i) != "min_cell_size") {
      return bad("ops." + std::string(ops.key(i)), "unknown key");
    }
  }
  if (const json::Value ids = ops.find("operators")) {
    if (!ids.is_array()) return bad("ops.operators", "must be an array of client ids");
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (!ids[i].is_string() || ids[i].str().empty()) return bad("ops.operators", "must be an array of client ids");
      c.operators.emplace_back(ids[i].str());
    }
  }
  if (const json::Value k = ops.find("min_cell_size")) {
    const std::string_view s = k.str();
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (!k.is_number() || ec != std::errc() || end != s.data() + s.size() || v < 2 || v > kMaxCellSize) {
      return bad("ops.min_cell_size", "must be an integer from 2 to 1000");
    }
    c.min_cell_size = v;
  }
  return c;
}

Result<OpsConfig> load_ops_config(const std::string& path) {
  GW_TRY(auto doc, json::Document::parse_file(path));
  return parse_ops_config(doc.root());
}

Status add_ops_routes(Router& router, OpsDeps deps) {
  if (!deps.store || !deps.replay) return fail(ErrorCode::kInvalidArgument, "ops routes: a store and a replay are required");
  if (!deps.clock) deps.clock = std::make_shared<SystemClock>();
  if (!deps.continuity) deps.continuity = continuity_from_store(deps.store, deps.config.min_cell_size);
  auto ops = std::make_shared<const Ops>(Ops{std::move(deps)});

  struct Asset {
    const char* path;
    std::string_view body;
    const char* type;
  };
  const std::array<Asset, 3> assets = {Asset{"/ops", detail::kOpsPageHtml, "text/html; charset=utf-8"},
                                       Asset{"/ops/app.js", detail::kOpsPageJs, "text/javascript; charset=utf-8"},
                                       Asset{"/ops/app.css", detail::kOpsPageCss, "text/css; charset=utf-8"}};
  for (const Asset& a : assets) {
    Route r;
    r.method = "GET";
    r.path_template = a.path;
    r.handler = SyncHandler([a](const Request&) { return asset(a.body, a.type); });
    r.require_client = false;  // no data in it: how an operator gets to sign in
    r.fhir_api = false;
    GW_CHECK_OK(router.add(std::move(r)));
  }

  using Member = Response (Ops::*)() const;
  struct Api {
    const char* path;
    Member member;
  };
  const std::array<Api, 6> apis = {Api{"/ops/api/queues", &Ops::queues},
                                   Api{"/ops/api/dead-letters", &Ops::dead_letters},
                                   Api{"/ops/api/validation", &Ops::validation},
                                   Api{"/ops/api/redactions", &Ops::redactions},
                                   Api{"/ops/api/latency", &Ops::latency},
                                   Api{"/ops/api/continuity", &Ops::continuity}};
  for (const Api& api : apis) {
    Route r;
    r.method = "GET";
    r.path_template = api.path;
    const Member member = api.member;
    r.handler = SyncHandler([ops, member](const Request& req) {
      if (!ops->is_operator(req)) {
        return Response::outcome(403, IssueType::kSecurity, "this client does not hold the operator role");
      }
      return ((*ops).*member)();
    });
    r.execution = Execution::kCpuPool;
    r.scope = ScopeNeed{"Operations", 'r'};
    r.fhir_api = false;
    GW_CHECK_OK(router.add(std::move(r)));
  }
  Route replay;
  replay.method = "POST";
  replay.path_template = "/ops/api/dead-letters/{id}/replay";
  replay.handler = SyncHandler([ops](const Request& req) {
    if (!ops->is_operator(req)) {
      return Response::outcome(403, IssueType::kSecurity, "this client does not hold the operator role");
    }
    return ops->replay(req);
  });
  replay.execution = Execution::kCpuPool;
  replay.scope = ScopeNeed{"Operations", 'u'};
  replay.fhir_api = false;
  GW_CHECK_OK(router.add(std::move(replay)));
  return {};
}

}  // namespace gw::http
