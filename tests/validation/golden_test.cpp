// Golden cases: tests/data/validation/<case>.json is validated and the
// issues (severity, code, expression; not the message text) are compared
// with <case>.outcome.json, an OperationOutcome. An optional
// <case>.profiles lists canonical URLs (one per line) to validate against
// explicitly. Information-level issues are not compared.
//
// GW_UPDATE_GOLDENS=1 rewrites the outcome files from the current results
// (review the diff before committing it).
#include "gateway/validation/validation.hpp"

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"
#include "tests/validation/validation_support.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gw::validation {
namespace {

namespace fs = std::filesystem;

std::string data_dir() { return gw::testing::source_dir() + "/tests/data/validation"; }

std::vector<std::string> case_names() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(data_dir())) {
    std::string name = e.path().filename().string();
    const std::string suffix = ".json";
    if (!e.is_regular_file() || name.size() <= suffix.size()) continue;
    if (name.find(".outcome.json") != std::string::npos) continue;
    if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    out.push_back(name.substr(0, name.size() - suffix.size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string key_of(std::string_view severity, std::string_view code, std::string_view expression) {
  return std::string(severity) + " " + std::string(code) + " " + std::string(expression);
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, MatchesOutcome) {
  const std::string base = data_dir() + "/" + GetParam();
  const auto* env = gw::testing::validation_env();
  ASSERT_NE(env, nullptr);
  auto doc = json::Document::parse_file(base + ".json");
  ASSERT_TRUE(doc) << doc.error().to_string();
  ValidateOptions options;
  {
    std::ifstream in(base + ".profiles");
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] != '#') options.profiles.push_back(line);
    }
  }
  auto issues = env->validator->validate(doc->root(), options);
  ASSERT_TRUE(issues) << issues.error().to_string();
  std::vector<Issue> kept;
  for (const Issue& i : *issues) {
    if (i.severity != Issue::Severity::kInformation) kept.push_back(i);
  }
  if (const char* u = std::getenv("GW_UPDATE_GOLDENS"); u && std::string(u) == "1") {
    std::ofstream out(base + ".outcome.json");
    std::string text = fhir::operation_outcome_json(kept, true);
    out << text << "\n";
    return;
  }
  auto expected_doc = json::Document::parse_file(base + ".outcome.json");
  ASSERT_TRUE(expected_doc) << "missing or bad " << base << ".outcome.json";
  std::vector<std::string> expected;
  for (json::Value i : expected_doc->root().find("issue").items()) {
    if (i.find("severity").str() == "information") continue;
    expected.push_back(key_of(i.find("severity").str(), i.find("code").str(), i.find("expression")[0].str()));
  }
  std::vector<std::string> actual;
  std::ostringstream detail;
  for (const Issue& i : kept) {
    actual.push_back(key_of(fhir::to_string(i.severity), i.code, i.expression));
    detail << "  " << fhir::to_string(i.severity) << " " << i.code << " " << i.expression << " ("
           << i.position.line << ":" << i.position.column << ") " << i.diagnostics << "\n";
  }
  std::sort(expected.begin(), expected.end());
  std::sort(actual.begin(), actual.end());
  EXPECT_EQ(actual, expected) << "actual issues:\n" << detail.str();
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, ::testing::ValuesIn(case_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace gw::validation
