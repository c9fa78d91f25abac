// Counters for /metrics and the Prometheus text formatter.
//
// Recording is on the hot path of every request, so it is lock-free: each
// series (method x route template) owns fixed arrays of relaxed atomics,
// one per status code and one per latency bucket. Series are registered
// before the server starts and never change after, so the exposition walks
// them without a lock. Relaxed ordering is enough: each counter is read on
// its own and a scrape may see a request a moment early or late.
#include "gateway/http/http.hpp"

#include <charconv>
#include <cmath>

namespace gw::http {

namespace {

constexpr std::array<std::string_view, 8> kMethodLabels = {"GET",    "HEAD",    "POST",  "PUT",
                                                           "PATCH",  "DELETE",  "OPTIONS", "OTHER"};
constexpr int kMinStatus = 100;
constexpr int kMaxStatus = 599;

constexpr std::array<std::string_view, static_cast<std::size_t>(Metrics::Phase::kCount)> kPhaseNames = {
    "handshake", "idle", "header", "body", "handler", "write"};

// Shortest round-trip text (to_chars), and Prometheus' spellings of the
// special values.
void append_number(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

void append_escaped(std::string& out, std::string_view v, bool quote) {
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quote) out += "\\\"";
    else out += c;
  }
}

}  // namespace

// --- PrometheusWriter --------------------------------------------------------

void PrometheusWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusWriter::labels(std::initializer_list<Label> ls, std::optional<Label> extra) {
  if (ls.size() == 0 && !extra) return;
  out_ += '{';
  bool first = true;
  auto one = [&](const Label& l) {
    if (!first) out_ += ',';
    first = false;
    out_ += l.name;
    out_ += "=\"";
    append_escaped(out_, l.value, true);
    out_ += '"';
  };
  for (const Label& l : ls) one(l);
  if (extra) one(*extra);
  out_ += '}';
}

void PrometheusWriter::sample(std::string_view name, std::initializer_list<Label> ls, std::uint64_t value) {
  out_ += name;
  labels(ls, std::nullopt);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void PrometheusWriter::sample(std::string_view name, std::initializer_list<Label> ls, double value) {
  out_ += name;
  labels(ls, std::nullopt);
  out_ += ' ';
  append_number(out_, value);
  out_ += '\n';
}

void PrometheusWriter::histogram(std::string_view name, std::initializer_list<Label> ls,
                                 std::span<const double> bounds, std::span<const std::uint64_t> counts,
                                 double sum) {
  GW_ASSERT(counts.size() == bounds.size() + 1, "histogram needs one count per bound plus +Inf");
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += counts[i];
    std::string le;
    append_number(le, i < bounds.size() ? bounds[i] : INFINITY);
    out_ += bucket;
    labels(ls, Label{"le", le});
    out_ += ' ';
    out_ += std::to_string(cumulative);
    out_ += '\n';
  }
  sample(std::string(name) + "_sum", ls, sum);
  sample(std::string(name) + "_count", ls, cumulative);
}

// --- Metrics -----------------------------------------------------------------

// One (method, route) pair. 500 status slots of 8 bytes each make a series
// about 4 KB: with tens of routes that is cheaper than any lock or map.
struct Metrics::Series {
  std::string method;
  std::string route;
  bool special = false;
  std::array<std::atomic<std::uint64_t>, kMaxStatus - kMinStatus + 1> by_status{};
  std::array<std::atomic<std::uint64_t>, kLatencyBounds.size() + 1> buckets{};
  std::atomic<std::uint64_t> sum_ns{0};
  std::atomic<std::uint64_t> count{0};
};

// The special series exist from the start, one per method label, so that
// recording a 404 never allocates and a hostile method cannot add series.
Metrics::Metrics() {
  for (bool rejected : {false, true}) {
    for (std::string_view m : kMethodLabels) {
      auto s = std::make_unique<Series>();
      s->method = m;
      s->route = rejected ? "rejected" : "unmatched";
      s->special = true;
      series_.push_back(std::move(s));
    }
  }
}

Metrics::~Metrics() = default;

std::size_t Metrics::add_series(std::string_view method, std::string_view route) {
  auto s = std::make_unique<Series>();
  s->method = method;
  s->route = route;
  series_.push_back(std::move(s));
  return series_.size() - 1;
}

std::string_view Metrics::method_label(std::string_view method) noexcept {
  for (std::string_view m : kMethodLabels) {
    if (m == method) return m;
  }
  return "OTHER";
}

std::size_t Metrics::special_series(std::string_view method, bool rejected) const noexcept {
  const std::string_view label = method_label(method);
  std::size_t i = 0;
  while (kMethodLabels[i] != label) ++i;
  return (rejected ? kMethodLabels.size() : 0) + i;
}

