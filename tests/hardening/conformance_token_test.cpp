// `fhir-gateway conformance run --token T`: an integrator whose deployment
// authenticates with SMART Backend Services instead of a client certificate
// runs the kit with the gateway's own bearer token. The gateway is the real
// binary (live_gateway.hpp: SMART on, client certificates optional), the
// token is obtained as a SMART client obtains one (client_credentials with a
// signed assertion), and the CLI presents no certificate at all, so the
// push suite can pass only if the token reaches the gateway on every
// request. The same run without the token, and with a token whose
// signature was altered, must fail: the option is not a no-op.
#include "tests/hardening/live_gateway.hpp"

#include "tests/support/process.hpp"

namespace gw::hardening {
namespace {

struct KitRun {
  int exit_code = -1;
  std::string console;
};

KitRun run_push_suite(const Live& live, const std::vector<std::string>& extra, const std::string& log) {
  const std::string src = GW_SOURCE_DIR;
  testing::ProcessOptions o;
  o.argv = {GW_GATEWAY_BIN,
            "conformance",
            "run",
            "--suite",
            "hospital-push",
            "--target",
            "https://127.0.0.1:" + std::to_string(live.port) + "/fhir",
            "--ca",
            live.certs + "/ca.crt",
            "--suites",
            src + "/conformance/suites"};
  o.argv.insert(o.argv.end(), extra.begin(), extra.end());
  o.cwd = src;
  o.stderr_path = live.dir + "/" + log;
  auto child = testing::ChildProcess::spawn(o);
  if (!child) {
    ADD_FAILURE() << child.error().to_string();
    return {};
  }
  KitRun r;
  r.exit_code = (*child)->wait();
  r.console = (*child)->output();
  return r;
}

TEST(ConformanceToken, TheKitAuthenticatesWithTheBearerTokenAlone) {
  Live live;
  ASSERT_TRUE(live.start());
  const std::string token = live.token(Who::kHospital, "system/Bundle.c");
  ASSERT_FALSE(token.empty()) << "the gateway issued no token; its log: " << read_text(live.dir + "/gateway.log");

  const KitRun with_token = run_push_suite(live, {"--token", token}, "with-token.log");
  EXPECT_EQ(with_token.exit_code, 0) << with_token.console << read_text(live.dir + "/with-token.log");
  EXPECT_NE(with_token.console.find("pass valid-discharge-summary-accepted"), std::string::npos)
      << with_token.console;
  EXPECT_NE(with_token.console.find("test(s) passed, 0 failed: OK"), std::string::npos) << with_token.console;

  // No certificate and no token: the accepted push is refused (401).
  const KitRun anonymous = run_push_suite(live, {}, "anonymous.log");
  EXPECT_EQ(anonymous.exit_code, 1) << anonymous.console;
  EXPECT_EQ(anonymous.console.find("pass valid-discharge-summary-accepted"), std::string::npos)
      << anonymous.console;

  // The same token with its last signature character changed: refused too.
  std::string forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  const KitRun with_forged = run_push_suite(live, {"--token", forged}, "forged.log");
  EXPECT_EQ(with_forged.exit_code, 1) << with_forged.console;
  EXPECT_EQ(with_forged.console.find("pass valid-discharge-summary-accepted"), std::string::npos)
      << with_forged.console;

  // Neither the console nor the CLI's log carries the token itself.
  for (const std::string& text : {with_token.console, read_text(live.dir + "/with-token.log"), with_forged.console}) {
    EXPECT_EQ(text.find(token.substr(token.size() - 16)), std::string::npos);
  }
}

}  // namespace
}  // namespace gw::hardening
