// A small HTTPS load client for the push path: N keep-alive connections,
// each a thread with a blocking Beast TLS stream and a client certificate
// (wrk cannot present one, and the gateway's push route needs a registered
// caller). Every request gets a fresh Bundle.identifier so the gateway
// does the whole push (validate, map, redact, commit) instead of answering
// a retry from its idempotency table.
//
//   push_load --port P --cert C --key K --ca CA [--conns 64] [--seconds 10]
//             [--target /fhir?recipient=demo-clinic] [--body FILE]
//             [--marker TEXT]   (text in the body replaced per request; default
//                                the demo bundle's identifier UUID tail)
//             [--rate R]        (open loop: R requests/s in all, see below)
//
// Closed loop (the default): each connection sends its next request as soon
// as the answer to the last one arrives, so the figure is the most the
// server does with that many callers, and the latency is whatever queueing
// that many outstanding requests makes (Little's law: 64 callers at 1,000
// req/s wait 64 ms on average, however fast the server).
// Open loop (--rate): requests are due at fixed times, R per second spread
// over the connections, whether or not earlier answers came back; latency
// is counted from when a request was due, not from when it was sent, so a
// server that falls behind is charged for the wait it caused (no
// coordinated omission). This is the latency a caller sees at that load.
//
// Prints one line: requests, req/s, p50, p99, max (ms, and when the slowest request was due), and the count of
// non-2xx answers and transport errors. Figures compare servers on the same
// machine only; the client shares the cores with the server.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <functional>
#include <optional>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  unsigned short port = 0;
  std::string cert, key, ca;
  int conns = 64;
  int seconds = 10;
  std::string target = "/fhir?recipient=demo-clinic";
  std::string body_file = "config/demo/discharge-summary.json";
  std::string marker = "0000000000ff";
  double rate = 0;  // requests per second in all; 0: closed loop
};

struct Totals {
  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::uint64_t ok = 0, non2xx = 0, errors = 0;
  std::map<unsigned, std::uint64_t> statuses;  // non-2xx answers by status
  std::string first_refusal;                   // body of the first non-2xx answer
  // The slowest request and when it was due (seconds into the run): a
  // maximum at the very start is start-up, one later is something else.
  double worst_ms = 0, worst_at_s = 0;
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The per-request body: the marker replaced by a 12-hex-digit counter, so
// identifiers stay valid UUIDs and never repeat within a run.
std::string body_for(const std::string& body, std::size_t at, std::size_t marker_len, std::uint64_t n) {
  char hex[32];
  std::snprintf(hex, sizeof hex, "%012llx", static_cast<unsigned long long>(n & 0xffffffffffffULL));
  std::string out = body;
  if (at != std::string::npos) out.replace(at, marker_len, std::string(hex).substr(0, marker_len));
  return out;
}

struct Worst {
  double ms = 0, at_s = 0;
};

void finish(Totals& totals, const std::vector<double>& lat, std::uint64_t ok, std::uint64_t non2xx,
            std::uint64_t errors, const std::map<unsigned, std::uint64_t>& statuses, Worst worst);

// The run's clock starts when every connection has its TLS session: 64
// handshakes at once are a burst of CPU (both ends share the cores) that
// would otherwise land on the first request of each connection and, at a
// low open-loop rate, be a few percent of all requests: the p99.
struct Start {
  std::barrier<std::function<void()>>* sync = nullptr;
  Clock::time_point at, end;
};

using Stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

void open_stream(const Options& o, net::io_context& ioc, ssl::context& ctx, std::optional<Stream>& stream) {
  stream.emplace(ioc, ctx);
  stream->next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), o.port));
  // As curl and most HTTP clients do: without it, the body's last TLS
  // record waits for the ACK of the one before (Nagle), which the server
  // delays up to 40 ms. Every server measured here paid that wait, nginx
  // too (2,880 req/s with it, over 18,000 without).
  stream->next_layer().socket().set_option(tcp::no_delay(true));
  stream->handshake(ssl::stream_base::client);
}

void connection(const Options& o, int index, ssl::context& ctx, const std::string& body, std::size_t marker_at,
                std::atomic<std::uint64_t>& counter, Start& run, Totals& totals) {
  std::vector<double> lat;
  std::uint64_t ok = 0, non2xx = 0, errors = 0;
  std::map<unsigned, std::uint64_t> statuses;
  Worst worst;
  net::io_context ioc;
  std::optional<Stream> stream;
  try {
    open_stream(o, ioc, ctx, stream);
  } catch (const std::exception&) {
    ++errors;
    stream.reset();
  }
  run.sync->arrive_and_wait();
  const Clock::time_point end = run.end;
  // Open loop: this connection's requests are due every `period`, the
  // connections staggered evenly across one period.
  const bool open_loop = o.rate > 0;
  const auto period = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(open_loop ? o.conns / o.rate : 0.0));
  Clock::time_point due = run.at + period * index / o.conns;
  boost::beast::flat_buffer buffer;
  while (Clock::now() < end) {
    try {
      if (!stream) {
        buffer.clear();
        open_stream(o, ioc, ctx, stream);
      }
      while (Clock::now() < end) {
        http::request<http::string_body> req{http::verb::post, o.target, 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::content_type, "application/fhir+json");
        req.keep_alive(true);
        req.body() = body_for(body, marker_at, o.marker.size(), counter.fetch_add(1));
        req.prepare_payload();
        Clock::time_point t0 = Clock::now();
        if (open_loop) {
          if (due >= end) return finish(totals, lat, ok, non2xx, errors, statuses, worst);
          if (due > t0) std::this_thread::sleep_until(due);
          t0 = due;  // a late send is charged to the server that made it late
          due += period;
        }
        http::write(*stream, req);
        http::response<http::string_body> res;
        http::read(*stream, buffer, res);
        lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (lat.back() > worst.ms) worst = {lat.back(), std::chrono::duration<double>(t0 - run.at).count()};
        if (res.result_int() / 100 == 2) {
          ++ok;
        } else {
          ++non2xx;
          ++statuses[res.result_int()];
          std::lock_guard lock(totals.mutex);
          if (totals.first_refusal.empty()) totals.first_refusal = res.body().substr(0, 400);
        }
        if (!res.keep_alive()) {
          stream.reset();
          break;
        }
      }
    } catch (const std::exception&) {
      ++errors;  // a closed or refused connection: reconnect
      stream.reset();
    }
  }
  finish(totals, lat, ok, non2xx, errors, statuses, worst);
}

