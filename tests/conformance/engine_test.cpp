// The TestScript engine against a fake Transport: how operations become
// requests (urls, variables, origins, headers, bodies), what each assert and
// operator decides, that unsupported script elements are errors, and what
// the three reports say. The last test opens the HTML report in Debian's
// headless Chromium and reads what the page shows.
#include "gateway/conformance/conformance.hpp"

#include "gateway/json/json.hpp"
#include "gateway/validation/validation.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include <unistd.h>

namespace gw::conformance {
namespace {

namespace fs = std::filesystem;

// Answers from a function of the request; records every request.
class FakeTransport final : public Transport {
 public:
  std::function<HttpResponse(const HttpRequest&)> answer;
  std::vector<HttpRequest> sent;
  Result<HttpResponse> send(const HttpRequest& request) override {
    sent.push_back(request);
    if (!answer) return fail(ErrorCode::kIo, "connect failed: refused");
    return answer(request);
  }
};

const Definitions& defs() {
  static const Definitions d = [] {
    Definitions out;
    const auto* core = gw::testing::core_definitions();
    if (!core) return out;
    out.model = core->model;
    auto v = validation::Validator::create(core->registry, core->model);
    EXPECT_TRUE(v) << (v ? "" : v.error().to_string());
    if (v) out.validator = *v;
    return out;
  }();
  return d;
}

// A folder with fixtures for scripts run from text.
class Engine : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gw_conformance_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    write("patient.json",
          R"({"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1990-04-12",
                             "name":[{"family":"Example","given":["Amina"]}]})");
    write("min.json", R"({"resourceType":"Patient","name":[{"family":"Example"}]})");
    options_.base_url = "https://gw.test/fhir";
    options_.destinations[2] = "http://control.test:9";
    options_.issued = "2026-12-06T04:00:00Z";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(fs::path(dir_) / name) << text;
  }

  // A script with the given members (fixtures p = patient.json, m = min.json).
  ScriptReport run(const std::string& members) {
    std::string text = R"({"resourceType":"TestScript","id":"t","name":"t","status":"active",
      "fixture":[{"id":"p","autocreate":false,"autodelete":false,"resource":{"reference":"patient.json"}},
                 {"id":"m","autocreate":false,"autodelete":false,"resource":{"reference":"min.json"}}],)" +
                       members + "}";
    auto r = run_script_text(text, dir_, transport_, defs(), options_);
    EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
    return r ? *r : ScriptReport{};
  }
  // One test: one GET of the patient, then `asserts` (JSON array items).
  ScriptReport run_asserts(const std::string& asserts) {
    return run(R"("test":[{"name":"only","action":[
      {"operation":{"type":{"code":"read"},"url":"Patient/p1","encodeRequestUrl":true}},)" +
               asserts + "]}]");
  }
  static std::vector<Outcome> outcomes(const ScriptReport& r) {
    std::vector<Outcome> out;
    for (const auto& t : r.tests)
      for (const auto& a : t.actions)
        if (!a.is_operation) out.push_back(a.result);
    return out;
  }
  void serve_patient() {
    transport_.answer = [this](const HttpRequest&) {
      HttpResponse res;
      res.status = 200;
      res.headers = {{"Content-Type", "application/fhir+json; charset=utf-8"},
                     {"ETag", "W/\"3\""},
                     {"Location", "/fhir/Bundle/b-77"}};
      res.body = gw::testing::read_file(dir_ + "/patient.json");
      return res;
    };
  }

  std::string dir_;
  FakeTransport transport_;
  RunOptions options_;
};

