// Server lifecycle: create (TLS context, routes, metric series), start
// (bind, accept loop, io and CPU threads), graceful stop (STYLE.md §7) and
// join. The state diagram and its invariants are in http.hpp at Server.
//
// Shutdown, step by step (all on the acceptor's strand):
//   1. begin_drain: state -> kDraining, close the acceptor (new connections
//      are refused), cancel the signal wait, tell every session to drain
//      (idle ones close at once; busy ones finish, answering with
//      Connection: close), arm the drain deadline.
//   2. Each session's destructor reports back; when none is left, finish.
//   3. If the drain deadline passes first, force_close every session that
//      is left (its pending operations end with an error), then finish.
//   4. finish: release the work guards so each io_context::run returns once
//      its last handlers ran; wait() joins the io threads, then the CPU pool.
//
// Threads: one io_context per I/O thread, each run by exactly one thread;
// accepted connections are dealt round-robin, and a connection stays on its
// io_context for life. Measured with bench/http_load.sh on the 2-core
// machine, one shared io_context run by two threads spent ~30% more CPU per
// request than one thread alone (handlers hopping threads, futex wake-ups);
// per-thread contexts keep the single-thread cost and still use every core.
// The acceptor, the drain timer and the signal set live on context 0.
#include "gateway/http/detail/server_core.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <thread>

namespace gw::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Server::Impl {
  Impl(ServerConfig config, ServerDeps deps)
      : clock(deps.clock ? deps.clock : std::make_shared<SystemClock>()),
        steady(deps.steady_clock ? deps.steady_clock : std::make_shared<RealSteadyClock>()),
        core(std::make_shared<detail::ServerCore>(std::move(config),
                                                  deps.logger ? deps.logger : std::make_shared<NullLogger>(),
                                                  *steady)),
        iocs(make_contexts(io_thread_count())),
        strand(net::make_strand(*iocs.front())),
        acceptor(strand),
        drain_timer(strand),
        accept_retry(strand),
        work(make_guards(iocs)) {}

  static std::vector<std::unique_ptr<net::io_context>> make_contexts(unsigned n) {
    std::vector<std::unique_ptr<net::io_context>> out;
    for (unsigned i = 0; i < n; ++i) out.push_back(std::make_unique<net::io_context>(1));
    return out;
  }
  using Guard = net::executor_work_guard<net::io_context::executor_type>;
  static std::vector<Guard> make_guards(const std::vector<std::unique_ptr<net::io_context>>& contexts) {
    std::vector<Guard> out;
    for (const auto& c : contexts) out.push_back(net::make_work_guard(*c));
    return out;
  }

  unsigned io_thread_count() const {
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    return core->config.io_threads ? core->config.io_threads : hw;
  }
  unsigned cpu_thread_count() const {
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    return core->config.cpu_threads ? core->config.cpu_threads : std::max(1u, hw / 2);
  }

  void log(LogLevel level, std::string_view event, std::string_view detail = {}) {
    Logger& l = *core->logger;
    if (!l.enabled(level)) return;
    LogRecord r;
    r.level = level;
    r.event = event;
    r.detail = detail;
    l.log(r);
  }

  void set_state(State s) {
    {
      std::lock_guard lock(state_mutex);
      state.store(s);
    }
    state_cv.notify_all();
  }

  // --- accepting -------------------------------------------------------------

  void do_accept() {
    net::io_context& next = *iocs[next_context++ % iocs.size()];
    acceptor.async_accept(net::make_strand(next), [this](boost::system::error_code ec, tcp::socket socket) {
      on_accept(ec, std::move(socket));
    });
  }

