// The push and pull use cases end to end below HTTP: the real validator,
// the real mappings, the demo consent policy and registrations, and a real
// SQLite store in a temporary folder.
#include "gateway/exchange/exchange.hpp"

#include "gateway/consent/consent.hpp"
#include "gateway/exchange/detail/notices.hpp"
#include "gateway/fhir/fhir.hpp"
#include "gateway/json/json.hpp"
#include "gateway/validation/validation.hpp"
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

std::string unbase64(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '+') v = 62;
    if (c == '/') v = 63;
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

class ExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gw-exchange-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    // demo-ngo takes MHD transactions and FHIR messages; demo-clinic keeps
    // the defaults (bare document, Task).
    testing::World w = testing::make_world(dir_.string(), clock_, [](std::vector<consent::Recipient>& rs) {
      for (auto& r : rs) {
        if (r.id == "demo-ngo") {
          r.delivery_format = "mhd";
          r.withdrawal_notice = "message";
        }
      }
    });
    ASSERT_TRUE(w.error.empty()) << w.error;
    store_ = w.store;
    ex_ = w.exchange;
    validator_ = w.validator;
  }

  // Errors of the gateway's validator (R4 core and the loaded packages).
  std::string fhir_errors(const std::string& json) {
    auto doc = gw::json::Document::parse(json);
    if (!doc) return "not JSON";
    auto issues = validator_->validate(doc->root());
    if (!issues) return issues.error().to_string();
    if (!validation::has_errors(*issues)) return {};
    return fhir::operation_outcome_json(*issues);
  }
  // A new document for the same patient (see TheNextPushFromTheSameHospital...).
  static std::string another_document(std::string bundle, const std::string& suffix) {
    bundle.replace(bundle.find("0000000000ff"), 12, "0000000000" + suffix);
    return bundle;
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
  std::shared_ptr<const validation::Validator> validator_;
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

// The start-up warm-up (serve's "warm_up" samples) runs the push's work on
// the demo document and leaves no trace: no patient link, no handoff, no
// queued delivery, no audit record; a real push afterwards is the first.
TEST_F(ExchangeTest, WarmUpRunsThePushPathAndStoresNothing) {
  ASSERT_TRUE(ex_->warm_up(demo_bundle()));
  ASSERT_TRUE(ex_->warm_up(bundle_with_sensitive_data()));  // redactions too
  auto linked = store_->find_patient({"demo-hospital", "urn:oid:2.999.1.1", "DEMO-000123"});
  ASSERT_TRUE(linked);
  EXPECT_FALSE(linked->has_value());
  EXPECT_TRUE(outbox("demo-clinic").empty());
  EXPECT_TRUE(outbox("demo-ngo").empty());
  auto audit = store_->verify_audit();
  ASSERT_TRUE(audit);
  EXPECT_EQ(audit->records, 0);

  Reply r = push("demo-hospital", demo_bundle(), {"demo-clinic"});
  ASSERT_EQ(r.status, 201) << r.body;  // not a duplicate of the warm-up
  EXPECT_EQ(outbox("demo-clinic").size(), 1u);
}

// A sample the push would refuse fails the warm-up (serve then refuses to
// start), naming the step and the location, not the data there.
TEST_F(ExchangeTest, AWarmUpSampleThatThePushWouldRefuseIsAnError) {
  std::string b = demo_bundle();
  const std::string good = "\"birthDate\": \"1990-04-12\"";
  auto at = b.find(good);
  ASSERT_NE(at, std::string::npos);
  b.replace(at, good.size(), "\"birthDate\": \"12/04/1990 Quietville\"");
  Status s = ex_->warm_up(b);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message().find("validation"), std::string::npos) << s.error().message();
  EXPECT_NE(s.error().message().find("birthDate"), std::string::npos) << s.error().message();
  EXPECT_EQ(s.error().message().find("Quietville"), std::string::npos) << s.error().message();

  Status not_json = ex_->warm_up("{\"resourceType\": ");
  ASSERT_FALSE(not_json);
  EXPECT_NE(not_json.error().message().find("parsing"), std::string::npos) << not_json.error().message();
  EXPECT_FALSE(ex_->warm_up(R"({"resourceType": "Bundle", "type": "document"})"));  // no handoff in it
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

TEST_F(ExchangeTest, AnMhdRecipientGetsAnIti65TransactionCarryingTheReleasedDocument) {
  Reply r = push("demo-hospital", bundle_with_sensitive_data(), {"demo-ngo"});
  ASSERT_EQ(r.status, 201) << r.body;
  auto queued = outbox("demo-ngo");
  ASSERT_EQ(queued.size(), 1u);
  const std::string& payload = queued[0].payload;
  EXPECT_EQ(fhir_errors(payload), "");
  auto doc = gw::json::Document::parse(payload);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->root().find("type").str(), "transaction");
  json::Value entries = doc->root().find("entry");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].find("resource").find("resourceType").str(), "List");
  EXPECT_NE(payload.find("IHE.MHD.Minimal.ProvideBundle"), std::string::npos);
  json::Value ref = entries[1].find("resource");
  EXPECT_EQ(ref.find("resourceType").str(), "DocumentReference");
  // The document's own identifier stays the delivery identity.
  EXPECT_EQ(ref.find("masterIdentifier").find("value").str(), queued[0].bundle_identifier);
  EXPECT_EQ(ref.find("content")[0].find("attachment").find("url").str(), entries[2].find("fullUrl").str());
  EXPECT_EQ(entries[2].find("resource").find("resourceType").str(), "Binary");
  // The carried document is the redacted handoff.
  const std::string carried = unbase64(entries[2].find("resource").find("data").str());
  EXPECT_NE(carried.find("HandoffDocument"), std::string::npos);
  EXPECT_NE(carried.find(queued[0].bundle_identifier), std::string::npos);
  EXPECT_EQ(carried.find("Hidden Lane"), std::string::npos);
  EXPECT_EQ(carried.find("P9988776655"), std::string::npos);
  EXPECT_EQ(detail::base64(carried), entries[2].find("resource").find("data").str());
}

