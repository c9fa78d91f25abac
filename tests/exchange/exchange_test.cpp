// The push and pull use cases end to end below HTTP: the real validator,
// the real mappings, the demo consent policy and registrations, and a real
// SQLite store in a temporary folder.
#include "gateway/exchange/exchange.hpp"

#include "tests/exchange/fixture.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <thread>

#include <unistd.h>

namespace gw::exchange {
namespace {

using testing::bundle_with_sensitive_data;
using testing::demo_bundle;

class ExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gw-exchange-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    testing::World w = testing::make_world(dir_.string(), clock_);
    ASSERT_TRUE(w.error.empty()) << w.error;
    store_ = w.store;
    ex_ = w.exchange;
  }
  void TearDown() override {
    ex_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Reply push(const std::string& caller, std::string body, std::vector<std::string> recipients,
             std::string purpose = "TREAT") {
    std::promise<Reply> p;
    auto f = p.get_future();
    PushRequest req{std::move(body), std::move(recipients), std::move(purpose)};
    ex_->push(Caller{caller}, std::move(req), [&p](Reply r) { p.set_value(std::move(r)); });
    return f.get();
  }
  std::vector<store::Delivery> outbox(const std::string& recipient) {
    auto c = store_->claim(recipient, 100, std::chrono::seconds(60));
    EXPECT_TRUE(c);
    return c ? *c : std::vector<store::Delivery>{};
  }
  static std::string location(const Reply& r) {
    for (const auto& [k, v] : r.headers) {
      if (k == "Location") return v;
    }
    return {};
  }
  static std::string patient_key_of(const Reply& r) {
    const std::string marker = "the patient's gateway key is ";
    auto at = r.body.find(marker);
    if (at == std::string::npos) return {};
    auto end = r.body.find('"', at + marker.size());
    return r.body.substr(at + marker.size(), end - at - marker.size());
  }

  std::shared_ptr<const Clock> clock_ = std::make_shared<testing::FixedClock>();
  std::filesystem::path dir_;
  std::shared_ptr<store::Store> store_;
  std::shared_ptr<const Exchange> ex_;
};

TEST_F(ExchangeTest, PushStoresAndQueuesOneRedactedHandoffPerRecipient) {
  Reply r = push("demo-hospital", bundle_with_sensitive_data(), {"demo-clinic"});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(location(r).starts_with("Bundle/"));
  auto queued = outbox("demo-clinic");
  ASSERT_EQ(queued.size(), 1u);
  const std::string& payload = queued[0].payload;
  // The handoff arrived, filtered: no address, no passport, but the
  // clinical content and the gateway's patient key.
  EXPECT_NE(payload.find("HandoffDocument"), std::string::npos);
  EXPECT_EQ(payload.find("Hidden Lane"), std::string::npos);
  EXPECT_EQ(payload.find("Quietville"), std::string::npos);
  EXPECT_EQ(payload.find("P9988776655"), std::string::npos);
  EXPECT_NE(payload.find("MedicationStatement"), std::string::npos);
  EXPECT_NE(payload.find(patient_key_of(r)), std::string::npos);
  EXPECT_TRUE(outbox("demo-ngo").empty());
  auto audit = store_->verify_audit();
  ASSERT_TRUE(audit);
  EXPECT_TRUE(audit->ok);
  EXPECT_GE(audit->records, 2);  // the release and the push
}

TEST_F(ExchangeTest, ARetriedPushGetsTheFirstAnswerAndQueuesNothingNew) {
  Reply first = push("demo-hospital", demo_bundle(), {"demo-clinic"});
  ASSERT_EQ(first.status, 201) << first.body;
  Reply again = push("demo-hospital", demo_bundle(), {"demo-clinic"});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(location(again), location(first));
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(outbox("demo-clinic").size(), 1u);
}

TEST_F(ExchangeTest, TheNextPushFromTheSameHospitalFindsTheSamePatient) {
  Reply first = push("demo-hospital", demo_bundle(), {"demo-clinic"});
  ASSERT_EQ(first.status, 201) << first.body;
  std::string second_bundle = demo_bundle();
  auto id = second_bundle.find("0000000000ff");
  ASSERT_NE(id, std::string::npos);
  second_bundle.replace(id, 12, "0000000000fe");  // a new document for the same patient
  Reply second = push("demo-hospital", second_bundle, {"demo-clinic"});
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_NE(location(second), location(first));
  EXPECT_EQ(patient_key_of(second), patient_key_of(first));
}

// Several documents for one new patient pushed at once (a hospital's
// interface engine flushing its queue): none is refused, and all land on
// one patient key.
TEST_F(ExchangeTest, ConcurrentFirstPushesForOneNewPatientAgreeOnItsKey) {
  constexpr int kPushes = 4;
  std::vector<std::string> bodies;
  for (int n = 0; n < kPushes; ++n) {
    std::string b = demo_bundle();
    auto id = b.find("0000000000ff");
    EXPECT_NE(id, std::string::npos);
    if (id == std::string::npos) return;
    b.replace(id, 12, "00000000001" + std::to_string(n));
    bodies.push_back(std::move(b));
  }
  std::vector<Reply> replies(kPushes);
  std::vector<std::thread> threads;
  for (int n = 0; n < kPushes; ++n) {
    threads.emplace_back([&, n] { replies[n] = push("demo-hospital", bodies[n], {"demo-clinic"}); });
  }
  for (auto& t : threads) t.join();
  for (const Reply& r : replies) ASSERT_EQ(r.status, 201) << r.body;
  for (const Reply& r : replies) EXPECT_EQ(patient_key_of(r), patient_key_of(replies[0]));
  EXPECT_EQ(outbox("demo-clinic").size(), static_cast<std::size_t>(kPushes));
}

TEST_F(ExchangeTest, BadPushesGetA4xxAndStoreNothing) {
  EXPECT_EQ(push("demo-hospital", "{not json", {"demo-clinic"}).status, 400);
  EXPECT_EQ(push("demo-hospital", R"({"resourceType":"Patient","id":"x"})", {"demo-clinic"}).status, 422);
  std::string no_identifier = demo_bundle();
  auto at = no_identifier.find("\"identifier\"");
  auto end = no_identifier.find('}', at);
  no_identifier.erase(at, end - at + 2);
  EXPECT_EQ(push("demo-hospital", no_identifier, {"demo-clinic"}).status, 422);
  EXPECT_EQ(push("demo-hospital", demo_bundle(), {}).status, 422);
  EXPECT_EQ(push("demo-hospital", demo_bundle(), {"unknown-clinic"}).status, 422);
  // Invalid FHIR: a status outside its required value set.
  std::string invalid = demo_bundle();
  auto st = invalid.find("\"status\": \"final\"");
  ASSERT_NE(st, std::string::npos);
  invalid.replace(st, 17, "\"status\": \"bogus\"");
  Reply bad = push("demo-hospital", invalid, {"demo-clinic"});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("OperationOutcome"), std::string::npos);
  EXPECT_TRUE(outbox("demo-clinic").empty());
}

