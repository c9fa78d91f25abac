// gw::http — the gateway's HTTPS FHIR server: TLS and mutual TLS, sessions
// with per-phase deadlines, routing with FHIR REST conventions, limits, rate
// limiting, metrics, JSON logs and graceful shutdown.
//
// Hospital EHRs push discharge summaries and community clinics pull patient
// histories through this server. The domain (validation, handoff, consent,
// store) plugs in through the small value types below: a handler receives a
// `Request` and answers with a `Response`; it never sees Asio, Beast or
// OpenSSL, which stay inside this module (STYLE.md §2).
//
// Pieces, in the order a request meets them:
//
//   TCP accept (max_connections) -> TLS 1.2+/mTLS handshake (client identity
//   from the certificate) -> Session (one strand per connection): read header
//   (deadline) -> read body (deadline, body_limit) -> Router (404/405/415/406,
//   SMART Bearer token 401/403 when enabled, rate limit 429, client check
//   403) -> Handler (inline, on the CPU pool, or
//   asynchronous; deadline) -> bounded response queue -> write (deadline) ->
//   keep-alive (idle deadline) or close.
//
// Clients authenticate with a certificate (mutual TLS) or, with
// `smart.enabled`, with SMART Backend Services: a private_key_jwt client
// assertion (RS384/ES384, keys registered as JWK Sets) traded at
// POST /auth/token for a short-lived access token (HMAC-signed JWT, valid
// on every node that shares the key file), sent as `Authorization: Bearer`.
// Each FHIR route names the SMART scope it needs (Route::scope). See
// SmartConfig.
//
// Every error answer is a FHIR OperationOutcome (`application/fhir+json`)
// whose diagnostics describe the problem and never echo request data
// (the token endpoint answers OAuth JSON errors instead, as RFC 6749 asks).
//
// Usage (what `fhir-gateway serve` does; see run_serve_command below):
//
//   gw::http::Router router;
//   gw::http::add_validate_routes(router, my_validate_fn);
//   auto config = gw::http::load_server_config("config/demo.json");
//   auto server = gw::http::Server::create(*config, std::move(router), deps);
//   if (!server) { report(server.error()); return 2; }
//   if (auto s = (*server)->start(); !s) { report(s.error()); return 1; }
//   (*server)->wait();      // until SIGTERM/SIGINT or stop()
//
// Thread-safety in one line per type is given at each type. Nothing in this
// module is global: loggers, clocks and configuration are passed in.
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/json/json.hpp"
#include "gateway/store/store.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace gw::exchange {
class Exchange;
}  // namespace gw::exchange


namespace gw::http {

// ---------------------------------------------------------------------------
// Clocks
// ---------------------------------------------------------------------------

/// Monotonic time source, injected so that the rate limiter can be tested
/// without sleeping. Implementations must be thread-safe.
class SteadyClock {
 public:
  virtual ~SteadyClock() = default;
  virtual std::chrono::steady_clock::time_point now() const = 0;
};

/// The real monotonic clock.
class RealSteadyClock final : public SteadyClock {
 public:
  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::now();
  }
};

// ---------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------

enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarn, kError };

std::string_view to_string(LogLevel level) noexcept;
/// "debug", "info", "warn", "error"; nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view text) noexcept;

/// One structured log event. Every field is optional except level and
/// event. The server fills only code-authored text and route *templates*
/// (`/fhir/Bundle/{id}`), never raw paths, queries, headers or bodies:
/// those may carry patient data. `detail` must follow the same rule.
struct LogRecord {
  LogLevel level = LogLevel::kInfo;
  std::string_view event;    ///< "request", "deadline", "tls_handshake_failed", ...
  std::string_view route;    ///< route template or "unmatched"/"rejected"
  std::string_view method;   ///< "GET", "POST", ... ("OTHER" for unknown verbs)
  int status = 0;            ///< HTTP status, 0 when none
  double latency_ms = -1;    ///< negative when not applicable
  std::string_view client;   ///< authenticated client id, empty if none
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::string_view detail;   ///< short code-authored text, never request data
};

/// Where log events go. Implementations must be thread-safe: I/O threads
/// log concurrently.
class Logger {
 public:
  virtual ~Logger() = default;
  /// True if records of this level are written (lets callers skip work).
  virtual bool enabled(LogLevel level) const noexcept = 0;
  virtual void log(const LogRecord& record) noexcept = 0;
};

/// Writes one JSON object per line:
///   {"time":"2026-11-23T10:00:00.123Z","level":"info","event":"request",
///    "route":"/healthz","method":"GET","status":200,"latency_ms":0.21,
///    "client":"demo-clinic","bytes_in":0,"bytes_out":15}
/// Fields that are unset (empty, zero status, negative latency) are left
/// out. Thread-safe (one mutex around each line). Keeps references to
/// `out` and `clock`, which must outlive it.
class JsonLineLogger final : public Logger {
 public:
  JsonLineLogger(std::ostream& out, LogLevel min_level, const gw::Clock& clock)
      : out_(out), min_level_(min_level), clock_(clock) {}
  bool enabled(LogLevel level) const noexcept override { return level >= min_level_; }
  void log(const LogRecord& record) noexcept override;

 private:
  std::ostream& out_;
  LogLevel min_level_;
  const gw::Clock& clock_;
  std::mutex mutex_;
};

/// Discards everything.
class NullLogger final : public Logger {
 public:
  bool enabled(LogLevel) const noexcept override { return false; }
  void log(const LogRecord&) noexcept override {}
};

// ---------------------------------------------------------------------------
// Requests and responses (what handlers see)
// ---------------------------------------------------------------------------

/// The caller, as identified by its TLS client certificate (the first of
/// the certificate's SAN entries (DNS, URI) and subject CN that equals a
/// registered client id) or, with SMART Backend Services enabled, by a
/// valid `Authorization: Bearer` access token of the gateway (its `sub`).
/// Both ways give the same identity; a request whose certificate and token
/// name different organisations is refused (403). Absent when there is
/// neither (plain HTTP, no certificate, or one naming no registered client).
struct ClientIdentity {
  std::string id;    ///< e.g. "demo-hospital"
  std::string kind;  ///< e.g. "hospital", "community-clinic"
  friend bool operator==(const ClientIdentity&, const ClientIdentity&) = default;
};

/// What the client asked for with `Prefer: return=...` (FHIR RESTful API §
/// 3.1.0.5.2). kUnspecified lets the handler choose its default.
enum class PreferReturn : std::uint8_t { kUnspecified, kMinimal, kRepresentation, kOperationOutcome };

struct Route;

