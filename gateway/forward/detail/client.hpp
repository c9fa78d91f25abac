// The delivery client: one kept-alive HTTP/1.1 connection to one clinic,
// TLS (mutual, when the gateway has a client certificate) or, only when the
// configuration says so, plain. Private to gw::forward.
#pragma once

#include "gateway/forward/forward.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gw::forward::detail {

/// Client TLS context: TLS 1.2 minimum, peer verification against
/// `tls.ca_file` (the system store when empty), the client certificate when
/// given. Errors: kIo, kIntegrity (key does not match cert).
Result<std::shared_ptr<boost::asio::ssl::context>> make_client_context(const ClientTls& tls);

/// Outcome of one POST. `status` is 0 when no response was read; then `ec`
/// and `phase` ("resolve", "connect", "handshake", "write", "read") say why.
struct PostResult {
  boost::system::error_code ec;
  std::string_view phase;
  int status = 0;
  std::string body;          ///< at most the configured limit
  std::string content_type;
  std::string retry_after;   ///< the Retry-After header as sent ("" when none)
  bool keep_alive = false;
  /// Every response header, names as received (request() only).
  std::vector<std::pair<std::string, std::string>> headers;
};

/// A request other than the delivery POST (request()): method, target
/// (path and query) and headers as given; Host is set by the connection.
struct RequestSpec {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;  ///< must outlive the request
};

/// One connection, used by one coroutine at a time (thread-compatible; the
/// owning worker's strand serializes it). Reconnects lazily.
class Connection {
 public:
  /// `ctx` is null for plain http. The context is shared and read-only.
  Connection(boost::asio::any_io_executor ex, std::shared_ptr<boost::asio::ssl::context> ctx, Url url,
             Deadlines deadlines, std::size_t body_limit);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// POSTs `body` with the FHIR content type and `request_id` as both
  /// X-Request-Id and Idempotency-Key, to the endpoint's path, or to
  /// `path` under it ("Task" -> /fhir/Task). A kept-alive connection that
  /// the server closed while idle is re-opened once, transparently.
  boost::asio::awaitable<PostResult> post(const std::string& body, const std::string& request_id,
                                          const std::string& path = {});

  /// Sends any request (the conformance kit's operations) on the same
  /// connection, with the same deadlines and stale-connection retry.
  boost::asio::awaitable<PostResult> request(const RequestSpec& spec);

  /// Closes the socket now; a pending operation completes with an error.
  void close() noexcept;
  bool is_open() const noexcept;

 private:
  boost::asio::awaitable<PostResult> open();
  template <class Stream>
  boost::asio::awaitable<PostResult> exchange(Stream& stream, const RequestSpec& spec, bool all_headers);
  boost::asio::awaitable<PostResult> send(const RequestSpec& spec, bool all_headers);

  boost::asio::any_io_executor ex_;
  std::shared_ptr<boost::asio::ssl::context> ctx_;
  Url url_;
  Deadlines deadlines_;
  std::size_t body_limit_;
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_;
  std::optional<boost::beast::tcp_stream> plain_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace gw::forward::detail
