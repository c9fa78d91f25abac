// A small Beast HTTPS client for the integration tests: real TLS (optionally
// with a client certificate, optionally TLS 1.2 only), real sockets on
// 127.0.0.1. Every operation runs under a client-side deadline so that a
// server bug fails a test instead of hanging it; tests never assert how
// long anything took.
#pragma once

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::http::testing {

struct ClientOptions {
  bool tls = true;
  std::string ca_file;    // trusted server CA
  std::string cert_file;  // client certificate (empty: none)
  std::string key_file;
  bool tls12_only = false;
};

struct Reply {
  boost::system::error_code ec;  // set when no complete response was read
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  bool keep_alive = false;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class TestClient {
 public:
  explicit TestClient(ClientOptions options);
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  /// TCP connect and (with TLS) handshake.
  boost::system::error_code connect(std::uint16_t port);
  /// TCP connect only (for handshake deadline tests).
  boost::system::error_code connect_tcp(std::uint16_t port);
  /// One request and its response.
  Reply request(std::string_view method, std::string_view target, std::string body = {},
                std::vector<std::pair<std::string, std::string>> headers = {});
  /// Writes bytes as they are (malformed or partial requests, pipelining).
  boost::system::error_code send_raw(std::string_view bytes);
  /// Reads one response.
  Reply read_response();
  /// Reads until the server closes the connection; returns the read's
  /// error (eof, stream_truncated, reset...) or {} if data arrived instead.
  boost::system::error_code wait_closed();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Runs a shell command; true if it exited 0.
bool run_command(const std::string& command);

}  // namespace gw::http::testing