TEST_F(Engine, OperationsBecomeRequestsWithVariablesOriginsHeadersAndBodies) {
  transport_.answer = [](const HttpRequest& req) {
    HttpResponse res;
    res.status = req.method == "POST" ? 201 : 200;
    res.headers = {{"Location", "/fhir/Bundle/b-77"}};
    res.body =
        R"({"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational",
                   "diagnostics":"handoff b-77 stored; the patient's gateway key is k-123"}]})";
    return res;
  };
  auto r = run(R"(
    "variable":[{"name":"loc","sourceId":"push","headerField":"Location"},
                {"name":"key","sourceId":"push","expression":"issue.diagnostics.first().select(substring(indexOf('key is ') + 7)) "},
                {"name":"fallback","defaultValue":"x y"}],
    "setup":{"action":[{"operation":{"type":{"code":"create"},"method":"post","url":"?recipient=demo-clinic",
                        "sourceId":"p","responseId":"push","encodeRequestUrl":true,
                        "requestHeader":[{"field":"X-Request-Id","value":"r-1"}]}}]},
    "test":[{"name":"reads","action":[
      {"operation":{"type":{"code":"read"},"url":"Patient/${key}/$summary","origin":2,"encodeRequestUrl":true}},
      {"operation":{"type":{"code":"read"},"url":"${loc}","origin":2,"encodeRequestUrl":true}},
      {"operation":{"type":{"code":"search"},"resource":"Patient","params":"?identifier=urn:oid:1|${fallback}","encodeRequestUrl":true}},
      {"operation":{"type":{"code":"read"},"url":"received/documents","destination":2,"encodeRequestUrl":false}},
      {"operation":{"type":{"code":"capabilities"},"encodeRequestUrl":true}},
      {"operation":{"type":{"code":"update"},"resource":"Patient","targetId":"p","sourceId":"p","encodeRequestUrl":true}}]}])");
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  ASSERT_EQ(transport_.sent.size(), 7u);
  const auto& push = transport_.sent[0];
  EXPECT_EQ(push.method, "POST");
  EXPECT_EQ(push.url, "https://gw.test/fhir?recipient=demo-clinic");
  EXPECT_EQ(push.origin, 1);
  EXPECT_EQ(push.header("content-type"), "application/fhir+json");
  EXPECT_EQ(push.header("Accept"), "application/fhir+json");
  EXPECT_EQ(push.header("X-Request-Id"), "r-1");
  EXPECT_NE(push.body.find("\"Patient\""), std::string::npos);
  EXPECT_EQ(transport_.sent[1].url, "https://gw.test/fhir/Patient/k-123/$summary");
  EXPECT_EQ(transport_.sent[1].origin, 2);
  EXPECT_EQ(transport_.sent[2].url,
            "https://gw.test/fhir/Bundle/b-77");  // a Location resolves against the host
  EXPECT_EQ(transport_.sent[3].url, "https://gw.test/fhir/Patient?identifier=urn:oid:1%7Cx%20y");
  EXPECT_EQ(transport_.sent[4].url, "http://control.test:9/received/documents");
  EXPECT_EQ(transport_.sent[5].url, "https://gw.test/fhir/metadata");
  EXPECT_EQ(transport_.sent[6].method, "PUT");
  EXPECT_EQ(transport_.sent[6].url, "https://gw.test/fhir/Patient/p1");
  EXPECT_EQ(r.result(), Outcome::kPass);
}

TEST_F(Engine, EachOperatorPassesAndFails) {
  serve_patient();
  struct Case {
    std::string expr, op, value;
    Outcome want;
  };
  const std::vector<Case> cases = {
      {"gender", "equals", "female", Outcome::kPass},
      {"gender", "equals", "male", Outcome::kFail},
      {"gender", "notEquals", "male", Outcome::kPass},
      {"gender", "notEquals", "female", Outcome::kFail},
      {"gender", "in", "male,female", Outcome::kPass},
      {"gender", "in", "male,other", Outcome::kFail},
      {"gender", "notIn", "male,other", Outcome::kPass},
      {"gender", "notIn", "female", Outcome::kFail},
      {"name.given.count()", "greaterThan", "0", Outcome::kPass},
      {"name.given.count()", "greaterThan", "1", Outcome::kFail},
      {"birthDate", "lessThan", "2000-01-01", Outcome::kPass},
      {"birthDate", "lessThan", "1980", Outcome::kFail},
      {"telecom", "empty", "", Outcome::kPass},
      {"name", "empty", "", Outcome::kFail},
      {"name", "notEmpty", "", Outcome::kPass},
      {"telecom", "notEmpty", "", Outcome::kFail},
      {"name", "contains", "Amina", Outcome::kPass},
      {"name", "contains", "Zed", Outcome::kFail},
      {"name", "notContains", "Zed", Outcome::kPass},
      {"name", "notContains", "Amina", Outcome::kFail},
      {"gender = 'female'", "eval", "", Outcome::kPass},
      {"gender = 'male'", "eval", "", Outcome::kFail},
      {"gender = 'female'", "", "", Outcome::kPass},
      {"gender", "", "female", Outcome::kPass},
  };
  std::string asserts;
  for (const Case& c : cases) {
    if (!asserts.empty()) asserts += ",";
    asserts += R"({"assert":{"expression":")" + c.expr + "\"" +
               (c.op.empty() ? "" : R"(,"operator":")" + c.op + "\"") +
               (c.value.empty() ? "" : R"(,"value":")" + c.value + "\"") +
               R"(,"warningOnly":false}})";
  }
  auto r = run_asserts(asserts);
  EXPECT_TRUE(r.errors.empty());
  const auto got = outcomes(r);
  ASSERT_EQ(got.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(got[i], cases[i].want)
        << "case " << i << ": " << cases[i].expr << " " << cases[i].op << " " << cases[i].value
        << ": " << r.tests[0].actions[i + 1].message;
  }
  EXPECT_EQ(r.result(), Outcome::kFail);
}