TEST_F(ExchangeTest, OnlyRegisteredSendersPushAndEnforcementIsRefused) {
  EXPECT_EQ(push("nobody", demo_bundle(), {"demo-clinic"}).status, 403);
  EXPECT_EQ(push("demo-clinic", demo_bundle(), {"demo-hospital"}).status, 403);  // may not submit
  Reply enforcement = push("demo-hospital", demo_bundle(), {"demo-clinic"}, "HLEGAL");
  EXPECT_EQ(enforcement.status, 403);
  EXPECT_TRUE(outbox("demo-clinic").empty());
  auto audit = store_->verify_audit();
  ASSERT_TRUE(audit);
  EXPECT_GE(audit->records, 1);  // the refusals are audited
}

TEST_F(ExchangeTest, AClinicThatReceivedAHandoffPullsTheSummaryOthersCannot) {
  Reply pushed = push("demo-hospital", bundle_with_sensitive_data(), {"demo-clinic"});
  ASSERT_EQ(pushed.status, 201) << pushed.body;
  PatientRef p{patient_key_of(pushed), "", ""};
  Reply summary = ex_->summary(Caller{"demo-clinic"}, p, "TREAT");
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_NE(summary.body.find("MedicationStatement"), std::string::npos);
  EXPECT_EQ(summary.body.find("Hidden Lane"), std::string::npos);
  EXPECT_EQ(summary.body.find("P9988776655"), std::string::npos);
  EXPECT_EQ(ex_->summary(Caller{"demo-ngo"}, p, "TREAT").status, 403);   // not registered to pull
  EXPECT_EQ(ex_->summary(Caller{"demo-clinic"}, p, "HLEGAL").status, 403);
  EXPECT_EQ(ex_->summary(Caller{"demo-clinic"}, PatientRef{"no-such-patient", "", ""}, "TREAT").status, 403);
  // The sender finds the patient by its own record number.
  Reply own = ex_->summary(Caller{"demo-hospital"}, PatientRef{"", "urn:oid:2.999.1.1", "DEMO-000123"}, "TREAT");
  EXPECT_EQ(own.status, 200) << own.body;
}

