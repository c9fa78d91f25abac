// gw::forward — store-and-forward delivery of handoff documents to clinics.
//
// What it is for: a push is acknowledged once its handoff document and one
// outbox row per recipient are committed (gw::store). From then on this
// module owns the promise that each row reaches its clinic exactly once,
// however long the clinic is away. It claims due outbox rows from the Store,
// POSTs each payload (a HandoffDocument Bundle, `application/fhir+json`) to
// the recipient's endpoint over HTTPS with mutual TLS, and records the
// outcome back in the Store: a receipt, a retry time, or a dead letter.
//
// A row's life, as far as forward is concerned (the Store keeps the state):
//
//            claim (lease)              2xx: mark_delivered (first, before anything else)
//   pending ────────────────> leased ─────────────────────────────────────> delivered
//      ^                        │  5xx, 408, 429, timeout, connection error
//      │  next attempt due      │  and attempts < max: mark_failed(next = now + backoff)
//      └────────────────────────┤
//      ^                        │  other 4xx/3xx, or attempts == max: mark_failed(dead letter)
//      │ replay                 v
//      └──────────────────── dead letter
//
// Transition table (function performing each step, forwarder.cpp):
//   pending -> leased          Impl::run -> Store::claim (lease_ms)
//   leased  -> delivered       Impl::deliver -> Store::mark_delivered
//   leased  -> pending         Impl::deliver -> Store::mark_failed(retry_at)
//   leased  -> dead letter     Impl::deliver -> Store::mark_failed(max reached)
//   dead    -> pending         Forwarder::replay_* / `outbox replay` -> Store::replay_dead_letter(s)
//   leased  -> pending (lease expiry, e.g. after a crash): the Store, no code here.
//
// Invariants:
//   1. A 2xx is recorded (mark_delivered) before the worker does anything
//      else with that row or the connection, so a crash after the receiver
//      acknowledged can at worst re-send once, and the receiver can spot it
//      by Bundle.identifier and the X-Request-Id header (the outbox row id).
//      Delivered rows are never claimed again (the Store guarantees it).
//   2. Each recipient has its own workers and its own connections; nothing
//      a recipient does (hang, refuse, be down) blocks another recipient's
//      workers. The only shared resource is the Store-call pool, on which
//      each call is short.
//   3. Blocking Store calls never run on the I/O threads: the Forwarder owns
//      a small pool of threads for them (4; the Store group-commits calls
//      that arrive together).
//   4. Retry delays use the injected clock and random source only, so a test
//      fixes them.
//
// Decision on 4xx: a 4xx other than 408 (timeout) and 429 (too many
// requests) means the receiver understood the request and refused this
// document; sending the same bytes again gives the same answer, so the row
// is dead-lettered at once (an operator fixes the cause and replays it).
// 3xx is treated the same way: the gateway does not follow redirects of
// patient data to places nobody configured.
//
// Usage (the app wires it):
//   auto config = gw::forward::load_forward_config("config/demo.json");
//   auto store  = gw::store::open_sqlite(...);
//   boost::asio::io_context ioc;
//   auto fwd = gw::forward::Forwarder::create(ioc.get_executor(), **store, *config, {});
//   (*fwd)->start();
//   ioc.run();            // until (*fwd)->stop() finishes the workers
//
// Thread-safety is stated per type. Nothing here is global.
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/json/json.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace gw::store {
class Store;
}