TEST_F(Engine, ResponseHeaderContentTypeResourceMinimumCompareAndProfileAsserts) {
  serve_patient();
  auto r = run(R"(
    "profile":[{"id":"patient","reference":"http://hl7.org/fhir/StructureDefinition/Patient"},
               {"id":"obs","reference":"http://hl7.org/fhir/StructureDefinition/Observation"}],
    "test":[{"name":"passes","action":[
      {"operation":{"type":{"code":"read"},"url":"Patient/p1","responseId":"r1","encodeRequestUrl":true}},
      {"assert":{"response":"okay","warningOnly":false}},
      {"assert":{"responseCode":"200,201","operator":"in","warningOnly":false}},
      {"assert":{"headerField":"etag","value":"W/\"3\"","warningOnly":false}},
      {"assert":{"headerField":"Last-Modified","operator":"empty","warningOnly":false}},
      {"assert":{"contentType":"application/fhir+json","warningOnly":false}},
      {"assert":{"contentType":"json","warningOnly":false}},
      {"assert":{"resource":"Patient","warningOnly":false}},
      {"assert":{"minimumId":"m","warningOnly":false}},
      {"assert":{"expression":"name.family","compareToSourceId":"p","compareToSourceExpression":"name.family","warningOnly":false}},
      {"assert":{"validateProfileId":"patient","sourceId":"r1","warningOnly":false}},
      {"assert":{"requestMethod":"get","warningOnly":false}},
      {"assert":{"requestURL":"Patient/p1","warningOnly":false}}]},
     {"name":"fails","action":[
      {"operation":{"type":{"code":"read"},"url":"Patient/p1","encodeRequestUrl":true}},
      {"assert":{"response":"created","warningOnly":false}},
      {"assert":{"headerField":"ETag","value":"W/\"4\"","warningOnly":false}},
      {"assert":{"resource":"Observation","warningOnly":false}},
      {"assert":{"expression":"gender","compareToSourceId":"p","compareToSourceExpression":"birthDate","warningOnly":false}},
      {"assert":{"validateProfileId":"obs","warningOnly":false}},
      {"assert":{"response":"created","warningOnly":true}}]}])");
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.tests.size(), 2u);
  for (const auto& a : r.tests[0].actions)
    EXPECT_EQ(a.result, Outcome::kPass) << a.label << ": " << a.message;
  const auto& f = r.tests[1].actions;
  ASSERT_EQ(f.size(), 7u);
  for (std::size_t i = 1; i < 6; ++i)
    EXPECT_EQ(f[i].result, Outcome::kFail) << i << ": " << f[i].message;
  EXPECT_EQ(f[6].result, Outcome::kWarning);
  EXPECT_NE(f[1].message.find("expected HTTP 201 (created), got 200"), std::string::npos);
  // Messages never quote the response body.
  for (const auto& a : f) EXPECT_EQ(a.message.find("Amina"), std::string::npos) << a.message;
  EXPECT_EQ(r.tests[0].result(), Outcome::kPass);
  EXPECT_EQ(r.tests[1].result(), Outcome::kFail);
  EXPECT_EQ(r.passed(), 1u);
  EXPECT_EQ(r.failed(), 1u);
}

