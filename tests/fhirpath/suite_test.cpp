// The official FHIRPath R4 test suite (../shared/fhirpath/tests-fhir-r4.xml),
// run data-driven: every <test> is executed (none is skipped by name), its
// outputs compared in order and with their types, `invalid` tests must fail
// (invalid="syntax": at compile time with a syntax error; "semantic": at
// compile time; "execution": at compile or evaluation time, since an engine
// may catch some execution errors earlier), `predicate="true"` tests are
// read as a Boolean. The run prints one line per failure and a summary, and fails if
// fewer than kMinimumPassing tests pass (raise it as the engine improves).
#include "gateway/fhirpath/fhirpath.hpp"

#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace gw::fhirpath {
namespace {

constexpr int kMinimumPassing = 935;

#ifndef GW_FHIRPATH_SUITE_DIR
#define GW_FHIRPATH_SUITE_DIR "../shared/fhirpath"
#endif

// ---- a small reader for the suite's XML --------------------------------------

struct Output {
  std::string type;  // "" when the suite gives none
  std::string text;
};

struct SuiteTest {
  std::string name;
  std::string group;
  std::string input_file;
  std::string expression;
  std::string invalid;  // "", "syntax", "semantic", "execution", "true"
  std::string mode;
  bool predicate = false;
  bool ordered = true;
  bool check_ordered_functions = false;
  std::vector<Output> outputs;
};

std::string decode_entities(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool done = false;
    for (const auto& [name, c] : kEntities) {
      if (s.substr(i, name.size()) == name) {
        out += c;
        i += name.size() - 1;
        done = true;
        break;
      }
    }
    if (!done) out += '&';
  }
  return out;
}

using Attributes = std::map<std::string, std::string>;