namespace gw::forward {

using Millis = std::chrono::milliseconds;

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

/// The gateway's client identity towards clinics (PEM files). `ca_file`
/// holds the CAs that clinic server certificates must chain to. Empty
/// cert/key: no client certificate (a clinic requiring mTLS will refuse).
struct ClientTls {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  friend bool operator==(const ClientTls&, const ClientTls&) = default;
};

/// Deadline of each phase of one delivery. A phase that does not finish in
/// time fails the attempt (retried with backoff).
struct Deadlines {
  Millis connect{5000};
  Millis handshake{5000};
  Millis write{10000};
  Millis read{30000};  ///< from the end of the write to the whole response
  friend bool operator==(const Deadlines&, const Deadlines&) = default;
};

/// Exponential backoff with full jitter: the n-th retry (n = attempts made
/// so far, from 1) waits a uniformly random time in [0, min(cap, base*2^(n-1))].
/// After `max_attempts` failed attempts the row becomes a dead letter.
struct RetryPolicy {
  Millis base{1000};
  Millis cap{std::chrono::minutes(15)};
  std::uint32_t max_attempts = 12;
  friend bool operator==(const RetryPolicy&, const RetryPolicy&) = default;
};

/// One delivery target.
struct RecipientEndpoint {
  std::string id;        ///< recipient id (config "recipients[].id")
  std::string endpoint;  ///< URL the documents are POSTed to
  /// Allow an http:// endpoint (no TLS). Only for local tests and demos; the
  /// config must say so per recipient.
  bool plain_http_for_local_tests = false;
  /// Deliveries in flight at once for this recipient (one connection each).
  std::uint32_t concurrency = 2;
  friend bool operator==(const RecipientEndpoint&, const RecipientEndpoint&) = default;
};

/// Everything the Forwarder needs. Immutable once built; shared read-only.
struct ForwardConfig {
  ClientTls tls;
  Deadlines deadlines;
  RetryPolicy retry;
  std::vector<RecipientEndpoint> recipients;
  /// How long an idle worker waits before it asks the Store again (new
  /// pushes also wake it through Forwarder::wake()).
  Millis poll{1000};
  /// How long a claimed row stays leased to this process; must exceed the
  /// sum of the deadlines (a lease that expires mid-delivery could be
  /// claimed twice).
  Millis lease{60000};
  /// Rows one worker claims at once.
  std::uint32_t batch = 8;
  /// Largest response body read from a clinic (the rest is not read).
  std::size_t response_body_limit = 1 << 20;
  /// Time given to in-flight deliveries on stop() before they are cut.
  Millis drain{10000};
  friend bool operator==(const ForwardConfig&, const ForwardConfig&) = default;
};

/// Reads the `forward` member and the `recipients` list of a gateway
/// configuration document (config/demo.json). Recipients are taken from the
/// top-level `recipients` (id, endpoint, operations: only those that
/// "receive" are delivered to; other keys are consent's); per-recipient
/// delivery settings come from `forward.recipients.<id>`. TLS paths are
/// kept as written (relative ones against the working directory, like the
/// server's `tls` member). Errors: kParse with a JSON-path
/// location for unknown keys, wrong types, bad URLs, an http endpoint
/// without `plain_http_for_local_tests`, settings for an unknown recipient;
/// kInvalidArgument for values that cannot work (zero attempts, lease not
/// longer than the deadlines).
Result<ForwardConfig> parse_forward_config(std::string_view json_text);
/// Reads and parses a configuration file.
Result<ForwardConfig> load_forward_config(const std::string& path);

/// A parsed http(s) URL. Only what delivery needs: no user info, no query
/// rewriting; `target` is the path and query as written ("/" when empty).
struct Url {
  bool tls = true;
  std::string host;  ///< a DNS name or an IPv4/IPv6 literal (without brackets)
  std::uint16_t port = 443;
  std::string target = "/";
  friend bool operator==(const Url&, const Url&) = default;
};
/// Errors: kParse for anything but http(s)://host[:port][/path].
Result<Url> parse_url(std::string_view text);

/// One request of a BlockingClient: an absolute http(s) URL, headers as
/// given (Host is set from the URL).
struct ClientRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};
/// Its response; headers with names as received.
struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// The delivery client (same TLS rules: TLS 1.2+, the CA, the client
/// certificate, the server's name or IP checked against its certificate)
/// for tools that send arbitrary requests one at a time and wait for each
/// (the conformance kit). Keeps one connection per scheme, host and port;
/// http:// URLs go in plain text (local control endpoints). Every phase has
/// its deadline, so a request never hangs.
///
/// Thread-compatible: one thread uses one client.
class BlockingClient {
 public:
  /// Errors: as make_client_context (unreadable files, key mismatch).
  static Result<std::unique_ptr<BlockingClient>> create(const ClientTls& tls, Deadlines deadlines,
                                                        std::size_t body_limit = 64 << 20);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  /// Errors: kParse (URL), kIo naming the phase that failed (connect,
  /// handshake, write, read; timeouts included).
  Result<ClientResponse> send(const ClientRequest& request);

