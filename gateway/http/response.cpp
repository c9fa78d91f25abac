// Request/Response value helpers, the OperationOutcome every error answer
// carries, the Responder's exactly-once completion, and the FHIR read
// helpers (ETag, Last-Modified, conditional reads, Prefer).
#include "gateway/http/http.hpp"

#include <cstdio>
#include <ctime>

namespace gw::http {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view find_pair(const std::vector<std::pair<std::string, std::string>>& v,
                           std::string_view name) noexcept {
  for (const auto& [k, val] : v) {
    if (iequals(k, name)) return val;
  }
  return {};
}

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

// --- Request -----------------------------------------------------------------

std::string_view Request::header(std::string_view name) const noexcept {
  return find_pair(headers, name);
}

std::optional<std::string_view> Request::query_param(std::string_view name) const noexcept {
  for (const auto& [k, v] : query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view Request::path_param(std::string_view name) const noexcept {
  for (const auto& [k, v] : path_params) {
    if (k == name) return v;
  }
  return {};
}

std::string_view Request::route_template() const noexcept {
  return route ? std::string_view(route->path_template) : std::string_view("unmatched");
}

// --- Response ----------------------------------------------------------------

std::string_view to_string(IssueType type) noexcept {
  switch (type) {
    case IssueType::kInvalid: return "invalid";
    case IssueType::kStructure: return "structure";
    case IssueType::kRequired: return "required";
    case IssueType::kNotFound: return "not-found";
    case IssueType::kNotSupported: return "not-supported";
    case IssueType::kTooCostly: return "too-costly";
    case IssueType::kThrottled: return "throttled";
    case IssueType::kSecurity: return "security";
    case IssueType::kTimeout: return "timeout";
    case IssueType::kTransient: return "transient";
    case IssueType::kException: return "exception";
    case IssueType::kInformational: return "informational";
  }
  return "exception";
}

std::string operation_outcome_json(std::string_view severity, IssueType type,
                                   std::string_view diagnostics) {
  json::Writer w;
  w.begin_object();
  w.key("resourceType");
  w.string("OperationOutcome");
  w.key("issue");
  w.begin_array();
  w.begin_object();
  w.key("severity");
  w.string(severity);
  w.key("code");
  w.string(to_string(type));
  w.key("diagnostics");
  w.string(diagnostics);
  w.end_object();
  w.end_array();
  w.end_object();
  return std::move(w).take();
}

Response Response::fhir_json(int status, std::string body, std::string_view media_type) {
  Response r;
  r.status = status;
  r.content_type = std::string(media_type);
  r.body = std::move(body);
  return r;
}

Response Response::outcome(int status, IssueType type, std::string_view diagnostics) {
  const bool ok = status >= 200 && status < 300;
  return fhir_json(status, operation_outcome_json(ok ? "information" : "error", type, diagnostics));
}

Response Response::text(int status, std::string body, std::string_view content_type) {
  Response r;
  r.status = status;
  r.content_type = std::string(content_type);
  r.body = std::move(body);
  return r;
}

Response Response::not_modified() {
  Response r;
  r.status = 304;
  r.content_type.clear();
  return r;
}

Response& Response::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (iequals(k, name)) {
      v = std::move(value);
      return *this;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::string_view Response::header(std::string_view name) const noexcept {
  return find_pair(headers, name);
}

// --- Responder ---------------------------------------------------------------

// The state shared by all copies of one Responder. The destructor is the
// safety net: a handler that loses every copy without answering still
// produces a response, so the connection's queue cannot stall.
struct Responder::State {
  explicit State(std::function<void(Response)> d) : deliver(std::move(d)) {}
  ~State() {
    if (!done.exchange(true) && deliver) {
      deliver(Response::outcome(500, IssueType::kException, "the handler did not answer the request"));
    }
  }
  std::function<void(Response)> deliver;
  std::atomic<bool> done{false};
};

Responder::Responder(std::function<void(Response)> deliver)
    : state_(std::make_shared<State>(std::move(deliver))) {}

void Responder::operator()(Response response) const {
  if (!state_ || state_->done.exchange(true)) return;
  state_->deliver(std::move(response));
}

bool Responder::pending() const noexcept { return state_ && !state_->done.load(); }

// --- FHIR read helpers -------------------------------------------------------

std::string etag_for_version(std::string_view version_id) {
  std::string out = "W/\"";
  out += version_id;
  out += '"';
  return out;
}

std::string http_date(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed layout, 29 characters.
  if (s.size() != 29 || s[3] != ',' || s.substr(26) != "GMT") return std::nullopt;
  auto num = [&](std::size_t at, std::size_t n) -> int {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  int month = -1;
  for (int m = 0; m < 12; ++m) {
    if (s.substr(8, 3) == kMonths[m]) month = m;
  }
  const int day = num(5, 2), year = num(12, 4), hh = num(17, 2), mm = num(20, 2), ss = num(23, 2);
  if (month < 0 || day < 1 || day > 31 || year < 1970 || hh < 0 || hh > 23 || mm < 0 || mm > 59 ||
      ss < 0 || ss > 60 || s[16] != ' ' || s[19] != ':' || s[22] != ':') {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  const std::time_t tt = timegm(&tm);
  if (tt == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(tt);
}

bool not_modified(const Request& request, std::string_view etag,
                  std::optional<std::chrono::system_clock::time_point> last_modified) {
  const std::string_view inm = request.header("if-none-match");
  if (!inm.empty()) {
    // A list of entity tags; weak comparison (RFC 9110 §13.1.2).
    auto strip_weak = [](std::string_view t) { return t.starts_with("W/") ? t.substr(2) : t; };
    std::string_view rest = inm;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view tag = trim(rest.substr(0, comma));
      if (tag == "*" || (!etag.empty() && strip_weak(tag) == strip_weak(etag))) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    return false;
  }
  const std::string_view ims = request.header("if-modified-since");
  if (!ims.empty() && last_modified) {
    const auto since = parse_http_date(trim(ims));
    if (!since) return false;
    return std::chrono::floor<std::chrono::seconds>(*last_modified) <= *since;
  }
  return false;
}

void apply_prefer(const Request& request, Response& response) {
  switch (request.prefer) {
    case PreferReturn::kMinimal:
      response.body.clear();
      response.content_type.clear();
      break;
    case PreferReturn::kOperationOutcome:
      response.body = operation_outcome_json("information", IssueType::kInformational,
                                             "the operation completed");
      response.content_type = request.response_media_type;
      break;
    case PreferReturn::kRepresentation:
    case PreferReturn::kUnspecified:
      break;
  }
}

}  // namespace gw::http