/// A permission in SMART's `system/<Type>.<cruds>` vocabulary: `permission`
/// is one of 'c' (create), 'r' (read), 'u' (update), 'd' (delete), 's'
/// (search). SMART v1 scopes map onto it (`.read` = rs, `.write` = cud,
/// `.*` = cruds). An empty resource type means "any valid token".
struct ScopeNeed {
  std::string resource_type;
  char permission = 0;
  friend bool operator==(const ScopeNeed&, const ScopeNeed&) = default;
};

/// A parsed HTTP request. Owns all its data; handlers receive it as
/// `const Request&` (inline/pool handlers) or `RequestPtr` (asynchronous
/// handlers, which may keep it alive as long as they need).
///
/// `path` and the query are the client's data: they may contain patient
/// identifiers and must never be logged. Use `route_template()` to log.
/// Thread-safety: immutable once dispatched; safe to read from any thread.
struct Request {
  std::string method;  ///< as sent, e.g. "GET"
  std::string path;    ///< the target's path, still percent-encoded, e.g. "/fhir/Bundle/abc"
  std::vector<std::pair<std::string, std::string>> query;        ///< decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;      ///< names lower-case
  std::vector<std::pair<std::string, std::string>> path_params;  ///< decoded `{name}` values
  std::string body;
  std::optional<ClientIdentity> client;
  PreferReturn prefer = PreferReturn::kUnspecified;
  /// Media type for the response body: "application/fhir+json" unless the
  /// client asked for "application/json" via `_format` or `Accept`.
  std::string response_media_type = "application/fhir+json";
  /// The matched route (set by the router; null before routing).
  const Route* route = nullptr;

  /// First header with this name (case-insensitive), empty if absent.
  std::string_view header(std::string_view name) const noexcept;
  /// First query parameter with this name, nullopt if absent.
  std::optional<std::string_view> query_param(std::string_view name) const noexcept;
  /// The value of a `{name}` segment of the route template, empty if absent.
  std::string_view path_param(std::string_view name) const noexcept;
  /// The matched route template ("/fhir/Bundle/{id}"), safe to log.
  std::string_view route_template() const noexcept;
};
using RequestPtr = std::shared_ptr<const Request>;

/// OperationOutcome.issue.code values used by the server (FHIR IssueType).
enum class IssueType : std::uint8_t {
  kInvalid,       ///< "invalid": malformed request
  kStructure,     ///< "structure"
  kRequired,      ///< "required"
  kNotFound,      ///< "not-found"
  kNotSupported,  ///< "not-supported": wrong method, media type, format
  kTooCostly,     ///< "too-costly": a size limit
  kThrottled,     ///< "throttled": rate limit
  kSecurity,      ///< "security": authentication/authorization
  kTimeout,       ///< "timeout": a deadline
  kTransient,     ///< "transient": try again later (shutting down)
  kException,     ///< "exception": our failure
  kInformational, ///< "informational"
};
std::string_view to_string(IssueType type) noexcept;

/// An HTTP response as a value. Handlers build it with the helpers below or
/// by hand. `headers` must not contain Content-Type, Content-Length,
/// Connection or Transfer-Encoding (the server sets those); names and values
/// must not contain CR or LF (the server answers 500 instead of sending
/// them, so a handler cannot be tricked into header injection).
/// Value type, thread-compatible.
struct Response {
  int status = 200;
  /// Content-Type; empty means "no body". Defaults to FHIR JSON.
  std::string content_type = "application/fhir+json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// `status` with a FHIR JSON body (content type from `media_type`).
  static Response fhir_json(int status, std::string body,
                            std::string_view media_type = "application/fhir+json");
  /// `status` with an OperationOutcome holding one issue (severity error,
  /// or information for 2xx). `diagnostics` must not contain request data.
  static Response outcome(int status, IssueType type, std::string_view diagnostics);
  /// `status` with a text/plain body (used by /healthz, /metrics).
  static Response text(int status, std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8");
  /// 304 Not Modified, no body.
  static Response not_modified();

  /// Sets (replaces) a header.
  Response& set_header(std::string name, std::string value);
  /// First header with this name (case-insensitive), empty if absent.
  std::string_view header(std::string_view name) const noexcept;
};

/// The OperationOutcome JSON used by Response::outcome (exposed for
/// handlers that need the body alone).
std::string operation_outcome_json(std::string_view severity, IssueType type,
                                   std::string_view diagnostics);

// --- FHIR REST helpers for reads ------------------------------------------

/// Weak ETag for a FHIR version id, as FHIR prescribes: `W/"3"`.
std::string etag_for_version(std::string_view version_id);
/// RFC 9110 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for Last-Modified.
std::string http_date(std::chrono::system_clock::time_point t);
/// Parses an IMF-fixdate; nullopt if it is not one.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);
/// True when a conditional read may be answered with 304: If-None-Match
/// names `etag` (or "*"), or, without If-None-Match, If-Modified-Since is at
/// or after `last_modified` (to the second).
bool not_modified(const Request& request, std::string_view etag,
                  std::optional<std::chrono::system_clock::time_point> last_modified);
/// Applies `Prefer: return=` to a successful create/update response: minimal
/// drops the body, OperationOutcome replaces it with an informational
/// OperationOutcome, representation/unspecified keep it.
void apply_prefer(const Request& request, Response& response);

// ---------------------------------------------------------------------------
// Handlers and routes
// ---------------------------------------------------------------------------

/// Completes an asynchronous request. Copyable; thread-safe; the first call
/// wins and later calls are ignored. If every copy is destroyed without a
/// call, the client gets a 500 OperationOutcome ("the handler did not
/// answer"), so a forgotten completion cannot hang a connection.
class Responder {
 public:
  Responder() = default;
  explicit Responder(std::function<void(Response)> deliver);
  void operator()(Response response) const;
  /// True until the first call.
  bool pending() const noexcept;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

/// A synchronous handler: runs inline on an I/O thread (cheap work only) or
/// on the CPU pool (Execution::kCpuPool). Must not throw; if it does, the
/// client gets 500 and the exception is counted and logged (type only).
using SyncHandler = std::function<Response(const Request&)>;
/// An asynchronous handler: starts the work and returns; calls the
/// Responder later from any thread (e.g. after a store commit). The session
/// waits on the completion, bounded by the handler deadline (503 after it).
using AsyncHandler = std::function<void(RequestPtr, Responder)>;

enum class Execution : std::uint8_t {
  kInline,   ///< on the connection's I/O thread: O(microseconds) work only
  kCpuPool,  ///< on the server's small CPU pool (validation of large bundles)
};

/// What a route contributes to the CapabilityStatement (/fhir/metadata).
struct CapabilityInfo {
  std::string resource_type;  ///< "Bundle"; empty for system-level or any-type routes
  std::string interaction;    ///< FHIR TypeRestfulInteraction code: "read", "create", ...
  std::string operation;      ///< operation name without '$': "validate"
  std::string operation_definition;  ///< canonical of the OperationDefinition
};

/// One route: a method and a path template of literal segments and
/// `{name}` parameters, e.g. `/fhir/{type}/$validate`. A literal segment
/// beats a parameter when several templates match a path.
struct Route {
  std::string method;         ///< "GET", "POST", ...
  std::string path_template;  ///< "/fhir/Bundle/{id}"
  std::variant<SyncHandler, AsyncHandler> handler;
  Execution execution = Execution::kInline;
  /// The request must carry a FHIR JSON body (Content-Type
  /// application/fhir+json or application/json), else 415.
  bool fhir_body = false;
  /// Only callers with a registered client identity may call it, else 403
  /// (401 with `WWW-Authenticate: Bearer` when SMART is enabled).
  bool require_client = true;
  /// What a SMART access token must grant to call this route (checked only
  /// when the caller authenticated with a token; certificate holders are
  /// bound by their registered operations instead). Default: any valid
  /// token. 403 with `WWW-Authenticate: Bearer error="insufficient_scope"`.
  ScopeNeed scope;
  /// Counted against the caller's token bucket (429 when empty).
  bool rate_limited = true;
  /// A FHIR REST route: `_format`, Accept and Prefer apply (see
  /// apply_conventions). False for /healthz, /readyz, /metrics.
  bool fhir_api = true;
  CapabilityInfo capability;
  /// Index of the route's metric series (set by the server).
  std::size_t series = 0;
};

/// Outcome of matching a method and path against the routes.
struct Match {
  enum class Kind : std::uint8_t { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;                                   ///< kFound
  std::vector<std::pair<std::string, std::string>> params;       ///< kFound, decoded
  std::string allow;  ///< kMethodNotAllowed: "GET, POST"
};

/// The route table. Built at start-up (add/add_async), then frozen and
/// shared read-only by all I/O threads (`std::shared_ptr<const Router>`):
/// thread-compatible while building, immutable and thread-safe after.
class Router {
 public:
  /// Adds a route. Fails (kInvalidArgument) for a template that does not
  /// start with '/', has an empty segment or a malformed `{}`, or duplicates
  /// an existing method+template.
  Status add(Route route);
  /// Convenience: a synchronous route.
  Status add(std::string method, std::string path_template, SyncHandler handler,
             Execution execution = Execution::kInline, CapabilityInfo capability = {});
  /// Convenience: an asynchronous route.
  Status add_async(std::string method, std::string path_template, AsyncHandler handler,
                   CapabilityInfo capability = {});

