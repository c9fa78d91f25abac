// The delivery client (detail/client.hpp).
//
// Deadlines are set once per phase (connect, handshake, write, read) with the
// stream's expires_after, not per small read: a clinic that trickles its
// answer byte by byte is still cut off when the read phase ends. Errors come
// back as values (as_tuple), never as exceptions: a clinic's misbehaviour is
// data, not a failure of our code.
//
// Peer verification: the clinic's certificate must chain to the configured
// CA and name the endpoint's host, as an IP SAN for an IP literal (no SNI,
// which RFC 6066 forbids for addresses) or as a DNS name otherwise (with
// SNI). Wildcards match one whole label only.
#include "gateway/forward/detail/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <map>

namespace gw::forward::detail {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using net::experimental::awaitable_operators::operator||;

namespace {

constexpr auto kToken = net::as_tuple(net::use_awaitable);

constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Status readable(const std::string& path, std::string_view what) {
  std::ifstream f(path);
  if (!f) return fail(ErrorCode::kIo, std::string(what) + " is not readable", path);
  return {};
}

PostResult failed(std::string_view phase, boost::system::error_code ec) {
  PostResult r;
  r.phase = phase;
  r.ec = ec;
  return r;
}

// A kept-alive connection the server closed while we were idle fails the
// next request before any response byte with one of these.
bool is_stale(const boost::system::error_code& ec) {
  return ec == net::error::eof || ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == ssl::error::stream_truncated || ec == bhttp::error::end_of_stream;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> make_client_context(const ClientTls& tls) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return fail(ErrorCode::kInternal, "cannot set the minimum TLS version");
  }
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return fail(ErrorCode::kInternal, "cannot set the TLS 1.2 cipher list");
  }
  boost::system::error_code ec;
  if (!tls.ca_file.empty()) {
    GW_CHECK_OK(readable(tls.ca_file, "forward.client_tls.ca"));
    ctx->load_verify_file(tls.ca_file, ec);
    if (ec) return fail(ErrorCode::kIo, "forward.client_tls.ca is not a PEM CA certificate", tls.ca_file);
  } else {
    ctx->set_default_verify_paths(ec);
    if (ec) return fail(ErrorCode::kIo, "cannot load the system CA store");
  }
  ctx->set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_verify_depth(native, 4);
  if (!tls.cert_file.empty() || !tls.key_file.empty()) {
    GW_CHECK_OK(readable(tls.cert_file, "forward.client_tls.cert"));
    GW_CHECK_OK(readable(tls.key_file, "forward.client_tls.key"));
    ctx->use_certificate_chain_file(tls.cert_file, ec);
    if (ec) return fail(ErrorCode::kIo, "forward.client_tls.cert is not a PEM certificate chain", tls.cert_file);
    ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(native) != 1) {
      ERR_clear_error();
      return fail(ErrorCode::kIntegrity, "forward.client_tls.key does not match the certificate");
    }
  }
  // Resume sessions with the same clinic: saves a full handshake per
  // reconnect.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT);
  return ctx;
}

Connection::Connection(net::any_io_executor ex, std::shared_ptr<ssl::context> ctx, Url url, Deadlines deadlines,
                       std::size_t body_limit)
    : ex_(std::move(ex)), ctx_(std::move(ctx)), url_(std::move(url)), deadlines_(deadlines), body_limit_(body_limit) {}

Connection::~Connection() { close(); }

bool Connection::is_open() const noexcept {
  if (tls_) return beast::get_lowest_layer(*tls_).socket().is_open();
  if (plain_) return plain_->socket().is_open();
  return false;
}

void Connection::close() noexcept {
  boost::system::error_code ignored;
  if (tls_) beast::get_lowest_layer(*tls_).socket().close(ignored);
  if (plain_) plain_->socket().close(ignored);
}