TEST_F(ExchangeTest, AClinicWithoutAHandoffForThePatientIsRefused) {
  Reply pushed = push("demo-hospital", demo_bundle(), {"demo-ngo"});
  ASSERT_EQ(pushed.status, 201) << pushed.body;
  PatientRef p{patient_key_of(pushed), "", ""};
  EXPECT_EQ(ex_->summary(Caller{"demo-clinic"}, p, "TREAT").status, 403);
  std::string id = location(pushed).substr(7);
  EXPECT_EQ(ex_->read_bundle(Caller{"demo-clinic"}, id, "TREAT").status, 404);
  EXPECT_EQ(ex_->document_references(Caller{"demo-clinic"}, p).status, 403);
}

TEST_F(ExchangeTest, ReadAndSearchTheStoredHandoff) {
  Reply pushed = push("demo-hospital", demo_bundle(), {"demo-clinic"});
  ASSERT_EQ(pushed.status, 201) << pushed.body;
  std::string id = location(pushed).substr(7);
  Reply read = ex_->read_bundle(Caller{"demo-clinic"}, id, "TREAT");
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_TRUE(read.last_modified.has_value());
  EXPECT_NE(read.body.find("\"Bundle\""), std::string::npos);
  EXPECT_EQ(ex_->read_bundle(Caller{"demo-clinic"}, "no-such-id", "TREAT").status, 404);
  Reply search = ex_->document_references(Caller{"demo-clinic"}, PatientRef{patient_key_of(pushed), "", ""});
  ASSERT_EQ(search.status, 200) << search.body;
  EXPECT_NE(search.body.find("\"total\":1"), std::string::npos);
  EXPECT_NE(search.body.find("Bundle/" + id), std::string::npos);
}

TEST_F(ExchangeTest, SeveralHandoffsMergeIntoOneSummary) {
  ASSERT_EQ(push("demo-hospital", demo_bundle(), {"demo-clinic"}).status, 201);
  std::string second_bundle = demo_bundle();
  second_bundle.replace(second_bundle.find("0000000000ff"), 12, "0000000000fe");
  Reply second = push("demo-hospital", second_bundle, {"demo-clinic"});
  ASSERT_EQ(second.status, 201) << second.body;
  Reply summary = ex_->summary(Caller{"demo-clinic"}, PatientRef{patient_key_of(second), "", ""}, "TREAT");
  ASSERT_EQ(summary.status, 200) << summary.body;
  // The same two medications were sent twice; the merge keeps one of each.
  std::size_t meds = 0;
  for (auto at = summary.body.find("\"resourceType\":\"MedicationStatement\""); at != std::string::npos;
       at = summary.body.find("\"resourceType\":\"MedicationStatement\"", at + 1)) {
    ++meds;
  }
  EXPECT_EQ(meds, 2u);
}

}  // namespace
}  // namespace gw::exchange
