// State shared by the server and its sessions (private to the module).
//
// Ownership: the Server's Impl owns the io_context, the threads and the
// CPU pool; everything a session needs while it lives is in ServerCore,
// which sessions hold by shared_ptr, so a session that outlives a request
// can never see a destroyed router, metrics or logger.
#pragma once

#include "gateway/http/detail/internal.hpp"
#include "gateway/http/detail/smart.hpp"
#include "gateway/http/detail/tls.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace gw::http::detail {

/// What the server can ask of a live connection. Both calls are
/// thread-safe: they post to the session's strand.
class SessionControl {
 public:
  virtual ~SessionControl() = default;
  /// Graceful: stop reading new requests, finish the queued ones (their
  /// responses say Connection: close), close idle connections now.
  virtual void drain() = 0;
  /// Terminal: close the socket; pending operations end with an error.
  virtual void force_close() = 0;
};

struct ServerCore {
  ServerCore(ServerConfig c, std::shared_ptr<Logger> l, const SteadyClock& steady)
      : config(std::move(c)), logger(std::move(l)), rate_limiter(config.limits.rate, steady) {}

  const ServerConfig config;
  std::shared_ptr<const Router> router;
  Metrics metrics;
  std::shared_ptr<Logger> logger;
  RateLimiter rate_limiter;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null in plain mode
  std::shared_ptr<const SmartAuth> smart;          // null unless smart.enabled
  boost::asio::thread_pool* cpu_pool = nullptr;    // owned by the server, joined after the io threads

  // Live sessions, for drain and force_close. Sessions add themselves when
  // they start and remove themselves in their destructor.
  std::mutex mutex;
  std::unordered_map<const void*, std::weak_ptr<SessionControl>> sessions;
  std::function<void()> on_session_closed;  // guarded by mutex; cleared before the io_context dies

  void add_session(const void* key, std::weak_ptr<SessionControl> s) {
    std::lock_guard lock(mutex);
    sessions.emplace(key, std::move(s));
  }
  void remove_session(const void* key) {
    std::function<void()> notify;
    {
      std::lock_guard lock(mutex);
      sessions.erase(key);
      notify = on_session_closed;
    }
    if (notify) notify();
  }
  std::vector<std::shared_ptr<SessionControl>> live_sessions() {
    std::vector<std::shared_ptr<SessionControl>> out;
    std::lock_guard lock(mutex);
    for (auto& [k, w] : sessions) {
      if (auto s = w.lock()) out.push_back(std::move(s));
    }
    return out;
  }
  std::size_t session_count() {
    std::lock_guard lock(mutex);
    return sessions.size();
  }
};

/// Starts a session (plain or TLS, by the core's config) on an accepted
/// socket whose executor is a fresh strand.
void start_session(const std::shared_ptr<ServerCore>& core, boost::asio::ip::tcp::socket socket);

}  // namespace gw::http::detail