 private:
  struct Impl;
  explicit BlockingClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------
// Retry policy
// ---------------------------------------------------------------------------

/// Source of uniformly distributed 64-bit numbers, injected so that tests
/// fix the jitter. Implementations must be thread-safe.
class Random {
 public:
  virtual ~Random() = default;
  virtual std::uint64_t next() = 0;
};

/// std::random_device-seeded generator behind a mutex.
std::shared_ptr<Random> make_system_random();

/// The delay before the next attempt after `attempts` failed ones (>= 1):
/// full jitter, uniform in [0, min(cap, base * 2^(attempts-1))] from
/// `random`. Pure apart from `random`; never overflows for large attempts.
Millis backoff_delay(const RetryPolicy& policy, std::uint32_t attempts, Random& random);

/// A clinic's Retry-After header value (RFC 9110 section 10.2.3): either
/// delay-seconds ("120") or an HTTP-date in the IMF-fixdate form ("Sun, 06
/// Nov 1994 08:49:37 GMT"), as a delay from `now` (a date in the past is
/// 0). nullopt when the value is neither (then it is ignored). Pure.
std::optional<Millis> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

/// The delay before the next attempt after `attempts` failed ones: the
/// backoff (backoff_delay), but never earlier than the clinic asked
/// (`retry_after`, from a 429 or 503), and the clinic's wish is bounded by
/// `policy.cap`: a clinic cannot park a delivery for a day.
Millis retry_delay(const RetryPolicy& policy, std::uint32_t attempts, Random& random,
                   std::optional<Millis> retry_after);

/// What one attempt's outcome means for the row.
enum class Verdict : std::uint8_t {
  kDelivered,   ///< 2xx
  kRetry,       ///< transport failure (status 0), 5xx, 408, 429
  kDeadLetter,  ///< other 4xx, 3xx, 1xx: the receiver refused this document
};
/// `status` 0 means no HTTP response (connect, TLS, deadline, reset).
Verdict classify(int status) noexcept;
std::string_view to_string(Verdict v) noexcept;

// ---------------------------------------------------------------------------
// The Forwarder
// ---------------------------------------------------------------------------

/// Upper bounds (seconds) of the delivery latency buckets of
/// RecipientStats: from a handoff's acceptance (its outbox row's
/// created_at) to the receiver's 2xx, on the injected clock. Retries,
/// backoff and time spent as a dead letter are part of it: it is the delay
/// the receiving clinic sees.
inline constexpr std::array<double, 10> kDeliveryLatencyBounds = {1,   5,    30,    60,    300,
                                                                  900, 3600, 14400, 86400, 604800};

/// Counters of one recipient since start(). Read with Forwarder::stats().
struct RecipientStats {
  std::string recipient_id;
  std::uint64_t attempts = 0;
  std::uint64_t delivered = 0;
  std::uint64_t retried = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t store_errors = 0;     ///< Store calls that failed (the row is retried later)
  std::uint64_t worker_failures = 0;  ///< workers ended by an exception (a bug; should stay 0)
  /// Deliveries by latency: [i] counts those in (bounds[i-1], bounds[i]]
  /// of kDeliveryLatencyBounds, the last one those above every bound.
  std::array<std::uint64_t, kDeliveryLatencyBounds.size() + 1> latency_buckets{};
  double latency_sum_seconds = 0;  ///< sum of the latencies counted in latency_buckets
  friend bool operator==(const RecipientStats&, const RecipientStats&) = default;
};

/// What the Forwarder needs from outside besides the Store and the config.
/// Null members use the real ones (SystemClock, make_system_random()).
struct ForwarderDeps {
  std::shared_ptr<const Clock> clock;
  std::shared_ptr<Random> random;
};

/// Delivers due outbox rows, one independent set of workers per recipient.
///
/// Lifetime: the io_context and the Store must outlive the Forwarder. After
/// stop() the workers finish on the io_context (run it until it returns, or
/// call wait_stopped()). Destroying a started Forwarder that was not stopped
/// is a programming error (GW_ASSERT).
///
/// Thread-safety: start(), stop(), wake(), replay_*() and stats() may be
/// called from any thread. The io_context may run on several threads: each
/// worker runs on its own strand.
class Forwarder {
 public:
  /// Builds the TLS client context (loads and checks the files). Errors:
  /// kIo (unreadable or non-PEM TLS files), kIntegrity (key does not match
  /// cert), kInvalidArgument (recipient endpoint not usable).
  static Result<std::unique_ptr<Forwarder>> create(boost::asio::io_context& ioc, store::Store& store,
                                                   ForwardConfig config, ForwarderDeps deps = {});
  virtual ~Forwarder() = default;

