// Seeds an outbox backlog into a SQLite store through the Store API (the
// same commit_push a push makes: idempotency row, handoff, one outbox row),
// for bench/backlog_memory.sh. Self-checking: it exits 1 unless the store
// then holds exactly N pending rows for the recipient.
//
//   backlog_seed DB_PATH N [RECIPIENT] [PAYLOAD_BYTES]
//
// Each row gets a distinct Bundle.identifier ("urn:uuid:backlog-<n>"), so the
// clinic simulator's duplicate count checks the drain. Data is synthetic.
#include "gateway/store/store.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: backlog_seed DB_PATH N [RECIPIENT] [PAYLOAD_BYTES]\n");
    return 2;
  }
  const std::string path = argv[1];
  const long n = std::strtol(argv[2], nullptr, 10);
  const std::string recipient = argc > 3 ? argv[3] : "demo-clinic";
  const std::size_t payload_bytes = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 1024;
  if (n <= 0) return 2;

  gw::store::SqliteOptions o;
  o.path = path;
  o.clock = std::make_shared<gw::SystemClock>();
  o.max_batch = 4096;
  auto st = gw::store::open_sqlite(o);
  if (!st) {
    std::fprintf(stderr, "backlog_seed: %s\n", st.error().to_string().c_str());
    return 2;
  }
  // Padding inside the document so each delivery carries ~payload_bytes.
  const std::string pad(payload_bytes > 200 ? payload_bytes - 200 : 0, 'x');
  std::mutex mu;
  std::condition_variable cv;
  long in_flight = 0, failed = 0;
  constexpr long kWindow = 16384;  // commits queued at once (bounded memory)
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return in_flight < kWindow; });
      ++in_flight;
    }
    const std::string k = std::to_string(i);
    gw::store::PushRecord rec;
    rec.sender = "backlog-seed";
    rec.idempotency_key = "urn:ietf:rfc:3986|urn:uuid:seed-" + k;
    rec.patient_key = "pk-" + k;
    rec.original = R"({"resourceType":"Bundle"})";
    rec.handoff_id = "backlog-" + k;
    rec.handoff = R"({"resourceType":"Bundle"})";
    rec.response_status = "201";
    const std::string ident = "urn:uuid:backlog-" + k;
    gw::store::OutboxItem item;
    item.recipient = recipient;
    item.bundle_identifier = "urn:ietf:rfc:3986|" + ident;
    item.payload = R"({"resourceType":"Bundle","type":"document","identifier":{"system":"urn:ietf:rfc:3986","value":")" +
                   ident + R"("},"meta":{"tag":[{"code":")" + pad + R"("}]}})";
    rec.deliveries.push_back(std::move(item));
    (*st)->commit_push(std::move(rec), [&](gw::Result<gw::store::PushResult> r) {
      std::lock_guard lk(mu);
      if (!r) ++failed;
      --in_flight;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return in_flight == 0; });
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto q = (*st)->queue_stats();
  long pending = -1;
  if (q) {
    for (const auto& x : *q) {
      if (x.recipient == recipient) pending = static_cast<long>(x.pending);
    }
  }
  std::printf("backlog_seed: %ld rows in %.1f s (%.0f/s), %ld failed, pending for %s: %ld\n", n, s, n / s, failed,
              recipient.c_str(), pending);
  return failed == 0 && pending == n ? 0 : 1;
}
