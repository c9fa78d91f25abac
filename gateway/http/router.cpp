// The route table and the FHIR REST conventions applied before a handler.
//
// Matching is segment by segment on the percent-decoded path: a template
// segment is either a literal ("fhir", "$validate") or a parameter ("{id}").
// When several templates match, the one whose first differing segment is a
// literal wins, so `/fhir/$validate` beats `/fhir/{type}`. The table is
// small (tens of routes), so a linear scan is faster than any trie.
#include "gateway/http/http.hpp"

#include <algorithm>

namespace gw::http {

namespace {

bool is_param(std::string_view seg) noexcept {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

std::vector<std::string_view> split_path(std::string_view path) {
  // path starts with '/'; "/a/b" -> {"a", "b"}; "/" -> {""}.
  std::vector<std::string_view> out;
  path.remove_prefix(1);
  while (true) {
    const std::size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The media type of a Content-Type/Accept item, lower-case, without
// parameters: "Application/FHIR+JSON; charset=utf-8" -> "application/fhir+json".
std::string media_type(std::string_view item) { return lower(trim(item.substr(0, item.find(';')))); }

bool is_json_type(std::string_view t) noexcept {
  return t == "application/fhir+json" || t == "application/json" || t == "application/json+fhir";
}

// The charset parameter of a Content-Type, lower-case, unquoted; "" when
// absent. JSON is UTF-8 (RFC 8259 §8.1): any other declared charset means
// the sender encoded the body in something we would misread.
std::string charset_of(std::string_view content_type) {
  std::size_t semi = content_type.find(';');
  while (semi != std::string_view::npos) {
    content_type.remove_prefix(semi + 1);
    semi = content_type.find(';');
    const std::string param = lower(trim(content_type.substr(0, semi)));
    if (param.starts_with("charset=")) {
      std::string v = param.substr(8);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return {};
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) { return decode(text, false); }

std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    if (!item.empty()) {
      const std::size_t eq = item.find('=');
      auto k = decode(item.substr(0, eq), true);
      auto v = eq == std::string_view::npos ? std::optional<std::string>("")
                                            : decode(item.substr(eq + 1), true);
      if (!k || !v) return std::nullopt;
      out.emplace_back(std::move(*k), std::move(*v));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

Status Router::add(Route route) {
  const std::string& t = route.path_template;
  if (t.empty() || t.front() != '/') {
    return fail(ErrorCode::kInvalidArgument, "route template must start with '/'");
  }
  if (route.method.empty()) return fail(ErrorCode::kInvalidArgument, "route method is empty");
  std::vector<std::string> segs;
  for (std::string_view seg : split_path(t)) {
    if (seg.empty()) return fail(ErrorCode::kInvalidArgument, "route template has an empty segment");
    const bool has_brace = seg.find_first_of("{}") != std::string_view::npos;
    if (has_brace && (!is_param(seg) || seg.size() == 2 ||
                      seg.substr(1, seg.size() - 2).find_first_of("{}") != std::string_view::npos)) {
      return fail(ErrorCode::kInvalidArgument, "route template has a malformed {parameter}");
    }
    segs.emplace_back(seg);
  }
  for (const Route& r : routes_) {
    if (r.method == route.method && r.path_template == t) {
      return fail(ErrorCode::kInvalidArgument, "route registered twice: " + route.method + " " + t);
    }
  }
  routes_.push_back(std::move(route));
  segments_.push_back(std::move(segs));
  return {};
}

Status Router::add(std::string method, std::string path_template, SyncHandler handler,
                   Execution execution, CapabilityInfo capability) {
  Route r;
  r.method = std::move(method);
  r.path_template = std::move(path_template);
  r.handler = std::move(handler);
  r.execution = execution;
  r.capability = std::move(capability);
  return add(std::move(r));
}

Status Router::add_async(std::string method, std::string path_template, AsyncHandler handler,
                         CapabilityInfo capability) {
  Route r;
  r.method = std::move(method);
  r.path_template = std::move(path_template);
  r.handler = std::move(handler);
  r.capability = std::move(capability);
  return add(std::move(r));
}

Match Router::match(std::string_view method, std::string_view path) const {
  Match m;
  if (path.empty() || path.front() != '/') return m;
  std::vector<std::string> decoded;
  for (std::string_view seg : split_path(path)) {
    auto d = percent_decode(seg);
    if (!d) return m;
    decoded.push_back(std::move(*d));
  }
  // Candidates are compared segment by segment: a literal beats a parameter
  // at the first position where they differ.
  auto more_specific = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
      const bool pa = is_param(a[i]), pb = is_param(b[i]);
      if (pa != pb) return !pa;
    }
    return false;
  };
  const std::vector<std::string>* best_any = nullptr;   // best path match, any method
  const std::vector<std::string>* best_same = nullptr;  // best path match with this method
  std::size_t best_same_index = 0;
  std::vector<std::string_view> allow;
  for (std::size_t r = 0; r < routes_.size(); ++r) {
    const auto& segs = segments_[r];
    if (segs.size() != decoded.size()) continue;
    bool ok = true;
    for (std::size_t i = 0; i < segs.size() && ok; ++i) {
      // A parameter (an id, a type) never matches a "$operation" segment:
      // FHIR ids cannot hold '$', and without this POST Bundle/$validate
      // would be taken for a read of Bundle/{id} (and refused 405).
      ok = is_param(segs[i]) ? !decoded[i].empty() && decoded[i].front() != '$' : segs[i] == decoded[i];
    }
    if (!ok) continue;
    if (!best_any || more_specific(segs, *best_any)) best_any = &segs;
    if (routes_[r].method == method) {
      if (!best_same || more_specific(segs, *best_same)) {
        best_same = &segs;
        best_same_index = r;
      }
    }
  }
  if (!best_any) return m;
  if (!best_same || more_specific(*best_any, *best_same)) {
    // The most specific template for this path does not take this method.
    m.kind = Match::Kind::kMethodNotAllowed;
    for (std::size_t r = 0; r < routes_.size(); ++r) {
      if (&segments_[r] != best_any && segments_[r] != *best_any) continue;
      if (std::find(allow.begin(), allow.end(), routes_[r].method) == allow.end()) {
        allow.push_back(routes_[r].method);
      }
    }
    for (std::size_t i = 0; i < allow.size(); ++i) {
      if (i) m.allow += ", ";
      m.allow += allow[i];
    }
    return m;
  }
  m.kind = Match::Kind::kFound;
  m.route = &routes_[best_same_index];
  for (std::size_t i = 0; i < best_same->size(); ++i) {
    const std::string& s = (*best_same)[i];
    if (is_param(s)) m.params.emplace_back(s.substr(1, s.size() - 2), std::move(decoded[i]));
  }
  return m;
}

std::optional<Response> apply_conventions(const Route& route, Request& request) {
  if (route.fhir_api) {
    bool plain_json = false;
    if (auto f = request.query_param("_format")) {
      const std::string t = lower(trim(*f));
      if (t == "json" || t == "application/fhir+json" || t == "application/json+fhir") {
      } else if (t == "application/json") {
        plain_json = true;
      } else {
        return Response::outcome(406, IssueType::kNotSupported,
                                 "this server answers in JSON only (_format=json)");
      }
    } else if (std::string_view accept = request.header("accept"); !accept.empty()) {
      bool acceptable = false, fhir_json = false;
      std::string_view rest = accept;
      while (true) {
        const std::size_t comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        const std::string t = media_type(item);
        if (lower(item).find("q=0") != std::string::npos &&
            lower(item).find("q=0.") == std::string::npos) {
          // "q=0" means "not acceptable"; skip it.
        } else if (t == "*/*" || t == "application/*" || t == "application/fhir+json" ||
                   t == "application/json+fhir") {
          acceptable = fhir_json = true;
        } else if (t == "application/json") {
          acceptable = true;
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      if (!acceptable) {
        return Response::outcome(406, IssueType::kNotSupported,
                                 "this server answers in application/fhir+json only");
      }
      plain_json = !fhir_json;
    }
    request.response_media_type = plain_json ? "application/json" : "application/fhir+json";

    // Prefer: return=minimal|representation|OperationOutcome, possibly among
    // other preferences ("respond-async, return=minimal").
    std::string_view prefer = request.header("prefer");
    while (!prefer.empty()) {
      const std::size_t sep = prefer.find_first_of(",;");
      const std::string_view item = trim(prefer.substr(0, sep));
      if (item.starts_with("return=")) {
        const std::string_view v = item.substr(7);
        if (v == "minimal") request.prefer = PreferReturn::kMinimal;
        else if (v == "representation") request.prefer = PreferReturn::kRepresentation;
        else if (v == "OperationOutcome") request.prefer = PreferReturn::kOperationOutcome;
      }
      if (sep == std::string_view::npos) break;
      prefer.remove_prefix(sep + 1);
    }
  }
  if (route.fhir_body) {
    const std::string t = media_type(request.header("content-type"));
    if (!is_json_type(t)) {
      return Response::outcome(415, IssueType::kNotSupported,
                               "the request body must be application/fhir+json or application/json");
    }
    if (const std::string cs = charset_of(request.header("content-type")); !cs.empty() && cs != "utf-8") {
      return Response::outcome(415, IssueType::kNotSupported, "a JSON request body must be encoded in UTF-8");
    }
    // We decode no content codings (gzip, deflate, br): such a body would
    // reach the JSON parser as compressed bytes.
    if (const std::string ce = lower(trim(request.header("content-encoding"))); !ce.empty() && ce != "identity") {
      return Response::outcome(415, IssueType::kNotSupported,
                               "content codings are not supported; send the body uncompressed");
    }
    if (request.body.empty()) {
      return Response::outcome(400, IssueType::kRequired, "the request has no body");
    }
  }
  return std::nullopt;
}

}  // namespace gw::http
