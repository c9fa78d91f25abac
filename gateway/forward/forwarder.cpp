// The Forwarder (forward.hpp): per-recipient workers that drain the outbox.
//
// Shape. Each recipient gets `concurrency` workers; each worker is one
// coroutine on its own strand with its own connection and its own idle
// timer. A worker loops: claim a batch (Store, on the store thread) ->
// deliver each row in turn over its kept-alive connection -> record the
// outcome (Store) -> claim again; with nothing due it sleeps until the
// earliest due time, the poll interval, or a wake-up, whichever is first.
// Since no worker ever waits for another recipient's worker, a clinic that
// hangs or is down only occupies its own workers (invariant 2).
//
// Blocking Store calls run on `store_pool_` (a few threads): the coroutine
// suspends, the call runs there, and the coroutine resumes on its strand
// (run_blocking below). The I/O threads never block on SQLite (invariant 3).
//
// Why a small pool and not one thread: each outcome is a durable write
// (one fsync); the Store's writer batches calls that arrive together into
// one transaction, so with one caller thread the whole Forwarder was capped
// at one fsync per delivery (~200/s measured). Each worker still makes one
// call at a time, so the order of one worker's calls is unchanged.
#include "gateway/forward/detail/audit.hpp"
#include "gateway/forward/detail/client.hpp"
#include "gateway/forward/forward.hpp"
#include "gateway/store/store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>

namespace gw::forward {

namespace {

namespace net = boost::asio;
using Strand = net::strand<net::io_context::executor_type>;

constexpr auto kToken = net::as_tuple(net::use_awaitable);
// Threads making blocking Store calls (see the file comment).
constexpr std::size_t kStoreThreads = 4;

// Runs the blocking `f` on `pool` and resumes the awaiting coroutine on its
// own executor with f's result. Outstanding work is tracked on the caller's
// executor so io_context::run() does not return while a call is away.
//
// Not a coroutine itself, and callers pass a named lambda: g++ 12 destroys
// a lambda temporary that lives across a co_await twice.
template <class F>
net::awaitable<std::invoke_result_t<F&>> run_blocking(net::thread_pool& pool, F f) {
  using R = std::invoke_result_t<F&>;
  return net::async_initiate<decltype(net::use_awaitable), void(R)>(
      [&pool](auto handler, F fn) {
        auto home = net::prefer(net::get_associated_executor(handler), net::execution::outstanding_work.tracked);
        net::post(pool, [handler = std::move(handler), fn = std::move(fn), home]() mutable {
          R result = fn();
          net::post(home, [handler = std::move(handler), result = std::move(result)]() mutable {
            std::move(handler)(std::move(result));
          });
        });
      },
      net::use_awaitable, std::move(f));
}

// The receipt kept with a delivered row: what the receiver answered, when,
// and a digest of its body (its resource id too when it sent one).
std::string receipt_json(const detail::PostResult& r, std::chrono::system_clock::time_point now,
                         std::uint64_t attempts) {
  json::Writer w;
  w.begin_object();
  w.key("status");
  w.integer(r.status);
  w.key("receivedAt");
  w.string(gw::format_instant(now, true));
  w.key("attempts");
  w.integer(static_cast<std::int64_t>(attempts));
  w.key("responseSha256");
  w.string(detail::hex_sha256(r.body));
  if (auto doc = json::Document::parse(r.body); doc && doc->root().is_object()) {
    json::Value rt = doc->root().find("resourceType");
    json::Value id = doc->root().find("id");
    if (rt.is_string() && id.is_string()) {
      w.key("response");
      w.string(std::string(rt.str()) + "/" + std::string(id.str()));
    }
  }
  w.end_object();
  return std::move(w).take();
}

std::string failure_text(const detail::PostResult& r) {
  if (r.status != 0) return "HTTP " + std::to_string(r.status);
  return std::string(r.phase) + ": " + r.ec.message();
}

struct Counters {
  std::atomic<std::uint64_t> attempts{0}, delivered{0}, retried{0}, dead{0}, store_errors{0}, worker_failures{0};
  std::array<std::atomic<std::uint64_t>, kDeliveryLatencyBounds.size() + 1> latency{};
  std::atomic<std::uint64_t> latency_ms_sum{0};

