// `fhir-gateway redact` as a function: options, exit codes, output shape.
#include "gateway/consent/consent.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/consent/consent_fixture.hpp"

namespace gw::consent {
namespace {

class FixedClock final : public Clock {
 public:
  TimePoint now() const override { return testing::fixture_now(); }
};

struct CommandRun {
  int code = -1;
  std::string out, err;
};

CommandRun run(std::vector<std::string> args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  std::ostringstream out, err;
  FixedClock clock;
  CommandRun r;
  r.code = run_redact_command(views, testing::model(), clock, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

TEST(RedactCommand, ReleasesWithReceiptAndAudit) {
  CommandRun r = run({"--config", testing::config_path("demo.json"), "--recipient", "demo-hospital",
                      "--purpose", "TREAT", testing::data_path("planted-bundle.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  json::Document doc = testing::parse(r.out);
  EXPECT_EQ(doc.root().find("document").find("resourceType").str(), "Bundle");
  EXPECT_EQ(doc.root().find("receipt").find("resourceType").str(), "Provenance");
  EXPECT_EQ(doc.root().find("audit").find("resourceType").str(), "AuditEvent");
  EXPECT_EQ(r.out.find("12 Hidden Lane"), std::string::npos);
  EXPECT_EQ(r.out.find("P99887766"), std::string::npos);
}

TEST(RedactCommand, ConsentFilesOpenWhatTheyPermit) {
  CommandRun r =
      run({"--config", testing::config_path("demo.json"), "--recipient", "demo-clinic", "--purpose",
           "TREAT", "--consent", testing::data_path("consent-permit-location-clinic.json"),
           testing::data_path("planted-bundle.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("12 Hidden Lane"), std::string::npos);
  EXPECT_NE(r.out.find("Consent/permit-home-visits"), std::string::npos);
  CommandRun revoked =
      run({"--config", testing::config_path("demo.json"), "--recipient", "demo-clinic", "--purpose",
           "TREAT", "--consent", testing::data_path("consent-revoked.json"),
           testing::data_path("planted-bundle.json")});
  ASSERT_EQ(revoked.code, 0) << revoked.err;
  EXPECT_EQ(revoked.out.find("12 Hidden Lane"), std::string::npos);
}

TEST(RedactCommand, EnforcementPurposeIsRefusedWithOutcomeAndAudit) {
  CommandRun r = run({"--config", testing::config_path("demo.json"), "--recipient", "demo-clinic",
                      "--purpose", "HLEGAL", testing::data_path("planted-bundle.json")});
  EXPECT_EQ(r.code, 1);
  json::Document doc = testing::parse(r.out);
  EXPECT_EQ(doc.root().find("outcome").find("resourceType").str(), "OperationOutcome");
  EXPECT_EQ(doc.root().find("outcome").find("issue")[0].find("code").str(), "forbidden");
  EXPECT_EQ(doc.root().find("audit").find("resourceType").str(), "AuditEvent");
  EXPECT_FALSE(doc.root().find("document"));
  EXPECT_NE(r.err.find("enforcement-purpose"), std::string::npos);
}

TEST(RedactCommand, UsageErrors) {
  EXPECT_EQ(run({"--help"}).code, 0);
  EXPECT_EQ(run({}).code, 2);
  EXPECT_EQ(run({"--recipient", "demo-clinic", "--purpose", "TREAT"}).code, 2);
  EXPECT_EQ(run({"--recipient"}).code, 2);
  EXPECT_EQ(run({"--frobnicate", "x"}).code, 2);
  CommandRun missing = run({"--config", testing::config_path("demo.json"), "--recipient",
                            "demo-clinic", "--purpose", "TREAT", "/nonexistent/file.json"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("/nonexistent/file.json"), std::string::npos);
  CommandRun bad_config = run({"--config", "/nonexistent/demo.json", "--recipient", "demo-clinic",
                               "--purpose", "TREAT", testing::data_path("planted-bundle.json")});
  EXPECT_EQ(bad_config.code, 2);
  CommandRun bad_consent =
      run({"--config", testing::config_path("demo.json"), "--recipient", "demo-clinic", "--purpose",
           "TREAT", "--consent", testing::data_path("planted-bundle.json"),
           testing::data_path("planted-bundle.json")});
  EXPECT_EQ(bad_consent.code, 2);  // a Bundle of non-Consents
}

}  // namespace
}  // namespace gw::consent
