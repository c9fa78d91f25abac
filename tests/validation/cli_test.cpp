#include "gateway/validation/validation.hpp"

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

#include <sstream>
#include <string>
#include <vector>

namespace gw::validation {
namespace {

struct CommandRun {
  int code = -1;
  std::string out;
  std::string err;
};

CommandRun run(std::vector<std::string> args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  std::ostringstream out, err;
  CommandRun r;
  r.code = run_validate_command(views, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::string data(const std::string& name) {
  return gw::testing::source_dir() + "/tests/data/validation/" + name;
}

TEST(ValidateCommandTest, ValidFileExitsZero) {
  CommandRun r = run({data("structure-valid-patient.json")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("structure-valid-patient.json: valid"), std::string::npos) << r.out;
}

TEST(ValidateCommandTest, InvalidFileTextFormatNamesLineColumnAndPath) {
  CommandRun r = run({data("fmt-bad-date.json")});
  EXPECT_EQ(r.code, 1);
  // file:line:col: severity: expression: message
  EXPECT_NE(r.out.find("fmt-bad-date.json:8:16: error: Patient.birthDate: "), std::string::npos) << r.out;
}

TEST(ValidateCommandTest, NdjsonHasOneLinePerFile) {
  CommandRun r = run({"--format", "ndjson", data("structure-valid-patient.json"), data("fmt-bad-date.json")});
  EXPECT_EQ(r.code, 1);
  std::istringstream lines(r.out);
  std::string first, second, third;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_FALSE(std::getline(lines, third));
  auto a = json::Document::parse(first);
  auto b = json::Document::parse(second);
  ASSERT_TRUE(a && b) << r.out;
  EXPECT_TRUE(a->root().find("valid").boolean());
  EXPECT_EQ(b->root().find("errors").str(), "1");
  EXPECT_EQ(b->root().find("outcome").find("resourceType").str(), "OperationOutcome");
}

TEST(ValidateCommandTest, JsonFormatIsAnOperationOutcome) {
  CommandRun r = run({"--format", "json", data("fmt-bad-date.json")});
  EXPECT_EQ(r.code, 1);
  auto doc = json::Document::parse(r.out);
  ASSERT_TRUE(doc) << r.out;
  EXPECT_EQ(doc->root().find("issue")[0].find("expression")[0].str(), "Patient.birthDate");
}

TEST(ValidateCommandTest, IgFolderAndExplicitProfile) {
  std::string profiles = data("profiles");
  CommandRun r = run({"--ig", profiles, "--profile", "http://example.org/fhir/StructureDefinition/test-patient",
               data("structure-valid-patient.json")});
  EXPECT_EQ(r.code, 1) << r.err;  // the plain patient lacks what the profile requires
  EXPECT_NE(r.out.find("error: Patient: missing required"), std::string::npos) << r.out;
  CommandRun ok = run({"--ig", profiles, data("profile-patient-valid.json")});
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
}

TEST(ValidateCommandTest, UsageErrorsExitTwo) {
  EXPECT_EQ(run({}).code, 2);
  EXPECT_EQ(run({"--format", "xml", data("fmt-bad-date.json")}).code, 2);
  EXPECT_EQ(run({"--profile", "http://example.org/unknown", data("fmt-bad-date.json")}).code, 2);
  EXPECT_EQ(run({data("does-not-exist.json")}).code, 2);
  EXPECT_EQ(run({"--bogus", data("fmt-bad-date.json")}).code, 2);
  EXPECT_EQ(run({"--ig", "no.such.package#9.9.9", data("fmt-bad-date.json")}).code, 2);
}

TEST(ValidateCommandTest, NotJsonIsInvalidNotAnError) {
  CommandRun r = run({gw::testing::source_dir() + "/tests/validation/CMakeLists.txt"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("fatal"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace gw::validation
