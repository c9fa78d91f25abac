#include "gateway/packages/packages.hpp"

#include "test_files.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace gw::packages {
namespace {

using test::package_json;
using test::resource_json;
using test::TempTree;

struct CommandRun {
  int code = -1;
  std::string out;
  std::string err;
};

CommandRun run(std::vector<std::string> args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  std::ostringstream out, err;
  CommandRun r;
  r.code = run_packages_command(views, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

class CliTest : public ::testing::Test {
 protected:
  CliTest() {
    for (const char* id : {"a#1.0.0", "b#2.0.0"}) {
      auto pid = PackageId::parse(id);
      std::string dir = "cache/" + std::string(id) + "/package/";
      tree_.write(dir + "package.json",
                  package_json(pid->name, pid->version,
                               pid->name == "a" ? R"("b": "1.0.0", "gone": "3.0.0")" : ""));
      tree_.write(dir + "ValueSet-" + pid->name + ".json",
                  resource_json("ValueSet", pid->name, "http://vs/" + pid->name));
      EXPECT_TRUE(write_index(tree_.path(dir)));
    }
  }
  std::string cache() const { return tree_.path("cache"); }
  TempTree tree_;
};

TEST_F(CliTest, HelpGoesToOutWithExitZero) {
  for (auto args : {std::vector<std::string>{"--help"}, {"help"}, {"list", "-h"}}) {
    CommandRun r = run(args);
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("usage: fhir-gateway packages"), std::string::npos);
    EXPECT_TRUE(r.err.empty());
  }
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  for (auto args : {std::vector<std::string>{}, {"frobnicate"}, {"list", "--bogus"},
                    {"list", "--fhir-cache"}, {"list", "--fhir-cache="}, {"install", "--loaded"},
                    {"list", "a#1.0.0"}, {"list", "--manifest", "x"}}) {
    CommandRun r = run(args);
    EXPECT_EQ(r.code, 2) << (args.empty() ? "" : args[0]);
    EXPECT_NE(r.err.find("error:"), std::string::npos);
    EXPECT_NE(r.err.find("usage:"), std::string::npos);
  }
}

TEST_F(CliTest, ListPrintsInstalledPackagesWithCounts) {
  CommandRun r = run({"list", "--fhir-cache", cache()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("a#1.0.0"), std::string::npos);
  EXPECT_NE(r.out.find("b#2.0.0"), std::string::npos);
  EXPECT_NE(r.out.find("1 resources"), std::string::npos);
  EXPECT_LT(r.out.find("a#1.0.0"), r.out.find("b#2.0.0"));

  CommandRun empty = run({"list", "--fhir-cache=" + tree_.path("elsewhere")});
  EXPECT_EQ(empty.code, 0);
  EXPECT_NE(empty.out.find("packages install"), std::string::npos);
}

TEST_F(CliTest, ListLoadedPrintsTheClosureAndWarnings) {
  CommandRun r = run({"list", "--loaded", "--fhir-cache", cache(), "a#1.0.0"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("a#1.0.0"), std::string::npos);
  EXPECT_NE(r.out.find("b#2.0.0"), std::string::npos);
  EXPECT_NE(r.out.find("for a#1.0.0 (which names 1.0.0)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("warning: a#1.0.0 depends on gone#3.0.0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("loaded 2 packages, 2 resources"), std::string::npos) << r.out;

  CommandRun missing = run({"list", "--loaded", "--fhir-cache", cache(), "c#1.0.0"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("fhir-gateway packages install"), std::string::npos);
}

TEST_F(CliTest, InstallWithEverythingPresentFetchesNothing) {
  std::string manifest = tree_.write("m/package.json",
                                     R"({"dependencies": {"a": "1.0.0", "b": "2.0.0"}})");
  tree_.write("m/package-lock.json", R"({"lockfileVersion": 3, "packages": {
      "node_modules/a": {"version": "1.0.0", "integrity": "sha512-A="},
      "node_modules/b": {"version": "2.0.0", "integrity": "sha512-B="}}})");
  CommandRun r = run({"install", "--fhir-cache", cache(), "--manifest", manifest});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("0 installed, 2 already present"), std::string::npos) << r.out;

  CommandRun missing = run({"install", "--fhir-cache", cache(), "--manifest", tree_.path("nope.json")});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("not found"), std::string::npos);
}

}  // namespace
}  // namespace gw::packages
