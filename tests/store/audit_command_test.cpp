// `fhir-gateway audit verify|export` end to end on a SQLite store file.
#include "gateway/store/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

namespace gw::store {
namespace {

class AuditCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gw-audit-cli-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/gateway.db";
    SqliteOptions o;
    o.path = path_;
    o.clock = clock_;
    auto st = open_sqlite(o);
    ASSERT_TRUE(st) << st.error().to_string();
    std::promise<Status> p;
    (*st)->append_audit({R"({"resourceType":"AuditEvent","action":"R"})", R"({"resourceType":"AuditEvent","action":"E"})"},
                        [&](Status s) { p.set_value(s); });
    ASSERT_TRUE(p.get_future().get());
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  int run(std::vector<std::string_view> args) {
    out_.str("");
    err_.str("");
    return run_audit_command(args, clock_, out_, err_);
  }

  std::shared_ptr<const Clock> clock_ = std::make_shared<SystemClock>();
  std::string dir_, path_;
  std::ostringstream out_, err_;
};

TEST_F(AuditCommand, VerifyReportsAnIntactChain) {
  EXPECT_EQ(run({"verify", "--store", path_}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "audit chain: ok (2 records)\n");
}

TEST_F(AuditCommand, VerifyNamesTheFirstDamagedRecord) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE audit SET event = replace(event, '\"E\"', '\"D\"') WHERE seq = 2", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(run({"verify", "--store", path_}), 1);
  EXPECT_NE(out_.str().find("BROKEN at record 2"), std::string::npos) << out_.str();
}

TEST_F(AuditCommand, ExportPrintsABundle) {
  EXPECT_EQ(run({"export", "--store", path_}), 0) << err_.str();
  EXPECT_NE(out_.str().find(R"("resourceType":"Bundle")"), std::string::npos);
  EXPECT_NE(out_.str().find(R"({"action":"E","resourceType":"AuditEvent"})"), std::string::npos);
}

TEST_F(AuditCommand, StoreComesFromTheConfigFile) {
  std::string config = dir_ + "/gateway.json";
  std::ofstream(config) << R"({"store": {"sqlite": ")" << path_ << R"("}})";
  EXPECT_EQ(run({"verify", "--config", config}), 0) << err_.str();
}

TEST_F(AuditCommand, MissingStoreAndBadUsageAreExitTwo) {
  EXPECT_EQ(run({"verify", "--store", dir_ + "/nope.db"}), 2);
  EXPECT_NE(err_.str().find("no such store"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/nope.db"));
  EXPECT_EQ(run({"frobnicate"}), 2);
  EXPECT_EQ(run({}), 2);
}

}  // namespace
}  // namespace gw::store
