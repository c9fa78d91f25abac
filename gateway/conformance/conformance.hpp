// gw::conformance — the conformance kit's engine: runs FHIR R4 TestScript
// resources against a FHIR server (or a clinic's receiving endpoint) and
// reports the outcome as a FHIR TestReport, a one-page HTML report and a
// console summary, as `inferno execute` and HL7's TestScript engines do.
//
// Shape of the module:
//
//   TestScript JSON + fixtures --run_script--> ScriptReport
//        (setup, tests, teardown; operations go through a Transport,
//         asserts read the recorded requests and responses)
//   ScriptReport --test_report_json / html_report / console_summary--> text
//
// The engine speaks no HTTP itself: operations become HttpRequest values
// handed to a Transport (an interface this module owns). The app implements
// it with the forward module's Beast HTTPS client (mutual TLS, bearer
// token); the unit tests with a fake. FHIRPath assertions use gw::fhirpath
// on the element model, `validateProfileId` the validator and the loaded
// packages (R4 core, IPS, migrantcare.fhir.gateway).
//
// What is supported (everything else is reported, never skipped silently):
//   * fixture: resource.reference to a JSON file beside the script (or a
//     contained resource "#id"); autocreate and autodelete must be false.
//   * profile: id + reference (a canonical the validator knows).
//   * variable: defaultValue, expression (FHIRPath on sourceId or the last
//     response), headerField (of sourceId or the last response). `path`
//     (XPath/JSONPath) is reported as unsupported. Values are substituted
//     as ${name} in operation urls, params and request headers, assert
//     values and expressions, and request bodies.
//   * operation: type codes read, vread, search, search-type, create,
//     update, delete, transaction, batch, validate, capabilities, history
//     (or any type with an explicit `method`), url or resource + params +
//     targetId, sourceId, responseId, requestHeader, contentType/accept
//     (json/xml/mime; xml is unsupported), encodeRequestUrl, origin and
//     destination (indices mapped to identities and base URLs by the run),
//     and our repeat extension (kRepeatExtension) for asynchronous results.
//     A url is resolved against the destination's base URL as a browser
//     resolves a link: "Patient/1/$summary" under the base path,
//     "/fhir/Bundle/1" (a Location header) against its host.
//   * assert: response, responseCode, headerField, contentType, resource,
//     expression (operators equals, notEquals, in, notIn, greaterThan,
//     lessThan, empty, notEmpty, contains, notContains, eval),
//     compareToSourceId + compareToSourceExpression, minimumId,
//     validateProfileId, requestMethod, requestURL, direction, warningOnly.
//
// A failed assert fails its test; later actions of that test still run (a
// report that shows every broken expectation is more useful to an
// integrator than one that stops at the first), except that a failed setup
// skips the tests. Problems of the script itself (an unknown element, a
// missing fixture, an expression that does not compile) are `error`
// results: they fail the run like a failed assert.
//
// Thread-compatible: one run uses one Transport from one thread.
//
// Example:
//   conformance::Definitions defs{model, validator};
//   MyTransport t;
//   auto report = conformance::run_script("conformance/suites/metadata/metadata.json", t, defs,
//   {}); std::cout << conformance::console_summary({&*report, 1});
#pragma once

#include "gateway/core/core.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::fhir {
class Model;
}
namespace gw::validation {
class Validator;
}

