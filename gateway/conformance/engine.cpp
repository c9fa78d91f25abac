// The TestScript engine: reads a script, runs setup, tests and teardown,
// and records one ActionResult per action.
//
// Why the engine checks every key of the script against a list: a
// conformance kit that silently skips an element it does not understand
// reports "pass" for a check it never made. Each TestScript element the
// engine does not implement is therefore an `error` of the run.
//
// Messages never quote response bodies (they may hold patient data): an
// assert says what it expected (the script's own value) and the shape of
// what it got (a status code, a header, a number of items).
#include "gateway/conformance/detail/engine.hpp"
#include "gateway/conformance/conformance.hpp"

#include "gateway/fhir/fhir.hpp"
#include "gateway/fhirpath/fhirpath.hpp"
#include "gateway/json/json.hpp"
#include "gateway/validation/validation.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace gw::conformance {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

}  // namespace

std::string HttpRequest::header(std::string_view name) const { return find_header(headers, name); }
std::string HttpResponse::header(std::string_view name) const { return find_header(headers, name); }

std::string_view to_string(Outcome o) noexcept {
  switch (o) {
    case Outcome::kPass:
      return "pass";
    case Outcome::kSkip:
      return "skip";
    case Outcome::kFail:
      return "fail";
    case Outcome::kWarning:
      return "warning";
    case Outcome::kError:
      return "error";
  }
  return "error";
}

Outcome TestResult::result() const {
  bool failed = false, skipped = !actions.empty();
  for (const ActionResult& a : actions) {
    if (a.result == Outcome::kError) return Outcome::kError;
    if (a.result == Outcome::kFail) failed = true;
    if (a.result != Outcome::kSkip) skipped = false;
  }
  if (failed) return Outcome::kFail;
  return skipped ? Outcome::kSkip : Outcome::kPass;
}

Outcome ScriptReport::result() const {
  Outcome worst = errors.empty() ? Outcome::kPass : Outcome::kError;
  auto merge = [&](Outcome o) {
    if (o == Outcome::kError) worst = Outcome::kError;
    if ((o == Outcome::kFail || o == Outcome::kSkip) && worst == Outcome::kPass)
      worst = Outcome::kFail;
  };
  for (const ActionResult& a : setup) merge(a.result);
  for (const TestResult& t : tests) merge(t.result());
  for (const ActionResult& a : teardown) merge(a.result);
  return worst;
}

std::size_t ScriptReport::passed() const {
  return static_cast<std::size_t>(
      std::count_if(tests.begin(), tests.end(),
                    [](const TestResult& t) { return t.result() == Outcome::kPass; }));
}
std::size_t ScriptReport::failed() const { return tests.size() - passed(); }

double ScriptReport::score() const {
  std::size_t asserts = 0, good = 0;
  auto add = [&](const ActionResult& a) {
    if (a.is_operation || a.result == Outcome::kSkip) return;
    ++asserts;
    if (a.result == Outcome::kPass || a.result == Outcome::kWarning) ++good;
  };
  for (const ActionResult& a : setup) add(a);
  for (const TestResult& t : tests)
    for (const ActionResult& a : t.actions) add(a);
  if (asserts == 0) return result() == Outcome::kPass ? 100.0 : 0.0;
  return 100.0 * static_cast<double>(good) / static_cast<double>(asserts);
}

