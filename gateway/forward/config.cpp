// The forward configuration: the recipients' endpoints (top-level
// "recipients", which consent also reads and checks key by key) and the
// "forward" member, which holds everything only delivery cares about. The
// delivery settings live in their own member rather than inside each
// recipient because consent rejects unknown keys there, and because the
// client identity is the gateway's, not a recipient's.
#include "gateway/forward/forward.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace gw::forward {

namespace {

Error bad(std::string message, std::string location) {
  return fail(ErrorCode::kParse, std::move(message), std::move(location));
}

Result<std::uint64_t> read_uint(json::Value v, const std::string& at, std::uint64_t max) {
  if (!v.is_number()) return bad("must be a non-negative integer", at);
  std::uint64_t out = 0;
  const std::string_view s = v.str();
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size() || out > max) {
    return bad("must be an integer from 0 to " + std::to_string(max), at);
  }
  return out;
}

Result<Millis> read_ms(json::Value v, const std::string& at) {
  GW_TRY(std::uint64_t n, read_uint(v, at, 7ULL * 24 * 3600 * 1000));
  return Millis(static_cast<Millis::rep>(n));
}

Result<std::string> read_string(json::Value v, const std::string& at) {
  if (!v.is_string()) return bad("must be a string", at);
  return std::string(v.str());
}

Result<bool> read_bool(json::Value v, const std::string& at) {
  if (!v.is_bool()) return bad("must be true or false", at);
  return v.boolean();
}

// Walks an object's members, failing on keys the caller does not handle.
template <class F>
Status each_member(json::Value obj, const std::string& at, F&& f) {
  if (!obj.is_object()) return bad("must be an object", at);
  for (std::size_t i = 0; i < obj.size(); ++i) {
    const std::string key(obj.key(i));
    const std::string child = at + "." + key;
    GW_TRY(bool known, f(key, obj[i], child));
    if (!known) return bad("unknown key", child);
  }
  return {};
}

Status read_tls(json::Value v, const std::string& at, ClientTls& tls) {
  return each_member(v, at, [&](const std::string& key, json::Value m, const std::string& child) -> Result<bool> {
    std::string* target = key == "cert" ? &tls.cert_file
                          : key == "key" ? &tls.key_file
                          : key == "ca"  ? &tls.ca_file
                                         : nullptr;
    if (!target) return false;
    GW_TRY(*target, read_string(m, child));
    return true;
  });
}

Status read_deadlines(json::Value v, const std::string& at, Deadlines& d) {
  return each_member(v, at, [&](const std::string& key, json::Value m, const std::string& child) -> Result<bool> {
    Millis* target = key == "connect_ms"     ? &d.connect
                     : key == "handshake_ms" ? &d.handshake
                     : key == "write_ms"     ? &d.write
                     : key == "read_ms"      ? &d.read
                                             : nullptr;
    if (!target) return false;
    GW_TRY(*target, read_ms(m, child));
    return true;
  });
}

Status read_retry(json::Value v, const std::string& at, RetryPolicy& r) {
  return each_member(v, at, [&](const std::string& key, json::Value m, const std::string& child) -> Result<bool> {
    if (key == "base_ms") {
      GW_TRY(r.base, read_ms(m, child));
    } else if (key == "cap_ms") {
      GW_TRY(r.cap, read_ms(m, child));
    } else if (key == "max_attempts") {
      GW_TRY(std::uint64_t n, read_uint(m, child, 1000));
      r.max_attempts = static_cast<std::uint32_t>(n);
    } else {
      return false;
    }
    return true;
  });
}

Status check(const ForwardConfig& c) {
  auto invalid = [](std::string m, std::string at) { return fail(ErrorCode::kInvalidArgument, std::move(m), std::move(at)); };
  if (c.retry.max_attempts == 0) return invalid("must be at least 1", "forward.retry.max_attempts");
  if (c.retry.cap < c.retry.base) return invalid("must not be below base_ms", "forward.retry.cap_ms");
  if (c.batch == 0) return invalid("must be at least 1", "forward.batch");
  if (c.poll.count() == 0) return invalid("must be at least 1", "forward.poll_ms");
  const Deadlines& d = c.deadlines;
  if (d.connect.count() == 0 || d.handshake.count() == 0 || d.write.count() == 0 || d.read.count() == 0) {
    return invalid("deadlines must be at least 1 ms", "forward.deadlines");
  }
  if (c.lease <= d.connect + d.handshake + d.write + d.read) {
    return invalid("must exceed the sum of the deadlines", "forward.lease_ms");
  }
  for (std::size_t i = 0; i < c.recipients.size(); ++i) {
    const RecipientEndpoint& r = c.recipients[i];
    const std::string at = "recipients[" + std::to_string(i) + "]";
    auto url = parse_url(r.endpoint);
    if (!url) return bad("must be an http(s) URL", at + ".endpoint");
    if (!url->tls && !r.plain_http_for_local_tests) {
      return invalid("an http:// endpoint needs forward.recipients." + r.id + ".plain_http_for_local_tests",
                     at + ".endpoint");
    }
    if (r.concurrency == 0) return invalid("must be at least 1", "forward.recipients." + r.id + ".concurrency");
  }
  return {};
}

}  // namespace

