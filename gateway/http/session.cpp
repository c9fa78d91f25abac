// One client connection: Beast's server-flex shape, with its two 1.81 traps
// fixed (STYLE.md §6).
//
// Each session runs on its own strand and lives exactly as long as some
// asynchronous operation (a read, a write, a handler deadline timer) holds
// shared_from_this(). Per request:
//
//   [idle] --first bytes--> [header] --header parsed--> [body] --done--> dispatch
//     ^  deadline: idle       deadline: read_header      deadline: read_body    |
//     |  (read_header for                                                       v
//     |   the first request)                         handler (inline, CPU pool or async;
//     |                                              deadline: handler -> 503)
//     |                                                                         |
//     +---- keep-alive <---- on_write <---- write (deadline: write) <---- queue slot ready
//
// The response queue keeps one slot per request in arrival order, so
// pipelined requests are answered in order even when their handlers finish
// out of order. The slot being written stays at the queue's front until
// on_write (the upstream fix of server-flex, which popped it before the
// write completed and so freed the message under the write). Reading pauses
// while `pipeline_depth` slots are queued and resumes in on_write.
//
// Deadlines are set per phase with the stream's expires_after, never per
// small read: a client that dribbles a header byte by byte (slowloris) is
// cut off when the header deadline passes, however active it looks.
// beast::basic_stream keeps separate read and write timers and applies
// expires_after only to the side that is not pending, so a pipelined read
// and a write each keep their own deadline.
//
// Why callbacks (do_/on_ pairs) and not coroutines: the ordered queue needs a
// reader and a writer that run concurrently on one strand, which is the
// server-flex shape; with coroutines it would take two coroutines and a
// channel. There is therefore no co_spawn to guard; an exception escaping a
// handler reaches io_context::run(), where the server's thread loop logs,
// counts and resumes (server.cpp).
//
// Invariants:
//   1. Only the strand touches a session's members (handlers on the CPU
//      pool talk back through a Responder that posts to the strand).
//   2. queue_.front() is the only slot being written; it is popped only in
//      on_write.
//   3. Every slot leaves the queue exactly once: written (recorded in the
//      metrics) or dropped with the connection (in-flight gauge corrected
//      in the destructor).
//   4. Error responses never contain request data; they are fixed texts.
#include "gateway/http/detail/server_core.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <deque>
#include <type_traits>

namespace gw::http::detail {

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Phase = Metrics::Phase;
using Clock = std::chrono::steady_clock;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool iequals(std::string_view a, std::string_view b) noexcept {
  return beast::iequals(a, b);
}

bool has_crlf(std::string_view s) noexcept { return s.find_first_of("\r\n") != std::string_view::npos; }

// Headers a handler may not set: the server owns message framing.
bool reserved_header(std::string_view name) noexcept {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding") || iequals(name, "connection") ||
         iequals(name, "content-type");
}

// A parse or limit error of the request itself: answered, then the
// connection closes (the stream position is unknown after it).
struct ReadFailure {
  int status;
  IssueType type;
  std::string_view diagnostics;
};

std::optional<ReadFailure> classify(const boost::system::error_code& ec) {
  if (ec == bhttp::error::header_limit) {
    return ReadFailure{431, IssueType::kTooCostly, "the request header is larger than this server accepts"};
  }
  if (ec == bhttp::error::body_limit) {
    return ReadFailure{413, IssueType::kTooCostly, "the request body is larger than this server accepts"};
  }
  if (ec == bhttp::error::buffer_overflow) {
    return ReadFailure{431, IssueType::kTooCostly, "the request is larger than the read buffer allows"};
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
      ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    return ReadFailure{400, IssueType::kInvalid, "the request is not a well-formed HTTP/1.1 message"};
  }
  return std::nullopt;
}

template <class Stream>
class Session final : public SessionControl, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  struct Slot {
    std::uint64_t id = 0;
    bool ready = false;
    bool close_after = false;  // the request asked for close, or was malformed
    bool final = false;        // decided in do_write: this response ends the connection
    bhttp::response<bhttp::string_body> msg;
    std::size_t series = 0;
    int status = 0;
    std::string_view route = "rejected";  // template (owned by the router) or a fixed label
    std::string_view method = "OTHER";    // a Metrics::method_label
    Clock::time_point start;
    std::uint64_t bytes_in = 0;
    std::string client;  // the request's caller (certificate or token), for the log
    std::unique_ptr<net::steady_timer> handler_timer;
  };