  /// Matches a request path (no query; percent-encoded as received).
  /// Parameters are percent-decoded; a path whose encoding is invalid does
  /// not match (kNotFound).
  Match match(std::string_view method, std::string_view path) const;

  std::span<const Route> routes() const noexcept { return routes_; }
  std::span<Route> mutable_routes() noexcept { return routes_; }

 private:
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> segments_;  // per route; "{x}" is a parameter
};

/// Parses the target's query string ("a=1&b=x%20y"): `+` is a space, %XX
/// are decoded. nullopt for an invalid percent-encoding.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);
/// Decodes %XX escapes (not '+'). nullopt for an invalid escape or a NUL.
std::optional<std::string> percent_decode(std::string_view text);

/// Applies the FHIR REST conventions to a routed request before its handler
/// runs: `_format`/`Accept` (406 unless JSON), Content-Type for FHIR bodies
/// (415), `Prefer: return=` (sets request.prefer; unknown preferences are
/// ignored, as RFC 7240 says). Fills `request.response_media_type`. The
/// format checks apply to FHIR API routes only (`Route::fhir_api`), so a
/// Prometheus scraper's Accept header does not matter to /metrics.
/// Returns the error response, if any.
std::optional<Response> apply_conventions(const Route& route, Request& request);

// ---------------------------------------------------------------------------
// Rate limiting
// ---------------------------------------------------------------------------

struct RateLimit {
  double per_second = 0;  ///< refill rate; 0 disables limiting
  double burst = 0;       ///< bucket size (at least 1 when enabled)
  std::size_t max_keys = 10000;  ///< distinct clients tracked at once
  friend bool operator==(const RateLimit&, const RateLimit&) = default;
};

/// A token bucket per key (client id, or remote address without one).
/// Thread-safe (one mutex; the critical section is a map lookup and a few
/// multiplications). Keeps a reference to `clock`, which must outlive it.
///
///   RateLimiter limiter({.per_second = 10, .burst = 20}, clock);
///   if (auto d = limiter.acquire("demo-clinic"); !d.allowed) answer 429, Retry-After: d.retry_after
class RateLimiter {
 public:
  RateLimiter(RateLimit limit, const SteadyClock& clock) : limit_(limit), clock_(clock) {}
  struct Decision {
    bool allowed = true;
    std::chrono::milliseconds retry_after{0};  ///< when denied: until one token is back
  };
  Decision acquire(std::string_view key);
  /// Number of keys currently tracked (for tests and metrics).
  std::size_t tracked_keys() const;

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  void evict_full_buckets_locked(std::chrono::steady_clock::time_point now);
  RateLimit limit_;
  const SteadyClock& clock_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

// ---------------------------------------------------------------------------
// Metrics (Prometheus text format 0.0.4)
// ---------------------------------------------------------------------------

/// Writes the Prometheus text exposition format: `# HELP`, `# TYPE`, then
/// samples `name{label="value",...} number`. Label values are escaped
/// (backslash, double quote, newline). Thread-compatible.
class PrometheusWriter {
 public:
  struct Label {
    std::string_view name;
    std::string_view value;
  };
  /// Starts a metric family; `type` is "counter", "gauge" or "histogram".
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value);
  /// A histogram's `_bucket` lines (cumulative, ending with le="+Inf"),
  /// `_sum` and `_count`. `counts[i]` is the number of observations in
  /// (bounds[i-1], bounds[i]]; counts has bounds.size()+1 entries, the last
  /// one for values above every bound.
  void histogram(std::string_view name, std::initializer_list<Label> labels,
                 std::span<const double> bounds, std::span<const std::uint64_t> counts, double sum);
  const std::string& str() const noexcept { return out_; }
  std::string take() && { return std::move(out_); }

