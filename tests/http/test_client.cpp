// The integration tests' client (see test_client.hpp).
#include "tests/http/test_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <cstdlib>

namespace gw::http::testing {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

namespace {
constexpr auto kClientDeadline = std::chrono::seconds(20);
}

struct TestClient::Impl {
  explicit Impl(ClientOptions o) : options(std::move(o)), ctx(ssl::context::tls_client) {
    if (options.tls12_only) SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    if (!options.ca_file.empty()) ctx.load_verify_file(options.ca_file);
    ctx.set_verify_mode(ssl::verify_peer);
    if (!options.cert_file.empty()) {
      ctx.use_certificate_chain_file(options.cert_file);
      ctx.use_private_key_file(options.key_file, ssl::context::pem);
    }
    reset_stream();
  }
  void reset_stream() {
    stream.reset();
    plain.reset();
    if (options.tls) {
      stream.emplace(ioc, ctx);
    } else {
      plain.emplace(ioc);
    }
  }
  beast::tcp_stream& lowest() { return options.tls ? beast::get_lowest_layer(*stream) : *plain; }

  // Runs the io_context until the started operation completes (the client
  // deadline bounds it).
  void run() {
    ioc.restart();
    ioc.run();
  }

  ClientOptions options;
  net::io_context ioc;
  ssl::context ctx;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
  std::optional<beast::tcp_stream> plain;
  beast::flat_buffer buffer;
};

TestClient::TestClient(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
TestClient::~TestClient() = default;

boost::system::error_code TestClient::connect_tcp(std::uint16_t port) {
  boost::system::error_code result;
  impl_->lowest().expires_after(kClientDeadline);
  impl_->lowest().async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                [&](boost::system::error_code ec) { result = ec; });
  impl_->run();
  return result;
}

boost::system::error_code TestClient::connect(std::uint16_t port) {
  if (auto ec = connect_tcp(port)) return ec;
  if (!impl_->options.tls) return {};
  boost::system::error_code result;
  SSL_set_tlsext_host_name(impl_->stream->native_handle(), "localhost");
  impl_->stream->set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  impl_->lowest().expires_after(kClientDeadline);
  impl_->stream->async_handshake(ssl::stream_base::client, [&](boost::system::error_code ec) { result = ec; });
  impl_->run();
  return result;
}

boost::system::error_code TestClient::send_raw(std::string_view bytes) {
  boost::system::error_code result;
  impl_->lowest().expires_after(kClientDeadline);
  auto done = [&](boost::system::error_code ec, std::size_t) { result = ec; };
  if (impl_->options.tls) {
    net::async_write(*impl_->stream, net::buffer(bytes.data(), bytes.size()), done);
  } else {
    net::async_write(*impl_->plain, net::buffer(bytes.data(), bytes.size()), done);
  }
  impl_->run();
  return result;
}

Reply TestClient::read_response() {
  Reply reply;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64u << 20);
  impl_->lowest().expires_after(kClientDeadline);
  auto done = [&](boost::system::error_code ec, std::size_t) { reply.ec = ec; };
  if (impl_->options.tls) {
    bhttp::async_read(*impl_->stream, impl_->buffer, parser, done);
  } else {
    bhttp::async_read(*impl_->plain, impl_->buffer, parser, done);
  }
  impl_->run();
  if (reply.ec) return reply;
  auto msg = parser.release();
  reply.status = static_cast<int>(msg.result_int());
  reply.body = std::move(msg.body());
  reply.keep_alive = msg.keep_alive();
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = std::string(f.value());
  }
  return reply;
}

Reply TestClient::request(std::string_view method, std::string_view target, std::string body,
                          std::vector<std::pair<std::string, std::string>> headers) {
  bhttp::request<bhttp::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, "localhost");
  for (auto& [k, v] : headers) req.set(k, v);
  req.body() = std::move(body);
  req.prepare_payload();
  boost::system::error_code wec;
  impl_->lowest().expires_after(kClientDeadline);
  auto done = [&](boost::system::error_code ec, std::size_t) { wec = ec; };
  if (impl_->options.tls) {
    bhttp::async_write(*impl_->stream, req, done);
  } else {
    bhttp::async_write(*impl_->plain, req, done);
  }
  impl_->run();
  if (wec) {
    Reply r;
    r.ec = wec;
    return r;
  }
  return read_response();
}

boost::system::error_code TestClient::wait_closed() {
  boost::system::error_code result;
  char byte[256];
  impl_->lowest().expires_after(kClientDeadline);
  auto done = [&](boost::system::error_code ec, std::size_t) { result = ec; };
  if (impl_->options.tls) {
    impl_->stream->async_read_some(net::buffer(byte), done);
  } else {
    impl_->plain->async_read_some(net::buffer(byte), done);
  }
  impl_->run();
  return result;
}

bool run_command(const std::string& command) { return std::system(command.c_str()) == 0; }

}  // namespace gw::http::testing