Attributes parse_attributes(std::string_view tag) {
  Attributes out;
  std::size_t i = 0;
  while (i < tag.size()) {
    while (i < tag.size() && std::isspace(static_cast<unsigned char>(tag[i]))) ++i;
    std::size_t name_start = i;
    while (i < tag.size() && tag[i] != '=' && !std::isspace(static_cast<unsigned char>(tag[i]))) ++i;
    std::string name(tag.substr(name_start, i - name_start));
    while (i < tag.size() && tag[i] != '"' && tag[i] != '\'') ++i;
    if (i >= tag.size()) break;
    char q = tag[i++];
    std::size_t end = tag.find(q, i);
    if (end == std::string_view::npos) break;
    out[name] = decode_entities(tag.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

std::vector<SuiteTest> read_suite(const std::string& xml) {
  std::vector<SuiteTest> tests;
  std::string group;
  SuiteTest* current = nullptr;
  std::string text;
  Output pending_output;
  std::size_t i = 0;
  while (i < xml.size()) {
    if (xml.compare(i, 4, "<!--") == 0) {
      std::size_t end = xml.find("-->", i + 4);
      i = end == std::string::npos ? xml.size() : end + 3;
      continue;
    }
    if (xml[i] != '<') {
      text += xml[i++];
      continue;
    }
    std::size_t close = xml.find('>', i);
    if (close == std::string::npos) break;
    std::string_view tag(xml.data() + i + 1, close - i - 1);
    i = close + 1;
    if (tag.empty() || tag[0] == '?' || tag[0] == '!') continue;
    bool end_tag = tag[0] == '/';
    bool self_closing = !tag.empty() && tag.back() == '/';
    if (end_tag) tag.remove_prefix(1);
    if (self_closing) tag.remove_suffix(1);
    std::size_t name_end = 0;
    while (name_end < tag.size() && !std::isspace(static_cast<unsigned char>(tag[name_end]))) ++name_end;
    std::string name(tag.substr(0, name_end));
    Attributes attrs = parse_attributes(tag.substr(name_end));
    if (!end_tag) {
      if (name == "group") {
        group = attrs["name"];
      } else if (name == "test") {
        tests.push_back({});
        current = &tests.back();
        current->name = attrs["name"];
        current->group = group;
        current->input_file = attrs["inputfile"];
        current->predicate = attrs["predicate"] == "true";
        current->ordered = attrs["ordered"] != "false";
        current->mode = attrs["mode"];
        current->check_ordered_functions = attrs["checkOrderedFunctions"] == "true";
      } else if (name == "expression" && current) {
        if (attrs.count("invalid")) current->invalid = attrs["invalid"];
        if (attrs.count("mode")) current->mode = attrs["mode"];
      } else if (name == "output") {
        pending_output = Output{attrs["type"], ""};
        if (self_closing && current) current->outputs.push_back(pending_output);
      }
      text.clear();
      continue;
    }
    if (name == "expression" && current) {
      current->expression = decode_entities(text);
    } else if (name == "output" && current) {
      pending_output.text = decode_entities(text);
      current->outputs.push_back(pending_output);
    } else if (name == "test") {
      current = nullptr;
    }
    text.clear();
  }
  return tests;
}

// ---- running ------------------------------------------------------------------------

// The suite's spelling of an item's type.
std::string suite_type(const Item& item) {
  if (item.is_node()) return item.type_name();
  switch (item.kind()) {
    case ItemKind::kBoolean: return "boolean";
    case ItemKind::kString: return "string";
    case ItemKind::kInteger: return "integer";
    case ItemKind::kDecimal: return "decimal";
    case ItemKind::kDate: return "date";
    case ItemKind::kDateTime: return "dateTime";
    case ItemKind::kTime: return "time";
    case ItemKind::kQuantity: return "Quantity";
    default: return std::string(to_string(item.kind()));
  }
}

// The suite writes values as HL7's engines print them: DateTimes in their
// FHIR text form after '@' (a day-precision DateTime is "@2014-01-01", not
// the literal "@2014-01-01T"); everything else as Item::to_string().
std::string suite_text(const Item& item) {
  if (std::optional<Item> v = item.is_node() ? std::nullopt : std::optional<Item>(item);
      v && v->kind() == ItemKind::kDateTime) {
    return "@" + v->datetime().to_string();
  }
  return item.to_string();
}

bool output_matches(const Item& item, const Output& expected, std::string& why) {
  std::string actual_type = suite_type(item);
  std::string actual = suite_text(item);
  if (!expected.type.empty() && expected.type != actual_type) {
    why = "type " + actual_type + " (" + actual + "), expected " + expected.type + " (" + expected.text + ")";
    return false;
  }
  if (expected.type == "decimal") {
    auto a = primitives::Decimal::parse(actual, primitives::DecimalSyntax::kFhirPath);
    auto e = primitives::Decimal::parse(expected.text, primitives::DecimalSyntax::kFhirPath);
    if (a && e && *a == *e) return true;
  }
  if (actual == expected.text) return true;
  why = "value " + actual + ", expected " + expected.text;
  return false;
}

struct Loaded {
  json::Document doc;
  std::optional<fhir::Node> root;
};

std::string run_one(const SuiteTest& t, const std::shared_ptr<const fhir::Model>& model,
                    std::map<std::string, Loaded>& inputs) {
  std::optional<fhir::Node> root;
  if (!t.input_file.empty()) {
    std::string file = t.input_file;
    if (file.size() > 4 && file.substr(file.size() - 4) == ".xml") file = file.substr(0, file.size() - 4) + ".json";
    auto it = inputs.find(file);
    if (it == inputs.end()) {
      auto doc = json::Document::parse_file(std::string(GW_FHIRPATH_SUITE_DIR) + "/input-json/" + file);
      if (!doc) return "cannot read input " + file + ": " + doc.error().to_string();
      Loaded l{std::move(*doc), std::nullopt};
      auto r = model->resource(l.doc.root());
      if (!r) return "input is not a resource: " + r.error().to_string();
      l.root = *r;
      it = inputs.emplace(file, std::move(l)).first;
    }
    root = it->second.root;
  }
  CompileOptions options;
  options.model = model;
  if (root) options.context_type = root->type->name;
  options.check_ordered_functions = t.check_ordered_functions;
  // The suite tests FHIRPath 2.0 itself: `as` on a collection is an error
  // there (testFHIRPathAsFunction21), while FHIR R4's invariants need the
  // lenient reading (see CompileOptions::lenient_as).
  options.lenient_as = false;
  auto expr = Expression::compile(t.expression, options);
  if (!expr) {
    if (!t.invalid.empty()) {
      if (std::getenv("GW_SUITE_VERBOSE")) {
        std::cout << "invalid " << t.name << " [" << t.invalid << "] compile: " << expr.error().to_string() << "\n";
      }
      // A syntax error must be reported as one; semantic and execution
      // errors may be caught at compile time (earlier is stricter).
      if (t.invalid == "syntax" && expr.error().code() != ErrorCode::kParse) {
        return "expected a syntax error, got: " + expr.error().to_string();
      }
      return {};
    }
    return "compile error: " + expr.error().to_string();
  }
  EvaluationContext ctx;
  Collection input;
  if (root) {
    input.push_back(Item::node(*root));
    ctx.resource = root;
    ctx.root_resource = root;
  }
  auto result = expr->evaluate(input, ctx);
  if (!result) {
    if (t.invalid == "syntax" || t.invalid == "semantic") {
      return "expected a " + t.invalid + " error at compile time, got an evaluation error: " +
             result.error().to_string();
    }
    if (!t.invalid.empty()) {
      if (std::getenv("GW_SUITE_VERBOSE")) {
        std::cout << "invalid " << t.name << " [" << t.invalid << "] evaluate: " << result.error().to_string() << "\n";
      }
      return {};
    }
    return "evaluation error: " + result.error().to_string();
  }
  if (!t.invalid.empty()) return "expected an error (invalid=\"" + t.invalid + "\"), got a result";
  Collection actual = *result;
  if (t.predicate) {
    bool value = !actual.empty();
    if (actual.size() == 1 && actual[0].kind() == ItemKind::kBoolean) value = actual[0].boolean();
    actual = Collection{Item::boolean(value)};
  }
  if (actual.size() != t.outputs.size()) {
    std::string got;
    for (const Item& i : actual) got += (got.empty() ? "" : ", ") + i.to_string();
    return "expected " + std::to_string(t.outputs.size()) + " item(s), got " + std::to_string(actual.size()) +
           " [" + got + "]";
  }
  if (t.ordered) {
    for (std::size_t k = 0; k < actual.size(); ++k) {
      std::string why;
      if (!output_matches(actual[k], t.outputs[k], why)) return "item " + std::to_string(k) + ": " + why;
    }
  } else {
    std::vector<bool> used(t.outputs.size(), false);
    for (const Item& a : actual) {
      bool found = false;
      for (std::size_t k = 0; k < t.outputs.size() && !found; ++k) {
        std::string why;
        if (!used[k] && output_matches(a, t.outputs[k], why)) used[k] = found = true;
      }
      if (!found) return "unexpected item " + a.to_string();
    }
  }
  return {};
}

TEST(FhirpathSuite, RunsEveryTest) {
  const testing::CoreDefinitions* core = testing::core_definitions();
  ASSERT_NE(core, nullptr);
  std::string xml = testing::read_file(std::string(GW_FHIRPATH_SUITE_DIR) + "/tests-fhir-r4.xml");
  ASSERT_FALSE(xml.empty()) << "suite not found under " << GW_FHIRPATH_SUITE_DIR;
  std::vector<SuiteTest> tests = read_suite(xml);
  ASSERT_EQ(tests.size(), 935u) << "the suite reader lost or invented tests";

  std::map<std::string, Loaded> inputs;
  int passed = 0;
  int failed = 0;
  for (const SuiteTest& t : tests) {
    std::string problem = run_one(t, core->model, inputs);
    if (problem.empty()) {
      ++passed;
    } else {
      ++failed;
      std::cout << "FAIL " << t.group << "/" << t.name << ": " << problem << "\n";
    }
  }
  std::cout << "fhirpath suite: " << passed << " passed, " << failed << " failed\n";
  EXPECT_GE(passed, kMinimumPassing);
}

}  // namespace
}  // namespace gw::fhirpath