 private:
  void labels(std::initializer_list<Label> labels, std::optional<Label> extra);
  std::string out_;
};

/// The server's counters. Series (one per route and method) are registered
/// before the server starts; recording is lock-free (relaxed atomics) and
/// thread-safe. Labels are route templates, never raw paths.
///
/// Families (all prefixed gw_http_):
///   requests_total{method,route,code}            counter
///   request_duration_seconds{method,route}        histogram
///   requests_in_flight                             gauge
///   connections_open                               gauge
///   connections_total / connections_rejected_total{reason}
///   tls_handshake_failures_total                   counter
///   deadline_expired_total{phase}                  counter (idle/header/body/handler/write/handshake)
///   received_bytes_total / sent_bytes_total        counter
///   handler_exceptions_total / io_exceptions_total counter
class Metrics {
 public:
  static constexpr std::array<double, 13> kLatencyBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
  enum class Phase : std::uint8_t { kHandshake, kIdle, kHeader, kBody, kHandler, kWrite, kCount };

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  /// Registers a series and returns its index. Not thread-safe: call before
  /// the server starts. Series 0.. are the special routes "unmatched" (no
  /// route: 404/405) and "rejected" (refused before routing: 400/413/431/...)
  /// for each method label; see special_series().
  std::size_t add_series(std::string_view method, std::string_view route);
  /// Series for requests that matched no route / were refused before routing.
  std::size_t special_series(std::string_view method, bool rejected) const noexcept;
  /// "GET", "POST", ... or "OTHER": a bounded label for any method text.
  static std::string_view method_label(std::string_view method) noexcept;

  void record_request(std::size_t series, int status, double seconds) noexcept;
  void add_in_flight(int delta) noexcept { in_flight_.fetch_add(delta, std::memory_order_relaxed); }
  void connection_opened() noexcept;
  void connection_closed() noexcept { open_.fetch_sub(1, std::memory_order_relaxed); }
  void connection_rejected() noexcept { rejected_.fetch_add(1, std::memory_order_relaxed); }
  void handshake_failed() noexcept { handshake_failures_.fetch_add(1, std::memory_order_relaxed); }
  void deadline_expired(Phase phase) noexcept;
  void bytes(std::uint64_t in, std::uint64_t out) noexcept;
  void handler_exception() noexcept { handler_exceptions_.fetch_add(1, std::memory_order_relaxed); }
  void io_exception() noexcept { io_exceptions_.fetch_add(1, std::memory_order_relaxed); }

  std::int64_t open_connections() const noexcept { return open_.load(std::memory_order_relaxed); }
  std::int64_t in_flight() const noexcept { return in_flight_.load(std::memory_order_relaxed); }
  /// Requests recorded for a series and status (for tests and readiness).
  std::uint64_t requests(std::size_t series, int status) const noexcept;

  /// The whole exposition, for GET /metrics.
  std::string prometheus_text() const;

 private:
  struct Series;
  std::vector<std::unique_ptr<Series>> series_;
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::int64_t> open_{0};
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> handshake_failures_{0};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Phase::kCount)> deadlines_{};
  std::atomic<std::uint64_t> bytes_in_{0};
  std::atomic<std::uint64_t> bytes_out_{0};
  std::atomic<std::uint64_t> handler_exceptions_{0};
  std::atomic<std::uint64_t> io_exceptions_{0};
};

/// Metric families contributed from outside the server's own counters
/// (domain outcomes, queue depths), appended to GET /metrics. When a
/// server has any, /metrics runs on the CPU pool, so write() may block
/// briefly (a store read); it must be thread-safe and must not throw.
class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  virtual void write(PrometheusWriter& out) const = 0;
};

/// Outcomes of the exchange and $validate routes:
///
///   gw_validation_issues_total{rule,severity}  counter  issues reported by
///       validation ($validate answers, refused pushes), severity fatal/
///       error/warning. `rule` is a bounded identifier: the constraint key
///       for invariant failures ("ips-pat-1", "ele-1"), otherwise the FHIR
///       issue type ("required", "code-invalid", "structure"...). Never a
///       value or a path. At most kMaxRuleLabels (rule, severity) pairs are
///       kept; later ones are counted under rule="other".
///   gw_push_outcomes_total{outcome}            counter  accepted (201/200),
///       malformed (400), refused (403), rejected (422), unavailable (503),
///       failed (other 5xx), other.
///
/// Thread-safe: one mutex around a small map, taken once per request.
///
///   auto m = std::make_shared<gw::http::ExchangeMetrics>();
///   add_exchange_routes(router, exchange, m);  add_validate_routes(router, fn, m);
///   deps.metric_sources.push_back(m);
class ExchangeMetrics final : public MetricsSource {
 public:
  static constexpr std::size_t kMaxRuleLabels = 200;
  /// The most recent issues kept with their time, for the dashboard's
  /// "recent validation failures" (bounded: the oldest go first).
  static constexpr std::size_t kRecentIssues = 2000;
  /// `clock` times the recent issues (null: the system clock).
  explicit ExchangeMetrics(std::shared_ptr<const gw::Clock> clock = nullptr);
  /// Counts the issues of an OperationOutcome (JSON text). Anything else
  /// (not JSON, another resource) is ignored.
  void record_outcome(std::string_view operation_outcome_json);
  /// Counts one push answered with `status`.
  void record_push(int status);
  /// Counts the removals of an accepted push by consent category
  /// (exchange::Deps::on_redactions). Category codes come from the policy
  /// (a bounded set); one that is not a plausible code, and any beyond
  /// kMaxCategoryLabels, is counted as "other".
  void record_redactions(const std::map<std::string, std::uint64_t>& by_category);
  /// For tests: the count of one (rule, severity) / push outcome.
  std::uint64_t issues(std::string_view rule, std::string_view severity) const;
  std::uint64_t pushes(std::string_view outcome) const;