  void on_accept(boost::system::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors or memory: back off instead of spinning.
      log(LogLevel::kWarn, "accept_failed", ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(50));
      accept_retry.async_wait([this](boost::system::error_code wec) {
        if (!wec && acceptor.is_open()) do_accept();
      });
      return;
    }
    if (state.load() != State::kRunning) return;  // socket closes as it goes out of scope
    if (static_cast<std::size_t>(std::max<std::int64_t>(0, core->metrics.open_connections())) >=
        core->config.limits.max_connections) {
      core->metrics.connection_rejected();
      log(LogLevel::kWarn, "connection_rejected", "max_connections reached");
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      detail::start_session(core, std::move(socket));
    }
    do_accept();
  }

  // --- stopping --------------------------------------------------------------

  void begin_drain() {
    if (state.load() != State::kRunning) return;
    boost::system::error_code ec;
    acceptor.close(ec);
    accept_retry.cancel();
    if (signals) signals->cancel();
    set_state(State::kDraining);
    log(LogLevel::kInfo, "server_draining");
    for (auto& s : core->live_sessions()) s->drain();
    drain_timer.expires_after(core->config.limits.drain);
    drain_timer.async_wait([this](boost::system::error_code wec) {
      if (wec || finished) return;
      const std::size_t left = core->session_count();
      log(LogLevel::kWarn, "drain_deadline", std::to_string(left) + " connections cancelled");
      for (auto& s : core->live_sessions()) s->force_close();
      finish();
    });
    check_drained();
  }

  void check_drained() {
    if (state.load() == State::kDraining && !finished && core->session_count() == 0) finish();
  }

  void finish() {
    if (finished) return;
    finished = true;
    drain_timer.cancel();
    for (Guard& g : work) g.reset();  // run() returns once the last handlers (closing sessions) ran
  }

  void run_io_thread(net::io_context& ioc) {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (...) {
        // A handler threw (our code does not): count it, keep serving.
        core->metrics.io_exception();
        log(LogLevel::kError, "io_exception", "an exception escaped an I/O handler");
      }
    }
  }

  std::shared_ptr<const gw::Clock> clock;
  std::shared_ptr<const SteadyClock> steady;
  std::shared_ptr<detail::ServerCore> core;
  std::vector<std::unique_ptr<net::io_context>> iocs;  // [0]: acceptor, drain timer, signals
  net::strand<net::io_context::executor_type> strand;
  tcp::acceptor acceptor;
  net::steady_timer drain_timer;
  net::steady_timer accept_retry;
  std::vector<Guard> work;
  std::size_t next_context = 0;  // strand only
  std::optional<net::signal_set> signals;
  std::optional<net::thread_pool> cpu_pool;
  std::vector<std::thread> threads;
  std::shared_ptr<std::atomic<State>> shared_state = std::make_shared<std::atomic<State>>(State::kCreated);
  std::atomic<State>& state = *shared_state;
  mutable std::mutex state_mutex;
  mutable std::condition_variable state_cv;
  std::atomic<std::uint16_t> port{0};
  bool finished = false;  // strand only
  std::mutex join_mutex;
  bool joined = false;  // join_mutex
};

Result<std::unique_ptr<Server>> Server::create(ServerConfig config, Router router, ServerDeps deps) {
  GW_CHECK_OK(check_server_config(config));
  std::shared_ptr<boost::asio::ssl::context> tls;
  if (!config.plain_http_for_local_tests) {
    GW_TRY(tls, detail::make_server_context(config.tls));
  }
  auto deps_sources = std::move(deps.metric_sources);
  auto impl = std::make_unique<Impl>(std::move(config), std::move(deps));
  detail::ServerCore& core = *impl->core;
  core.tls = std::move(tls);

  if (core.config.smart.enabled) {
    GW_TRY(core.smart, detail::SmartAuth::create(core.config, impl->clock));
    GW_CHECK_OK(detail::add_smart_routes(router, core.smart));
  }

  auto builtin = std::make_shared<detail::BuiltinContext>();
  builtin->ready = [state = impl->shared_state] { return state->load() == State::kRunning; };
  builtin->metrics = &core.metrics;
  for (auto& source : deps_sources) {
    if (source) builtin->sources.push_back(std::move(source));
  }
  GW_CHECK_OK(detail::add_builtin_routes(router, builtin));
  for (Route& r : router.mutable_routes()) r.series = core.metrics.add_series(r.method, r.path_template);
  builtin->capability_statement = std::make_shared<const std::string>(detail::capability_statement(
      router, impl->clock->now(), core.tls && !core.config.tls.client_ca_file.empty(),
      core.smart ? core.smart->token_url() : std::string()));
  core.router = std::make_shared<const Router>(std::move(router));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  stop();
  wait();
}