net::awaitable<PostResult> Connection::open() {
  close();
  tls_.reset();
  plain_.reset();
  buffer_.clear();
  beast::tcp_stream* lowest = nullptr;
  if (ctx_) {
    tls_.emplace(ex_, *ctx_);
    lowest = &beast::get_lowest_layer(*tls_);
  } else {
    plain_.emplace(ex_);
    lowest = &*plain_;
  }

  // Resolve (an IP literal needs no lookup). The resolver has no deadline
  // of its own, so it races a timer.
  std::vector<tcp::endpoint> endpoints;
  boost::system::error_code ec;
  const net::ip::address literal = net::ip::make_address(url_.host, ec);
  const bool is_ip = !ec;
  if (is_ip) {
    endpoints.emplace_back(literal, url_.port);
  } else {
    tcp::resolver resolver(ex_);
    net::steady_timer timer(ex_);
    timer.expires_after(deadlines_.connect);
    auto outcome = co_await (resolver.async_resolve(url_.host, std::to_string(url_.port), kToken) ||
                             timer.async_wait(kToken));
    if (outcome.index() == 1) co_return failed("resolve", beast::error::timeout);
    auto [rec, results] = std::get<0>(std::move(outcome));
    if (rec) co_return failed("resolve", rec);
    for (const auto& e : results) endpoints.push_back(e.endpoint());
  }

  lowest->expires_after(deadlines_.connect);
  auto [cec, connected] = co_await lowest->async_connect(endpoints, kToken);
  (void)connected;
  if (cec) co_return failed("connect", cec);
  boost::system::error_code nodelay_ec;
  lowest->socket().set_option(tcp::no_delay(true), nodelay_ec);

  if (tls_) {
    SSL* ssl_handle = tls_->native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (is_ip) {
      if (X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str()) != 1) {
        co_return failed("handshake", net::error::invalid_argument);
      }
    } else {
      if (SSL_set_tlsext_host_name(ssl_handle, url_.host.c_str()) != 1 ||
          SSL_set1_host(ssl_handle, url_.host.c_str()) != 1) {
        co_return failed("handshake", net::error::invalid_argument);
      }
    }
    lowest->expires_after(deadlines_.handshake);
    auto [hec] = co_await tls_->async_handshake(ssl::stream_base::client, kToken);
    if (hec) co_return failed("handshake", hec);
  }
  co_return PostResult{};
}

template <class Stream>
net::awaitable<PostResult> Connection::exchange(Stream& stream, const RequestSpec& spec, bool all_headers) {
  beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
  bhttp::request<bhttp::string_body> req;
  req.method_string(spec.method);
  req.target(spec.target);
  req.version(11);
  const bool default_port = url_.port == (url_.tls ? 443 : 80);
  const std::string host = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
  req.set(bhttp::field::host, default_port ? host : host + ":" + std::to_string(url_.port));
  req.set(bhttp::field::user_agent, "fhir-gateway/0.1");
  for (const auto& [name, value] : spec.headers) req.set(name, value);
  req.keep_alive(true);
  req.body() = spec.body;
  if (!spec.body.empty() || spec.method == "POST" || spec.method == "PUT" || spec.method == "PATCH") {
    req.prepare_payload();
  }

  lowest.expires_after(deadlines_.write);
  auto [wec, written] = co_await bhttp::async_write(stream, req, kToken);
  (void)written;
  if (wec) co_return failed("write", wec);

  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(body_limit_);
  lowest.expires_after(deadlines_.read);
  auto [rec, read] = co_await bhttp::async_read(stream, buffer_, parser, kToken);
  (void)read;
  PostResult r;
  if (rec) {
    // A body over the limit still carries a status worth acting on.
    if (rec == bhttp::error::body_limit && parser.is_header_done()) {
      r.status = static_cast<int>(parser.get().result_int());
      r.keep_alive = false;
      co_return r;
    }
    r = failed("read", rec);
    // Remember whether anything arrived: only a silent failure may be a
    // stale connection.
    if (!parser.got_some()) r.phase = "read-nothing";
    co_return r;
  }
  auto& res = parser.get();
  r.status = static_cast<int>(res.result_int());
  r.content_type = std::string(res[bhttp::field::content_type]);
  r.retry_after = std::string(res[bhttp::field::retry_after]);
  r.keep_alive = res.keep_alive();
  if (all_headers) {
    for (const auto& f : res) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  r.body = std::move(res.body());
  co_return r;
}

net::awaitable<PostResult> Connection::post(const std::string& body, const std::string& request_id,
                                            const std::string& path) {
  std::string target = url_.target;
  if (!path.empty()) {
    const std::size_t q = target.find('?');
    std::string base = target.substr(0, q);
    if (!base.ends_with('/')) base += '/';
    target = base + path + (q == std::string::npos ? std::string() : target.substr(q));
  }
  RequestSpec spec{"POST",
                   std::move(target),
                   {{"Content-Type", "application/fhir+json"},
                    {"Accept", "application/fhir+json"},
                    {"X-Request-Id", request_id},
                    {"Idempotency-Key", request_id}},
                   body};
  co_return co_await send(spec, false);
}

net::awaitable<PostResult> Connection::request(const RequestSpec& spec) { co_return co_await send(spec, true); }

net::awaitable<PostResult> Connection::send(const RequestSpec& spec, bool all_headers) {
  for (int round = 0; round < 2; ++round) {
    const bool reused = is_open();
    if (!reused) {
      PostResult opened = co_await open();
      if (opened.ec) {
        close();
        co_return opened;
      }
    }
    // (if/else, not ?: — g++ 12 mishandles co_await inside a conditional)
    PostResult r;
    if (tls_) {
      r = co_await exchange(*tls_, spec, all_headers);
    } else {
      r = co_await exchange(*plain_, spec, all_headers);
    }
    if (r.ec || !r.keep_alive) close();
    const bool silent = r.phase == "write" || r.phase == "read-nothing";
    if (r.ec && reused && silent && is_stale(r.ec)) continue;  // the clinic closed an idle connection
    if (r.phase == "read-nothing") r.phase = "read";
    co_return r;
  }
  co_return failed("connect", net::error::connection_reset);  // not reached: round 2 never reuses
}

}  // namespace gw::forward::detail