namespace detail {

// --- script reading ---------------------------------------------------------

void Runner::check_keys(json::Value obj, const std::string& where,
                        std::initializer_list<std::string_view> allowed) {
  if (!obj.is_object()) {
    error(where + ": expected an object");
    return;
  }
  for (std::size_t i = 0; i < obj.size(); ++i) {
    std::string_view k = obj.key(i);
    if (k == "id" || k == "extension" || k == "fhir_comments") continue;
    if (k == "modifierExtension") {
      error(where + ".modifierExtension: modifier extensions are not supported");
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      error(where + "." + std::string(k) + ": element not supported by this engine");
    }
  }
}

void Runner::error(std::string message) { report_.errors.push_back(std::move(message)); }

Status Runner::load(std::string text) {
  auto doc = json::Document::parse(std::move(text));
  if (!doc) return doc.error();
  script_ = std::make_shared<json::Document>(std::move(*doc));
  json::Value root = script_->root();
  if (!root.is_object() || root.find("resourceType").str() != "TestScript") {
    return fail(ErrorCode::kParse, "not a TestScript resource");
  }
  check_keys(
      root, "TestScript",
      {"resourceType", "meta",       "implicitRules", "language", "text",        "contained",
       "url",          "identifier", "version",       "name",     "title",       "status",
       "experimental", "date",       "publisher",     "contact",  "description", "useContext",
       "jurisdiction", "purpose",    "copyright",     "origin",   "destination", "metadata",
       "fixture",      "profile",    "variable",      "setup",    "test",        "teardown"});
  report_.script_id = std::string(root.find("id").str());
  report_.script_url = std::string(root.find("url").str());
  report_.name = std::string(root.find("name").str());
  report_.title = std::string(root.find("title").str());
  if (report_.name.empty()) report_.name = report_.title;

  for (json::Value o : root.find("origin").items()) {
    check_keys(o, "TestScript.origin", {"index", "profile"});
  }
  for (json::Value d : root.find("destination").items()) {
    check_keys(d, "TestScript.destination", {"index", "profile"});
  }
  for (json::Value p : root.find("profile").items()) {
    check_keys(p, "TestScript.profile", {"reference", "display", "type", "identifier"});
    std::string id(p.find("id").str());
    std::string ref(p.find("reference").str());
    if (id.empty() || ref.empty()) {
      error("TestScript.profile: each profile needs an id and a reference (canonical URL)");
      continue;
    }
    profiles_[id] = ref;
  }
  for (json::Value f : root.find("fixture").items()) load_fixture(f);
  for (json::Value v : root.find("variable").items()) {
    check_keys(v, "TestScript.variable",
               {"name", "defaultValue", "description", "expression", "headerField", "hint", "path",
                "sourceId"});
    Variable var;
    var.name = std::string(v.find("name").str());
    var.default_value = std::string(v.find("defaultValue").str());
    var.expression = std::string(v.find("expression").str());
    var.header_field = std::string(v.find("headerField").str());
    var.source_id = std::string(v.find("sourceId").str());
    if (var.name.empty()) {
      error("TestScript.variable: a variable needs a name");
      continue;
    }
    if (v.find("path"))
      error("TestScript.variable '" + var.name +
            "': path (XPath/JSONPath) is not supported; use expression");
    if (!var.expression.empty() && !var.header_field.empty()) {
      error("TestScript.variable '" + var.name +
            "': expression and headerField are mutually exclusive");
    }
    variables_.push_back(std::move(var));
  }
  return {};
}

void Runner::load_fixture(json::Value f) {
  check_keys(f, "TestScript.fixture", {"autocreate", "autodelete", "resource"});
  std::string id(f.find("id").str());
  if (id.empty()) {
    error("TestScript.fixture: a fixture needs an id");
    return;
  }
  if (f.find("autocreate").boolean() || f.find("autodelete").boolean()) {
    error("TestScript.fixture '" + id +
          "': autocreate/autodelete are not supported (use setup and teardown operations)");
  }
  std::string ref(f.find("resource").find("reference").str());
  if (ref.empty()) {
    error("TestScript.fixture '" + id + "': resource.reference is required");
    return;
  }
  std::string text;
  if (ref.starts_with("#")) {
    for (json::Value c : script_->root().find("contained").items()) {
      if (c.find("id").str() == ref.substr(1)) {
        json::Writer w;
        w.value(c);
        text = std::move(w).take();
      }
    }
    if (text.empty()) {
      error("TestScript.fixture '" + id + "': no contained resource " + ref);
      return;
    }
  } else {
    if (ref.find("://") != std::string::npos || ref.starts_with("/") ||
        ref.find("..") != std::string::npos) {
      error("TestScript.fixture '" + id + "': only files beside the script are supported");
      return;
    }
    std::ifstream in(std::filesystem::path(dir_) / ref, std::ios::binary);
    if (!in) {
      error("TestScript.fixture '" + id + "': cannot read " + ref);
      return;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
    if (!json::Document::parse(text)) {
      error("TestScript.fixture '" + id + "': " + ref + " is not JSON");
      return;
    }
  }
  fixtures_[id] = std::move(text);
}

// --- variables ----------------------------------------------------------------

std::string Runner::variable_value(const Variable& v) {
  if (!v.header_field.empty()) {
    const Exchange* ex = v.source_id.empty() ? last_ : find_exchange(v.source_id);
    if (ex) {
      std::string h = ex->response.header(v.header_field);
      if (!h.empty()) return h;
    }
    return v.default_value;
  }
  if (!v.expression.empty()) {
    std::optional<std::string> body = source_body(v.source_id);
    if (body) {
      auto items = evaluate(*body, substitute(v.expression));
      if (items && !items->empty()) return item_text((*items)[0]);
      if (!items) error("variable '" + v.name + "': " + items.error().message());
    }
    return v.default_value;
  }
  return v.default_value;
}

std::string Runner::substitute(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t at = text.find("${", i);
    if (at == std::string_view::npos) break;
    std::size_t end = text.find('}', at);
    if (end == std::string_view::npos) break;
    out.append(text.substr(i, at - i));
    std::string_view name = text.substr(at + 2, end - at - 2);
    auto v = std::find_if(variables_.begin(), variables_.end(),
                          [&](const Variable& x) { return x.name == name; });
    if (v == variables_.end()) {
      error("unknown variable ${" + std::string(name) + "}");
      out.append(text.substr(at, end + 1 - at));
    } else {
      out += variable_value(*v);
    }
    i = end + 1;
  }
  out.append(text.substr(i));
  return out;
}

// --- sources ------------------------------------------------------------------

const Exchange* Runner::find_exchange(const std::string& id) const {
  auto it = exchanges_.find(id);
  return it == exchanges_.end() ? nullptr : &it->second;
}

std::optional<std::string> Runner::source_body(const std::string& id) {
  if (id.empty()) {
    if (!last_) return std::nullopt;
    return last_->response.body;
  }
  if (auto it = fixtures_.find(id); it != fixtures_.end()) return substitute(it->second);
  if (const Exchange* ex = find_exchange(id)) return ex->response.body;
  return std::nullopt;
}

Result<fhirpath::Collection> Runner::evaluate(const std::string& body,
                                              const std::string& expression) {
  if (!defs_.model) return fail(ErrorCode::kInvalidArgument, "no FHIR model loaded for FHIRPath");
  auto doc = json::Document::parse(body);
  if (!doc) return fail(ErrorCode::kParse, "the source is not JSON");
  auto node = defs_.model->resource(doc->root());
  if (!node) return fail(ErrorCode::kParse, "the source is not a FHIR resource");
  fhirpath::CompileOptions copt;
  copt.model = defs_.model;
  auto expr = fhirpath::Expression::compile(expression, copt);
  if (!expr)
    return fail(ErrorCode::kInvalidArgument,
                "expression does not compile: " + expr.error().to_string());
  fhirpath::EvaluationContext ctx;
  ctx.model = defs_.model.get();
  if (node->type && node->type->name == "Bundle") ctx.bundle = *node;
  auto items = expr->evaluate(*node, ctx);
  if (!items)
    return fail(ErrorCode::kInvalidArgument, "expression failed: " + items.error().message());
  // The document must outlive nothing: item_text() renders nodes now, so
  // convert node items to their text before the document goes away.
  fhirpath::Collection out;
  out.reserve(items->size());
  for (const fhirpath::Item& it : *items) out.push_back(fhirpath::Item::string(item_text(it)));
  return out;
}

std::string Runner::item_text(const fhirpath::Item& item) {
  if (item.is_node()) {
    const fhir::Node& n = item.node();
    if (n.value && n.value.is_scalar()) return std::string(n.value.str());
    std::string s = fhirpath::to_json({item});
    if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
    return s;
  }
  switch (item.kind()) {
    case fhirpath::ItemKind::kString:
      return item.string();
    case fhirpath::ItemKind::kBoolean:
      return item.boolean() ? "true" : "false";
    case fhirpath::ItemKind::kInteger:
      return std::to_string(item.integer());
    default: {
      std::string s = item.to_string();
      if (s.starts_with("@")) s.erase(0, 1);
      return s;
    }
  }
}

// --- running ------------------------------------------------------------------

void Runner::run() {
  json::Value root = script_->root();
  bool setup_ok = report_.errors.empty();
  if (json::Value setup = root.find("setup")) {
    check_keys(setup, "TestScript.setup", {"action"});
    for (json::Value a : setup.find("action").items()) {
      ActionResult r = run_action(a, "TestScript.setup.action");
      if (r.result == Outcome::kFail || r.result == Outcome::kError) setup_ok = false;
      report_.setup.push_back(std::move(r));
    }
  }
  setup_ok = setup_ok && report_.errors.empty();
  std::size_t index = 0;
  for (json::Value t : root.find("test").items()) {
    ++index;
    check_keys(t, "TestScript.test", {"name", "description", "action"});
    TestResult tr;
    tr.name = std::string(t.find("name").str());
    if (tr.name.empty()) tr.name = "test " + std::to_string(index);
    tr.description = std::string(t.find("description").str());
    for (json::Value a : t.find("action").items()) {
      if (!setup_ok) {
        ActionResult skipped = describe(a);
        skipped.result = Outcome::kSkip;
        skipped.message = "skipped: the setup failed";
        tr.actions.push_back(std::move(skipped));
        continue;
      }
      tr.actions.push_back(run_action(a, "TestScript.test.action"));
    }
    if (tr.actions.empty())
      tr.actions.push_back({false, "test", Outcome::kError, "a test needs at least one action"});
    report_.tests.push_back(std::move(tr));
  }
  if (json::Value teardown = root.find("teardown")) {
    check_keys(teardown, "TestScript.teardown", {"action"});
    for (json::Value a : teardown.find("action").items()) {
      check_keys(a, "TestScript.teardown.action", {"operation"});
      if (!a.find("operation")) continue;
      report_.teardown.push_back(run_action(a, "TestScript.teardown.action"));
    }
  }
}

ActionResult Runner::describe(json::Value action) {
  ActionResult r;
  json::Value op = action.find("operation");
  json::Value as = action.find("assert");
  r.is_operation = static_cast<bool>(op);
  json::Value v = op ? op : as;
  r.label = std::string(v.find("label").str());
  if (r.label.empty()) r.label = std::string(v.find("description").str());
  if (r.label.empty()) r.label = op ? "operation" : "assert";
  return r;
}

ActionResult Runner::run_action(json::Value action, const std::string& where) {
  check_keys(action, where, {"operation", "assert"});
  ActionResult r = describe(action);
  json::Value op = action.find("operation");
  json::Value as = action.find("assert");
  if (static_cast<bool>(op) == static_cast<bool>(as)) {
    r.result = Outcome::kError;
    r.message = "an action holds exactly one operation or assert";
    return r;
  }
  const std::size_t errors_before = report_.errors.size();
  if (op) {
    run_operation(op, r);
  } else {
    run_assert(as, r);
  }
  // Problems met while running this action (an unknown variable, an
  // unsupported element) belong to it.
  if (report_.errors.size() > errors_before) {
    std::string msg;
    for (std::size_t i = errors_before; i < report_.errors.size(); ++i) {
      if (!msg.empty()) msg += "; ";
      msg += report_.errors[i];
    }
    report_.errors.resize(errors_before);
    r.result = Outcome::kError;
    r.message = r.message.empty() ? msg : r.message + "; " + msg;
  }
  return r;
}

}  // namespace detail

Result<ScriptReport> run_script_text(std::string json, const std::string& dir, Transport& transport,
                                     const Definitions& defs, const RunOptions& options) {
  detail::Runner runner(dir, transport, defs, options);
  GW_CHECK_OK(runner.load(std::move(json)));
  runner.run();
  return runner.take_report();
}

Result<ScriptReport> run_script(const std::string& path, Transport& transport,
                                const Definitions& defs, const RunOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::kIo, "cannot read the TestScript", path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = run_script_text(ss.str(), std::filesystem::path(path).parent_path().string(), transport,
                           defs, options);
  if (!r) return r.error().with_context(path);
  r->file = path;
  if (r->name.empty()) r->name = std::filesystem::path(path).stem().string();
  return r;
}

}  // namespace gw::conformance