TEST_F(Engine, UnsupportedElementsAreErrorsNeverIgnored) {
  serve_patient();
  auto r = run(R"("rule":[],
    "variable":[{"name":"v","path":"Patient/id"}],
    "test":[{"name":"t","action":[
      {"operation":{"type":{"code":"read"},"url":"Patient/p1","encodeRequestUrl":true}},
      {"assert":{"path":"fhir:Patient/fhir:id","value":"p1","warningOnly":false}},
      {"assert":{"expression":"id","operator":"approximately","value":"p1","warningOnly":false}},
      {"assert":{"expression":"id","value":"${nope}","warningOnly":false}},
      {"assert":{"expression":"id.(","warningOnly":false}},
      {"assert":{"warningOnly":false}}]}])");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_NE(r.errors[0].find("TestScript.rule"), std::string::npos);
  EXPECT_NE(r.errors[1].find("path"), std::string::npos);
  ASSERT_EQ(r.tests.size(), 1u);
  // The setup is broken, so the test's actions are skipped, not passed.
  for (const auto& a : r.tests[0].actions) EXPECT_EQ(a.result, Outcome::kSkip);
  EXPECT_EQ(r.result(), Outcome::kError);

  auto r2 = run(R"("test":[{"name":"t","action":[
      {"operation":{"type":{"code":"read"},"url":"Patient/p1","accept":"xml","encodeRequestUrl":true}},
      {"operation":{"type":{"code":"read"},"url":"Patient/p1","encodeRequestUrl":true}},
      {"assert":{"path":"fhir:Patient/fhir:id","value":"p1","warningOnly":false}},
      {"assert":{"expression":"id","operator":"approximately","value":"p1","warningOnly":false}},
      {"assert":{"expression":"id","value":"${nope}","warningOnly":false}},
      {"assert":{"expression":"id.(","warningOnly":false}},
      {"assert":{"warningOnly":false}},
      {"assert":{"response":"teapot","warningOnly":false}},
      {"operation":{"type":{"code":"frobnicate"},"encodeRequestUrl":true}}]}])");
  EXPECT_TRUE(r2.errors.empty());
  const auto& acts = r2.tests[0].actions;
  ASSERT_EQ(acts.size(), 9u);
  EXPECT_EQ(acts[0].result, Outcome::kError);
  EXPECT_EQ(acts[1].result, Outcome::kPass);
  for (std::size_t i = 2; i < acts.size(); ++i)
    EXPECT_EQ(acts[i].result, Outcome::kError) << i << ": " << acts[i].message;
  EXPECT_NE(acts[8].message.find("frobnicate"), std::string::npos);
  EXPECT_EQ(r2.result(), Outcome::kError);

  auto r3 = run_script_text(
      R"({"resourceType":"TestScript","fixture":[{"id":"x","autocreate":true,"autodelete":false,
                                  "resource":{"reference":"../etc/passwd"}}],"test":[]})",
      dir_, transport_, defs(), options_);
  ASSERT_TRUE(r3);
  ASSERT_EQ(r3->errors.size(), 2u);
  EXPECT_NE(r3->errors[0].find("autocreate"), std::string::npos);
  EXPECT_NE(r3->errors[1].find("beside the script"), std::string::npos);
  EXPECT_FALSE(
      run_script_text(R"({"resourceType":"Patient"})", dir_, transport_, defs(), options_));
}

TEST_F(Engine, AFailedSetupSkipsTheTestsAndNoResponseIsAnError) {
  auto r = run(
      R"("setup":{"action":[{"operation":{"type":{"code":"read"},"url":"metadata","encodeRequestUrl":true}}]},
    "test":[{"name":"t","action":[{"assert":{"response":"okay","warningOnly":false}}]}])");
  ASSERT_EQ(r.setup.size(), 1u);
  EXPECT_EQ(r.setup[0].result, Outcome::kError);
  EXPECT_NE(r.setup[0].message.find("no response"), std::string::npos);
  EXPECT_EQ(r.tests[0].result(), Outcome::kSkip);
  EXPECT_EQ(r.result(), Outcome::kError);
  EXPECT_EQ(r.failed(), 1u);
}

