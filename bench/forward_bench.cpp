// Delivery rate: the Forwarder draining a SQLite outbox into the local
// clinic simulator, over mutual TLS (and plain HTTP for comparison).
//
//   cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DGW_BUILD_BENCH=ON -DGW_BUILD_TESTS=OFF
//   cmake --build build-bench --target forward_bench && build-bench/bin/forward_bench
//
// Each iteration commits a backlog of kBacklog handoffs (timing paused),
// starts a Forwarder, and stops the clock when the Store reports every row
// delivered. It then verifies its own output (speedtest1 --verify style):
// the simulator must have accepted each Bundle.identifier exactly once, or
// the benchmark fails instead of reporting a fast wrong number.
#include "gateway/forward/forward.hpp"
#include "gateway/store/store.hpp"

#include <benchmark/benchmark.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

namespace {

using namespace std::chrono_literals;
namespace fwd = gw::forward;
namespace store = gw::store;

constexpr int kBacklog = 2000;

const std::string& cert_dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/gw_forward_bench_XXXXXX";
    std::string d = mkdtemp(tmpl);
    const std::string cmd = std::string(GW_SOURCE_DIR) + "/scripts/make-demo-certs " + d + " gateway >/dev/null";
    if (std::system(cmd.c_str()) != 0) std::abort();
    return d;
  }();
  return dir;
}

// A realistic payload size: a discharge summary is a few kB to a few 10 kB.
std::string payload(int i, std::size_t pad) {
  return R"({"resourceType":"Bundle","type":"document","identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:b-)" +
         std::to_string(i) + R"("},"entry":[{"resource":{"resourceType":"Composition","text":")" + std::string(pad, 'x') +
         R"("}}]})";
}

void BM_Deliver(benchmark::State& state) {
  const bool tls = state.range(0) != 0;
  const auto concurrency = static_cast<std::uint32_t>(state.range(1));
  const std::size_t pad = static_cast<std::size_t>(state.range(2));
  int round = 0;
  std::int64_t delivered_total = 0;
  for (auto _ : state) {
    state.PauseTiming();
    char tmpl[] = "/tmp/gw_forward_bench_db_XXXXXX";
    const std::string dir = mkdtemp(tmpl);
    auto clock = std::make_shared<gw::SystemClock>();
    store::SqliteOptions so;
    so.path = dir + "/gateway.db";
    so.clock = clock;
    auto st = store::open_sqlite(so);
    if (!st) {
      state.SkipWithError("cannot open the store");
      return;
    }
    fwd::SimOptions sim_options;
    if (tls) {
      sim_options.cert_file = cert_dir() + "/server.crt";
      sim_options.key_file = cert_dir() + "/server.key";
      sim_options.client_ca_file = cert_dir() + "/ca.crt";
    }
    auto sim = fwd::ClinicSim::start(sim_options);
    if (!sim) {
      state.SkipWithError("cannot start the simulator");
      return;
    }
    // The backlog: one push per handoff, committed concurrently (group commit).
    std::vector<std::future<bool>> commits;
    std::vector<std::promise<bool>> promises(kBacklog);
    for (int i = 0; i < kBacklog; ++i) {
      store::PushRecord rec;
      rec.sender = "bench";
      rec.idempotency_key = "k-" + std::to_string(round) + "-" + std::to_string(i);
      rec.patient_key = "pk";
      rec.original = "{}";
      rec.handoff_id = "h-" + std::to_string(round) + "-" + std::to_string(i);
      rec.handoff = "{}";
      rec.response_status = "201";
      rec.deliveries.push_back({"clinic", "urn:uuid:b-" + std::to_string(i), payload(i, pad), {}, "", ""});
      commits.push_back(promises[i].get_future());
      (*st)->commit_push(std::move(rec), [&p = promises[i]](gw::Result<store::PushResult> r) { p.set_value(bool(r)); });
    }
    for (auto& c : commits) {
      if (!c.get()) {
        state.SkipWithError("commit failed");
        return;
      }
    }
    fwd::ForwardConfig config;
    config.tls = {cert_dir() + "/gateway.crt", cert_dir() + "/gateway.key", cert_dir() + "/ca.crt"};
    fwd::RecipientEndpoint r;
    r.id = "clinic";
    r.endpoint = std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string((*sim)->port()) + "/fhir";
    r.plain_http_for_local_tests = !tls;
    r.concurrency = concurrency;
    config.recipients = {r};
    config.batch = 32;
    config.poll = 50ms;
    boost::asio::io_context ioc;
    auto work = boost::asio::make_work_guard(ioc);
    auto f = fwd::Forwarder::create(ioc, **st, config, fwd::ForwarderDeps{clock, nullptr});
    if (!f) {
      state.SkipWithError("cannot create the forwarder");
      return;
    }
    std::thread io([&] { ioc.run(); });
    state.ResumeTiming();

    (*f)->start();
    for (;;) {
      auto stats = (*f)->stats();
      if (stats[0].delivered >= static_cast<std::uint64_t>(kBacklog)) break;
      std::this_thread::sleep_for(1ms);
    }

    state.PauseTiming();
    (*f)->stop();
    (*f)->wait_stopped();
    work.reset();
    io.join();
    const fwd::SimCounts counts = (*sim)->counts();
    if (counts.unique != static_cast<std::uint64_t>(kBacklog) || counts.duplicates != 0) {
      state.SkipWithError("verification failed: not every item delivered exactly once");
      return;
    }
    auto q = (*st)->queue_stats();
    if (!q || q->size() != 1 || (*q)[0].delivered != kBacklog) {
      state.SkipWithError("verification failed: the store does not show every row delivered");
      return;
    }
    delivered_total += kBacklog;
    f->reset();
    (*sim)->stop();
    st->reset();
    std::filesystem::remove_all(dir);
    ++round;
    state.ResumeTiming();
  }
  state.counters["items/s"] = benchmark::Counter(static_cast<double>(delivered_total), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<std::int64_t>(delivered_total) * static_cast<std::int64_t>(payload(0, pad).size()));
}

// Args: tls, concurrency, payload padding (bytes).
BENCHMARK(BM_Deliver)
    ->ArgNames({"tls", "conc", "pad"})
    ->Args({1, 1, 4000})
    ->Args({1, 4, 4000})
    ->Args({0, 4, 4000})
    ->Args({1, 4, 40000})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