  /// Starts the workers on the io_context. Call once.
  virtual void start() = 0;
  /// Wakes idle workers now (e.g. after a push committed new rows for
  /// `recipient_id`; empty wakes all).
  virtual void wake(std::string_view recipient_id = {}) = 0;
  /// Graceful stop: no new claims; workers finish the rows they already
  /// claimed (outcomes recorded) for up to `drain`, then their sockets are
  /// closed and rows still unsent keep their lease until it expires (the
  /// Store has no "release"), so the next run retries them late, never
  /// loses them.
  virtual void stop() = 0;
  /// Blocks until every worker has finished after stop() (the io_context
  /// must be running on some thread).
  virtual void wait_stopped() = 0;

  /// Puts every dead letter of `recipient_id` back to pending, due now.
  /// Returns how many. Errors: kNotFound (unknown recipient), Store errors.
  virtual Result<std::uint64_t> replay_recipient(std::string_view recipient_id) = 0;
  /// Puts one dead letter back, audited; `requested_by` (a registered
  /// client id, e.g. the operator who pressed Replay on the dashboard) is
  /// recorded as the requestor. Errors: kNotFound, Store errors.
  virtual Status replay_one(std::int64_t outbox_id, std::string_view requested_by = {}) = 0;

  virtual std::vector<RecipientStats> stats() const = 0;
};

// ---------------------------------------------------------------------------
// The clinic simulator
// ---------------------------------------------------------------------------

/// How the simulator answers deliveries.
enum class SimMode : std::uint8_t {
  kOk,     ///< 200 with an OperationOutcome
  kFail,   ///< 500 to every delivery
  kFlaky,  ///< 500 to every other delivery (the 1st, 3rd, ... fail)
  kHang,   ///< reads the request, never answers (until stop or client close)
  kDown,   ///< the delivery port is closed (control port stays up)
  kReject, ///< 422 with an OperationOutcome (a permanent refusal)
  kBusy,   ///< 503 with `Retry-After: SimOptions::retry_after` (a clinic asking for time)
  kThrottle, ///< 429 with `Retry-After: SimOptions::retry_after`
};
std::string_view to_string(SimMode m) noexcept;
std::optional<SimMode> parse_sim_mode(std::string_view s) noexcept;

struct SimOptions {
  std::string listen = "127.0.0.1:0";   ///< deliveries (and control, when `control` is empty)
  std::string control;                  ///< separate plain-HTTP control listener ("" = none)
  /// Serve TLS with these files; with `client_ca_file`, clients must present
  /// a certificate chaining to it (mutual TLS). Empty cert: plain HTTP.
  std::string cert_file, key_file, client_ca_file;
  SimMode mode = SimMode::kOk;
  std::string path = "/fhir";   ///< where deliveries are POSTed
  std::string record_dir;       ///< when set: received.jsonl + one file per document
  std::size_t body_limit = 64 << 20;
  /// Retry-After header value in modes busy and throttle (seconds or an
  /// HTTP-date, sent as written).
  std::string retry_after = "120";
};

/// What the simulator received, in arrival order, one entry per delivery
/// it accepted (answered 2xx) or refused.
struct SimReceived {
  /// "system|value" of Bundle.identifier, of Task.identifier[0] for a
  /// Task, and of the DocumentReference's masterIdentifier for an MHD
  /// ITI-65 transaction ("" if none).
  std::string identifier;
  std::string resource_type;  ///< resourceType of the body ("" if not JSON)
  std::string path;           ///< request path (the endpoint's, or under it: ".../Task")
  std::string request_id;  ///< X-Request-Id header
  int status = 0;          ///< what the simulator answered
  std::size_t bytes = 0;
  friend bool operator==(const SimReceived&, const SimReceived&) = default;
};

/// Summary as GET /received returns it.
struct SimCounts {
  std::uint64_t requests = 0;    ///< deliveries seen (any answer, hang included)
  std::uint64_t accepted = 0;    ///< answered 2xx
  std::uint64_t unique = 0;      ///< distinct identifiers accepted
  std::uint64_t duplicates = 0;  ///< accepted deliveries of an identifier already accepted
  friend bool operator==(const SimCounts&, const SimCounts&) = default;
};

/// A fake clinic on 127.0.0.1 for tests, the demo and the conformance kit.
/// Runs its own io_context on one thread. Control over HTTP:
///   POST /control?mode=ok|fail|flaky|hang|down|reject|busy|throttle   switch mode
///   GET  /received                                     counts + entries (JSON)
///   GET  /received/documents                           the accepted bodies, as a FHIR
///                                                      collection Bundle (needs record_dir)
/// Thread-safety: all methods may be called from any thread.
class ClinicSim {
 public:
  /// Binds (port 0 picks one) and starts serving. Errors: kInvalidArgument
  /// (bad address), kIo (bind, TLS files).
  static Result<std::unique_ptr<ClinicSim>> start(SimOptions options);
  virtual ~ClinicSim() = default;