namespace gw::conformance {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// One HTTP request an operation makes.
struct HttpRequest {
  int origin = 1;      ///< TestScript origin index: which client identity sends it
  std::string method;  ///< "GET", "POST", ...
  std::string url;     ///< absolute (the destination's base URL + the operation's path)
  Headers headers;     ///< as the script set them (Accept, Content-Type, requestHeader)
  std::string body;
  /// Case-insensitive header lookup ("" when absent).
  std::string header(std::string_view name) const;
  friend bool operator==(const HttpRequest&, const HttpRequest&) = default;
};

/// One HTTP response.
struct HttpResponse {
  int status = 0;
  Headers headers;  ///< names as received
  std::string body;
  /// Case-insensitive header lookup ("" when absent).
  std::string header(std::string_view name) const;
  friend bool operator==(const HttpResponse&, const HttpResponse&) = default;
};

/// Sends one request and returns the response. An error is a failure to get
/// any response (connect, TLS, timeout): the operation is then reported as
/// an error, never a crash. Implementations choose the client identity from
/// `request.origin` and must apply deadlines so that a run cannot hang.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

/// What FHIRPath and profile assertions need. `model` is required for
/// expression asserts and variables; `validator` for validateProfileId
/// (without one such an assert is an error). Both are shared and immutable.
struct Definitions {
  std::shared_ptr<const fhir::Model> model;
  std::shared_ptr<const validation::Validator> validator;
};

/// Per-run settings.
struct RunOptions {
  /// Base URL for destination 1 (and any destination not in `destinations`).
  std::string base_url;
  /// Base URLs of further TestScript destinations, by index.
  std::map<int, std::string> destinations;
  /// Time stamp written as TestReport.issued (the caller's clock; tests fix it).
  std::string issued = "1970-01-01T00:00:00Z";
  /// Waits between the attempts of a repeated operation (the repeat
  /// extension below). Null: std::this_thread::sleep_for. Tests pass a fake.
  std::function<void(std::chrono::milliseconds)> sleep;
};

/// Extension on TestScript...operation: repeat the operation until a
/// FHIRPath expression is true on its response, for results that arrive
/// asynchronously (a delivery to a clinic). Sub-extensions: `until`
/// (valueString, required), `intervalMs` (valueInteger, default 100),
/// `maxAttempts` (valueInteger, default 50, at most 600). When the last
/// attempt still does not satisfy it the operation is a failure (its
/// response is kept for the asserts). The number of attempts bounds the
/// wait; no clock is read.
inline constexpr std::string_view kRepeatExtension =
    "http://fhir.migrant-care.example.org/StructureDefinition/testscript-operation-repeat";

/// Outcome of one action, a test or a whole script (TestReport's
/// report-action-result-codes).
enum class Outcome { kPass, kSkip, kFail, kWarning, kError };
std::string_view to_string(Outcome o) noexcept;

/// One setup, test or teardown action as reported.
struct ActionResult {
  bool is_operation = false;
  std::string label;  ///< the action's label, else its description, else its kind
  Outcome result = Outcome::kPass;
  std::string message;  ///< why it failed or what it did (never request or response bodies)
  friend bool operator==(const ActionResult&, const ActionResult&) = default;
};

/// One TestScript.test as reported.
struct TestResult {
  std::string name;
  std::string description;
  std::vector<ActionResult> actions;
  /// kPass when every action passed or warned; kError if any action is an
  /// error; otherwise kFail if any failed; kSkip when skipped.
  Outcome result() const;
  friend bool operator==(const TestResult&, const TestResult&) = default;
};

/// The run of one TestScript.
struct ScriptReport {
  std::string script_id;   ///< TestScript.id
  std::string script_url;  ///< TestScript.url (may be empty)
  std::string name;        ///< TestScript.name (else title, else the file name)
  std::string title;
  std::string file;    ///< where it was read from
  std::string target;  ///< base URL it ran against
  std::string issued;
  /// Problems of the script itself (unsupported elements, bad fixtures):
  /// each fails the run.
  std::vector<std::string> errors;
  std::vector<ActionResult> setup;
  std::vector<TestResult> tests;
  std::vector<ActionResult> teardown;

  /// kPass only when there are no errors, setup and teardown passed and
  /// every test passed.
  Outcome result() const;
  /// Tests that passed / did not pass (fail, error or skip).
  std::size_t passed() const;
  std::size_t failed() const;
  /// Share of passed asserts over all asserts run, 0..100 (TestReport.score).
  double score() const;
};

/// Reads a TestScript (JSON) and runs it. Fixtures are read relative to the
/// script's folder. Errors: kIo/kParse only when the file cannot be read or
/// is not a TestScript at all; everything wrong inside it is reported in
/// the ScriptReport.
Result<ScriptReport> run_script(const std::string& path, Transport& transport,
                                const Definitions& defs, const RunOptions& options);

/// The same for a script already in memory (`dir` is where its fixtures are).
Result<ScriptReport> run_script_text(std::string json, const std::string& dir, Transport& transport,
                                     const Definitions& defs, const RunOptions& options);

/// The FHIR R4 TestReport resource (JSON) for one run.
std::string test_report_json(const ScriptReport& report);

/// One self-contained HTML page (inline CSS, no scripts, no external
/// assets) with the totals and every test and action of every run; opens
/// from disk in any browser.
std::string html_report(std::span<const ScriptReport> reports);

/// A few lines per script: each test with PASS/FAIL, failing actions with
/// their message, and a total line.
std::string console_summary(std::span<const ScriptReport> reports);

// ---------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------

/// How the CLI's client should connect; the app builds a Transport from it.
struct TransportSettings {
  std::string ca_file;  ///< trusted server CA ("" = system store)
  /// Client certificate and key per origin index (1 = --client-cert/--client-key).
  std::map<int, std::pair<std::string, std::string>> identities;
  std::string token;  ///< bearer token sent on every request without its own Authorization
};

using TransportFactory =
    std::function<Result<std::unique_ptr<Transport>>(const TransportSettings&)>;
using DefinitionsLoader = std::function<Result<Definitions>()>;

/// `fhir-gateway conformance list|run|receiver ...`. Exit codes: 0 every
/// script passed, 1 a failure or error in a run, 2 usage or set-up error.
/// Suites are folders under `--suites DIR` (default conformance/suites):
/// each holds TestScript JSON files and a fixtures/ folder.
int run_conformance_command(std::span<const std::string_view> args,
                            const DefinitionsLoader& load_definitions,
                            const TransportFactory& make_transport, const Clock& clock,
                            std::ostream& out, std::ostream& err);

}  // namespace gw::conformance