 public:
  Session(std::shared_ptr<ServerCore> core, tcp::socket&& socket)
      : core_(std::move(core)), stream_(make_stream(std::move(socket))) {
    boost::system::error_code ec;
    const auto remote = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) peer_key_ = remote.address().to_string();
    buffer_.reserve(core_->config.limits.read_buffer_bytes);
    core_->metrics.connection_opened();
  }

  ~Session() override {
    for (const Slot& s : queue_) {
      (void)s;
      core_->metrics.add_in_flight(-1);
    }
    core_->metrics.connection_closed();
    core_->remove_session(this);
  }

  void run() {
    core_->add_session(this, this->weak_from_this());
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::on_run, this->shared_from_this()));
  }

  void drain() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->draining_ = true;
      self->read_closed_ = true;
      self->maybe_close();
    });
  }

  void force_close() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->closing_ = true;
      for (Slot& s : self->queue_) {
        if (s.handler_timer) s.handler_timer->cancel();
      }
      boost::system::error_code ec;
      beast::get_lowest_layer(self->stream_).socket().close(ec);
    });
  }

 private:
  static Stream make_stream(tcp::socket&& socket, ServerCore& core) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *core.tls);
    } else {
      (void)core;
      return Stream(std::move(socket));
    }
  }
  Stream make_stream(tcp::socket&& socket) { return make_stream(std::move(socket), *core_); }

  const Limits& limits() const { return core_->config.limits; }
  auto& lowest() { return beast::get_lowest_layer(stream_); }

  void log(LogLevel level, std::string_view event, std::string_view detail = {}, int status = 0) {
    Logger& l = *core_->logger;
    if (!l.enabled(level)) return;
    LogRecord r;
    r.level = level;
    r.event = event;
    r.status = status;
    r.detail = detail;
    if (client_) r.client = client_->id;
    l.log(r);
  }

  // --- connection start ------------------------------------------------------

  void on_run() {
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      reading_ = true;
      lowest().expires_after(limits().handshake);
      stream_.async_handshake(ssl::stream_base::server,
                              beast::bind_front_handler(&Session::on_handshake, this->shared_from_this()));
    } else {
      do_read();
    }
  }

  void on_handshake(boost::system::error_code ec) {
    reading_ = false;
    if (ec) {
      if (ec == beast::error::timeout) {
        core_->metrics.deadline_expired(Phase::kHandshake);
        log(LogLevel::kInfo, "deadline", "tls handshake");
      } else if (!closing_) {
        core_->metrics.handshake_failed();
        // OpenSSL's reason ("peer did not return a certificate") describes
        // the protocol, not data.
        log(LogLevel::kInfo, "tls_handshake_failed", ec.message());
      }
      return;  // the session ends: nothing else holds it
    }
    if constexpr (kTls) {
      client_ = identify(peer_names(stream_.native_handle()), core_->config.clients);
    }
    if (draining_) return;
    do_read();
  }

  // --- reading ---------------------------------------------------------------

  bool request_in_progress() const noexcept {
    return reading_ && (phase_ == Phase::kHeader || phase_ == Phase::kBody);
  }

  void set_read_deadline(std::chrono::milliseconds d) { lowest().expires_after(d); }

  void do_read() {
    if (read_closed_ || closing_ || reading_) return;
    if (queue_.size() >= limits().pipeline_depth) return;  // back-pressure; on_write resumes
    // Nothing of a next request has arrived while earlier ones are still
    // being answered: wait for on_write to drain the queue before reading
    // under the idle deadline, which would otherwise expire under a slow
    // handler and close the socket beneath its response. (Bytes already
    // buffered - a pipelined request - are read at once below.)
    if (buffer_.size() == 0 && !queue_.empty()) return;
    parser_.emplace();
    parser_->body_limit(limits().body_bytes);
    parser_->header_limit(limits().header_bytes);
    reading_ = true;
    if (buffer_.size() == 0) {
      // Wait for the first bytes of the next request under the idle
      // deadline (the header deadline for a connection's first request).
      phase_ = Phase::kIdle;
      set_read_deadline(served_ == 0 ? limits().read_header : limits().idle);
      stream_.async_read_some(buffer_.prepare(limits().read_buffer_bytes),
                              beast::bind_front_handler(&Session::on_first_bytes, this->shared_from_this()));
    } else {
      do_read_header();
    }
  }

  void on_first_bytes(boost::system::error_code ec, std::size_t n) {
    reading_ = false;
    if (ec) return on_read_error(ec);
    buffer_.commit(n);
    reading_ = true;
    do_read_header();
  }

  void do_read_header() {
    phase_ = Phase::kHeader;
    request_start_ = Clock::now();
    set_read_deadline(limits().read_header);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::on_read_header, this->shared_from_this()));
  }

  void on_read_header(boost::system::error_code ec, std::size_t n) {
    reading_ = false;
    request_bytes_ = n;
    if (ec) return on_read_error(ec);
    if (parser_->is_done()) return on_request();
    const auto expect = parser_->get()[bhttp::field::expect];
    if (iequals(expect, "100-continue") && queue_.empty() && !writing_) {
      // The client waits for our go-ahead before sending the body; the
      // limits were already checked against Content-Length.
      reading_ = true;
      phase_ = Phase::kBody;
      writing_ = true;
      lowest().expires_after(limits().write);
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = this->shared_from_this()](boost::system::error_code wec, std::size_t) {
                         self->writing_ = false;
                         if (wec) {
                           self->reading_ = false;
                           return self->on_read_error(wec);
                         }
                         self->do_read_body();
                       });
      return;
    }
    reading_ = true;
    do_read_body();
  }

  void do_read_body() {
    phase_ = Phase::kBody;
    set_read_deadline(limits().read_body);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_read_body, this->shared_from_this()));
  }

  void on_read_body(boost::system::error_code ec, std::size_t n) {
    reading_ = false;
    request_bytes_ += n;
    if (ec) return on_read_error(ec);
    on_request();
  }

  void on_read_error(boost::system::error_code ec) {
    read_closed_ = true;
    if (ec == beast::error::timeout) {
      // The stream already closed the socket; pending writes fail and the
      // session ends.
      core_->metrics.deadline_expired(phase_);
      log(LogLevel::kInfo, "deadline",
          phase_ == Phase::kIdle ? "idle connection" : phase_ == Phase::kBody ? "request body" : "request header");
      closing_ = true;
      return;
    }
    if (auto f = classify(ec); f && !closing_) {
      // Answer the broken request after whatever is still queued, then close.
      Slot& s = new_slot();
      const bool header_done = parser_ && parser_->is_header_done();
      s.method = Metrics::method_label(header_done ? std::string_view(parser_->get().method_string()) : "");
      s.series = core_->metrics.special_series(s.method, true);
      s.bytes_in = request_bytes_;
      s.close_after = true;
      core_->metrics.add_in_flight(1);
      complete(s.id, Response::outcome(f->status, f->type, f->diagnostics));
      return;
    }
    // End of stream, truncation, reset, cancellation: nothing to answer.
    maybe_close();
  }

  Slot& new_slot() {
    Slot& s = queue_.emplace_back();
    s.id = next_id_++;
    s.start = request_start_;
    return s;
  }

  // --- dispatch --------------------------------------------------------------

  void on_request() {
    bhttp::request<bhttp::string_body> msg = parser_->release();
    parser_.reset();
    ++served_;
    Slot& slot = new_slot();
    slot.method = Metrics::method_label(msg.method_string());
    slot.series = core_->metrics.special_series(slot.method, false);
    slot.bytes_in = request_bytes_;
    core_->metrics.add_in_flight(1);
    if (!msg.keep_alive() || draining_) {
      slot.close_after = true;
      read_closed_ = true;
    }
    const std::uint64_t id = slot.id;
    dispatch(id, std::move(msg));
    do_read();  // pipelining: read the next request while this one is handled
  }

  Slot* find_slot(std::uint64_t id) {
    if (id < front_id_ || id - front_id_ >= queue_.size()) return nullptr;
    return &queue_[id - front_id_];
  }

  void dispatch(std::uint64_t id, bhttp::request<bhttp::string_body>&& msg) {
    Request req;
    req.method = std::string(msg.method_string());
    const std::string_view target = msg.target();
    if (target.empty() || target.front() != '/') {
      find_slot(id)->series = core_->metrics.special_series(req.method, true);
      return complete(id, Response::outcome(400, IssueType::kInvalid, "the request target must be an absolute path"));
    }
    // RFC 9112 §3.2: an HTTP/1.1 request with no Host, or more than one,
    // is answered 400 (two Hosts is how a request slips past a proxy that
    // routes by the first and a server that reads the last).
    if (msg.version() >= 11 && msg.count(bhttp::field::host) != 1) {
      find_slot(id)->series = core_->metrics.special_series(req.method, true);
      return complete(id, Response::outcome(400, IssueType::kInvalid, "an HTTP/1.1 request needs exactly one Host"));
    }
    const std::size_t q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) {
      auto query = parse_query(target.substr(q + 1));
      if (!query) {
        find_slot(id)->series = core_->metrics.special_series(req.method, true);
        return complete(id, Response::outcome(400, IssueType::kInvalid, "the query string is not validly encoded"));
      }
      req.query = std::move(*query);
    }
    req.headers.reserve(16);
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      req.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    req.body = std::move(msg.body());
    req.client = client_;

    Match match = core_->router->match(req.method, req.path);
    Slot& slot = *find_slot(id);
    if (req.client) slot.client = req.client->id;
    if (match.kind == Match::Kind::kNotFound) {
      return complete(id, Response::outcome(404, IssueType::kNotFound, "no resource or operation at this path"));
    }
    if (match.kind == Match::Kind::kMethodNotAllowed) {
      Response r = Response::outcome(405, IssueType::kNotSupported, "this method is not supported at this path");
      r.set_header("Allow", match.allow);
      return complete(id, std::move(r));
    }
    const Route& route = *match.route;
    slot.series = route.series;
    slot.route = route.path_template;
    req.route = &route;
    req.path_params = std::move(match.params);
    if (route.require_client && core_->smart) {
      // A Bearer token identifies the caller like a certificate does (and
      // must agree with it when both are present); see detail/smart.hpp.
      if (auto refused = core_->smart->authorize(req, route)) return complete(id, std::move(*refused));
      if (!req.client) {
        Response r = Response::outcome(401, IssueType::kSecurity,
                                       "this endpoint needs a registered client certificate or a SMART access token");
        r.set_header("WWW-Authenticate", "Bearer realm=\"fhir-gateway\"");
        return complete(id, std::move(r));
      }
    }
    if (req.client) slot.client = req.client->id;
    if (route.require_client && !req.client) {
      return complete(id, Response::outcome(403, IssueType::kSecurity,
                                            "this endpoint needs a client certificate registered with the gateway"));
    }
    if (route.rate_limited) {
      const auto d = core_->rate_limiter.acquire(req.client ? std::string_view(req.client->id) : peer_key_);
      if (!d.allowed) {
        Response r = Response::outcome(429, IssueType::kThrottled, "too many requests from this client; retry later");
        r.set_header("Retry-After", std::to_string((d.retry_after.count() + 999) / 1000));
        return complete(id, std::move(r));
      }
    }
    if (auto error = apply_conventions(route, req)) return complete(id, std::move(*error));

    if (const auto* sync = std::get_if<SyncHandler>(&route.handler)) {
      if (route.execution == Execution::kInline) {
        return complete(id, call_safely(*sync, req));
      }
      arm_handler_deadline(slot);
      auto shared = std::make_shared<const Request>(std::move(req));
      net::post(*core_->cpu_pool, [core = core_, sync, shared, done = make_responder(id)] {
        done(call_safely(*core, *sync, *shared));
      });
      return;
    }
    const auto* async = &std::get<AsyncHandler>(route.handler);
    arm_handler_deadline(slot);
    Responder done = make_responder(id);
    auto shared = std::make_shared<const Request>(std::move(req));
    // An asynchronous handler on the CPU pool starts with heavy work (a
    // push validates, maps and redacts) and completes later (after the
    // store's commit); inline ones only start something.
    if (route.execution == Execution::kCpuPool) {
      net::post(*core_->cpu_pool, [core = core_, async, shared, done] { start_safely(*core, *async, shared, done); });
      return;
    }
    start_safely(*core_, *async, shared, done);
  }

  static void start_safely(ServerCore& core, const AsyncHandler& h, const RequestPtr& req,
                           const Responder& done) noexcept {
    try {
      h(req, done);
    } catch (...) {
      core.metrics.handler_exception();
      if (core.logger->enabled(LogLevel::kError)) {
        LogRecord r;
        r.level = LogLevel::kError;
        r.event = "handler_exception";
        r.route = req->route_template();
        core.logger->log(r);
      }
      done(Response::outcome(500, IssueType::kException, "the server failed to process the request"));
    }
  }

  static Response call_safely(ServerCore& core, const SyncHandler& h, const Request& req) noexcept {
    try {
      return h(req);
    } catch (...) {
      core.metrics.handler_exception();
      if (core.logger->enabled(LogLevel::kError)) {
        LogRecord r;
        r.level = LogLevel::kError;
        r.event = "handler_exception";
        r.route = req.route_template();
        core.logger->log(r);
      }
      try {
        return Response::outcome(500, IssueType::kException, "the server failed to process the request");
      } catch (...) {
        return Response{};
      }
    }
  }
  Response call_safely(const SyncHandler& h, const Request& req) { return call_safely(*core_, h, req); }

  Responder make_responder(std::uint64_t id) {
    std::weak_ptr<Session> weak = this->shared_from_this();
    return Responder([weak, id](Response r) {
      if (auto self = weak.lock()) {
        net::post(self->stream_.get_executor(), [self, id, r = std::move(r)]() mutable {
          self->complete(id, std::move(r));
        });
      }
    });
  }

  // The handler deadline; its wait also keeps the session alive while the
  // handler runs (the Responder holds only a weak reference).
  void arm_handler_deadline(Slot& slot) {
    slot.handler_timer = std::make_unique<net::steady_timer>(stream_.get_executor(), limits().handler);
    slot.handler_timer->async_wait(
        [self = this->shared_from_this(), id = slot.id](boost::system::error_code ec) {
          if (ec) return;  // cancelled: the handler answered
          Slot* s = self->find_slot(id);
          if (!s || s->ready) return;
          self->core_->metrics.deadline_expired(Phase::kHandler);
          self->log(LogLevel::kWarn, "deadline", "handler");
          self->complete(id, Response::outcome(503, IssueType::kTimeout,
                                               "the request did not complete within the server's deadline"));
        });
  }

  // --- responses -------------------------------------------------------------

  void complete(std::uint64_t id, Response r) {
    Slot* sp = find_slot(id);
    if (!sp || sp->ready) return;  // answered already (deadline) or connection gone
    Slot& s = *sp;
    if (s.handler_timer) s.handler_timer->cancel();
    bool valid = true;
    for (const auto& [k, v] : r.headers) valid = valid && !k.empty() && !has_crlf(k) && !has_crlf(v) && !reserved_header(k);
    valid = valid && !has_crlf(r.content_type) && r.status >= 200 && r.status <= 599;
    if (!valid) {
      log(LogLevel::kError, "invalid_response", "a handler produced an invalid status or header");
      r = Response::outcome(500, IssueType::kException, "the server failed to process the request");
    }
    auto& m = s.msg;
    m.version(11);
    m.result(static_cast<unsigned>(r.status));
    m.set(bhttp::field::server, "fhir-gateway");
    if (!r.content_type.empty()) m.set(bhttp::field::content_type, r.content_type);
    m.set("X-Content-Type-Options", "nosniff");
    bool cache_control = false;
    for (auto& [k, v] : r.headers) {
      cache_control = cache_control || iequals(k, "cache-control");
      m.set(k, v);
    }
    // Responses may carry patient data: no caching unless a handler says so.
    if (!cache_control) m.set(bhttp::field::cache_control, "no-store");
    m.body() = std::move(r.body);
    m.prepare_payload();
    s.status = r.status;
    s.ready = true;
    do_write();
  }

  void do_write() {
    if (writing_ || closing_ || queue_.empty() || !queue_.front().ready) return;
    Slot& s = queue_.front();
    s.final = s.close_after || (read_closed_ && queue_.size() == 1 && !request_in_progress());
    s.msg.keep_alive(!s.final);
    writing_ = true;
    lowest().expires_after(limits().write);
    bhttp::async_write(stream_, s.msg, beast::bind_front_handler(&Session::on_write, this->shared_from_this()));
  }

  void on_write(boost::system::error_code ec, std::size_t n) {
    writing_ = false;
    Slot s = std::move(queue_.front());  // the in-flight slot leaves only now
    queue_.pop_front();
    ++front_id_;
    core_->metrics.add_in_flight(-1);
    const double seconds = std::chrono::duration<double>(Clock::now() - s.start).count();
    core_->metrics.record_request(s.series, s.status, seconds);
    core_->metrics.bytes(s.bytes_in, n);
    Logger& l = *core_->logger;
    if (l.enabled(LogLevel::kInfo)) {
      LogRecord r;
      r.event = "request";
      r.route = s.route;
      r.method = s.method;
      r.status = s.status;
      r.latency_ms = seconds * 1000.0;
      r.client = s.client;
      r.bytes_in = s.bytes_in;
      r.bytes_out = n;
      l.log(r);
    }
    if (ec) {
      if (ec == beast::error::timeout) {
        core_->metrics.deadline_expired(Phase::kWrite);
        log(LogLevel::kInfo, "deadline", "response write");
      }
      closing_ = true;
      boost::system::error_code ignored;
      lowest().socket().close(ignored);
      return;
    }
    if (s.final) {
      read_closed_ = true;
      return maybe_close();
    }
    if (!queue_.empty()) {
      do_write();
    } else {
      maybe_close();
    }
    do_read();  // resumes a read paused by back-pressure
  }

  // --- closing ---------------------------------------------------------------

  void maybe_close() {
    if (closing_ || writing_ || !queue_.empty() || !read_closed_ || request_in_progress()) return;
    closing_ = true;
    boost::system::error_code ec;
    if (reading_) {
      // Idle between requests (or still in the handshake): nothing to
      // finish, close at once; the pending read ends with an error.
      lowest().socket().close(ec);
      return;
    }
    if constexpr (kTls) {
      lowest().expires_after(limits().write);
      stream_.async_shutdown([self = this->shared_from_this()](boost::system::error_code) {
        boost::system::error_code ignored;
        self->lowest().socket().close(ignored);
      });
    } else {
      lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  std::shared_ptr<ServerCore> core_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::deque<Slot> queue_;
  std::uint64_t front_id_ = 0;  // id of queue_.front()
  std::uint64_t next_id_ = 0;
  bool reading_ = false;      // a read (or the handshake) is pending
  bool writing_ = false;      // a write is pending
  bool read_closed_ = false;  // no further requests will be read
  bool closing_ = false;      // shutdown started or socket closed
  bool draining_ = false;
  Phase phase_ = Phase::kIdle;
  std::uint64_t served_ = 0;
  std::uint64_t request_bytes_ = 0;
  Clock::time_point request_start_ = Clock::now();
  std::optional<ClientIdentity> client_;
  std::string peer_key_;
};

}  // namespace

void start_session(const std::shared_ptr<ServerCore>& core, tcp::socket socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  if (core->tls) {
    std::make_shared<Session<TlsStream>>(core, std::move(socket))->run();
  } else {
    std::make_shared<Session<PlainStream>>(core, std::move(socket))->run();
  }
}

}  // namespace gw::http::detail