void Metrics::record_request(std::size_t series, int status, double seconds) noexcept {
  GW_ASSERT(series < series_.size(), "metric series out of range");
  Series& s = *series_[series];
  const int st = status < kMinStatus || status > kMaxStatus ? 500 : status;
  s.by_status[static_cast<std::size_t>(st - kMinStatus)].fetch_add(1, std::memory_order_relaxed);
  std::size_t b = 0;
  while (b < kLatencyBounds.size() && seconds > kLatencyBounds[b]) ++b;
  s.buckets[b].fetch_add(1, std::memory_order_relaxed);
  s.sum_ns.fetch_add(static_cast<std::uint64_t>(std::max(0.0, seconds) * 1e9), std::memory_order_relaxed);
  s.count.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::connection_opened() noexcept {
  open_.fetch_add(1, std::memory_order_relaxed);
  connections_.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::deadline_expired(Phase phase) noexcept {
  deadlines_[static_cast<std::size_t>(phase)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::bytes(std::uint64_t in, std::uint64_t out) noexcept {
  bytes_in_.fetch_add(in, std::memory_order_relaxed);
  bytes_out_.fetch_add(out, std::memory_order_relaxed);
}

std::uint64_t Metrics::requests(std::size_t series, int status) const noexcept {
  if (series >= series_.size() || status < kMinStatus || status > kMaxStatus) return 0;
  return series_[series]->by_status[static_cast<std::size_t>(status - kMinStatus)].load(
      std::memory_order_relaxed);
}

std::string Metrics::prometheus_text() const {
  auto load = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  PrometheusWriter w;
  w.family("gw_http_requests_total", "counter", "HTTP requests answered, by method, route template and status code");
  for (const auto& sp : series_) {
    const Series& s = *sp;
    for (std::size_t i = 0; i < s.by_status.size(); ++i) {
      const std::uint64_t n = load(s.by_status[i]);
      if (n == 0) continue;
      const std::string code = std::to_string(static_cast<int>(i) + kMinStatus);
      w.sample("gw_http_requests_total", {{"method", s.method}, {"route", s.route}, {"code", code}}, n);
    }
  }
  w.family("gw_http_request_duration_seconds", "histogram",
           "Time from a request's header to its response written, by method and route template");
  for (const auto& sp : series_) {
    const Series& s = *sp;
    const std::uint64_t count = load(s.count);
    if (s.special && count == 0) continue;
    std::array<std::uint64_t, kLatencyBounds.size() + 1> counts{};
    for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = load(s.buckets[i]);
    w.histogram("gw_http_request_duration_seconds", {{"method", s.method}, {"route", s.route}},
                kLatencyBounds, counts, static_cast<double>(load(s.sum_ns)) / 1e9);
  }
  w.family("gw_http_requests_in_flight", "gauge", "Requests read and not yet answered");
  w.sample("gw_http_requests_in_flight", {}, static_cast<double>(load(in_flight_)));
  w.family("gw_http_connections_open", "gauge", "Open client connections");
  w.sample("gw_http_connections_open", {}, static_cast<double>(load(open_)));
  w.family("gw_http_connections_total", "counter", "Connections accepted");
  w.sample("gw_http_connections_total", {}, load(connections_));
  w.family("gw_http_connections_rejected_total", "counter", "Connections closed at once because of a limit");
  w.sample("gw_http_connections_rejected_total", {{"reason", "max_connections"}}, load(rejected_));
  w.family("gw_http_tls_handshake_failures_total", "counter",
           "TLS handshakes that failed (no or untrusted client certificate, protocol errors)");
  w.sample("gw_http_tls_handshake_failures_total", {}, load(handshake_failures_));
  w.family("gw_http_deadline_expired_total", "counter", "Connections or requests cut off by a deadline, by phase");
  for (std::size_t i = 0; i < kPhaseNames.size(); ++i) {
    w.sample("gw_http_deadline_expired_total", {{"phase", kPhaseNames[i]}}, load(deadlines_[i]));
  }
  w.family("gw_http_received_bytes_total", "counter", "Bytes of HTTP requests read (after TLS)");
  w.sample("gw_http_received_bytes_total", {}, load(bytes_in_));
  w.family("gw_http_sent_bytes_total", "counter", "Bytes of HTTP responses written (before TLS)");
  w.sample("gw_http_sent_bytes_total", {}, load(bytes_out_));
  w.family("gw_http_handler_exceptions_total", "counter", "Handlers that threw (answered 500)");
  w.sample("gw_http_handler_exceptions_total", {}, load(handler_exceptions_));
  w.family("gw_http_io_exceptions_total", "counter", "Exceptions that escaped an I/O thread's event loop");
  w.sample("gw_http_io_exceptions_total", {}, load(io_exceptions_));
  return std::move(w).take();
}

}  // namespace gw::http
