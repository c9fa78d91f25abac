#include "gateway/app/app.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace gw::app {
namespace {

struct Cli {
  int code = -1;
  std::string out, err;
};

Cli run_cli(std::vector<std::string> argv) {
  std::vector<std::string_view> args;
  args.emplace_back("fhir-gateway");
  for (const auto& a : argv) args.emplace_back(a);
  std::ostringstream out, err;
  Cli r;
  r.code = run(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::string write_temp(const std::string& name, const std::string& content) {
  auto dir = std::filesystem::temp_directory_path() / "gw_cli_test";
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::ofstream(p) << content;
  return p.string();
}

TEST(Cli, PackagesListShowsThePinnedPackages) {
  Cli r = run_cli({"packages", "list"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  for (const char* id : {"hl7.fhir.r4.core#4.0.1", "hl7.fhir.uv.ips#2.0.0", "hl7.terminology.r4#7.0.1",
                         "hl7.fhir.r4.examples#4.0.1"}) {
    EXPECT_NE(r.out.find(id), std::string::npos) << id;
  }
}

// `packages build` is routed to the validation module (it needs the
// snapshot generator); the rest of `packages` to the packages module.
TEST(Cli, PackagesBuildIsRoutedAndDocumented) {
  Cli help = run_cli({"packages", "--help"});
  EXPECT_EQ(help.code, kExitOk);
  EXPECT_NE(help.out.find("build SOURCE_DIR"), std::string::npos) << help.out;
  Cli usage = run_cli({"packages", "build"});
  EXPECT_EQ(usage.code, kExitUsage);
  EXPECT_NE(usage.err.find("packages build: no SOURCE_DIR"), std::string::npos) << usage.err;
  Cli missing = run_cli({"packages", "build", "/nonexistent-gw-source", "--no-install"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("package.json"), std::string::npos) << missing.err;
}

TEST(Cli, HelpListsCommandsAndExitCodes) {
  Cli r = run_cli({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("validate"), std::string::npos);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos);
  Cli none = run_cli({});
  EXPECT_EQ(none.code, kExitUsage);
  Cli bad = run_cli({"frobnicate"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_NE(bad.err.find("unknown command"), std::string::npos);
  EXPECT_EQ(run_cli({"validate", "--help"}).code, kExitOk);
}

TEST(Cli, ValidateReportsMalformedJsonWithLineAndColumn) {
  std::string good = write_temp("good.json", R"({"resourceType": "Patient"})");
  std::string bad = write_temp("bad.json", "{\n  \"resourceType\": \"Patient\",\n  \"a\": [1,\n}");
  Cli ok = run_cli({"validate", good});
  EXPECT_EQ(ok.code, kExitOk) << ok.out << ok.err;
  Cli r = run_cli({"validate", bad});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.out.find(bad + ":4:1: fatal"), std::string::npos) << r.out;
  Cli nd = run_cli({"validate", "--format", "ndjson", good, bad});
  EXPECT_EQ(nd.code, kExitFailure);
  EXPECT_NE(nd.out.find("\"valid\":true"), std::string::npos);
  EXPECT_NE(nd.out.find("\"valid\":false"), std::string::npos);
  std::string unknown = write_temp("unknown.json", R"({"resourceType": "Pateint"})");
  Cli u = run_cli({"validate", unknown});
  EXPECT_EQ(u.code, kExitFailure);
  EXPECT_NE(u.out.find("unknown resourceType"), std::string::npos) << u.out;
  EXPECT_EQ(run_cli({"validate"}).code, kExitUsage);
  EXPECT_EQ(run_cli({"validate", "/nonexistent/file.json"}).code, kExitUsage);
}

}  // namespace
}  // namespace gw::app

namespace gw::app {
namespace {

TEST(Cli, HandoffPrintsAHandoffDocument) {
  std::string src = GW_SOURCE_DIR;
  Cli r = run_cli({"handoff", "--mappings", src + "/mappings", src + "/config/demo/discharge-summary.json"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("\"type\": \"document\""), std::string::npos);
  EXPECT_NE(r.out.find("StructureDefinition/HandoffDocument"), std::string::npos);
  EXPECT_EQ(run_cli({"handoff", "--help"}).code, kExitOk);
  EXPECT_EQ(run_cli({"handoff"}).code, kExitUsage);
}

}  // namespace
}  // namespace gw::app