  /// A copy of the counters, for the operator dashboard.
  struct Snapshot {
    std::map<std::pair<std::string, std::string>, std::uint64_t> issues;  ///< (rule, severity) -> count since start
    /// (rule, severity) -> count of the issues recorded within `recent`
    /// of now, among the last kRecentIssues.
    std::map<std::pair<std::string, std::string>, std::uint64_t> recent_issues;
    std::map<std::string, std::uint64_t> redactions;                      ///< category -> removals
  };
  Snapshot snapshot(std::chrono::seconds recent = std::chrono::hours(1)) const;
  static constexpr std::size_t kMaxCategoryLabels = 100;
  /// Adds gw_redactions_total{category} (counter: removals made by the
  /// releases of accepted pushes) to the families above.
  void write(PrometheusWriter& out) const override;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t, std::less<>> issues_;
  std::map<std::string, std::uint64_t, std::less<>> pushes_;
  std::map<std::string, std::uint64_t, std::less<>> redactions_;
  struct Recent {
    std::chrono::system_clock::time_point at;
    const std::pair<const std::pair<std::string, std::string>, std::uint64_t>* key;  ///< into issues_ (stable)
  };
  std::shared_ptr<const gw::Clock> clock_;
  std::deque<Recent> recent_;
};

/// One recipient's outbox, as the store reports it.
struct OutboxDepth {
  std::string recipient;
  std::int64_t pending = 0;    ///< waiting for delivery (due or backing off)
  std::int64_t in_flight = 0;  ///< leased by a forwarder
  std::int64_t dead = 0;       ///< dead letters (retries exhausted)
  std::optional<std::chrono::system_clock::time_point> oldest_pending;  ///< created_at of the oldest pending row
  friend bool operator==(const OutboxDepth&, const OutboxDepth&) = default;
};
/// Reads the outbox (blocking; e.g. store::Store::queue_stats).
using OutboxStatsFn = std::function<Result<std::vector<OutboxDepth>>()>;

/// Queue depths per recipient, read through `read` at scrape time and
/// cached for `ttl`, so that scrapes from several Prometheus replicas cost
/// one store read per ttl. Scrapes run on the CPU pool, never on an I/O
/// thread. Families:
///
///   gw_outbox_pending{recipient}                      gauge
///   gw_outbox_in_flight{recipient}                    gauge
///   gw_outbox_dead_letters{recipient}                 gauge
///   gw_outbox_oldest_pending_age_seconds{recipient}   gauge (0 when none pending)
///   gw_outbox_stats_up                                gauge 1 if the last read worked
///
/// Recipients are registered organisations (a bounded set); at most
/// kMaxRecipients are exposed. Thread-safe. Keeps `read` and the clocks.
class OutboxMetrics final : public MetricsSource {
 public:
  static constexpr std::size_t kMaxRecipients = 500;
  OutboxMetrics(OutboxStatsFn read, std::shared_ptr<const gw::Clock> clock,
                std::shared_ptr<const SteadyClock> steady = nullptr,
                std::chrono::milliseconds ttl = std::chrono::milliseconds(5000));
  void write(PrometheusWriter& out) const override;

 private:
  OutboxStatsFn read_;
  std::shared_ptr<const gw::Clock> clock_;
  std::shared_ptr<const SteadyClock> steady_;
  std::chrono::milliseconds ttl_;
  mutable std::mutex mutex_;
  mutable std::optional<std::chrono::steady_clock::time_point> read_at_;
  mutable std::vector<OutboxDepth> cached_;
  mutable bool up_ = false;
};

// ---------------------------------------------------------------------------
// Operator dashboard and continuity metrics (issue #10)
// ---------------------------------------------------------------------------

/// Who may see the operator dashboard, and how coarse its continuity
/// figures are. Config key `ops`:
///
///   "ops": {"operators": ["demo-ops"], "min_cell_size": 5}
///
/// `operators` are registered client ids (`recipients[].id`) holding the
/// operator role. A caller must be one of them, and when it comes with a
/// SMART access token, the token must also grant `system/Operations.read`
/// (GET) or `system/Operations.write` (replay): a scope the gateway gives
/// only to clients whose `smart.clients.<id>.scopes` list it. A
/// certificate holder needs only to be listed. Nobody is an operator by
/// default.
///
/// `min_cell_size` (k, 2..1000, default 5): a count of handoffs below k is
/// never shown (see deidentify).
struct OpsConfig {
  std::vector<std::string> operators;
  std::int64_t min_cell_size = 5;
  friend bool operator==(const OpsConfig&, const OpsConfig&) = default;
};
/// Reads `ops` from a config file (absent: the defaults). Errors:
/// kIo/kParse for the file, kInvalidArgument naming the key.
Result<OpsConfig> load_ops_config(const std::string& path);
Result<OpsConfig> parse_ops_config(json::Value root);

/// One published count: shown, or suppressed because it is below the
/// minimum cell size (or would let a suppressed one be worked out). A
/// suppressed cell's `count` is 0, so nothing downstream can leak it.
struct Cell {
  std::int64_t count = 0;
  bool suppressed = false;
  friend bool operator==(const Cell&, const Cell&) = default;
};

/// The continuity metrics as they may be published.
struct ContinuityReport {
  std::int64_t min_cell_size = 5;
  Cell handoffs;  ///< accepted handoffs counted
  /// Handoffs per follow-up delay bucket (handoff::follow_up_buckets()
  /// order; every bucket listed, zeros included).
  std::vector<std::pair<std::string, Cell>> follow_up;
  Cell immunizations;  ///< handoffs listing immunizations
  Cell interpreter;    ///< handoffs of patients needing an interpreter
  /// immunizations / handoffs, only when the numerator, the denominator
  /// and their difference are all >= k (else "all but one" would single
  /// a patient out); nullopt otherwise.
  std::optional<double> immunization_share;
  std::optional<double> interpreter_share;
  /// Handoff copies delivered, per recipient (every recipient that has any).
  std::vector<std::pair<std::string, Cell>> delivered;
  friend bool operator==(const ContinuityReport&, const ContinuityReport&) = default;
};

/// Applies the minimum cell size `k` to the store's raw counters. Rules:
///   1. A count c with 0 < c < k is suppressed (primary suppression).
///   2. In a partition whose total is shown (the follow-up buckets of all
///      handoffs), a single suppressed cell could be recovered by
///      subtraction: then the smallest other non-zero cell is suppressed
///      as well (complementary suppression).
///   3. A fact count (immunizations, interpreter) is suppressed when the
///      shown total minus it (the handoffs without the fact) is below k;
///      shares follow ContinuityReport's rule. Zero counts are shown (a
///      zero singles nobody out).
/// Pure; `k` below 2 is treated as 2.
///
///   auto report = deidentify(*st->continuity_counts(), *st->delivered_handoffs(), 5);
ContinuityReport deidentify(std::span<const store::ContinuityCount> counts,
                            std::span<const store::DeliveredCount> delivered, std::int64_t k);

/// Reads the store's counters and de-identifies them (blocking).
using ContinuityFn = std::function<Result<ContinuityReport>()>;
/// A ContinuityFn over a store: `st->continuity_counts()` and
/// `delivered_handoffs()` through deidentify with `k`.
ContinuityFn continuity_from_store(std::shared_ptr<store::Store> st, std::int64_t k);

/// The continuity figures in /metrics, read through `read` at scrape time
/// (cached for `ttl`, like OutboxMetrics). Suppressed cells are left out:
///
///   gw_continuity_handoffs                        gauge  accepted handoffs counted
///   gw_continuity_follow_up_handoffs{bucket}      gauge  per follow-up delay bucket
///   gw_continuity_handoffs_with{fact}             gauge  fact="immunizations"|"interpreter"
///   gw_continuity_share{fact}                     gauge  share of handoffs (0..1)
///   gw_continuity_delivered_handoffs{recipient}   gauge  copies delivered
///   gw_continuity_min_cell_size                   gauge  k
///   gw_continuity_up                              gauge  1 if the last read worked
///
/// Thread-safe.
class ContinuityMetrics final : public MetricsSource {
 public:
  ContinuityMetrics(ContinuityFn read, std::int64_t min_cell_size, std::shared_ptr<const SteadyClock> steady = nullptr,
                    std::chrono::milliseconds ttl = std::chrono::milliseconds(5000));
  void write(PrometheusWriter& out) const override;