// Withdrawal end to end below HTTP: copies that reached a clinic are
// reported (a Task to demo-clinic, a FHIR message to demo-ngo, as they are
// registered), an unsent copy is cancelled, later releases no longer apply
// the consent, and everything is audited.
TEST_F(ExchangeTest, WithdrawingAConsentNotifiesClinicsThatGotCopiesAndCancelsUnsentOnes) {
  Reply first = push("demo-hospital", demo_bundle(), {"demo-clinic"});
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string key = patient_key_of(first);
  ASSERT_TRUE(store_->put_consent(key, "permit-home-visits", testing::location_consent({"demo-clinic", "demo-ngo"}), {}));
  Reply second = push("demo-hospital", another_document(bundle_with_sensitive_data(), "fe"), {"demo-clinic", "demo-ngo"});
  ASSERT_EQ(second.status, 201) << second.body;
  // Deliver the copies of the first two pushes.
  std::string delivered_identifier;
  for (const std::string r : {"demo-clinic", "demo-ngo"}) {
    for (const auto& d : outbox(r)) {
      if (d.handoff_id == location(second).substr(7)) delivered_identifier = d.bundle_identifier;
      ASSERT_TRUE(store_->mark_delivered(d.id, "{}", {}));
    }
  }
  ASSERT_FALSE(delivered_identifier.empty());
  // The address was released under the consent (location permitted).
  Reply third = push("demo-hospital", another_document(bundle_with_sensitive_data(), "fd"), {"demo-clinic"});
  ASSERT_EQ(third.status, 201) << third.body;

  const std::string withdrawn = testing::location_consent({"demo-clinic", "demo-ngo"}, "inactive");
  EXPECT_EQ(ex_->update_consent(Caller{"nobody"}, "permit-home-visits", withdrawn).status, 403);
  EXPECT_EQ(ex_->update_consent(Caller{"demo-hospital"}, "no-such-consent", withdrawn).status, 400);  // id mismatch
  EXPECT_EQ(ex_->update_consent(Caller{"demo-hospital"}, "permit-home-visits",
                                testing::location_consent({"demo-clinic"}, "active")).status, 422);
  Reply w = ex_->update_consent(Caller{"demo-hospital"}, "permit-home-visits", withdrawn);
  ASSERT_EQ(w.status, 200) << w.body;

  // demo-clinic: the third copy was never sent -> cancelled; one Task for the second.
  auto clinic = outbox("demo-clinic");
  ASSERT_EQ(clinic.size(), 1u);
  EXPECT_EQ(clinic[0].path, "Task");
  EXPECT_EQ(fhir_errors(clinic[0].payload), "");
  auto task = gw::json::Document::parse(clinic[0].payload);
  ASSERT_TRUE(task);
  EXPECT_EQ(task->root().find("resourceType").str(), "Task");
  EXPECT_EQ(task->root().find("focus").find("identifier").find("value").str(), delivered_identifier);
  EXPECT_EQ(task->root().find("for").find("identifier").find("value").str(), key);
  EXPECT_EQ(clinic[0].payload.find("Hidden Lane"), std::string::npos);
  EXPECT_EQ(clinic[0].payload.find("DEMO-000123"), std::string::npos);
  // demo-ngo: a message Bundle (MessageHeader + the Task) to $process-message.
  auto ngo = outbox("demo-ngo");
  ASSERT_EQ(ngo.size(), 1u);
  EXPECT_EQ(ngo[0].path, "$process-message");
  EXPECT_EQ(fhir_errors(ngo[0].payload), "");
  EXPECT_NE(ngo[0].payload.find("\"MessageHeader\""), std::string::npos);
  EXPECT_NE(ngo[0].payload.find(delivered_identifier), std::string::npos);
  auto stats = store_->queue_stats();
  ASSERT_TRUE(stats);
  std::int64_t cancelled = 0;
  for (const auto& q : *stats) cancelled += q.cancelled;
  EXPECT_EQ(cancelled, 1);

  // Later releases no longer apply it: the address is withheld again.
  Reply summary = ex_->summary(Caller{"demo-clinic"}, PatientRef{key, "", ""}, "TREAT");
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_EQ(summary.body.find("Hidden Lane"), std::string::npos);
  // A second withdrawal changes nothing.
  EXPECT_EQ(ex_->update_consent(Caller{"demo-hospital"}, "permit-home-visits", withdrawn).status, 200);
  EXPECT_TRUE(outbox("demo-clinic").empty());
  auto audit = store_->verify_audit();
  ASSERT_TRUE(audit);
  EXPECT_TRUE(audit->ok);
  auto trail = store_->export_audit(0);
  ASSERT_TRUE(trail);
  EXPECT_NE(trail->find("withdraw succeeded"), std::string::npos);
  EXPECT_NE(trail->find("notify succeeded"), std::string::npos);
  EXPECT_NE(trail->find("cancel succeeded"), std::string::npos);
  EXPECT_NE(trail->find("withdraw refused"), std::string::npos);
}

}  // namespace
}  // namespace gw::exchange