TEST_F(Engine, ReportsSayTheSameThing) {
  serve_patient();
  auto r = run(R"("url":"http://example.org/TestScript/t","title":"A title",
    "test":[{"name":"good","description":"works","action":[
      {"operation":{"type":{"code":"read"},"url":"Patient/p1","encodeRequestUrl":true}},
      {"assert":{"label":"is ok","response":"okay","warningOnly":false}}]},
     {"name":"bad <one>","action":[
      {"operation":{"type":{"code":"read"},"url":"Patient/p1","encodeRequestUrl":true}},
      {"assert":{"label":"is gone","response":"gone","warningOnly":false}}]}])");
  auto doc = json::Document::parse(test_report_json(r));
  ASSERT_TRUE(doc);
  const json::Value root = doc->root();
  EXPECT_EQ(root.find("resourceType").str(), "TestReport");
  EXPECT_EQ(root.find("status").str(), "completed");
  EXPECT_EQ(root.find("result").str(), "fail");
  EXPECT_EQ(root.find("score").str(), "50.0");
  EXPECT_EQ(root.find("issued").str(), "2026-12-06T04:00:00Z");
  EXPECT_EQ(root.find("testScript").find("reference").str(), "http://example.org/TestScript/t");
  EXPECT_EQ(root.find("participant")[0].find("uri").str(), "https://gw.test/fhir");
  ASSERT_EQ(root.find("test").size(), 2u);
  EXPECT_EQ(root.find("test")[1].find("name").str(), "bad <one>");
  EXPECT_EQ(root.find("test")[1].find("action")[1].find("assert").find("result").str(), "fail");
  EXPECT_EQ(root.find("test")[0].find("action")[0].find("operation").find("result").str(), "pass");

  const std::string console = console_summary({&r, 1});
  EXPECT_NE(console.find("FAIL A title  (1/2 tests)"), std::string::npos) << console;
  EXPECT_NE(console.find("fail bad <one>"), std::string::npos) << console;
  EXPECT_NE(console.find("1 test(s) passed, 1 failed: FAILED"), std::string::npos) << console;

  const std::string html = html_report({&r, 1});
  EXPECT_NE(html.find("bad &lt;one&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  // Self-contained: no scripts, stylesheets, images or fonts to fetch.
  for (std::string_view external : {"<link", "src=", "url(", "@import"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
}

TEST_F(Engine, RequestDirectionTeardownAndAValidTestReport) {
  serve_patient();
  auto r = run(R"(
    "setup":{"action":[{"operation":{"type":{"code":"create"},"resource":"Patient","sourceId":"p","encodeRequestUrl":true}},
      {"assert":{"direction":"request","contentType":"json","warningOnly":false}},
      {"assert":{"direction":"request","expression":"name.given","value":"Amina","warningOnly":false}},
      {"assert":{"direction":"request","headerField":"Accept","value":"application/fhir+json","warningOnly":false}},
      {"assert":{"requestMethod":"post","requestURL":"https://gw.test/fhir/Patient","warningOnly":false}}]},
    "test":[{"name":"t","action":[{"operation":{"type":{"code":"read"},"url":"Patient/p1","destination":3,"encodeRequestUrl":true}}]}],
    "teardown":{"action":[{"operation":{"type":{"code":"delete"},"resource":"Patient","params":"/p1","encodeRequestUrl":true}}]})");
  ASSERT_EQ(r.setup.size(), 5u);
  for (const auto& a : r.setup) EXPECT_EQ(a.result, Outcome::kPass) << a.label << ": " << a.message;
  ASSERT_EQ(r.tests.size(), 1u);
  EXPECT_EQ(r.tests[0].actions[0].result, Outcome::kError);  // destination 3 has no base URL
  ASSERT_EQ(r.teardown.size(), 1u);
  EXPECT_EQ(transport_.sent.back().method, "DELETE");
  EXPECT_EQ(transport_.sent.back().url, "https://gw.test/fhir/Patient/p1");

  // The TestReport is a valid FHIR R4 TestReport.
  ASSERT_TRUE(defs().validator);
  auto doc = json::Document::parse(test_report_json(r));
  ASSERT_TRUE(doc);
  auto issues = defs().validator->validate(doc->root());
  ASSERT_TRUE(issues);
  for (const auto& i : *issues) {
    EXPECT_NE(i.severity, fhir::Issue::Severity::kError) << i.expression << ": " << i.diagnostics;
  }
}

TEST_F(Engine, TheRepeatExtensionAsksAgainUntilTheExpressionHolds) {
  int calls = 0;
  transport_.answer = [&](const HttpRequest&) {
    HttpResponse res;
    res.status = 200;
    res.body =
        R"({"resourceType":"Bundle","type":"collection","total":)" + std::to_string(++calls) + "}";
    return res;
  };
  std::vector<std::chrono::milliseconds> slept;
  options_.sleep = [&](std::chrono::milliseconds d) { slept.push_back(d); };
  const std::string op =
      R"({"operation":{"type":{"code":"read"},"url":"received","encodeRequestUrl":true,
      "extension":[{"url":"http://fhir.migrant-care.example.org/StructureDefinition/testscript-operation-repeat",
                    "extension":[{"url":"until","valueString":"total >= ${n}"},{"url":"intervalMs","valueInteger":7},
                                 {"url":"maxAttempts","valueInteger":5}]}]}})";
  auto r = run(R"("variable":[{"name":"n","defaultValue":"3"}],"test":[{"name":"t","action":[)" +
               op + R"(,{"assert":{"expression":"total","value":"3","warningOnly":false}}]}])");
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(slept, (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(7),
                                                           std::chrono::milliseconds(7)}));
  EXPECT_EQ(r.result(), Outcome::kPass) << r.tests[0].actions[0].message;

  calls = 0;
  auto never =
      run(R"("variable":[{"name":"n","defaultValue":"99"}],"test":[{"name":"t","action":[)" + op +
          "]}]");
  EXPECT_EQ(calls, 5);  // maxAttempts bounds the wait
  EXPECT_EQ(never.tests[0].actions[0].result, Outcome::kFail);
  EXPECT_NE(never.tests[0].actions[0].message.find("never became true"), std::string::npos);
}

