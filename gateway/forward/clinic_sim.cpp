// The clinic simulator (forward.hpp, ClinicSim): a small Beast server on its
// own io_context and thread that plays a clinic's FHIR endpoint.
//
// Everything below runs on that one thread, so the session registry and the
// acceptors need no locks; only what public methods read from other threads
// (mode, counts, received entries) sits behind `mutex_` or in an atomic.
//
// "down" closes the delivery acceptor and every open delivery connection,
// so clients see connection refused; leaving "down" binds the same port
// again. "hang" reads the request and then only waits for the client to
// give up (its read deadline), so hung sessions never pile up.
#include "gateway/forward/forward.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace gw::forward {

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

constexpr auto kToken = net::as_tuple(net::use_awaitable);
constexpr auto kIdle = std::chrono::seconds(30);

constexpr std::pair<std::string_view, SimMode> kModes[] = {
    {"ok", SimMode::kOk},     {"fail", SimMode::kFail}, {"flaky", SimMode::kFlaky},
    {"hang", SimMode::kHang}, {"down", SimMode::kDown}, {"reject", SimMode::kReject},
    {"busy", SimMode::kBusy}, {"throttle", SimMode::kThrottle},
};

Result<tcp::endpoint> parse_listen(std::string_view s) {
  const std::size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return fail(ErrorCode::kInvalidArgument, "listen must be HOST:PORT");
  std::string host(s.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  std::string_view p = s.substr(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port > 65535) {
    return fail(ErrorCode::kInvalidArgument, "listen port must be 0..65535");
  }
  boost::system::error_code aec;
  auto addr = net::ip::make_address(host, aec);
  if (aec) return fail(ErrorCode::kInvalidArgument, "listen host must be an IP address");
  return tcp::endpoint(addr, static_cast<std::uint16_t>(port));
}

std::string outcome_json(std::string_view id, std::string_view severity, std::string_view code,
                         std::string_view diagnostics) {
  json::Writer w;
  w.begin_object();
  w.key("resourceType");
  w.string("OperationOutcome");
  w.key("id");
  w.string(id);
  w.key("issue");
  w.begin_array();
  w.begin_object();
  w.key("severity");
  w.string(severity);
  w.key("code");
  w.string(code);
  w.key("diagnostics");
  w.string(diagnostics);
  w.end_object();
  w.end_array();
  w.end_object();
  return std::move(w).take();
}

std::string system_value(json::Value id) {
  if (!id.is_object()) return {};
  std::string out(id.find("system").str());
  out += '|';
  out += id.find("value").str();
  return out;
}

// The delivery's identity (SimReceived::identifier): Bundle.identifier; a
// Task's first identifier; for an MHD ITI-65 transaction, the document's
// identifier as the DocumentReference's masterIdentifier carries it.
std::string delivery_identifier(const json::Document& doc) {
  json::Value root = doc.root();
  const std::string_view type = root.find("resourceType").str();
  if (type == "Task") return system_value(root.find("identifier")[0]);
  if (type == "Bundle" && root.find("type").str() == "transaction") {
    for (json::Value e : root.find("entry").items()) {
      json::Value r = e.find("resource");
      if (r.find("resourceType").str() == "DocumentReference") return system_value(r.find("masterIdentifier"));
    }
  }
  return system_value(root.find("identifier"));
}

class Sim final : public ClinicSim {
 public:
  explicit Sim(SimOptions options) : options_(std::move(options)), mode_(options_.mode) {}

  ~Sim() override { stop(); }

  Status init() {
    GW_TRY(endpoint_, parse_listen(options_.listen));
    if (!options_.cert_file.empty()) {
      ctx_ = std::make_shared<ssl::context>(ssl::context::tls_server);
      SSL_CTX_set_min_proto_version(ctx_->native_handle(), TLS1_2_VERSION);
      boost::system::error_code ec;
      ctx_->use_certificate_chain_file(options_.cert_file, ec);
      if (!ec) ctx_->use_private_key_file(options_.key_file, ssl::context::pem, ec);
      if (ec) return fail(ErrorCode::kIo, "clinic-sim: TLS certificate or key not usable");
      if (!options_.client_ca_file.empty()) {
        ctx_->load_verify_file(options_.client_ca_file, ec);
        if (ec) return fail(ErrorCode::kIo, "clinic-sim: client CA not usable");
        ctx_->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
      }
    }
    if (!options_.record_dir.empty()) {
      std::error_code fec;
      std::filesystem::create_directories(options_.record_dir, fec);
      if (fec) return fail(ErrorCode::kIo, "clinic-sim: cannot create the record folder");
    }
    ioc_.emplace(1);
    if (mode_.load() != SimMode::kDown) {
      GW_CHECK_OK(open_delivery());
    } else {
      // Down from the start: reserve a port number by binding once.
      GW_CHECK_OK(open_delivery());
      close_delivery();
    }
    if (!options_.control.empty()) {
      GW_TRY(tcp::endpoint ce, parse_listen(options_.control));
      control_ = std::make_shared<tcp::acceptor>(*ioc_);
      boost::system::error_code ec;
      control_->open(ce.protocol(), ec);
      if (!ec) control_->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) control_->bind(ce, ec);
      if (!ec) control_->listen(net::socket_base::max_listen_connections, ec);
      if (ec) return fail(ErrorCode::kIo, "clinic-sim: cannot bind the control address");
      control_port_ = control_->local_endpoint().port();
      net::co_spawn(*ioc_, accept_loop(control_, /*control_only=*/true, generation_), net::detached);
    }
    // The guard keeps run() going while no socket is open (mode "down").
    work_.emplace(ioc_->get_executor());
    thread_ = std::thread([this] { ioc_->run(); });
    return {};
  }

  std::uint16_t port() const override { return endpoint_.port(); }
  std::uint16_t control_port() const override { return control_port_; }
  SimMode mode() const override { return mode_.load(); }

  void set_mode(SimMode m) override {
    std::promise<void> done;
    auto f = done.get_future();
    net::post(*ioc_, [this, m, &done] {
      const SimMode before = mode_.exchange(m);
      apply_mode(before, m);
      done.set_value();
    });
    f.wait();
  }

  SimCounts counts() const override {
    std::lock_guard lock(mutex_);
    return counts_;
  }
  std::vector<SimReceived> received() const override {
    std::lock_guard lock(mutex_);
    return received_;
  }
  std::vector<std::string> accepted_bodies() const override {
    std::lock_guard lock(mutex_);
    return bodies_;
  }
  std::uint64_t accepted_count(std::string_view identifier) const override {
    std::lock_guard lock(mutex_);
    auto it = accepted_by_id_.find(std::string(identifier));
    return it == accepted_by_id_.end() ? 0 : it->second;
  }

  void stop() override {
    if (!ioc_) return;
    if (thread_.joinable()) {
      net::post(*ioc_, [this] {
        close_delivery();
        if (control_) control_->close();
        close_sessions(/*include_control=*/true);
        work_.reset();
        ioc_->stop();
      });
      thread_.join();
    }
    acceptor_.reset();
    control_.reset();
    ioc_.reset();  // destroys unfinished coroutine frames while members live
  }

 private:
  struct SessionEntry {
    beast::tcp_stream* stream;
    bool control_only;
  };

  // On the sim thread: switch the listener for a mode change.
  void apply_mode(SimMode before, SimMode after) {
    if (after == SimMode::kDown && before != SimMode::kDown) {
      close_delivery();
      close_sessions(/*include_control=*/false);
    } else if (before == SimMode::kDown && after != SimMode::kDown) {
      (void)open_delivery();
    }
  }

  Status open_delivery() {
    acceptor_ = std::make_shared<tcp::acceptor>(*ioc_);
    boost::system::error_code ec;
    acceptor_->open(endpoint_.protocol(), ec);
    if (!ec) acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint_, ec);
    if (!ec) acceptor_->listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      acceptor_.reset();
      return fail(ErrorCode::kIo, "clinic-sim: cannot bind the listen address");
    }
    endpoint_ = acceptor_->local_endpoint();  // keeps the port for later re-binds
    ++generation_;
    net::co_spawn(*ioc_, accept_loop(acceptor_, /*control_only=*/false, generation_), net::detached);
    return {};
  }

  void close_delivery() {
    boost::system::error_code ignored;
    if (acceptor_) acceptor_->close(ignored);
  }

  void close_sessions(bool include_control) {
    for (auto& [id, entry] : sessions_) {
      if (!include_control && entry.control_only) continue;
      boost::system::error_code ignored;
      entry.stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      entry.stream->socket().close(ignored);
    }
  }

  // Holds its acceptor: "down" then "up" replaces acceptor_ while the old
  // loop may still be waking up from its aborted accept.
  net::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor, bool control_only,
                                   std::uint64_t generation) {
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(kToken);
      if (ec) {
        if (!acceptor->is_open() || ec == net::error::operation_aborted) co_return;
        continue;  // e.g. too many open files: keep serving the others
      }
      // A stale loop of a closed acceptor must not keep serving.
      if (!control_only && generation != generation_) co_return;
      net::co_spawn(*ioc_, session(std::move(socket), control_only), net::detached);
    }
  }

  net::awaitable<void> session(tcp::socket socket, bool control_only) {
    beast::tcp_stream stream(std::move(socket));
    const std::uint64_t id = ++next_session_;
    sessions_[id] = SessionEntry{&stream, control_only};
    struct Unregister {
      Sim* sim;
      std::uint64_t id;
      ~Unregister() { sim->sessions_.erase(id); }
    } unregister{this, id};
    if (ctx_ && !control_only) {
      ssl_stream tls(std::move(stream), *ctx_);
      sessions_[id].stream = &beast::get_lowest_layer(tls);
      beast::get_lowest_layer(tls).expires_after(kIdle);
      auto [ec] = co_await tls.async_handshake(ssl::stream_base::server, kToken);
      if (ec) co_return;
      co_await serve(tls, control_only);
    } else {
      co_await serve(stream, control_only);
    }
  }

  using ssl_stream = beast::ssl_stream<beast::tcp_stream>;

  template <class Stream>
  net::awaitable<void> serve(Stream& stream, bool control_only) {
    beast::flat_buffer buffer(64 * 1024);
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(options_.body_limit);
      beast::get_lowest_layer(stream).expires_after(kIdle);
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kToken);
      (void)n;
      if (ec) co_return;
      auto req = parser.release();
      bhttp::response<bhttp::string_body> res{bhttp::status::ok, req.version()};
      res.set(bhttp::field::server, "fhir-gateway-clinic-sim");
      res.keep_alive(req.keep_alive());
      const bool answer = handle(req, res, control_only);
      if (!answer) {
        // Hang: never answer; wait for the client to give up or for stop.
        std::array<char, 256> scratch;
        for (;;) {
          beast::get_lowest_layer(stream).expires_never();
          auto [rec, got] = co_await stream.async_read_some(net::buffer(scratch), kToken);
          (void)got;
          if (rec) co_return;
        }
      }
      res.prepare_payload();
      beast::get_lowest_layer(stream).expires_after(kIdle);
      auto [wec, w] = co_await bhttp::async_write(stream, res, kToken);
      (void)w;
      if (wec || !res.keep_alive()) co_return;
    }
  }

  // Fills `res`; returns false to hang.
  bool handle(const bhttp::request<bhttp::string_body>& req, bhttp::response<bhttp::string_body>& res,
              bool control_only) {
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    const std::string_view query = target.find('?') == std::string_view::npos ? "" : target.substr(target.find('?') + 1);
    res.set(bhttp::field::content_type, "application/json");
    if (path == "/control" && req.method() == bhttp::verb::post) {
      std::optional<SimMode> m;
      if (query.rfind("mode=", 0) == 0) m = parse_sim_mode(query.substr(5));
      if (!m) {
        res.result(bhttp::status::bad_request);
        res.body() = R"({"error":"mode must be ok|fail|flaky|hang|down|reject|busy|throttle"})";
        return true;
      }
      const SimMode before = mode_.exchange(*m);
      apply_mode(before, *m);
      res.body() = std::string(R"({"mode":")") + std::string(to_string(*m)) + "\"}";
      return true;
    }
    if (path == "/received" && req.method() == bhttp::verb::get) {
      res.body() = received_json();
      return true;
    }
    if (path == "/received/documents" && req.method() == bhttp::verb::get) {
      // What was delivered, for checks on content (the conformance kit's
      // privacy suite); read from the record folder, so only with --record.
      if (options_.record_dir.empty()) {
        res.result(bhttp::status::not_found);
        res.body() = R"({"error":"start clinic-sim with --record DIR to keep documents"})";
        return true;
      }
      res.set(bhttp::field::content_type, "application/fhir+json");
      res.body() = recorded_documents();
      return true;
    }
    // Deliveries go to the endpoint itself or under it (notices: /Task,
    // /$process-message).
    const bool under = path.size() > options_.path.size() && path.starts_with(options_.path) &&
                       path[options_.path.size()] == '/';
    if (control_only || (path != options_.path && !under) || req.method() != bhttp::verb::post) {
      res.result(bhttp::status::not_found);
      res.body() = R"({"error":"not found"})";
      return true;
    }
    return deliver(req, res, path);
  }

  bool deliver(const bhttp::request<bhttp::string_body>& req, bhttp::response<bhttp::string_body>& res,
               std::string_view path) {
    res.set(bhttp::field::content_type, "application/fhir+json");
    SimReceived entry;
    entry.bytes = req.body().size();
    entry.request_id = std::string(req["X-Request-Id"]);
    entry.path = std::string(path);
    auto doc = json::Document::parse(req.body());
    if (doc) {
      entry.identifier = delivery_identifier(*doc);
      entry.resource_type = std::string(doc->root().find("resourceType").str());
    }

    std::unique_lock lock(mutex_);
    const std::uint64_t seq = ++counts_.requests;
    SimMode m = mode_.load();
    if (m == SimMode::kFlaky) m = (++flaky_ % 2 == 1) ? SimMode::kFail : SimMode::kOk;
    const std::string rid = "sim-" + std::to_string(seq);
    bool answer = true;
    switch (m) {
      case SimMode::kHang:
      case SimMode::kDown:  // a request that raced the switch to down
        answer = false;
        break;
      case SimMode::kFail:
        res.result(bhttp::status::internal_server_error);
        res.body() = outcome_json(rid, "error", "exception", "simulated failure");
        break;
      case SimMode::kReject:
        res.result(bhttp::status::unprocessable_entity);
        res.body() = outcome_json(rid, "error", "processing", "simulated refusal");
        break;
      case SimMode::kBusy:
      case SimMode::kThrottle:
        res.result(m == SimMode::kBusy ? bhttp::status::service_unavailable : bhttp::status::too_many_requests);
        res.set(bhttp::field::retry_after, options_.retry_after);
        res.body() = outcome_json(rid, "error", "transient", "simulated: come back later");
        break;
      case SimMode::kOk:
      case SimMode::kFlaky:
        if (!doc || (entry.resource_type != "Bundle" && entry.resource_type != "Task")) {
          res.result(bhttp::status::bad_request);
          res.body() = outcome_json(rid, "error", "structure", "body is not a FHIR Bundle or Task");
          break;
        }
        ++counts_.accepted;
        bodies_.push_back(req.body());
        if (++accepted_by_id_[entry.identifier] == 1) {
          ++counts_.unique;
        } else {
          ++counts_.duplicates;
        }
        res.result(bhttp::status::ok);
        res.body() = outcome_json(rid, "information", "informational", "received");
        break;
    }
    entry.status = answer ? static_cast<int>(res.result_int()) : 0;
    received_.push_back(entry);
    lock.unlock();
    if (!options_.record_dir.empty()) record(seq, entry, req.body());
    return answer;
  }

  void record(std::uint64_t seq, const SimReceived& e, const std::string& body) {
    const std::filesystem::path dir(options_.record_dir);
    if (e.status >= 200 && e.status < 300) {
      std::ofstream(dir / ("received-" + std::to_string(seq) + ".json"), std::ios::binary) << body;
    }
    json::Writer w;
    entry_json(w, e);
    std::ofstream(dir / "received.jsonl", std::ios::app) << w.str() << "\n";
  }

  // The accepted bodies in the record folder, in arrival order, as a FHIR
  // collection Bundle (a body that is not JSON is skipped).
  std::string recorded_documents() const {
    std::vector<std::pair<std::uint64_t, std::filesystem::path>> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(options_.record_dir, ec)) {
      const std::string name = e.path().filename().string();
      if (!name.starts_with("received-") || !name.ends_with(".json")) continue;
      std::uint64_t seq = 0;
      const std::string digits = name.substr(9, name.size() - 14);
      auto [p, fec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
      if (fec == std::errc() && p == digits.data() + digits.size()) files.emplace_back(seq, e.path());
    }
    std::sort(files.begin(), files.end());
    json::Writer w;
    w.begin_object();
    w.key("resourceType");
    w.string("Bundle");
    w.key("type");
    w.string("collection");
    w.key("total");
    w.integer(static_cast<std::int64_t>(files.size()));
    w.key("entry");
    w.begin_array();
    for (const auto& [seq, file] : files) {
      auto doc = json::Document::parse_file(file.string());
      if (!doc) continue;
      w.begin_object();
      w.key("resource");
      w.value(doc->root());
      w.end_object();
    }
    w.end_array();
    w.end_object();
    return std::move(w).take();
  }

  static void entry_json(json::Writer& w, const SimReceived& e) {
    w.begin_object();
    w.key("identifier");
    w.string(e.identifier);
    w.key("resourceType");
    w.string(e.resource_type);
    w.key("path");
    w.string(e.path);
    w.key("requestId");
    w.string(e.request_id);
    w.key("status");
    w.integer(e.status);
    w.key("bytes");
    w.integer(static_cast<std::int64_t>(e.bytes));
    w.end_object();
  }

  std::string received_json() const {
    std::lock_guard lock(mutex_);
    json::Writer w;
    w.begin_object();
    w.key("mode");
    w.string(to_string(mode_.load()));
    w.key("requests");
    w.integer(static_cast<std::int64_t>(counts_.requests));
    w.key("accepted");
    w.integer(static_cast<std::int64_t>(counts_.accepted));
    w.key("unique");
    w.integer(static_cast<std::int64_t>(counts_.unique));
    w.key("duplicates");
    w.integer(static_cast<std::int64_t>(counts_.duplicates));
    w.key("items");
    w.begin_array();
    for (const SimReceived& e : received_) entry_json(w, e);
    w.end_array();
    w.end_object();
    return std::move(w).take();
  }

  SimOptions options_;
  std::atomic<SimMode> mode_;
  tcp::endpoint endpoint_;
  std::uint16_t control_port_ = 0;
  std::shared_ptr<ssl::context> ctx_;
  std::uint64_t generation_ = 0;    // sim thread only
  std::uint64_t next_session_ = 0;  // sim thread only
  std::unordered_map<std::uint64_t, SessionEntry> sessions_;  // sim thread only
  mutable std::mutex mutex_;
  SimCounts counts_;
  std::uint64_t flaky_ = 0;
  std::vector<SimReceived> received_;
  std::vector<std::string> bodies_;
  std::map<std::string, std::uint64_t> accepted_by_id_;
  std::thread thread_;
  // Declared last so that stop() can destroy it (and the coroutine frames it
  // still owns) while every member above is alive.
  std::optional<net::io_context> ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::shared_ptr<tcp::acceptor> acceptor_;
  std::shared_ptr<tcp::acceptor> control_;
};

}  // namespace