namespace gw::forward {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;

// A private io_context runs each request to completion on the calling
// thread: the coroutine client is reused as is, and nothing runs between
// two requests.
struct BlockingClient::Impl {
  net::io_context ioc;
  std::shared_ptr<ssl::context> tls;
  Deadlines deadlines;
  std::size_t body_limit = 0;
  std::map<std::string, std::unique_ptr<detail::Connection>> connections;  // "scheme://host:port"
};

BlockingClient::BlockingClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlockingClient::~BlockingClient() = default;

Result<std::unique_ptr<BlockingClient>> BlockingClient::create(const ClientTls& tls, Deadlines deadlines,
                                                               std::size_t body_limit) {
  auto impl = std::make_unique<Impl>();
  GW_TRY(impl->tls, detail::make_client_context(tls));
  impl->deadlines = deadlines;
  impl->body_limit = body_limit;
  return std::unique_ptr<BlockingClient>(new BlockingClient(std::move(impl)));
}

Result<ClientResponse> BlockingClient::send(const ClientRequest& request) {
  GW_TRY(Url url, parse_url(request.url));
  const std::string key = (url.tls ? "https://" : "http://") + url.host + ":" + std::to_string(url.port);
  auto& conn = impl_->connections[key];
  if (!conn) {
    conn = std::make_unique<detail::Connection>(impl_->ioc.get_executor(), url.tls ? impl_->tls : nullptr, url,
                                                impl_->deadlines, impl_->body_limit);
  }
  detail::RequestSpec spec{request.method, url.target, request.headers, request.body};
  std::optional<detail::PostResult> out;
  std::exception_ptr failure;
  net::co_spawn(impl_->ioc, conn->request(spec), [&](std::exception_ptr e, detail::PostResult r) {
    failure = e;
    out = std::move(r);
  });
  impl_->ioc.restart();
  impl_->ioc.run();
  if (failure || !out) return fail(ErrorCode::kInternal, "the request did not complete");
  if (out->status == 0) {
    return fail(ErrorCode::kIo, std::string(out->phase) + " failed: " + out->ec.message());
  }
  ClientResponse res;
  res.status = out->status;
  res.headers = std::move(out->headers);
  res.body = std::move(out->body);
  return res;
}

}  // namespace gw::forward