// Debian's real Chromium, headless, opens the report from disk; the DOM it
// dumps shows the totals and the failing test's name.
TEST_F(Engine, HtmlReportOpensInHeadlessChromium) {
  if (!gw::testing::have_chromium()) {
    GTEST_SKIP() << "/usr/bin/chromium is not installed (Debian package chromium; "
                    "scripts/common.sh installs it)";
  }
  serve_patient();
  auto r = run(R"("title":"Clinic pull",
    "test":[{"name":"summary-as-receiving-clinic","action":[
      {"operation":{"type":{"code":"read"},"url":"Patient/p1","encodeRequestUrl":true}},
      {"assert":{"response":"okay","warningOnly":false}}]},
     {"name":"bundle-read-has-etag","action":[
      {"operation":{"type":{"code":"read"},"url":"Patient/p1","encodeRequestUrl":true}},
      {"assert":{"headerField":"ETag","value":"W/\"9\"","warningOnly":false}}]},
     {"name":"document-reference-search","action":[
      {"operation":{"type":{"code":"read"},"url":"Patient/p1","encodeRequestUrl":true}},
      {"assert":{"resource":"Patient","warningOnly":false}}]}])");
  const std::string page = dir_ + "/report.html";
  std::ofstream(page) << html_report({&r, 1});
  const std::string shown = gw::testing::chromium_dump_dom(page, dir_);
  ASSERT_FALSE(shown.empty()) << "chromium failed";
  EXPECT_NE(shown.find("<span id=\"passed\">2</span> test(s) passed"), std::string::npos) << shown;
  EXPECT_NE(shown.find("<span id=\"failed\">1</span> failed"), std::string::npos) << shown;
  EXPECT_NE(shown.find("1 script(s) failed"), std::string::npos);
  // The failing test is shown by name, opened, with its failing assert.
  const auto at = shown.find("bundle-read-has-etag");
  ASSERT_NE(at, std::string::npos);
  const std::string before =
      shown.substr(shown.rfind("<details", at), at - shown.rfind("<details", at));
  EXPECT_NE(before.find("open"), std::string::npos) << before;
  EXPECT_NE(before.find(">fail<"), std::string::npos) << before;
  EXPECT_NE(shown.find("header ETag: expected to equal"), std::string::npos);
}

}  // namespace
}  // namespace gw::conformance