std::string_view to_string(SimMode m) noexcept {
  for (const auto& [name, mode] : kModes) {
    if (mode == m) return name;
  }
  return "?";
}

std::optional<SimMode> parse_sim_mode(std::string_view s) noexcept {
  for (const auto& [name, mode] : kModes) {
    if (name == s) return mode;
  }
  return std::nullopt;
}

Result<std::unique_ptr<ClinicSim>> ClinicSim::start(SimOptions options) {
  auto sim = std::make_unique<Sim>(std::move(options));
  GW_CHECK_OK(sim->init());
  return std::unique_ptr<ClinicSim>(std::move(sim));
}

int run_clinic_sim_command(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  SimOptions o;
  o.listen.clear();
  auto usage = [&](std::string_view why) {
    err << "clinic-sim: " << why << "\n"
        << "usage: fhir-gateway clinic-sim --listen HOST:PORT [--control HOST:PORT]\n"
        << "         [--tls CERT KEY [CA]] [--mode ok|fail|flaky|hang|down|reject|busy|throttle]\n"
        << "         [--path /fhir] [--record DIR]\n";
    return 2;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return std::string(args[++i]);
    };
    if (a == "--help" || a == "-h") {
      usage("a fake clinic endpoint for tests and the demo");
      return 0;
    } else if (a == "--listen" || a == "--control" || a == "--mode" || a == "--path" || a == "--record") {
      auto v = value();
      if (!v) return usage(std::string(a) + " needs a value");
      if (a == "--listen") o.listen = *v;
      if (a == "--control") o.control = *v;
      if (a == "--path") o.path = *v;
      if (a == "--record") o.record_dir = *v;
      if (a == "--mode") {
        auto m = parse_sim_mode(*v);
        if (!m) return usage("unknown mode");
        o.mode = *m;
      }
    } else if (a == "--tls") {
      auto cert = value();
      auto key = value();
      if (!cert || !key) return usage("--tls needs CERT and KEY");
      o.cert_file = *cert;
      o.key_file = *key;
      if (i + 1 < args.size() && !args[i + 1].starts_with("--")) o.client_ca_file = std::string(args[++i]);
    } else {
      return usage("unknown option");
    }
  }
  if (o.listen.empty()) return usage("--listen is required");

  // Registered before the simulator's thread starts; Asio delivers the
  // signal to this io_context whichever thread the kernel picks.
  net::io_context signals_ioc(1);
  net::signal_set signals(signals_ioc, SIGINT, SIGTERM);
  auto sim = ClinicSim::start(o);
  if (!sim) {
    err << "clinic-sim: " << sim.error().to_string() << "\n";
    return 2;
  }
  out << "clinic-sim listening on " << (*sim)->port();
  if ((*sim)->control_port() != 0) out << " control " << (*sim)->control_port();
  out << std::endl;
  signals.async_wait([](const boost::system::error_code&, int) {});
  signals_ioc.run();
  (*sim)->stop();
  return 0;
}

}  // namespace gw::forward
