// run_fhirpath_command(): the `fhir-gateway fhirpath` command's behaviour,
// output format and exit codes.
#include "gateway/fhirpath/fhirpath.hpp"

#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace gw::fhirpath {
namespace {

struct CommandRun {
  int code;
  std::string out;
  std::string err;
};

CommandRun run(std::vector<std::string_view> args) {
  const testing::CoreDefinitions* core = testing::core_definitions();
  if (!core) return {-1, "", "no model"};
  std::ostringstream out, err;
  int code = run_fhirpath_command(args, *core->model, out, err);
  return {code, out.str(), err.str()};
}

std::string write_patient() {
  std::string path = ::testing::TempDir() + "/fhirpath_cli_patient.json";
  std::ofstream f(path);
  f << R"({"resourceType": "Patient", "id": "x", "active": true, "birthDate": "1974-12-25",
           "name": [{"family": "Chalmers", "given": ["Peter"]}]})";
  return path;
}

TEST(FhirpathCommand, PrintsTheResultAsJson) {
  std::string file = write_patient();
  CommandRun r = run({"name.given | birthDate | active | name.count() | 1.50 'mg'", file});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // Pretty-printed: remove whitespace to compare the structure.
  std::string compact;
  for (char c : r.out) {
    if (c != ' ' && c != '\n') compact += c;
  }
  EXPECT_EQ(compact, R"(["Peter","1974-12-25",true,1,{"value":1.50,"unit":"mg"}])");
}

TEST(FhirpathCommand, VariablesAndExitCodes) {
  std::string file = write_patient();
  CommandRun v = run({"%greeting & ', ' & name.given.first()", file, "--var", "greeting=Hello"});
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_NE(v.out.find("\"Hello, Peter\""), std::string::npos) << v.out;

  CommandRun bad_syntax = run({"name.", file});
  EXPECT_EQ(bad_syntax.code, 2);
  EXPECT_NE(bad_syntax.err.find("offset 5"), std::string::npos) << bad_syntax.err;

  CommandRun unknown_element = run({"name.given1", file});
  EXPECT_EQ(unknown_element.code, 2);

  CommandRun eval_error = run({"name.given.single() | name.family.single() | (1 | 2).single()", file});
  EXPECT_EQ(eval_error.code, 1);

  EXPECT_EQ(run({"name"}).code, 2);
  EXPECT_EQ(run({"name", file, "--var"}).code, 2);
  EXPECT_EQ(run({"name", file, "--var", "novalue"}).code, 2);
  EXPECT_EQ(run({"name", ::testing::TempDir() + "/does-not-exist.json"}).code, 2);
}

}  // namespace
}  // namespace gw::fhirpath