  // Relaxed atomics: each counter is read on its own by stats(); a scrape
  // may see a bucket and the sum one delivery apart, which a histogram
  // tolerates.
  void delivered_after(std::chrono::system_clock::duration waited) {
    const double seconds = std::max(0.0, std::chrono::duration<double>(waited).count());
    std::size_t i = 0;
    while (i < kDeliveryLatencyBounds.size() && seconds > kDeliveryLatencyBounds[i]) ++i;
    latency[i].fetch_add(1, std::memory_order_relaxed);
    latency_ms_sum.fetch_add(static_cast<std::uint64_t>(seconds * 1000), std::memory_order_relaxed);
  }
};

class Impl;

// One worker: a coroutine, its strand, its connection and its idle timer.
struct Worker {
  Worker(Impl& owner, std::size_t recipient, Strand strand, std::shared_ptr<net::ssl::context> ctx, const Url& url,
         const ForwardConfig& config)
      : owner(owner),
        recipient(recipient),
        strand(strand),
        timer(strand),
        connection(strand, std::move(ctx), url, config.deadlines, config.response_body_limit) {}
  Impl& owner;
  std::size_t recipient;
  Strand strand;
  net::steady_timer timer;
  detail::Connection connection;
  bool woken = false;  // strand only
};

struct RecipientState {
  RecipientEndpoint config;
  Url url;
  Counters counters;
  std::vector<std::unique_ptr<Worker>> workers;
};

class Impl final : public Forwarder {
 public:
  Impl(net::io_context& ioc, store::Store& store, ForwardConfig config, ForwarderDeps deps)
      : ioc_(ioc), store_(store), config_(std::move(config)), clock_(std::move(deps.clock)),
        random_(std::move(deps.random)), control_(net::make_strand(ioc)), drain_timer_(control_) {
    if (!clock_) clock_ = std::make_shared<SystemClock>();
    if (!random_) random_ = make_system_random();
  }

  ~Impl() override {
    GW_ASSERT(!started_ || finished_, "a started Forwarder must be stopped and waited for before destruction");
    store_pool_.join();
  }

  Status init() {
    bool any_tls = false;
    for (const RecipientEndpoint& r : config_.recipients) {
      auto url = parse_url(r.endpoint);
      if (!url) return fail(ErrorCode::kInvalidArgument, "recipient endpoint is not an http(s) URL", r.id);
      if (!url->tls && !r.plain_http_for_local_tests) {
        return fail(ErrorCode::kInvalidArgument, "plain http endpoint without plain_http_for_local_tests", r.id);
      }
      any_tls = any_tls || url->tls;
      auto state = std::make_unique<RecipientState>();
      state->config = r;
      state->url = *url;
      recipients_.push_back(std::move(state));
    }
    if (any_tls) {
      GW_TRY(tls_ctx_, detail::make_client_context(config_.tls));
    }
    for (std::size_t i = 0; i < recipients_.size(); ++i) {
      RecipientState& r = *recipients_[i];
      for (std::uint32_t k = 0; k < r.config.concurrency; ++k) {
        r.workers.push_back(std::make_unique<Worker>(*this, i, net::make_strand(ioc_), r.url.tls ? tls_ctx_ : nullptr,
                                                     r.url, config_));
      }
    }
    return {};
  }

  void start() override {
    GW_ASSERT(!started_, "Forwarder::start is called once");
    started_ = true;
    store_.set_work_listener([this](const std::string& recipient) { wake(recipient); });
    std::size_t total = 0;
    for (auto& r : recipients_) total += r->workers.size();
    running_ = total;
    if (total == 0) finished_ = true;
    for (auto& r : recipients_) {
      for (auto& w : r->workers) {
        net::co_spawn(w->strand, run(*w), [this, c = &r->counters](std::exception_ptr e) {
          // Workers return errors as values; an exception is a bug. Count
          // it (stats) and let the worker end: its leased rows come back
          // when their lease expires.
          if (e) c->worker_failures.fetch_add(1);
          worker_done();
        });
      }
    }
  }

  void wake(std::string_view recipient_id) override {
    for (auto& r : recipients_) {
      if (!recipient_id.empty() && r->config.id != recipient_id) continue;
      for (auto& w : r->workers) {
        net::post(w->strand, [w = w.get()] {
          w->woken = true;
          w->timer.cancel();
        });
      }
    }
  }

  void stop() override {
    if (stopping_.exchange(true)) return;
    store_.set_work_listener({});
    wake({});
    // In-flight deliveries get `drain` to finish; then their sockets close.
    net::post(control_, [this] {
      if (finished_) return;
      drain_timer_.expires_after(config_.drain);
      drain_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        drained_ = true;
        for (auto& r : recipients_) {
          for (auto& w : r->workers) net::post(w->strand, [w = w.get()] { w->connection.close(); });
        }
      });
    });
  }