  virtual std::uint16_t port() const = 0;          ///< delivery port (stays the same across down/up)
  virtual std::uint16_t control_port() const = 0;  ///< 0 without a control listener
  virtual void set_mode(SimMode mode) = 0;
  virtual SimMode mode() const = 0;
  virtual SimCounts counts() const = 0;
  virtual std::vector<SimReceived> received() const = 0;
  /// Accepted deliveries of one identifier.
  virtual std::uint64_t accepted_count(std::string_view identifier) const = 0;
  /// Bodies of the accepted deliveries, in arrival order (tests inspect
  /// what a clinic got: notices, MHD transactions).
  virtual std::vector<std::string> accepted_bodies() const = 0;
  /// Closes everything and joins the thread (also done by the destructor).
  virtual void stop() = 0;
};

/// `fhir-gateway clinic-sim --listen HOST:PORT [--control HOST:PORT]
/// [--tls CERT KEY [CA]] [--mode ok|fail|flaky|hang|down|reject]
/// [--path /fhir] [--record DIR]`: runs until SIGINT/SIGTERM. Prints
/// "clinic-sim listening on PORT" (and the control port) on `out` once
/// bound. Exit codes: 0 after a signal, 2 usage/bind errors.
int run_clinic_sim_command(std::span<const std::string_view> args, std::ostream& out,
                           std::ostream& err);

// ---------------------------------------------------------------------------
// Operator commands
// ---------------------------------------------------------------------------

/// `fhir-gateway outbox list [--recipient ID] [STORE]`: queue figures per
/// recipient and every dead letter (outbox id, recipient, attempts, last
/// error; never the payload).
/// `fhir-gateway outbox replay (--recipient ID | --id N) [STORE]`: puts
/// dead letters back to pending, due now, with an audit record each. A
/// running gateway picks them up at its next poll (PostgreSQL: at once,
/// through the Store's work listener).
/// STORE is chosen as `fhir-gateway audit` does: `--store PATH` (SQLite),
/// `--postgres CONNINFO`, or `--config FILE` (its "store" object; default
/// config/demo.json).
/// Exit codes: 0 done, 1 nothing to replay / not found, 2 usage or store error.
int run_outbox_command(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

/// `fhir-gateway forward [--config FILE] [--store PATH | --postgres
/// CONNINFO] [--threads N]`: runs the Forwarder over the configured store and
/// recipients until SIGINT/SIGTERM, then stops gracefully and prints each
/// recipient's counts. Exit codes: 0 after a signal, 2 configuration/store
/// errors.
int run_forward_command(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace gw::forward