void finish(Totals& totals, const std::vector<double>& lat, std::uint64_t ok, std::uint64_t non2xx,
            std::uint64_t errors, const std::map<unsigned, std::uint64_t>& statuses, Worst worst) {
  std::lock_guard lock(totals.mutex);
  if (worst.ms > totals.worst_ms) {
    totals.worst_ms = worst.ms;
    totals.worst_at_s = worst.at_s;
  }
  totals.latencies_ms.insert(totals.latencies_ms.end(), lat.begin(), lat.end());
  totals.ok += ok;
  totals.non2xx += non2xx;
  totals.errors += errors;
  for (const auto& [status, n] : statuses) totals.statuses[status] += n;
}

bool parse(int argc, char** argv, Options& o) {
  std::map<std::string, std::string> a;
  for (int i = 1; i + 1 < argc; i += 2) a[argv[i]] = argv[i + 1];
  if (!a.count("--port")) return false;
  o.port = static_cast<unsigned short>(std::atoi(a["--port"].c_str()));
  if (a.count("--cert")) o.cert = a["--cert"];
  if (a.count("--key")) o.key = a["--key"];
  if (a.count("--ca")) o.ca = a["--ca"];
  if (a.count("--conns")) o.conns = std::atoi(a["--conns"].c_str());
  if (a.count("--seconds")) o.seconds = std::atoi(a["--seconds"].c_str());
  if (a.count("--target")) o.target = a["--target"];
  if (a.count("--body")) o.body_file = a["--body"];
  if (a.count("--marker")) o.marker = a["--marker"];
  if (a.count("--rate")) o.rate = std::atof(a["--rate"].c_str());
  return o.port != 0 && o.conns > 0 && o.seconds > 0 && o.rate >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr, "usage: push_load --port P [--cert C --key K] [--ca CA] [--conns N] [--seconds S] "
                         "[--target PATH] [--body FILE] [--marker TEXT] [--rate R]\n");
    return 2;
  }
  const std::string body = read_all(o.body_file);
  if (body.empty()) {
    std::fprintf(stderr, "push_load: cannot read %s\n", o.body_file.c_str());
    return 2;
  }
  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  if (!o.ca.empty()) {
    ctx.load_verify_file(o.ca);
    ctx.set_verify_mode(ssl::verify_peer);
  }
  if (!o.cert.empty()) {
    ctx.use_certificate_chain_file(o.cert);
    ctx.use_private_key_file(o.key, ssl::context::pem);
  }
  const std::size_t marker_at = body.find(o.marker);
  std::atomic<std::uint64_t> counter{static_cast<std::uint64_t>(std::time(nullptr)) << 20};
  Totals totals;
  Start run;
  std::barrier<std::function<void()>> sync(o.conns, std::function<void()>([&run, &o] {
    run.at = Clock::now();
    run.end = run.at + std::chrono::seconds(o.seconds);
  }));
  run.sync = &sync;
  std::vector<std::thread> threads;
  for (int i = 0; i < o.conns; ++i) {
    threads.emplace_back(connection, std::cref(o), i, std::ref(ctx), std::cref(body), marker_at, std::ref(counter),
                         std::ref(run), std::ref(totals));
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - run.at).count();
  auto& l = totals.latencies_ms;
  std::sort(l.begin(), l.end());
  auto pct = [&](double p) { return l.empty() ? 0.0 : l[std::min(l.size() - 1, static_cast<std::size_t>(p * l.size()))]; };
  std::printf("requests %zu  %.1f req/s  p50 %.2f ms  p99 %.2f ms  max %.2f ms (due at %.1f s)  2xx %llu  "
              "non-2xx %llu  transport errors %llu\n",
              l.size(), static_cast<double>(l.size()) / secs, pct(0.50), pct(0.99), l.empty() ? 0.0 : l.back(),
              totals.worst_at_s,
              static_cast<unsigned long long>(totals.ok), static_cast<unsigned long long>(totals.non2xx),
              static_cast<unsigned long long>(totals.errors));
  for (const auto& [status, n] : totals.statuses) {
    std::printf("  status %u: %llu\n", status, static_cast<unsigned long long>(n));
  }
  if (!totals.first_refusal.empty()) std::printf("  first refusal: %s\n", totals.first_refusal.c_str());
  return totals.ok > 0 ? 0 : 1;
}
