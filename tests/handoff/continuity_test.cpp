// Continuity facts of a handoff (issue #10): what the gateway counts,
// from which resources, and that only coarse facts come out.
#include "gateway/handoff/handoff.hpp"

#include <gtest/gtest.h>

namespace gw::handoff {
namespace {

json::Document parse(std::string text) {
  auto d = json::Document::parse(std::move(text));
  EXPECT_TRUE(d) << d.error().to_string();
  return std::move(*d);
}

// A pushed discharge summary: the Composition names its Encounter; a second
// Encounter (an earlier stay) must not be taken for the discharge.
std::string source(std::string_view discharge_end) {
  return R"({"resourceType":"Bundle","type":"document","entry":[
    {"fullUrl":"urn:uuid:c","resource":{"resourceType":"Composition","encounter":{"reference":"urn:uuid:e2"}}},
    {"fullUrl":"urn:uuid:e1","resource":{"resourceType":"Encounter","period":{"end":"2026-01-02"}}},
    {"fullUrl":"urn:uuid:e2","resource":{"resourceType":"Encounter","period":{"end":")" +
         std::string(discharge_end) + R"("}}}]})";
}

std::string handoff_doc(std::string_view entries) {
  return R"({"resourceType":"Bundle","type":"document","entry":[)" + std::string(entries) + "]}";
}

constexpr std::string_view kInterpreterPatient =
    R"({"resource":{"resourceType":"Patient","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired","valueBoolean":true}]}})";

TEST(ContinuityFacts, FirstFollowUpAfterTheNamedEncountersDischarge) {
  auto src = parse(source("2026-11-14T15:30:00Z"));
  auto doc = parse(handoff_doc(std::string(kInterpreterPatient) + R"(,
    {"resource":{"resourceType":"Appointment","status":"booked","start":"2026-12-20T10:00:00Z"}},
    {"resource":{"resourceType":"Appointment","status":"booked","start":"2026-11-28T10:00:00Z"}},
    {"resource":{"resourceType":"Appointment","status":"cancelled","start":"2026-11-15T10:00:00Z"}},
    {"resource":{"resourceType":"Appointment","status":"booked","start":"2026-11-01T10:00:00Z"}},
    {"resource":{"resourceType":"Immunization","status":"completed"}})"));
  const ContinuityFacts f = continuity_facts(doc.root(), src.root());
  EXPECT_TRUE(f.discharge_known);
  ASSERT_TRUE(f.days_to_follow_up.has_value());
  EXPECT_EQ(*f.days_to_follow_up, 14);  // the cancelled and the earlier one do not count
  EXPECT_TRUE(f.immunizations);
  EXPECT_TRUE(f.interpreter);
  EXPECT_EQ(follow_up_bucket(f), "8-14d");
}

TEST(ContinuityFacts, NoFollowUpNoDischargeAndFlagsOff) {
  auto src = parse(source("2026-11-14"));
  auto none = parse(handoff_doc(R"({"resource":{"resourceType":"Patient","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired","valueBoolean":false}]}})"));
  ContinuityFacts f = continuity_facts(none.root(), src.root());
  EXPECT_EQ(f, (ContinuityFacts{std::nullopt, true, false, false}));
  EXPECT_EQ(follow_up_bucket(f), "none");

  // No Encounter with an end (or a malformed date): the delay is unknown,
  // whatever appointments there are.
  auto bare = parse(R"({"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Encounter","period":{"end":"14/11/2026"}}}]})");
  auto appt = parse(handoff_doc(R"({"resource":{"resourceType":"Appointment","status":"booked","start":"2026-11-28"}})"));
  f = continuity_facts(appt.root(), bare.root());
  EXPECT_FALSE(f.discharge_known);
  EXPECT_EQ(follow_up_bucket(f), "unknown");
}

TEST(ContinuityFacts, BucketsCoverEveryDelay) {
  auto bucket = [](std::int64_t days) { return follow_up_bucket(ContinuityFacts{days, true, false, false}); };
  EXPECT_EQ(bucket(0), "0-7d");
  EXPECT_EQ(bucket(7), "0-7d");
  EXPECT_EQ(bucket(8), "8-14d");
  EXPECT_EQ(bucket(30), "15-30d");
  EXPECT_EQ(bucket(31), "31-90d");
  EXPECT_EQ(bucket(91), "over-90d");
  // Every bucket the function returns is listed (the dashboard and the
  // metric labels rely on the closed set).
  const auto all = follow_up_buckets();
  for (std::string_view b : {bucket(1), bucket(10), bucket(20), bucket(60), bucket(400),
                             follow_up_bucket(ContinuityFacts{std::nullopt, true, false, false}),
                             follow_up_bucket(ContinuityFacts{})}) {
    EXPECT_NE(std::find(all.begin(), all.end(), b), all.end()) << b;
  }
}

}  // namespace
}  // namespace gw::handoff