 private:
  ContinuityFn read_;
  std::int64_t k_;
  std::shared_ptr<const SteadyClock> steady_;
  std::chrono::milliseconds ttl_;
  mutable std::mutex mutex_;
  mutable std::optional<std::chrono::steady_clock::time_point> read_at_;
  mutable std::optional<ContinuityReport> cached_;
};

/// Delivery latency of one recipient, as the forwarder measured it
/// (forward::RecipientStats: acceptance to the receiver's 2xx).
struct DeliveryLatency {
  std::string recipient;
  std::vector<double> bounds;           ///< bucket upper bounds, seconds
  std::vector<std::uint64_t> buckets;   ///< bounds.size() + 1 counts (last: above every bound)
  double sum_seconds = 0;
  /// What the recipient's deliveries came to since the forwarder started:
  /// an operator sees failing deliveries as they happen (retries, dead
  /// letters), not only once the outbox has grown.
  struct Outcomes {
    std::uint64_t attempts = 0;
    std::uint64_t delivered = 0;
    std::uint64_t retried = 0;
    std::uint64_t dead_lettered = 0;
    std::uint64_t store_errors = 0;     ///< store calls that failed (the row is retried later)
    std::uint64_t worker_failures = 0;  ///< workers ended by an exception (should stay 0)
    friend bool operator==(const Outcomes&, const Outcomes&) = default;
  } outcomes;
  friend bool operator==(const DeliveryLatency&, const DeliveryLatency&) = default;
};
using LatencyFn = std::function<std::vector<DeliveryLatency>()>;
/// The upper bound of the bucket that holds the q-quantile (0 < q <= 1)
/// of a latency histogram; nullopt when it is empty or the quantile lies
/// above every bound.
std::optional<double> quantile_bound(const DeliveryLatency& latency, double q);

/// gw_delivery_latency_seconds{recipient} histogram, from `read` at scrape
/// time (cheap: counters in memory). Thread-safe if `read` is.
class DeliveryLatencyMetrics final : public MetricsSource {
 public:
  explicit DeliveryLatencyMetrics(LatencyFn read) : read_(std::move(read)) {}
  void write(PrometheusWriter& out) const override;