Status Server::start() {
  Impl& m = *impl_;
  if (m.state.load() != State::kCreated) return fail(ErrorCode::kInvalidArgument, "the server was started already");
  const auto listen = detail::parse_listen(m.core->config.listen);
  GW_ASSERT(listen.has_value(), "listen address checked by check_server_config");
  boost::system::error_code ec;
  auto address = net::ip::make_address(listen->host == "localhost" ? "127.0.0.1" : listen->host, ec);
  if (ec) return fail(ErrorCode::kInvalidArgument, "server.listen: the host must be an IP address or localhost");
  const tcp::endpoint endpoint(address, listen->port);
  m.acceptor.open(endpoint.protocol(), ec);
  if (!ec) m.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(endpoint, ec);
  if (!ec) m.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot listen on " + m.core->config.listen + ": " + ec.message());
  m.port.store(m.acceptor.local_endpoint(ec).port());

  if (m.core->config.handle_signals) {
    m.signals.emplace(m.strand, SIGINT, SIGTERM);
    m.signals->async_wait([&m](boost::system::error_code sec, int signo) {
      if (sec) return;
      m.log(LogLevel::kInfo, "signal", signo == SIGTERM ? "SIGTERM: stopping" : "SIGINT: stopping");
      m.begin_drain();
    });
  }
  m.cpu_pool.emplace(m.cpu_thread_count());
  m.core->cpu_pool = &*m.cpu_pool;
  {
    std::lock_guard lock(m.core->mutex);
    m.core->on_session_closed = [&m] { net::post(m.strand, [&m] { m.check_drained(); }); };
  }
  m.set_state(State::kRunning);
  net::post(m.strand, [&m] { m.do_accept(); });
  const unsigned n = m.io_thread_count();
  GW_ASSERT(n == m.iocs.size(), "one io_context per I/O thread");
  for (auto& c : m.iocs) m.threads.emplace_back([&m, ctx = c.get()] { m.run_io_thread(*ctx); });
  m.log(LogLevel::kInfo, "server_started",
        std::string(m.core->tls ? "https://" : "http://") + listen->host + ":" + std::to_string(m.port.load()));
  return {};
}

std::uint16_t Server::port() const noexcept { return impl_->port.load(); }

void Server::stop() {
  Impl& m = *impl_;
  if (m.state.load() == State::kCreated) {
    // Never started: nothing to drain.
    for (Impl::Guard& g : m.work) g.reset();
    m.set_state(State::kStopped);
    return;
  }
  net::post(m.strand, [&m] { m.begin_drain(); });
}

void Server::wait() {
  Impl& m = *impl_;
  std::lock_guard join_lock(m.join_mutex);
  if (m.joined) return;
  if (m.state.load() == State::kCreated || m.threads.empty()) {
    m.joined = true;
    m.set_state(State::kStopped);
    return;
  }
  for (std::thread& t : m.threads) t.join();
  m.threads.clear();
  if (m.cpu_pool) m.cpu_pool->join();
  {
    std::lock_guard lock(m.core->mutex);
    m.core->on_session_closed = nullptr;  // the strand is about to go away
  }
  m.joined = true;
  m.set_state(State::kStopped);
  m.log(LogLevel::kInfo, "server_stopped");
}

bool Server::wait_for_state(State s, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->state_mutex);
  return impl_->state_cv.wait_for(lock, timeout, [&] { return impl_->state.load() >= s; });
}

Server::State Server::state() const noexcept { return impl_->state.load(); }
const Metrics& Server::metrics() const noexcept { return impl_->core->metrics; }
const ServerConfig& Server::config() const noexcept { return impl_->core->config; }

}  // namespace gw::http