  void wait_stopped() override {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return finished_ || !started_; });
  }

  Result<std::uint64_t> replay_recipient(std::string_view recipient_id) override {
    RecipientState* r = find(recipient_id);
    if (!r) return fail(ErrorCode::kNotFound, "unknown recipient");
    GW_TRY(auto dead, store_.dead_letters(recipient_id));
    std::vector<std::string> audit;
    const auto now = clock_->now();
    for (const store::Delivery& d : dead) audit.push_back(detail::delivery_audit("0", "", "replay", r->config.id, d, now));
    GW_TRY(std::int64_t n, store_.replay_dead_letters(recipient_id, std::move(audit)));
    wake(recipient_id);
    return static_cast<std::uint64_t>(n);
  }

  Status replay_one(std::int64_t outbox_id, std::string_view requested_by) override {
    GW_TRY(auto dead, store_.dead_letters(""));
    for (const store::Delivery& d : dead) {
      if (d.id != outbox_id) continue;
      GW_CHECK_OK(store_.replay_dead_letter(outbox_id, {detail::delivery_audit("0", "", "replay", d.recipient, d, clock_->now(), requested_by)}));
      wake(d.recipient);
      return {};
    }
    return fail(ErrorCode::kNotFound, "no dead letter with this outbox id");
  }

  std::vector<RecipientStats> stats() const override {
    std::vector<RecipientStats> out;
    for (const auto& r : recipients_) {
      RecipientStats s;
      s.recipient_id = r->config.id;
      s.attempts = r->counters.attempts.load();
      s.delivered = r->counters.delivered.load();
      s.retried = r->counters.retried.load();
      s.dead_lettered = r->counters.dead.load();
      s.store_errors = r->counters.store_errors.load();
      s.worker_failures = r->counters.worker_failures.load();
      for (std::size_t i = 0; i < s.latency_buckets.size(); ++i) s.latency_buckets[i] = r->counters.latency[i].load();
      s.latency_sum_seconds = static_cast<double>(r->counters.latency_ms_sum.load()) / 1000.0;
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  RecipientState* find(std::string_view id) {
    for (auto& r : recipients_) {
      if (r->config.id == id) return r.get();
    }
    return nullptr;
  }

  void worker_done() {
    std::lock_guard lock(mutex_);
    if (--running_ == 0) {
      finished_ = true;
      net::post(control_, [this] { drain_timer_.cancel(); });
      done_.notify_all();
    }
  }

  // Sleeps up to `wait`, or less when woken. Strand only.
  net::awaitable<void> idle(Worker& w, Millis wait) {
    if (w.woken || stopping_) {
      w.woken = false;
      co_return;
    }
    w.timer.expires_after(std::max(wait, Millis(1)));
    co_await w.timer.async_wait(kToken);
    w.woken = false;
  }

  net::awaitable<void> run(Worker& w) {
    RecipientState& r = *recipients_[w.recipient];
    const std::string id = r.config.id;
    const auto lease = std::chrono::ceil<std::chrono::seconds>(config_.lease);
    while (!stopping_) {
      auto claim = [this, &id, lease] { return store_.claim(id, config_.batch, lease); };
      auto batch = co_await run_blocking(store_pool_, std::move(claim));
      if (!batch) {
        r.counters.store_errors.fetch_add(1);
        co_await idle(w, config_.poll);
        continue;
      }
      if (batch->empty()) {
        auto next_due = [this, &id] { return store_.next_due(id); };
        auto next = co_await run_blocking(store_pool_, std::move(next_due));
        Millis wait = config_.poll;
        if (next && *next) {
          const auto until = std::chrono::duration_cast<Millis>(**next - clock_->now());
          wait = std::clamp(until, Millis(0), config_.poll);
        }
        co_await idle(w, wait);
        continue;
      }
      bool first = true;
      for (store::Delivery& d : *batch) {
        // A stop lets the worker finish the rows it claimed (they would
        // otherwise sit leased until the lease expires) until the drain
        // time is over; rows left then keep their lease and are retried by
        // the next run after it expires: late, never lost.
        if (drained_) break;
        // One lease covers the whole batch, but the rows go out one after
        // the other: behind a few slow deliveries (a hanging clinic costs
        // the full deadlines each) the last rows' lease could run out
        // mid-delivery, another worker or node could claim them, and both
        // would send. A later row is only started while its lease still
        // covers a whole attempt; the rest are left to expire and be claimed
        // again (late, never twice at once). The first row always goes (the
        // config requires lease > the sum of the deadlines), so a worker
        // always makes progress.
        if (!first && clock_->now() + attempt_budget_ > d.lease_until) break;
        first = false;
        co_await deliver(w, r, d);
      }
    }
    w.connection.close();
  }

  net::awaitable<void> deliver(Worker& w, RecipientState& r, const store::Delivery& d) {
    r.counters.attempts.fetch_add(1);
    // Stable for the row across attempts: the receiver's duplicate key.
    const std::string request_id = "outbox-" + std::to_string(d.id);
    detail::PostResult res = co_await w.connection.post(d.payload, request_id, d.path);
    const Verdict verdict = classify(res.status);
    const auto now = clock_->now();
    if (verdict == Verdict::kDelivered) {
      // Invariant 1: the acknowledgement is recorded before anything else.
      const std::int64_t attempts = d.attempts + 1;
      auto mark = [this, &d, &r, &res, attempts, now] {
        return store_.mark_delivered(d.id, receipt_json(res, now, attempts),
                                     {detail::delivery_audit("0", "", "delivered", r.config.id, d, now)});
      };
      auto st = co_await run_blocking(store_pool_, std::move(mark));
      if (!st) {
        // The clinic has it; the row stays leased and will be sent again
        // after the lease: the receiver recognises it by identifier.
        r.counters.store_errors.fetch_add(1);
      } else {
        r.counters.delivered.fetch_add(1);
        r.counters.delivered_after(now - d.created_at);
      }
      co_return;
    }
    store::Failure f;
    f.error = failure_text(res);
    const std::uint32_t attempts = static_cast<std::uint32_t>(d.attempts) + 1;
    const bool dead = verdict == Verdict::kDeadLetter || attempts >= config_.retry.max_attempts;
    // A permanent refusal dies now: max_attempts equal to this attempt.
    f.max_attempts = verdict == Verdict::kDeadLetter ? static_cast<int>(attempts)
                                                     : static_cast<int>(config_.retry.max_attempts);
    // A clinic that says when to come back (429/503 + Retry-After) is not
    // asked again before then, within the retry cap.
    std::optional<Millis> asked;
    if ((res.status == 429 || res.status == 503) && !res.retry_after.empty()) {
      asked = parse_retry_after(res.retry_after, now);
    }
    f.retry_at = now + retry_delay(config_.retry, attempts, *random_, asked);
    std::vector<std::string> audit;
    if (dead) audit.push_back(detail::delivery_audit("4", f.error, "dead-letter", r.config.id, d, now));
    auto mark = [this, &d, &f, &audit] { return store_.mark_failed(d.id, d.lease, std::move(f), std::move(audit)); };
    auto state = co_await run_blocking(store_pool_, std::move(mark));
    if (!state) {
      r.counters.store_errors.fetch_add(1);
    } else if (*state == store::DeliveryState::kDead) {
      r.counters.dead.fetch_add(1);
    } else if (*state == store::DeliveryState::kPending) {
      r.counters.retried.fetch_add(1);
    }
  }

  net::io_context& ioc_;
  store::Store& store_;
  const ForwardConfig config_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<Random> random_;
  std::shared_ptr<net::ssl::context> tls_ctx_;
  std::vector<std::unique_ptr<RecipientState>> recipients_;
  net::thread_pool store_pool_{kStoreThreads};
  Strand control_;  // serializes the drain timer
  net::steady_timer drain_timer_;
  // Longest one delivery attempt can take (the sum of the phase deadlines).
  const Millis attempt_budget_ = config_.deadlines.connect + config_.deadlines.handshake + config_.deadlines.write +
                                 config_.deadlines.read;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> drained_{false};  // the drain time after stop() is over
  bool started_ = false;
  std::mutex mutex_;
  std::condition_variable done_;
  std::size_t running_ = 0;
  std::atomic<bool> finished_{false};
};

}  // namespace

Result<std::unique_ptr<Forwarder>> Forwarder::create(net::io_context& ioc, store::Store& store, ForwardConfig config,
                                                     ForwarderDeps deps) {
  auto f = std::make_unique<Impl>(ioc, store, std::move(config), std::move(deps));
  GW_CHECK_OK(f->init());
  return std::unique_ptr<Forwarder>(std::move(f));
}

}  // namespace gw::forward
