// Fuzz target: bytes -> Beast's request parser with the server's limits
// (the same configuration a session uses, without a socket: Beast's
// in-memory pattern) -> the gateway's router, query decoding and FHIR
// conventions. Invariants: matching never returns a route without its
// parameters, decoded text never carries a NUL, an error response is
// always an OperationOutcome.
#include "gateway/core/core.hpp"
#include "gateway/http/http.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>
#include <string>

namespace {

namespace bhttp = boost::beast::http;
using gw::http::Match;

const gw::http::Router& router() {
  static const gw::http::Router r = [] {
    gw::http::Router out;
    auto ok = [](const gw::http::Request&) { return gw::http::Response::text(200, "ok"); };
    for (const char* t : {"/healthz", "/fhir/metadata", "/fhir/$validate", "/fhir/{type}/$validate",
                          "/fhir/Bundle/{id}", "/fhir/{type}/{id}/_history/{vid}"}) {
      GW_ASSERT(out.add("GET", t, ok), "fuzz routes are valid");
      GW_ASSERT(out.add("POST", t, ok), "fuzz routes are valid");
    }
    return out;
  }();
  return r;
}

std::size_t count_params(std::string_view t) {
  std::size_t n = 0;
  for (char c : t) n += c == '{';
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.body_limit(64 * 1024);
  parser.header_limit(8 * 1024);
  boost::system::error_code ec;
  boost::asio::const_buffer in(data, size);
  while (in.size() > 0 && !parser.is_done()) {
    const std::size_t used = parser.put(in, ec);
    if (ec == bhttp::error::need_more) {
      ec = {};
      break;
    }
    if (ec) return 0;  // the session answers 400/413/431 with a fixed text
    if (used == 0) break;
    in += used;
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }
  auto msg = parser.release();
  const std::string_view target = msg.target();
  const std::size_t q = target.find('?');
  gw::http::Request req;
  req.method = std::string(msg.method_string());
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) {
    auto query = gw::http::parse_query(target.substr(q + 1));
    if (!query) return 0;
    for (const auto& [k, v] : *query) {
      GW_ASSERT(k.find('\0') == std::string::npos && v.find('\0') == std::string::npos, "decoded query has no NUL");
    }
    req.query = std::move(*query);
  }
  for (const auto& f : msg) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  req.body = std::move(msg.body());
  Match m = router().match(req.method, req.path);
  if (m.kind == Match::Kind::kFound) {
    GW_ASSERT(m.route != nullptr, "a found match names its route");
    GW_ASSERT(m.params.size() == count_params(m.route->path_template), "every {parameter} is bound");
    req.route = m.route;
    if (auto error = gw::http::apply_conventions(*m.route, req)) {
      GW_ASSERT(error->body.find("OperationOutcome") != std::string::npos, "errors are OperationOutcomes");
    }
  } else if (m.kind == Match::Kind::kMethodNotAllowed) {
    GW_ASSERT(!m.allow.empty(), "405 lists the allowed methods");
  }
  return 0;
}
