// Fuzz target: bytes on a real connection to the real server. Where
// http_request_fuzz drives Beast's parser and the router directly, this one
// sends each input over loopback TCP to a gw::http::Server running in this
// process (plain HTTP; the TLS layer is OpenSSL's and the catalogue tests
// it), so the session code itself is under test: request framing and
// limits, pipelining and its back-pressure, the FHIR conventions, inline,
// CPU-pool and asynchronous handlers, error answers and connection close.
// Being in-process, the server's code is instrumented like the harness.
//
// Per input: connect, write the bytes, half-close, read until the server
// closes. Invariants: the server closes the connection (no hang: the read
// has a 20 s deadline, far above every limit set below); whatever came
// back is a sequence of complete HTTP/1.1 responses; no answer is a 500
// (handlers do not fail here) and no other 5xx but 503; at most as many
// responses as requests could have been framed.
#include "gateway/core/core.hpp"
#include "gateway/http/http.hpp"

#include "fuzz/set_up.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

struct Env {
  std::unique_ptr<gw::http::Server> server;
  std::uint16_t port = 0;
};

[[noreturn]] void die(const gw::Error& e) {
  std::fprintf(stderr, "http_session_fuzz: set-up failed: %s\n", e.to_string().c_str());
  std::abort();
}

gw::http::Route open_route(std::string method, std::string path, gw::http::SyncHandler h,
                           gw::http::Execution ex = gw::http::Execution::kInline) {
  gw::http::Route r;
  r.method = std::move(method);
  r.path_template = std::move(path);
  r.handler = std::move(h);
  r.execution = ex;
  r.require_client = false;  // plain mode has no client identity
  return r;
}

std::unique_ptr<Env> make_env() {
  using gw::http::Request;
  using gw::http::Response;
  gw::http::Router router;
  auto check = [](gw::Status st) {
    if (!st) die(st.error());
  };
  // Inline: echoes the decoded id (JSON-escaped by the writer) and a query value.
  check(router.add(open_route("GET", "/fhir/Patient/{id}", [](const Request& req) {
    gw::json::Writer w;
    w.begin_object();
    w.key("resourceType");
    w.string("Patient");
    w.key("id");
    w.string(req.path_param("id"));
    w.end_object();
    return Response::fhir_json(200, w.str(), req.response_media_type);
  })));
  // CPU pool, FHIR body: the parse gate the push path starts with.
  gw::http::Route post = open_route(
      "POST", "/fhir/Bundle",
      [](const Request& req) {
        auto doc = gw::json::Document::parse(req.body);
        if (!doc) return Response::outcome(400, gw::http::IssueType::kInvalid, "the body is not valid JSON");
        return Response::outcome(201, gw::http::IssueType::kInformational, "stored");
      },
      gw::http::Execution::kCpuPool);
  post.fhir_body = true;
  check(router.add(std::move(post)));
  // Asynchronous: completes through a Responder, as store commits do
  // (the completion is posted back to the connection's strand).
  gw::http::Route async;
  async.method = "DELETE";
  async.path_template = "/fhir/Bundle/{id}";
  async.require_client = false;
  async.handler = gw::http::AsyncHandler([](gw::http::RequestPtr, gw::http::Responder done) {
    done(Response::outcome(200, gw::http::IssueType::kInformational, "deleted"));
  });
  check(router.add(std::move(async)));
  // The real $validate routes with the parse gate (registered clients
  // only: here they answer 403, which is the point of sending to them).
  check(gw::http::add_validate_routes(router, gw::http::parse_gate_validator()));

  gw::http::ServerConfig c;
  c.listen = "127.0.0.1:0";
  c.io_threads = 2;
  c.cpu_threads = 1;
  c.plain_http_for_local_tests = true;
  c.limits.body_bytes = 64u << 10;
  c.limits.header_bytes = 8u << 10;
  c.limits.pipeline_depth = 4;
  c.limits.read_buffer_bytes = 16u << 10;
  c.limits.read_header = std::chrono::milliseconds(2000);
  c.limits.read_body = std::chrono::milliseconds(2000);
  c.limits.handler = std::chrono::milliseconds(5000);
  c.limits.write = std::chrono::milliseconds(2000);
  c.limits.idle = std::chrono::milliseconds(2000);
  c.limits.rate.per_second = 0;  // off: every input gets the same treatment
  auto out = std::make_unique<Env>();
  auto server = gw::http::Server::create(c, std::move(router));
  if (!server) die(server.error());
  out->server = std::move(*server);
  if (auto st = out->server->start(); !st) die(st.error());
  out->port = out->server->port();
  return out;
}

const Env& env() {
  static const std::unique_ptr<Env> e = make_env();
  return *e;
}

// Upper bound of the requests the bytes can frame: each needs a request
// line ending in "\n", so at most one per line feed, plus one.
std::size_t max_requests(const std::uint8_t* data, std::size_t size) {
  std::size_t n = 1;
  for (std::size_t i = 0; i < size; ++i) n += data[i] == '\n';
  return n;
}

}  // namespace

GW_FUZZ_SET_UP(env)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Env& e = env();
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  // Hundreds of thousands of connections in a campaign can briefly use up
  // loopback's ephemeral ports (TIME_WAIT); a connect that fails for a
  // moment is retried, one that keeps failing is a finding.
  for (int attempt = 0; attempt < 100; ++attempt) {
    s.connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), e.port), ec);
    if (!ec) break;
    s.close();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  GW_ASSERT(!ec, "the server refused connections for two seconds");
  // The read deadline: no input may keep the connection open this long
  // once the client has finished sending (every server limit is <= 5 s).
  timeval tv{.tv_sec = 20, .tv_usec = 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  // The server may answer and close before reading everything (a 413,
  // a 400); a write error then is the server's right, not a finding.
  asio::write(s, asio::buffer(data, size), ec);
  s.shutdown(tcp::socket::shutdown_send, ec);
  std::string got;
  char buf[16384];
  for (;;) {
    const std::size_t n = s.read_some(asio::buffer(buf), ec);
    got.append(buf, n);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) break;
    GW_ASSERT(ec != asio::error::would_block && ec != asio::error::try_again && ec != asio::error::timed_out,
              "the server neither answered nor closed the connection");
    if (ec) break;
  }

  // What came back: complete responses, one after the other.
  std::size_t responses = 0;
  asio::const_buffer rest(got.data(), got.size());
  while (rest.size() > 0) {
    bhttp::response_parser<bhttp::string_body> p;
    p.eager(true);
    p.body_limit(16u << 20);
    boost::system::error_code pe;
    while (rest.size() > 0 && !p.is_done()) {
      const std::size_t used = p.put(rest, pe);
      GW_ASSERT(!pe || pe == bhttp::error::need_more, "the server sent a malformed response");
      if (pe == bhttp::error::need_more && used == 0) break;
      rest += used;
    }
    GW_ASSERT(p.is_done(), "the server sent an incomplete response");
    const unsigned status = p.get().result_int();
    GW_ASSERT(status >= 100 && status <= 599, "a response without a valid status");
    GW_ASSERT(status < 500 || status == 503, "the server answered a 5xx other than 503");
    ++responses;
  }
  GW_ASSERT(responses <= max_requests(data, size), "more responses than requests");
  return 0;
}
