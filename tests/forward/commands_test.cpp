// The operator commands: `outbox list` and `outbox replay` on a real SQLite
// store, driven in-process like the CLI runs them.
#include "gateway/forward/forward.hpp"

#include "gateway/store/store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <sstream>

namespace gw::forward {
namespace {

int run(std::function<int(std::span<const std::string_view>, std::ostream&, std::ostream&)> cmd,
        std::vector<std::string_view> args, std::string& out, std::string& err) {
  std::ostringstream o, e;
  const int code = cmd(args, o, e);
  out = o.str();
  err = e.str();
  return code;
}

class OutboxCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gw_outbox_cmd_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_ = dir_ + "/gateway.db";
    // Three deliveries to "clinic": two become dead letters, one stays pending.
    store::SqliteOptions o;
    o.path = db_;
    o.clock = std::make_shared<SystemClock>();
    auto st = store::open_sqlite(o);
    ASSERT_TRUE(st) << st.error().to_string();
    for (int i = 0; i < 3; ++i) {
      store::PushRecord rec;
      rec.sender = "sender";
      rec.idempotency_key = "urn:ietf:rfc:3986|urn:uuid:k" + std::to_string(i);
      rec.patient_key = "pk";
      rec.original = "{}";
      rec.handoff_id = "h" + std::to_string(i);
      rec.handoff = "{}";
      rec.response_status = "201";
      rec.deliveries.push_back({"clinic", "urn:ietf:rfc:3986|urn:uuid:b" + std::to_string(i), "{}"});
      std::promise<bool> done;
      (*st)->commit_push(std::move(rec), [&](Result<store::PushResult> r) { done.set_value(bool(r)); });
      ASSERT_TRUE(done.get_future().get());
    }
    auto claimed = (*st)->claim("clinic", 2, std::chrono::seconds(60));
    ASSERT_TRUE(claimed);
    ASSERT_EQ(claimed->size(), 2u);
    for (const store::Delivery& d : *claimed) {
      store::Failure f;
      f.error = "HTTP 422";
      f.max_attempts = 1;
      f.retry_at = std::chrono::system_clock::now();
      auto state = (*st)->mark_failed(d.id, d.lease, f, {});
      ASSERT_TRUE(state);
      ASSERT_EQ(*state, store::DeliveryState::kDead);
      dead_ids_.push_back(d.id);
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_, db_;
  std::vector<std::int64_t> dead_ids_;
};

TEST_F(OutboxCommand, ListsQueuesAndDeadLettersThenReplaysThem) {
  std::string out, err;
  ASSERT_EQ(run(run_outbox_command, {"list", "--store", db_}, out, err), 0) << err;
  EXPECT_NE(out.find("clinic\t1\t0\t2\t0"), std::string::npos) << out;
  EXPECT_NE(out.find("dead letters: 2"), std::string::npos) << out;
  EXPECT_NE(out.find("HTTP 422"), std::string::npos);

  const std::string one = std::to_string(dead_ids_[0]);
  ASSERT_EQ(run(run_outbox_command, {"replay", "--id", one, "--store", db_}, out, err), 0) << err;
  EXPECT_EQ(out, "replayed 1\n");
  EXPECT_EQ(run(run_outbox_command, {"replay", "--id", one, "--store", db_}, out, err), 1);  // not dead any more

  ASSERT_EQ(run(run_outbox_command, {"replay", "--recipient", "clinic", "--store", db_}, out, err), 0) << err;
  EXPECT_EQ(out, "replayed 1\n");
  ASSERT_EQ(run(run_outbox_command, {"list", "--store", db_}, out, err), 0);
  EXPECT_NE(out.find("clinic\t3\t0\t0\t0"), std::string::npos) << out;
  EXPECT_NE(out.find("dead letters: 0"), std::string::npos);
}

TEST_F(OutboxCommand, UsageErrorsAndAMissingStoreExitWithTwo) {
  std::string out, err;
  EXPECT_EQ(run(run_outbox_command, {}, out, err), 2);
  EXPECT_EQ(run(run_outbox_command, {"purge", "--store", db_}, out, err), 2);
  EXPECT_EQ(run(run_outbox_command, {"replay", "--store", db_}, out, err), 2);  // neither --id nor --recipient
  EXPECT_EQ(run(run_outbox_command, {"replay", "--id", "x", "--store", db_}, out, err), 2);
  EXPECT_EQ(run(run_outbox_command, {"list", "--store", dir_ + "/absent.db"}, out, err), 2);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/absent.db"));
}

TEST(ClinicSimCommand, RejectsBadUsage) {
  std::string out, err;
  EXPECT_EQ(run(run_clinic_sim_command, {}, out, err), 2);
  EXPECT_EQ(run(run_clinic_sim_command, {"--listen", "127.0.0.1:0", "--mode", "sometimes"}, out, err), 2);
  EXPECT_EQ(run(run_clinic_sim_command, {"--listen", "not-an-address"}, out, err), 2);
  EXPECT_EQ(run(run_clinic_sim_command, {"--help"}, out, err), 0);
}

}  // namespace
}  // namespace gw::forward
