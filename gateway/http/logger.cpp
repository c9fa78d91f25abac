// JSON-lines logging. One object per line so that log shippers need no
// multi-line parsing; the field set is fixed (see LogRecord) so that no
// code path can slip a request body or a raw path into the log.
#include "gateway/http/http.hpp"

#include <cstdio>
#include <ctime>

namespace gw::http {

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

std::optional<LogLevel> parse_log_level(std::string_view text) noexcept {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return std::nullopt;
}

void JsonLineLogger::log(const LogRecord& r) noexcept {
  if (!enabled(r.level)) return;
  try {
    const auto now = clock_.now();
    const std::string stamp = gw::format_instant(now, true);
    json::Writer w;
    w.begin_object();
    w.key("time");
    w.string(stamp);
    w.key("level");
    w.string(to_string(r.level));
    w.key("event");
    w.string(r.event);
    auto opt = [&](std::string_view k, std::string_view v) {
      if (!v.empty()) {
        w.key(k);
        w.string(v);
      }
    };
    opt("route", r.route);
    opt("method", r.method);
    if (r.status) {
      w.key("status");
      w.integer(r.status);
    }
    if (r.latency_ms >= 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f", r.latency_ms);
      w.key("latency_ms");
      w.number_text(buf);
    }
    opt("client", r.client);
    if (r.bytes_in) {
      w.key("bytes_in");
      w.integer(static_cast<std::int64_t>(r.bytes_in));
    }
    if (r.bytes_out) {
      w.key("bytes_out");
      w.integer(static_cast<std::int64_t>(r.bytes_out));
    }
    opt("detail", r.detail);
    w.end_object();
    std::string line = std::move(w).take();
    line.push_back('\n');
    std::lock_guard lock(mutex_);
    out_.write(line.data(), static_cast<std::streamsize>(line.size()));
    out_.flush();
  } catch (...) {
    // Logging must never take a request down (allocation failure, a closed
    // stream): drop the line.
  }
}

}  // namespace gw::http