 private:
  LatencyFn read_;
};

/// What the dashboard shows, from where.
struct OpsDeps {
  OpsConfig config;
  /// Queues, dead letters (required).
  std::shared_ptr<store::Store> store;
  /// Puts one dead letter back to pending with its audit record naming
  /// `operator_id` as the requestor, and wakes delivery
  /// (forward::Forwarder::replay_one). kNotFound: no such dead letter.
  /// Required.
  std::function<Status(std::int64_t outbox_id, std::string_view operator_id)> replay;
  /// Validation failures by rule and redactions by category (optional).
  std::shared_ptr<const ExchangeMetrics> exchange_metrics;
  LatencyFn latency;       ///< optional
  ContinuityFn continuity; ///< optional; default continuity_from_store(store, k)
  std::shared_ptr<const gw::Clock> clock;  ///< ages; default SystemClock
};

/// Registers the operator dashboard:
///   GET  /ops, /ops/app.js, /ops/app.css     the page (static, embedded; no
///                                            data, so no identity needed;
///                                            strict Content-Security-Policy)
///   GET  /ops/api/queues                     depth, oldest age per recipient
///   GET  /ops/api/dead-letters               id, recipient, attempts, error
///                                            class, queued/dead times (never
///                                            payload or identifiers)
///   POST /ops/api/dead-letters/{id}/replay   back to pending (audited); needs
///                                            header `X-Ops-Request: 1` (a
///                                            cross-site form cannot send it)
///   GET  /ops/api/validation                 validation issues by rule and
///                                            severity: last hour, since start
///   GET  /ops/api/redactions                 removals by consent category
///   GET  /ops/api/latency                    delivery latency per recipient
///   GET  /ops/api/continuity                 ContinuityReport as JSON
/// API answers are `application/json`, `Cache-Control: no-store`, on the
/// CPU pool (store reads). 401 without identity (SMART), 403 for a caller
/// that is not an operator or whose token lacks the Operations scope.
/// Errors: kInvalidArgument (no store or replay).
Status add_ops_routes(Router& router, OpsDeps deps);

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

/// TLS files (PEM). With `require_client_cert`, clients must present a
/// certificate that chains to `client_ca_file` (mutual TLS); the handshake
/// fails otherwise. Without it (SMART clients may come without a
/// certificate), a certificate is still requested and, when sent, must
/// chain to `client_ca_file` or the handshake fails; a connection without
/// one has no certificate identity. TLS 1.2 is the minimum; TLS 1.2
/// offers only ECDHE with AES-GCM or ChaCha20-Poly1305.
struct TlsConfig {
  std::string cert_chain_file;   ///< server certificate (+ intermediates)
  std::string private_key_file;  ///< server private key
  std::string client_ca_file;    ///< CA that signs client certificates
  /// PEM file of certificate revocation lists (one per issuing CA of
  /// client_ca). When set, every client certificate is checked against
  /// it and a revoked one fails the handshake; a CA without a CRL in the
  /// file then fails too (OpenSSL's CRL_CHECK: no list, no trust), so the
  /// operator lists every issuer's CRL, or none.
  std::string crl_file;
  bool require_client_cert = true;
  friend bool operator==(const TlsConfig&, const TlsConfig&) = default;
};

/// Limits and deadlines. Each deadline covers one phase of a request, not
/// each small read: a client that dribbles bytes (slowloris) is cut off
/// when the phase deadline passes.
struct Limits {
  std::uint64_t body_bytes = 16u << 20;   ///< request body limit (413 above)
  std::uint32_t header_bytes = 16u << 10; ///< request header limit (431 above)
  std::size_t max_connections = 1024;     ///< further connections are closed at once
  std::size_t pipeline_depth = 8;         ///< queued responses per connection before reading pauses
  std::size_t read_buffer_bytes = 64u << 10;  ///< per-connection read buffer (sized for typical bundles)
  std::chrono::milliseconds handshake{10'000};
  std::chrono::milliseconds read_header{10'000};  ///< from the first byte of a request to its header's end
  std::chrono::milliseconds read_body{30'000};
  std::chrono::milliseconds handler{30'000};      ///< 503 after it
  std::chrono::milliseconds write{30'000};
  std::chrono::milliseconds idle{60'000};         ///< keep-alive wait for the next request
  std::chrono::milliseconds drain{10'000};        ///< graceful shutdown: in-flight work gets this long
  RateLimit rate{.per_second = 100, .burst = 200};
  friend bool operator==(const Limits&, const Limits&) = default;
};

/// A registered organisation (config `recipients`: hospitals, clinics,
/// NGOs); its id is what its certificate must name (SAN or CN).
struct ClientEntry {
  std::string id;
  std::string kind;  ///< "hospital", "community-clinic", ...
  friend bool operator==(const ClientEntry&, const ClientEntry&) = default;
};

/// One organisation's SMART Backend Services registration (config
/// `smart.clients.<recipient id>`): its public keys as a JWK Set, inline
/// (`jwks`, kept here as JSON text) and/or in a file (`jwks_file`; both
/// sets are merged), and the scopes it may be granted.
struct SmartClient {
  std::string id;          ///< a registered organisation (`recipients[].id`)
  std::string jwks_json;   ///< inline JWK Set, "" if none
  std::string jwks_file;   ///< path of a JWK Set file, "" if none
  std::vector<std::string> scopes;  ///< e.g. "system/Bundle.c", "system/Bundle.rs", "system/Bundle.write"
  friend bool operator==(const SmartClient&, const SmartClient&) = default;
};

/// SMART App Launch 2.x "Backend Services" (client_credentials grant with
/// private_key_jwt client authentication), besides mutual TLS.
///
/// Access tokens are JWTs the gateway signs with HMAC-SHA256 under the
/// key in `token_secret_file` (at least 32 bytes; trailing whitespace is
/// ignored), so every gateway node holding the same file verifies every
/// node's tokens without shared state. The JWT-ID replay cache of client
/// assertions is per node: a replay to another node within the assertion's
/// (at most five minutes) lifetime is not detected; put the nodes behind a
/// load balancer that pins /auth/token, or share the cache, if that matters.
///
///   "smart": {"enabled": true, "base_url": "https://gateway.example.org",
///             "token_secret_file": "/run/secrets/gateway-token-key",
///             "token_lifetime_s": 300, "replay_cache_entries": 100000,
///             "clients": {"demo-hospital": {"jwks_file": "keys/hospital.jwks.json",
///                                           "scopes": ["system/Bundle.c", "system/Bundle.rs"]}}}
struct SmartConfig {
  bool enabled = false;
  /// The public https base URL clients reach the gateway at (no trailing
  /// '/'). The token endpoint is `base_url + "/auth/token"`, which is also
  /// the `aud` every client assertion must carry.
  std::string base_url;
  std::string token_secret_file;
  std::chrono::seconds token_lifetime{300};
  std::size_t replay_cache_entries = 100000;  ///< JWT ids remembered at once (503 when full of live ones)
  std::vector<SmartClient> clients;
  friend bool operator==(const SmartConfig&, const SmartConfig&) = default;
};

struct ServerConfig {
  std::string listen = "127.0.0.1:8443";  ///< "ADDR:PORT", "[v6]:PORT"; port 0 = any (tests)
  /// I/O threads, each running its own io_context; a connection stays on
  /// one of them for life. 0: one per core.
  unsigned io_threads = 0;
  unsigned cpu_threads = 0;  ///< CPU pool for heavy handlers; 0: max(1, cores / 2)
  /// Serve plain HTTP without TLS. For local tests and benchmarks on
  /// 127.0.0.1 only; never the default. There is no client identity then.
  bool plain_http_for_local_tests = false;
  /// Install SIGINT/SIGTERM handlers that start a graceful stop (serve
  /// command: yes; tests: no).
  bool handle_signals = false;
  LogLevel log_level = LogLevel::kInfo;
  TlsConfig tls;
  Limits limits;
  std::vector<ClientEntry> clients;
  SmartConfig smart;
  friend bool operator==(const ServerConfig&, const ServerConfig&) = default;
};

/// Reads the server's part of a config file: top-level keys `server`,
/// `tls`, `limits`, and `id`/`kind` of each `recipients` entry (other keys belong to other modules and are
/// ignored). Every key is optional; defaults are those of ServerConfig.
/// Relative file paths are kept as written (resolved against the working
/// directory). Errors: kIo/kParse for the file, kInvalidArgument naming the
/// offending key for a wrong type or value.
///
///   { "server": {"listen": "127.0.0.1:8443", "io_threads": 0, "cpu_threads": 2,
///                "plain_http_for_local_tests": false, "log_level": "info"},
///     "tls":    {"cert": "...", "key": "...", "client_ca": "...", "require_client_cert": true},
///     "limits": {"body_bytes": 16777216, "header_bytes": 16384, "max_connections": 1024,
///                "pipeline_depth": 8, "read_buffer_bytes": 65536, "handshake_ms": 10000,
///                "read_header_ms": 10000, "read_body_ms": 30000, "handler_ms": 30000,
///                "write_ms": 30000, "idle_ms": 60000, "drain_ms": 10000,
///                "rate_per_second": 100, "rate_burst": 200},
///     "recipients": [{"id": "demo-hospital", "kind": "hospital", ...}] }
Result<ServerConfig> load_server_config(const std::string& path);
Result<ServerConfig> parse_server_config(json::Value root);
/// Checks a configuration for values that cannot work (no TLS files without
/// plain mode, zero limits, bad listen address). kInvalidArgument naming the key.
Status check_server_config(const ServerConfig& config);

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

/// What the server needs from outside. All optional: a null logger logs
/// nothing, null clocks use the real ones.
struct ServerDeps {
  std::shared_ptr<Logger> logger;
  std::shared_ptr<const gw::Clock> clock;               ///< CapabilityStatement date
  std::shared_ptr<const SteadyClock> steady_clock;      ///< rate limiter
  /// Appended to GET /metrics (see MetricsSource).
  std::vector<std::shared_ptr<const MetricsSource>> metric_sources;
};

/// Server lifecycle (one-way):
///
///   kCreated --start()--> kRunning --stop()/SIGTERM--> kDraining --> kStopped
///                                                       |  acceptor closed;
///                                                       |  idle connections closed;
///                                                       |  in-flight requests finish
///                                                       |  (responses say Connection: close)
///                                                       |  until none is left or
///                                                       |  limits.drain passes, then the
///                                                       |  rest are cancelled; threads joined
///
///   function         from -> to              performed by
///   start()          kCreated -> kRunning    bind, listen, spawn io + cpu threads
///   stop()           kRunning -> kDraining   posts acceptor close and drain to each session
///   (internal)       kDraining -> kStopped   last session closed or drain deadline; wait() joins
///
/// Invariants:
///   1. /readyz answers 200 only in kRunning.
///   2. Once kDraining is observable, the listening socket is closed: new
///      connections are refused.
///   3. No handler result is dropped for a connection that is still open
///      before the drain deadline.
///
/// Thread-safety: start(), stop(), wait(), port(), state() may be called
/// from any thread; stop() is idempotent and never blocks, so it may also
/// be called from a handler. The destructor stops and joins.
class Server {
 public:
  enum class State : std::uint8_t { kCreated, kRunning, kDraining, kStopped };

  /// Builds the TLS context (loads and checks cert, key, CA), registers the
  /// built-in routes (GET /healthz, /readyz, /metrics, /fhir/metadata) next
  /// to `router`'s, and prepares metric series. Errors: kInvalidArgument
  /// (config), kIo (unreadable TLS files), kIntegrity (key does not match
  /// the certificate). Nothing listens yet.
  static Result<std::unique_ptr<Server>> create(ServerConfig config, Router router, ServerDeps deps = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and starts serving. kIo if the address cannot be bound. Call once.
  Status start();
  /// The bound port (the real one when the config asked for port 0); 0
  /// before start().
  std::uint16_t port() const noexcept;
  /// Starts a graceful stop (see the diagram). Idempotent, non-blocking.
  void stop();
  /// Blocks until the server is kStopped and its threads are joined. Must
  /// not be called from a handler or I/O thread.
  void wait();
  /// Waits (bounded) until the state is at least `state`; true if reached.
  bool wait_for_state(State state, std::chrono::milliseconds timeout) const;
  State state() const noexcept;
  bool ready() const noexcept { return state() == State::kRunning; }
  const Metrics& metrics() const noexcept;
  const ServerConfig& config() const noexcept;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------
// $validate and the serve command
// ---------------------------------------------------------------------------

/// Result of validating one resource: the OperationOutcome to return and
/// whether it holds an error (the HTTP status stays 200 either way, as the
/// FHIR $validate operation prescribes).
struct ValidateOutcome {
  std::string operation_outcome;  ///< JSON
  bool has_errors = false;
};
/// The validator, injected. `resource_type` is the `{type}` of
/// `/fhir/{type}/$validate` (empty for `/fhir/$validate`); `profile` the
/// `profile` query parameter (empty if none). An operational failure (the
/// validator could not run) is an Error: the route answers 500 (kInternal)
/// or 400 (kParse, kInvalidArgument, kLimit), 404 (kUnsupported with a
/// `resource_type`: the path names no resource type) or 422 (kNotFound: an
/// unknown profile) with an OperationOutcome of
/// its message, which the validator must keep free of request data. Must be
/// thread-safe: it runs on the CPU pool.
using ValidateFn = std::function<gw::Result<ValidateOutcome>(
    std::string_view body, std::string_view resource_type, std::string_view profile)>;

/// Registers `POST /fhir/$validate` and `POST /fhir/{type}/$validate`
/// (FHIR JSON body, CPU pool, registered clients only; with SMART, any
/// valid token) calling `validate`. With `metrics`, counts the issues of
/// each answer by rule.
Status add_validate_routes(Router& router, ValidateFn validate,
                           std::shared_ptr<ExchangeMetrics> metrics = nullptr);

/// The foundation validator used until the full one is wired: the fhir
/// module's parse gate (hardened JSON, a resource with a resourceType,
/// which must equal `resource_type` when given).
ValidateFn parse_gate_validator();

/// Registers the push and pull routes of the gateway over `exchange`:
///   POST /fhir                           push (document, MHD transaction or
///                                        collection; `recipient=ID[,ID]`)
///   GET  /fhir/Patient/{id}/$summary     pull by the gateway's patient key
///   GET  /fhir/Patient/$summary?identifier=system|value   pull by the caller's own identifier
///   GET  /fhir/Bundle/{id}               one handoff document
///   GET  /fhir/Bundle/{id}/$patient-copy the same as a patient-held copy:
///                                        JSON, or with `_format=html` (or
///                                        Accept text/html) one printable page
///                                        with a QR code (gw::signing)
///   GET  /fhir/DocumentReference?patient=ID | patient.identifier=system|value
///   PUT  /fhir/Consent/{id}              withdraw a consent (the Consent with
///                                        status inactive or rejected): revokes
///                                        it, cancels unsent copies that relied
///                                        on it, queues a notice per clinic
/// SMART scopes: the push needs Bundle create (`system/Bundle.c` or
/// `.write`), $summary and Bundle/{id} Bundle read (`.r`/`.read`), the
/// DocumentReference search DocumentReference search (`.s`/`.read`).
/// With `metrics`, push outcomes and the issues of refused pushes are
/// counted.
/// All on the CPU pool, registered clients only; a release's purpose of
/// use comes from `purpose=` or X-Purpose-Of-Use (default TREAT).
Status add_exchange_routes(Router& router, std::shared_ptr<const exchange::Exchange> exchange,
                           std::shared_ptr<ExchangeMetrics> metrics = nullptr);

/// Registers `GET /.well-known/jwks.json`: the gateway's public signing
/// keys (current and previous, as gw::signing::Signer::jwks_json gives
/// them), so a receiver can check the Bundle.signature of the documents
/// it gets. Public like SMART discovery (no client identity needed: a
/// patient's clinic may have none), rate limited by address, cacheable for
/// five minutes (a rotation publishes the new key before it signs).
Status add_jwks_route(Router& router, std::string jwks_json);

/// What `fhir-gateway serve` gets from the app.
struct ServeOptions {
  /// Validator for the $validate routes; null = parse_gate_validator().
  ValidateFn validate;
  /// Extra routes (handoff push/pull...) added by the app.
  std::function<Status(Router&)> add_routes;
  /// Counts $validate issues (and whatever else the app's routes record);
  /// also appended to /metrics. Null: the serve command makes one.
  std::shared_ptr<ExchangeMetrics> exchange_metrics;
  /// More /metrics families (e.g. OutboxMetrics over the store).
  std::vector<std::shared_ptr<const MetricsSource>> metric_sources;
};

/// `fhir-gateway serve [--config FILE] [--listen ADDR:PORT] [--log-level L]`:
/// loads the config (default config/demo.json), starts the server, prints
/// "listening on https://ADDR:PORT" to `out`, logs JSON lines to `err`, and
/// returns after SIGINT/SIGTERM and a graceful stop. Exit codes as in
/// gateway/app/app.hpp: 0 clean stop, 1 the server could not start
/// (bind, TLS files), 2 usage or configuration error.
int run_serve_command(std::span<const std::string_view> args, const ServeOptions& options,
                      std::ostream& out, std::ostream& err);

}  // namespace gw::http