Result<Url> parse_url(std::string_view text) {
  Url url;
  std::string_view rest;
  if (text.rfind("https://", 0) == 0) {
    rest = text.substr(8);
    url.tls = true;
    url.port = 443;
  } else if (text.rfind("http://", 0) == 0) {
    rest = text.substr(7);
    url.tls = false;
    url.port = 80;
  } else {
    return bad("URL must start with http:// or https://", "url");
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("URL contains a control or space character", "url");
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos) return bad("URL must not carry user info", "url");
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal", "url");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("bad port", "url");
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return bad("URL has no host", "url");
  if (!port_text.empty() || authority.ends_with(':')) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      return bad("bad port", "url");
    }
    url.port = static_cast<std::uint16_t>(port);
  }
  return url;
}

Result<ForwardConfig> parse_forward_config(std::string_view json_text) {
  GW_TRY(json::Document doc, json::Document::parse(std::string(json_text)));
  const json::Value root = doc.root();
  if (!root.is_object()) return bad("configuration must be a JSON object", "$");
  ForwardConfig config;

  // Recipients: id and endpoint; those that do not "receive" are skipped.
  if (json::Value list = root.find("recipients")) {
    if (!list.is_array()) return bad("must be an array", "recipients");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string at = "recipients[" + std::to_string(i) + "]";
      json::Value r = list[i];
      if (!r.is_object()) return bad("must be an object", at);
      bool receives = true;
      if (json::Value ops = r.find("operations"); ops.is_array()) {
        receives = false;
        for (json::Value op : ops.items()) receives = receives || (op.is_string() && op.str() == "receive");
      }
      // Those that receive nothing (an operator) need no endpoint.
      if (!receives) continue;
      RecipientEndpoint e;
      GW_TRY(e.id, read_string(r.find("id"), at + ".id"));
      GW_TRY(e.endpoint, read_string(r.find("endpoint"), at + ".endpoint"));
      config.recipients.push_back(std::move(e));
    }
  }

  if (json::Value f = root.find("forward")) {
    GW_CHECK_OK(each_member(f, "forward", [&](const std::string& key, json::Value m,
                                              const std::string& at) -> Result<bool> {
      if (key == "client_tls") {
        GW_CHECK_OK(read_tls(m, at, config.tls));
      } else if (key == "deadlines") {
        GW_CHECK_OK(read_deadlines(m, at, config.deadlines));
      } else if (key == "retry") {
        GW_CHECK_OK(read_retry(m, at, config.retry));
      } else if (key == "poll_ms") {
        GW_TRY(config.poll, read_ms(m, at));
      } else if (key == "lease_ms") {
        GW_TRY(config.lease, read_ms(m, at));
      } else if (key == "drain_ms") {
        GW_TRY(config.drain, read_ms(m, at));
      } else if (key == "batch") {
        GW_TRY(std::uint64_t n, read_uint(m, at, 1000));
        config.batch = static_cast<std::uint32_t>(n);
      } else if (key == "response_body_bytes") {
        GW_TRY(std::uint64_t n, read_uint(m, at, 64ULL << 20));
        config.response_body_limit = static_cast<std::size_t>(n);
      } else if (key == "recipients") {
        GW_CHECK_OK(each_member(m, at, [&](const std::string& id, json::Value r,
                                           const std::string& rat) -> Result<bool> {
          auto it = std::find_if(config.recipients.begin(), config.recipients.end(),
                                 [&](const RecipientEndpoint& e) { return e.id == id; });
          if (it == config.recipients.end()) return bad("not a recipient that receives deliveries", rat);
          GW_CHECK_OK(each_member(r, rat, [&](const std::string& k, json::Value v,
                                              const std::string& kat) -> Result<bool> {
            if (k == "plain_http_for_local_tests") {
              GW_TRY(it->plain_http_for_local_tests, read_bool(v, kat));
            } else if (k == "concurrency") {
              GW_TRY(std::uint64_t n, read_uint(v, kat, 64));
              it->concurrency = static_cast<std::uint32_t>(n);
            } else {
              return false;
            }
            return true;
          }));
          return true;
        }));
      } else {
        return false;
      }
      return true;
    }));
  }
  GW_CHECK_OK(check(config));
  return config;
}

Result<ForwardConfig> load_forward_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::kIo, "configuration file is not readable", path);
  std::ostringstream text;
  text << in.rdbuf();
  auto config = parse_forward_config(text.str());
  if (!config) return config.error().with_context(path);
  return config;
}

}  // namespace gw::forward
