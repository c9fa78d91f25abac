// The Runner: one TestScript run's state (fixtures, variables, recorded
// exchanges). Private to gw::conformance; engine.cpp reads the script and
// sequences the actions, actions.cpp performs operations and asserts.
#pragma once

#include "gateway/conformance/conformance.hpp"
#include "gateway/fhirpath/fhirpath.hpp"
#include "gateway/json/json.hpp"

#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace gw::conformance::detail {

struct Variable {
  std::string name, default_value, expression, header_field, source_id;
};

/// One operation's request and response.
struct Exchange {
  HttpRequest request;
  HttpResponse response;
};

class Runner {
 public:
  Runner(std::string dir, Transport& transport, const Definitions& defs, const RunOptions& options)
      : dir_(std::move(dir)), transport_(transport), defs_(defs), options_(options) {
    report_.target = options.base_url;
    report_.issued = options.issued;
  }

  /// Parses the script and its fixtures; script problems go to the report.
  /// Errors: kParse when the text is not a TestScript at all.
  Status load(std::string text);
  void run();
  ScriptReport take_report() { return std::move(report_); }

  // actions.cpp
  void run_operation(json::Value op, ActionResult& r);
  void run_assert(json::Value as, ActionResult& r);

 private:
  void check_keys(json::Value obj, const std::string& where,
                  std::initializer_list<std::string_view> allowed);
  void error(std::string message);
  void load_fixture(json::Value f);
  std::string variable_value(const Variable& v);
  std::string substitute(std::string_view text);
  const Exchange* find_exchange(const std::string& id) const;
  /// The body named by `id` (a fixture, with variables substituted, or a
  /// recorded response); "" id = the last response.
  std::optional<std::string> source_body(const std::string& id);
  /// Evaluates on a JSON resource; node results are rendered as text.
  Result<fhirpath::Collection> evaluate(const std::string& body, const std::string& expression);
  static std::string item_text(const fhirpath::Item& item);
  ActionResult describe(json::Value action);
  ActionResult run_action(json::Value action, const std::string& where);

  // actions.cpp helpers
  Result<std::string> operation_url(json::Value op, std::string_view type, const std::string& base);
  bool compare(std::string_view op, const std::vector<std::string>& actual,
               const std::string& expected, std::string& why);

  std::string dir_;
  Transport& transport_;
  const Definitions& defs_;
  const RunOptions& options_;
  ScriptReport report_;
  std::shared_ptr<json::Document> script_;
  std::map<std::string, std::string> fixtures_;  // id -> JSON text
  std::map<std::string, std::string> profiles_;  // id -> canonical
  std::vector<Variable> variables_;
  std::map<std::string, Exchange> exchanges_;  // responseId / requestId -> exchange
  Exchange last_storage_;
  const Exchange* last_ = nullptr;
};

}  // namespace gw::conformance::detail
