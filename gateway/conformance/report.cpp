// Reports of a run: the FHIR TestReport, the one-page HTML report and the
// console summary. All three carry the same facts (ScriptReport); none
// carries a request or response body.
#include "gateway/conformance/conformance.hpp"
#include "gateway/core/html.hpp"

#include "gateway/json/json.hpp"

#include <cstdio>

namespace gw::conformance {

namespace {

void action_json(json::Writer& w, const ActionResult& a) {
  w.begin_object();
  w.key(a.is_operation ? "operation" : "assert");
  w.begin_object();
  w.key("result");
  w.string(to_string(a.result));
  if (!a.message.empty()) {
    w.key("message");
    w.string(a.label + ": " + a.message);
  } else {
    w.key("message");
    w.string(a.label);
  }
  w.end_object();
  w.end_object();
}

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string h(std::string_view s) {
  std::string out;
  gw::append_html_escaped(out, s);
  return out;
}

std::string badge(Outcome o) {
  const std::string_view name = to_string(o);
  return "<span class=\"b " + std::string(name) + "\">" + std::string(name) + "</span>";
}

void html_actions(std::string& out, const std::vector<ActionResult>& actions) {
  out += "<ol class=\"actions\">";
  for (const ActionResult& a : actions) {
    out += "<li>" + badge(a.result) + " <span class=\"kind\">" +
           (a.is_operation ? "operation" : "assert") + "</span> " + h(a.label);
    if (!a.message.empty() && a.message != "ok")
      out += " <span class=\"msg\">" + h(a.message) + "</span>";
    out += "</li>";
  }
  out += "</ol>";
}

}  // namespace

std::string test_report_json(const ScriptReport& report) {
  json::Writer w(true);
  w.begin_object();
  w.key("resourceType");
  w.string("TestReport");
  if (!report.script_id.empty()) {
    w.key("id");
    w.string(report.script_id + "-report");
  }
  w.key("name");
  w.string(report.name);
  w.key("status");
  w.string("completed");
  w.key("testScript");
  w.begin_object();
  w.key("reference");
  w.string(!report.script_url.empty() ? report.script_url : "TestScript/" + report.script_id);
  w.key("display");
  w.string(report.title.empty() ? report.name : report.title);
  w.end_object();
  w.key("result");
  w.string(report.result() == Outcome::kPass ? "pass" : "fail");
  w.key("score");
  w.number_text(fixed1(report.score()));
  w.key("tester");
  w.string("fhir-gateway conformance");
  w.key("issued");
  w.string(report.issued);
  w.key("participant");
  w.begin_array();
  w.begin_object();
  w.key("type");
  w.string("server");
  w.key("uri");
  w.string(report.target.empty() ? "urn:unknown" : report.target);
  w.end_object();
  w.end_array();
  // Problems of the script itself have no place of their own in a
  // TestReport: they come first in the setup, as errors.
  if (!report.setup.empty() || !report.errors.empty()) {
    w.key("setup");
    w.begin_object();
    w.key("action");
    w.begin_array();
    for (const std::string& e : report.errors)
      action_json(w, {true, "TestScript", Outcome::kError, e});
    for (const ActionResult& a : report.setup) action_json(w, a);
    w.end_array();
    w.end_object();
  }
  if (!report.tests.empty()) {
    w.key("test");
    w.begin_array();
    for (const TestResult& t : report.tests) {
      w.begin_object();
      w.key("name");
      w.string(t.name);
      if (!t.description.empty()) {
        w.key("description");
        w.string(t.description);
      }
      w.key("action");
      w.begin_array();
      for (const ActionResult& a : t.actions) action_json(w, a);
      w.end_array();
      w.end_object();
    }
    w.end_array();
  }
  if (!report.teardown.empty()) {
    w.key("teardown");
    w.begin_object();
    w.key("action");
    w.begin_array();
    for (const ActionResult& a : report.teardown) action_json(w, a);
    w.end_array();
    w.end_object();
  }
  w.end_object();
  return std::move(w).take();
}

std::string html_report(std::span<const ScriptReport> reports) {
  std::size_t passed = 0, failed = 0, scripts_failed = 0;
  for (const ScriptReport& r : reports) {
    passed += r.passed();
    failed += r.failed();
    if (r.result() != Outcome::kPass) ++scripts_failed;
  }
  const bool ok = scripts_failed == 0;
  std::string out;
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>Conformance report</title><style>"
      "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
      "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}"
      ".b{display:inline-block;min-width:4.5em;text-align:center;border-radius:3px;color:#fff;font-"
      "size:.85em}"
      ".pass{background:#2e7d32}.fail{background:#c62828}.error{background:#6a1b9a}"
      ".warning{background:#ef6c00}.skip{background:#757575}"
      ".summary{font-size:1.1em;padding:.5em;border-left:6px solid}"
      ".summary.ok{border-color:#2e7d32}.summary.bad{border-color:#c62828}"
      "details{margin:.2em "
      "0}summary{cursor:pointer}.msg{color:#555}.kind{color:#888;font-size:.85em}"
      "ol.actions{margin:.2em 0 .6em 1.5em;padding:0}"
      "</style></head><body>\n";
  out += "<h1>Conformance report</h1>\n";
  out += "<p class=\"summary " + std::string(ok ? "ok" : "bad") + "\" id=\"summary\">" +
         (ok ? "All scripts passed" : std::to_string(scripts_failed) + " script(s) failed") +
         ": <span id=\"passed\">" + std::to_string(passed) +
         "</span> test(s) passed, <span id=\"failed\">" + std::to_string(failed) +
         "</span> failed.</p>\n";
  for (const ScriptReport& r : reports) {
    out += "<section class=\"script\"><h2>" + badge(r.result()) + " " +
           h(r.title.empty() ? r.name : r.title) + "</h2>\n<p>Target <code>" + h(r.target) +
           "</code> · " + std::to_string(r.passed()) + " passed, " + std::to_string(r.failed()) +
           " failed · score " + fixed1(r.score()) + "% · " + h(r.issued) + "</p>\n";
    if (!r.errors.empty()) {
      out += "<ul class=\"errors\">";
      for (const std::string& e : r.errors)
        out += "<li>" + badge(Outcome::kError) + " " + h(e) + "</li>";
      out += "</ul>\n";
    }
    if (!r.setup.empty()) {
      Outcome worst = Outcome::kPass;
      for (const auto& a : r.setup)
        if (a.result == Outcome::kFail || a.result == Outcome::kError) worst = a.result;
      out += "<details" + std::string(worst == Outcome::kPass ? "" : " open") + "><summary>" +
             badge(worst) + " setup</summary>";
      html_actions(out, r.setup);
      out += "</details>\n";
    }
    for (const TestResult& t : r.tests) {
      const Outcome o = t.result();
      out += "<details class=\"test\"" + std::string(o == Outcome::kPass ? "" : " open") +
             "><summary>" + badge(o) + " <span class=\"name\">" + h(t.name) + "</span>";
      if (!t.description.empty()) out += " <span class=\"msg\">— " + h(t.description) + "</span>";
      out += "</summary>";
      html_actions(out, t.actions);
      out += "</details>\n";
    }
    if (!r.teardown.empty()) {
      out += "<details><summary>teardown</summary>";
      html_actions(out, r.teardown);
      out += "</details>\n";
    }
    out += "</section>\n";
  }
  out += "</body></html>\n";
  return out;
}

std::string console_summary(std::span<const ScriptReport> reports) {
  std::string out;
  std::size_t passed = 0, failed = 0, scripts_failed = 0;
  auto action_lines = [&](const std::vector<ActionResult>& actions, std::string_view indent) {
    for (const ActionResult& a : actions) {
      if (a.result == Outcome::kPass || a.result == Outcome::kSkip) continue;
      out += std::string(indent) + std::string(to_string(a.result)) + ": " + a.label + ": " +
             a.message + "\n";
    }
  };
  for (const ScriptReport& r : reports) {
    out += (r.result() == Outcome::kPass ? "PASS " : "FAIL ") +
           (r.title.empty() ? r.name : r.title) + "  (" + std::to_string(r.passed()) + "/" +
           std::to_string(r.tests.size()) + " tests)\n";
    for (const std::string& e : r.errors) out += "    error: " + e + "\n";
    action_lines(r.setup, "    setup ");
    for (const TestResult& t : r.tests) {
      const Outcome o = t.result();
      out += "  " + std::string(o == Outcome::kPass ? "pass " : std::string(to_string(o)) + " ") +
             t.name + "\n";
      action_lines(t.actions, "      ");
    }
    action_lines(r.teardown, "    teardown ");
    passed += r.passed();
    failed += r.failed();
    if (r.result() != Outcome::kPass) ++scripts_failed;
  }
  out += std::to_string(reports.size()) + " script(s), " + std::to_string(passed) +
         " test(s) passed, " + std::to_string(failed) + " failed" +
         (scripts_failed ? ": FAILED\n" : ": OK\n");
  return out;
}

}  // namespace gw::conformance
