// Operations and asserts of the TestScript engine (detail/engine.hpp).
//
// An operation becomes one HttpRequest: the method from `method` or the
// operation type, the URL from `url` or from `resource` + `params` (or
// `targetId`), the body from `sourceId`. An assert checks one recorded
// exchange (the last one, or `sourceId`) and passes or fails; with
// `warningOnly` a failure is reported as a warning and does not fail the
// test.
#include "gateway/conformance/detail/engine.hpp"

#include "gateway/fhir/fhir.hpp"
#include "gateway/validation/validation.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <thread>

namespace gw::conformance::detail {

namespace {

// The default HTTP method of each operation type
// (http://terminology.hl7.org/CodeSystem/testscript-operation-codes).
std::string_view method_of(std::string_view type) {
  if (type == "read" || type == "vread" || type == "search" || type == "search-type" ||
      type == "history" || type == "history-instance" || type == "history-type" ||
      type == "capabilities") {
    return "GET";
  }
  if (type == "create" || type == "transaction" || type == "batch" || type == "validate" ||
      type == "search-system" || type == "process-message") {
    return "POST";
  }
  if (type == "update" || type == "updateCreate") return "PUT";
  if (type == "delete") return "DELETE";
  if (type == "patch") return "PATCH";
  return {};
}

std::string mime_of(std::string_view code) {
  if (code == "json") return "application/fhir+json";
  if (code == "xml" || code == "ttl" || code == "none") return {};
  return std::string(code);
}

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// Percent-encodes a query string's names and values, keeping its '=' and
// '&' and any %XX already there (encodeRequestUrl).
std::string encode_query(std::string_view q) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < q.size(); ++i) {
    const auto c = static_cast<unsigned char>(q[i]);
    if (is_unreserved(c) || c == '=' || c == '&' || c == '$' || c == ',' || c == ':') {
      out += static_cast<char>(c);
    } else if (c == '%' && i + 2 < q.size() &&
               std::isxdigit(static_cast<unsigned char>(q[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(q[i + 2]))) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Resolves an operation's url against the destination's base URL: an
// absolute URL as is, "/path" against the base's scheme and authority (as
// RFC 3986 resolves an absolute-path reference: a Location header such as
// "/fhir/Bundle/1" works as written), anything else under the base path.
std::string join_url(const std::string& base, std::string_view path) {
  if (path.empty()) return base;
  if (path.starts_with("http://") || path.starts_with("https://")) return std::string(path);
  std::string b = base;
  while (!b.empty() && b.back() == '/') b.pop_back();
  if (path.front() == '/') {
    const std::size_t scheme = b.find("://");
    const std::size_t slash =
        scheme == std::string::npos ? std::string::npos : b.find('/', scheme + 3);
    return (slash == std::string::npos ? b : b.substr(0, slash)) + std::string(path);
  }
  if (path.front() == '?') return b + std::string(path);
  return b + "/" + std::string(path);
}

// Only the path of a URL, for messages (a query string may hold an
// identifier, which is patient data).
std::string path_only(std::string_view url) {
  std::size_t scheme = url.find("://");
  std::size_t start = scheme == std::string_view::npos ? 0 : url.find('/', scheme + 3);
  if (start == std::string_view::npos) return "/";
  std::string_view rest = url.substr(start);
  std::size_t q = rest.find('?');
  return std::string(rest.substr(0, q)) + (q == std::string_view::npos ? "" : "?…");
}

std::optional<double> number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  std::string copy(s);
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  return v;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t c = s.find(',', i);
    if (c == std::string_view::npos) c = s.size();
    std::string_view part = s.substr(i, c - i);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    out.emplace_back(part);
    i = c + 1;
  }
  return out;
}

// minimumId: every member of `want` appears in `have` (objects by key,
// arrays: each wanted element matches some element of the array).
bool contains_minimum(json::Value have, json::Value want, int depth = 0) {
  if (depth > 64 || !have) return false;
  if (want.is_object()) {
    if (!have.is_object()) return false;
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (!contains_minimum(have.find(want.key(i)), want[i], depth + 1)) return false;
    }
    return true;
  }
  if (want.is_array()) {
    if (!have.is_array()) return false;
    for (json::Value w : want.items()) {
      bool found = false;
      for (json::Value h : have.items()) {
        if (contains_minimum(h, w, depth + 1)) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }
  return have.is_scalar() && have.kind() == want.kind() && have.str() == want.str();
}

int status_of_response_code(std::string_view code) {
  static const std::pair<std::string_view, int> kCodes[] = {
      {"okay", 200},     {"created", 201},   {"noContent", 204},          {"notModified", 304},
      {"bad", 400},      {"forbidden", 403}, {"notFound", 404},           {"methodNotAllowed", 405},
      {"conflict", 409}, {"gone", 410},      {"preconditionFailed", 412}, {"unprocessable", 422}};
  for (const auto& [name, status] : kCodes) {
    if (name == code) return status;
  }
  return 0;
}

std::string quote(std::string_view s) { return "'" + std::string(s.substr(0, 120)) + "'"; }

}  // namespace

Result<std::string> Runner::operation_url(json::Value op, std::string_view type,
                                          const std::string& base) {
  std::string path;
  if (json::Value url = op.find("url")) {
    path = substitute(url.str());
  } else {
    std::string resource(op.find("resource").str());
    const std::string params = substitute(op.find("params").str());
    const std::string target_id(op.find("targetId").str());
    if (resource.empty() && (type == "create" || type == "update" || type == "validate")) {
      std::string source(op.find("sourceId").str());
      if (auto body = source_body(source)) {
        if (auto doc = json::Document::parse(*body))
          resource = std::string(doc->root().find("resourceType").str());
      }
    }
    if (type == "capabilities") {
      path = "metadata";
    } else if (type == "transaction" || type == "batch" || type == "search-system" ||
               type == "process-message") {
      path = type == "process-message" ? "$process-message" : "";
    } else if (type == "validate") {
      path = (resource.empty() ? "" : resource + "/") + "$validate";
    } else {
      path = resource;
    }
    if (!params.empty()) {
      path += params.front() == '/' || params.front() == '?' ? params : "/" + params;
    } else if (!target_id.empty()) {
      std::optional<std::string> body = source_body(target_id);
      if (!body)
        return fail(ErrorCode::kNotFound,
                    "targetId '" + target_id + "' names no fixture or response");
      auto doc = json::Document::parse(*body);
      if (!doc || !doc->root().find("id").is_string()) {
        return fail(ErrorCode::kInvalidArgument, "targetId '" + target_id + "' has no resource id");
      }
      if (resource.empty()) resource = std::string(doc->root().find("resourceType").str());
      path = resource + "/" + std::string(doc->root().find("id").str());
    } else if (type == "update" || type == "delete" || type == "read" || type == "vread") {
      return fail(ErrorCode::kInvalidArgument,
                  "a " + std::string(type) + " needs url, params or targetId");
    }
  }
  std::string url = join_url(base, path);
  const json::Value encode = op.find("encodeRequestUrl");
  if ((!encode || encode.boolean()) && url.find('?') != std::string::npos) {
    const std::size_t q = url.find('?');
    url = url.substr(0, q + 1) + encode_query(std::string_view(url).substr(q + 1));
  }
  return url;
}

void Runner::run_operation(json::Value op, ActionResult& r) {
  r.is_operation = true;
  check_keys(op, "operation",
             {"type", "resource", "label", "description", "accept", "contentType", "destination",
              "encodeRequestUrl", "method", "origin", "params", "requestHeader", "requestId",
              "responseId", "sourceId", "targetId", "url"});
  const std::string type(op.find("type").find("code").str());
  const std::string type_system(op.find("type").find("system").str());
  if (!type_system.empty() &&
      type_system != "http://terminology.hl7.org/CodeSystem/testscript-operation-codes") {
    r.result = Outcome::kError;
    r.message = "operation type system not supported";
    return;
  }
  std::string method(op.find("method").str());
  for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (method.empty()) method = std::string(method_of(type));
  if (method.empty()) {
    r.result = Outcome::kError;
    r.message = type.empty() ? "an operation needs a type or a method"
                             : "operation type '" + type + "' is not supported";
    return;
  }

  HttpRequest req;
  req.method = method;
  if (json::Value o = op.find("origin")) {
    auto n = number(o.str());
    req.origin = n ? static_cast<int>(*n) : 1;
  }
  std::string base = options_.base_url;
  if (json::Value d = op.find("destination")) {
    auto n = number(d.str());
    auto it = n ? options_.destinations.find(static_cast<int>(*n)) : options_.destinations.end();
    if (n && *n != 1 && it == options_.destinations.end()) {
      r.result = Outcome::kError;
      r.message = "destination " + std::string(d.str()) + " has no base URL (--destination N=URL)";
      return;
    }
    if (it != options_.destinations.end()) base = it->second;
  }
  auto url = operation_url(op, type, base);
  if (!url) {
    r.result = Outcome::kError;
    r.message = url.error().message();
    return;
  }
  req.url = *url;

  const std::string accept = mime_of(op.find("accept") ? op.find("accept").str() : "json");
  if (accept.empty()) {
    r.result = Outcome::kError;
    r.message = "only JSON is supported (accept)";
    return;
  }
  req.headers.emplace_back("Accept", accept);
  const std::string source(op.find("sourceId").str());
  if (!source.empty()) {
    std::optional<std::string> body = source_body(source);
    if (!body) {
      r.result = Outcome::kError;
      r.message = "sourceId '" + source + "' names no fixture or response";
      return;
    }
    req.body = std::move(*body);
    const std::string ct = mime_of(op.find("contentType") ? op.find("contentType").str() : "json");
    if (ct.empty()) {
      r.result = Outcome::kError;
      r.message = "only JSON is supported (contentType)";
      return;
    }
    req.headers.emplace_back("Content-Type", ct);
  }
  for (json::Value h : op.find("requestHeader").items()) {
    check_keys(h, "operation.requestHeader", {"field", "value"});
    std::string field(h.find("field").str());
    std::string value = substitute(h.find("value").str());
    std::erase_if(req.headers, [&](const auto& kv) {
      return kv.first.size() == field.size() &&
             std::equal(field.begin(), field.end(), kv.first.begin(),
                        [](char a, char b) { return std::tolower(a) == std::tolower(b); });
    });
    req.headers.emplace_back(std::move(field), std::move(value));
  }

  // The repeat extension: the same request again until `until` holds.
  std::string until;
  int interval_ms = 100, attempts = 1;
  for (json::Value ext : op.find("extension").items()) {
    if (ext.find("url").str() != kRepeatExtension) continue;
    attempts = 50;
    for (json::Value sub : ext.find("extension").items()) {
      const std::string_view name = sub.find("url").str();
      if (name == "until") {
        until = substitute(sub.find("valueString").str());
      } else if (name == "intervalMs" || name == "maxAttempts") {
        auto n = number(sub.find("valueInteger").str());
        if (!n || *n < 1 || *n > 600) {
          error("repeat extension: " + std::string(name) + " must be an integer from 1 to 600");
          continue;
        }
        (name == "intervalMs" ? interval_ms : attempts) = static_cast<int>(*n);
      } else {
        error("repeat extension: unknown part '" + std::string(name) + "'");
      }
    }
    if (until.empty()) error("repeat extension: 'until' (a FHIRPath expression) is required");
  }
  auto res = transport_.send(req);
  int attempt = 1;
  bool satisfied = until.empty();
  while (!satisfied && res) {
    auto items = evaluate(res->body, until);
    satisfied = items && items->size() == 1 && item_text((*items)[0]) == "true";
    if (satisfied || attempt >= attempts) break;
    if (options_.sleep) {
      options_.sleep(std::chrono::milliseconds(interval_ms));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    }
    res = transport_.send(req);
    ++attempt;
  }
  const std::string what = req.method + " " + path_only(req.url);
  Exchange ex;
  ex.request = req;
  if (!res) {
    r.result = Outcome::kError;
    r.message = what + ": no response (" + res.error().message() + ")";
  } else {
    ex.response = std::move(*res);
    r.result = Outcome::kPass;
    r.message = what + " -> " + std::to_string(ex.response.status);
    if (!until.empty()) {
      r.message += " (" + std::to_string(attempt) + " attempt(s))";
      if (!satisfied) {
        r.result = Outcome::kFail;
        r.message += ": " + quote(until) + " never became true";
      }
    }
  }
  const std::string response_id(op.find("responseId").str());
  const std::string request_id(op.find("requestId").str());
  if (!response_id.empty()) exchanges_[response_id] = ex;
  if (!request_id.empty() && request_id != response_id) exchanges_[request_id] = ex;
  last_storage_ = std::move(ex);
  last_ = &last_storage_;
}

bool Runner::compare(std::string_view op, const std::vector<std::string>& actual,
                     const std::string& expected, std::string& why) {
  const std::string got = actual.empty()       ? std::string()
                          : actual.size() == 1 ? actual[0]
                                               : [&] {
                                                   std::string j;
                                                   for (const auto& a : actual)
                                                     j += (j.empty() ? "" : ",") + a;
                                                   return j;
                                                 }();
  const std::string shape = std::to_string(actual.size()) + " item(s)";
  if (op.empty() || op == "equals") {
    why = "expected to equal " + quote(expected) + ", got " + shape + " that do not";
    return actual.size() >= 1 && got == expected;
  }
  if (op == "notEquals") {
    why = "expected not to equal " + quote(expected);
    return got != expected;
  }
  if (op == "in" || op == "notIn") {
    const auto list = split_list(expected);
    const bool in = actual.size() == 1 && std::find(list.begin(), list.end(), got) != list.end();
    why = std::string("expected ") + (op == "in" ? "one of " : "none of ") + quote(expected) +
          ", got " + shape;
    return op == "in" ? in : !in;
  }
  if (op == "greaterThan" || op == "lessThan") {
    why = "expected " + std::string(op) + " " + quote(expected) + ", got " + shape;
    if (actual.size() != 1) return false;
    auto a = number(got), e = number(expected);
    if (a && e) return op == "greaterThan" ? *a > *e : *a < *e;
    return op == "greaterThan" ? got > expected : got < expected;
  }
  if (op == "empty") {
    why = "expected nothing, got " + shape;
    return actual.empty() || (actual.size() == 1 && actual[0].empty());
  }
  if (op == "notEmpty") {
    why = "expected something, got nothing";
    return !actual.empty() && !(actual.size() == 1 && actual[0].empty());
  }
  if (op == "contains" || op == "notContains") {
    std::size_t hits = 0;
    for (const auto& a : actual) hits += a.find(expected) != std::string::npos ? 1 : 0;
    if (op == "contains") {
      why = "expected " + quote(expected) + " in the result (" + shape + "), not found";
      return hits > 0;
    }
    why = "found " + quote(expected) + " in " + std::to_string(hits) + " of " + shape;
    return hits == 0;
  }
  why = "operator '" + std::string(op) + "' is not supported";
  error(why);
  return false;
}

void Runner::run_assert(json::Value as, ActionResult& r) {
  check_keys(as, "assert",
             {"label",
              "description",
              "direction",
              "compareToSourceId",
              "compareToSourceExpression",
              "compareToSourcePath",
              "contentType",
              "expression",
              "headerField",
              "minimumId",
              "navigationLinks",
              "operator",
              "path",
              "requestMethod",
              "requestURL",
              "resource",
              "response",
              "responseCode",
              "sourceId",
              "validateProfileId",
              "value",
              "warningOnly"});
  for (std::string_view unsupported : {"path", "compareToSourcePath", "navigationLinks"}) {
    if (as.find(unsupported))
      error("assert." + std::string(unsupported) + " is not supported (use expression)");
  }
  const std::string direction(as.find("direction").str());
  const bool on_request = direction == "request";
  if (!direction.empty() && direction != "request" && direction != "response")
    error("assert.direction: unknown value");
  const std::string op(as.find("operator").str());
  const bool has_value = static_cast<bool>(as.find("value"));
  const std::string value = substitute(as.find("value").str());
  const std::string source(as.find("sourceId").str());

  const Exchange* ex = source.empty() ? last_ : find_exchange(source);
  const bool source_is_fixture = !source.empty() && fixtures_.count(source) > 0;
  std::vector<std::string> failures;
  int checks = 0;
  auto need_exchange = [&]() -> bool {
    if (ex) return true;
    if (source_is_fixture) {
      error("this assert needs a response; sourceId names a fixture");
    } else {
      error(source.empty() ? "no operation ran before this assert"
                           : "sourceId '" + source + "' names no response");
    }
    return false;
  };

  if (json::Value code = as.find("response")) {
    ++checks;
    const int want = status_of_response_code(code.str());
    if (!want) {
      error("assert.response: unknown code");
    } else if (need_exchange() && ex->response.status != want) {
      failures.push_back("expected HTTP " + std::to_string(want) + " (" + std::string(code.str()) +
                         "), got " + std::to_string(ex->response.status));
    }
  }
  if (json::Value code = as.find("responseCode")) {
    ++checks;
    if (need_exchange()) {
      std::string why;
      if (!compare(op.empty() ? "equals" : op, {std::to_string(ex->response.status)},
                   substitute(code.str()), why)) {
        failures.push_back("HTTP status " + std::to_string(ex->response.status) + ": " + why);
      }
    }
  }
  if (json::Value ct = as.find("contentType")) {
    ++checks;
    if (need_exchange()) {
      std::string have =
          on_request ? ex->request.header("Content-Type") : ex->response.header("Content-Type");
      have = have.substr(0, have.find(';'));
      const std::string want(ct.str());
      const bool ok = want == "json"  ? have.find("json") != std::string::npos
                      : want == "xml" ? have.find("xml") != std::string::npos
                                      : have == want;
      if (!ok) failures.push_back("expected content type " + quote(want) + ", got " + quote(have));
    }
  }
  if (json::Value res = as.find("resource")) {
    ++checks;
    std::optional<std::string> body =
        on_request && ex ? std::optional<std::string>(ex->request.body) : source_body(source);
    std::string type;
    if (body) {
      if (auto doc = json::Document::parse(*body))
        type = std::string(doc->root().find("resourceType").str());
    }
    if (type != res.str())
      failures.push_back("expected a " + std::string(res.str()) +
                         (type.empty() ? ", got no resource" : ", got a " + type));
  }
  if (json::Value hf = as.find("headerField")) {
    ++checks;
    if (need_exchange()) {
      const std::string h =
          on_request ? ex->request.header(hf.str()) : ex->response.header(hf.str());
      std::string why;
      std::vector<std::string> got;
      if (!h.empty()) got.push_back(h);
      const std::string hop = op.empty() ? (has_value ? "equals" : "notEmpty") : op;
      if (!compare(hop, got, value, why))
        failures.push_back("header " + std::string(hf.str()) + ": " + why);
    }
  }
  if (json::Value m = as.find("requestMethod")) {
    ++checks;
    if (need_exchange() && ex->request.method != m.str()) {
      std::string want(m.str());
      for (char& c : want) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (ex->request.method != want)
        failures.push_back("expected request method " + want + ", got " + ex->request.method);
    }
  }
  if (json::Value u = as.find("requestURL")) {
    ++checks;
    if (need_exchange()) {
      const std::string want = substitute(u.str());
      const std::string& url = ex->request.url;
      const bool ok = url == want || (url.size() > want.size() && url.ends_with(want));
      if (op == "notEquals" ? ok : !ok)
        failures.push_back("request URL does not match " + quote(path_only(want)));
    }
  }
  if (json::Value min = as.find("minimumId")) {
    ++checks;
    auto fx = fixtures_.find(std::string(min.str()));
    std::optional<std::string> body = source_body(source);
    if (fx == fixtures_.end()) {
      error("assert.minimumId '" + std::string(min.str()) + "' names no fixture");
    } else if (!body) {
      error("assert.minimumId: no response to compare");
    } else {
      auto want = json::Document::parse(substitute(fx->second));
      auto have = json::Document::parse(*body);
      if (!have || !want || !contains_minimum(have->root(), want->root())) {
        failures.push_back("the response does not contain the minimum content of fixture '" +
                           std::string(min.str()) + "'");
      }
    }
  }
  if (json::Value pid = as.find("validateProfileId")) {
    ++checks;
    auto canonical = profiles_.find(std::string(pid.str()));
    std::optional<std::string> body = source_body(source);
    if (canonical == profiles_.end()) {
      error("assert.validateProfileId '" + std::string(pid.str()) +
            "' names no TestScript.profile");
    } else if (!defs_.validator) {
      error("assert.validateProfileId: no validator loaded");
    } else if (!body) {
      error("assert.validateProfileId: nothing to validate");
    } else if (auto doc = json::Document::parse(*body); !doc) {
      failures.push_back("the resource to validate is not JSON");
    } else {
      validation::ValidateOptions vo;
      vo.profiles.push_back(canonical->second);
      auto issues = defs_.validator->validate(doc->root(), vo);
      if (!issues) {
        error("assert.validateProfileId: " + issues.error().message());
      } else if (validation::has_errors(*issues)) {
        std::string first;
        for (const auto& i : *issues) {
          if (i.severity == fhir::Issue::Severity::kError ||
              i.severity == fhir::Issue::Severity::kFatal) {
            first = i.expression + ": " + i.diagnostics.substr(0, 200);
            break;
          }
        }
        failures.push_back("does not conform to " + canonical->second + " (" +
                           std::to_string(validation::count_errors(*issues)) +
                           " error(s); first: " + first + ")");
      }
    }
  }
  if (json::Value e = as.find("expression")) {
    ++checks;
    std::optional<std::string> body =
        on_request ? (ex ? std::optional<std::string>(ex->request.body) : std::nullopt)
                   : source_body(source);
    const std::string expr = substitute(e.str());
    if (!body) {
      error(source.empty() ? "assert.expression: no response to evaluate"
                           : "assert.expression: sourceId '" + source + "' names nothing");
    } else if (auto items = evaluate(*body, expr); !items) {
      error("assert.expression: " + items.error().message());
    } else {
      std::vector<std::string> got;
      for (const auto& it : *items) got.push_back(item_text(it));
      const std::string cmp_source(as.find("compareToSourceId").str());
      const std::string cmp_expr(as.find("compareToSourceExpression").str());
      std::string why;
      if (!cmp_source.empty() || !cmp_expr.empty()) {
        std::optional<std::string> other = source_body(cmp_source);
        if (cmp_source.empty() || cmp_expr.empty()) {
          error("assert: compareToSourceId and compareToSourceExpression go together");
        } else if (!other) {
          error("assert.compareToSourceId '" + cmp_source + "' names nothing");
        } else if (auto want = evaluate(*other, substitute(cmp_expr)); !want) {
          error("assert.compareToSourceExpression: " + want.error().message());
        } else {
          std::string expected;
          for (const auto& it : *want) expected += (expected.empty() ? "" : ",") + item_text(it);
          if (!compare(op.empty() ? "equals" : op, got, expected, why)) {
            failures.push_back("compared with " + cmp_source +
                               ": expected the same value, got a different one");
          }
        }
      } else if (op == "eval" || (op.empty() && !has_value)) {
        if (got.size() != 1 || got[0] != "true") {
          failures.push_back("expression " + quote(expr) + " is not true (" +
                             std::to_string(got.size()) + " item(s))");
        }
      } else if (!compare(op.empty() ? "equals" : op, got, value, why)) {
        failures.push_back("expression " + quote(expr) + ": " + why);
      }
    }
  }
  if (checks == 0) error("an assert needs something to check");

  if (failures.empty()) {
    r.result = Outcome::kPass;
    r.message = "ok";
    return;
  }
  std::string msg;
  for (const auto& f : failures) msg += (msg.empty() ? "" : "; ") + f;
  r.message = std::move(msg);
  r.result = as.find("warningOnly").boolean() ? Outcome::kWarning : Outcome::kFail;
}

}  // namespace gw::conformance::detail
