// build(): duplicates, references, narrative, provenance, determinism and
// errors, on small hand-written bundles and the demo discharge summary.
#include "gateway/handoff/handoff.hpp"

#include "tests/handoff/handoff_fixture.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace gw::handoff {
namespace {

using namespace gw::handoff::testing;

std::string demo_path() {
  return gw::testing::source_dir() + "/config/demo/discharge-summary.json";
}

// A collection holding the same patient twice (same identifier, different
// fullUrl), the same problem twice (once per patient copy), a medication
// once by reference and once by code, an appointment whose reason is the
// duplicate problem and whose practitioner lives on another server.
constexpr std::string_view kDuplicates = R"({
  "resourceType": "Bundle", "type": "collection",
  "identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000000"},
  "entry": [
    {"fullUrl": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001",
     "resource": {"resourceType": "Patient", "id": "p1",
       "identifier": [{"system": "urn:oid:1.2.3", "value": "X1"}], "gender": "female"}},
    {"fullUrl": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000002",
     "resource": {"resourceType": "Patient", "id": "p2",
       "identifier": [{"system": "urn:oid:1.2.3", "value": "X1"}], "birthDate": "1990-01-01"}},
    {"fullUrl": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000003",
     "resource": {"resourceType": "Condition", "id": "c1",
       "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
       "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]},
       "subject": {"reference": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"}}},
    {"fullUrl": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000004",
     "resource": {"resourceType": "Condition", "id": "c2",
       "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
       "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}], "text": "Diabetes"},
       "subject": {"reference": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000002"}}},
    {"fullUrl": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000005",
     "resource": {"resourceType": "Medication", "id": "m1",
       "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "860975"}]}}},
    {"fullUrl": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000006",
     "resource": {"resourceType": "MedicationStatement", "id": "ms1", "status": "active",
       "medicationReference": {"reference": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000005"},
       "subject": {"reference": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"}}},
    {"fullUrl": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000007",
     "resource": {"resourceType": "MedicationStatement", "id": "ms2", "status": "active",
       "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "860975"}]},
       "subject": {"reference": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"}}},
    {"fullUrl": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000008",
     "resource": {"resourceType": "MedicationStatement", "id": "ms3", "status": "stopped",
       "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "860975"}]},
       "subject": {"reference": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"}}},
    {"fullUrl": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000009",
     "resource": {"resourceType": "Appointment", "id": "a1", "status": "booked",
       "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T09:30:00Z",
       "reasonReference": [{"reference": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000004"}],
       "participant": [
         {"actor": {"reference": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000002"}, "status": "accepted"},
         {"actor": {"reference": "https://elsewhere.example/fhir/Practitioner/9"}, "status": "accepted"}]}}
  ]})";

json::Value resource_at(const json::Document& doc, const std::string& full_url) {
  for (json::Value e : doc.root().find("entry").items()) {
    if (e.find("fullUrl").str() == full_url) return e.find("resource");
  }
  return {};
}

std::size_t count_type(const json::Document& doc, std::string_view type) {
  std::size_t n = 0;
  for (json::Value e : doc.root().find("entry").items())
    n += e.find("resource").find("resourceType").str() == type;
  return n;
}

const ProvenanceLink* link_of(const Handoff& h, std::string_view type, std::size_t nth = 0) {
  for (const ProvenanceLink& l : h.provenance) {
    if (l.resource_type == type && nth-- == 0) return &l;
  }
  return nullptr;
}

TEST(HandoffBuild, DuplicatesAreMergedAndReferencesFollowTheSurvivor) {
  json::Document in = parse(std::string(kDuplicates));
  auto h = build_with(in.root());
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->mapping, "generic-bundle");
  json::Document out = parse(h->json);
  EXPECT_EQ(count_type(out, "Patient"), 1u);
  EXPECT_EQ(count_type(out, "Condition"), 1u);
  EXPECT_EQ(count_type(out, "MedicationStatement"),
            2u);                                 // the stopped one is a different statement
  EXPECT_EQ(count_type(out, "Medication"), 1u);  // followed from medicationReference
  EXPECT_EQ(count_type(out, "Provenance"), h->provenance.size());

  const ProvenanceLink* patient = link_of(*h, "Patient");
  ASSERT_NE(patient, nullptr);
  EXPECT_EQ(patient->sources,
            (std::vector<std::string>{"urn:uuid:aaaaaaaa-0000-4000-8000-000000000001",
                                      "urn:uuid:aaaaaaaa-0000-4000-8000-000000000002"}));
  const ProvenanceLink* cond = link_of(*h, "Condition");
  ASSERT_NE(cond, nullptr);
  EXPECT_EQ(cond->sources.size(), 2u);
  const ProvenanceLink* med = link_of(*h, "MedicationStatement");
  ASSERT_NE(med, nullptr);
  EXPECT_EQ(med->sources.size(), 2u);

  // The appointment's reason (the duplicate problem) and participant (the
  // duplicate patient) point at the survivors; the remote practitioner is
  // display-only.
  const ProvenanceLink* appt = link_of(*h, "Appointment");
  ASSERT_NE(appt, nullptr);
  json::Value a = resource_at(out, appt->full_url);
  EXPECT_EQ(a.find("reasonReference")[0].find("reference").str(), cond->full_url);
  EXPECT_EQ(a.find("participant")[0].find("actor").find("reference").str(), patient->full_url);
  json::Value remote = a.find("participant")[1].find("actor");
  EXPECT_FALSE(remote.find("reference"));
  EXPECT_EQ(remote.find("display").str(), "Practitioner (not included in this handoff)");
  EXPECT_TRUE(dangling(out).empty());

  // Provenance resources name the source bundle and entries.
  for (json::Value e : out.root().find("entry").items()) {
    json::Value r = e.find("resource");
    if (r.find("resourceType").str() != "Provenance") continue;
    json::Value id = r.find("entity")[0].find("what").find("identifier");
    EXPECT_EQ(id.find("system").str(), "urn:uuid:aaaaaaaa-0000-4000-8000-000000000000");
    EXPECT_EQ(id.find("value").str().substr(0, 9), "urn:uuid:");
  }
  std::vector<fhir::Issue> errors = unexplained_errors(out, *h);
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, first: " << first(errors);
}

TEST(HandoffBuild, MissingLanguageAndInterpreterAreWarningsNotInventions) {
  json::Document in = parse(std::string(kDuplicates));
  auto h = build_with(in.root());
  ASSERT_TRUE(h) << h.error().to_string();
  std::vector<std::string> where;
  for (const fhir::Issue& i : h->warnings) where.push_back(i.expression);
  // The patient is entry 1 (after the Composition).
  EXPECT_NE(
      std::find(where.begin(), where.end(), "Bundle.entry[1].resource.communication.language"),
      where.end());
  EXPECT_NE(std::find(where.begin(), where.end(),
                      "Bundle.entry[1].resource.extension('http://hl7.org/fhir/StructureDefinition/"
                      "patient-interpreterRequired')"),
            where.end());
  // The appointment does not say where the follow-up takes place.
  EXPECT_EQ(std::count_if(where.begin(), where.end(),
                          [](const std::string& w) {
                            return w.find("followup-organization") != std::string::npos;
                          }),
            1);
  // The gaps are stated, not filled with guesses: the patient's language,
  // its preference and the interpreter flag carry data-absent-reason
  // "unknown" and no value, so the patient conforms to mc-patient.
  json::Document out = parse(h->json);
  json::Value patient = out.root().find("entry")[1].find("resource");
  ASSERT_EQ(patient.find("resourceType").str(), "Patient");
  json::Value comm = patient.find("communication");
  ASSERT_EQ(comm.size(), 1u);
  const std::string dar = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";
  EXPECT_FALSE(comm[0].find("language").find("coding"));
  EXPECT_EQ(comm[0].find("language").find("extension")[0].find("url").str(), dar);
  EXPECT_EQ(comm[0].find("language").find("extension")[0].find("valueCode").str(), "unknown");
  EXPECT_FALSE(comm[0].find("preferred"));
  EXPECT_EQ(comm[0].find("_preferred").find("extension")[0].find("url").str(), dar);
  json::Value interpreter;
  for (json::Value e : patient.find("extension").items()) {
    if (e.find("url").str() == "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired") interpreter = e;
  }
  ASSERT_TRUE(interpreter);
  EXPECT_FALSE(interpreter.find("valueBoolean"));
  EXPECT_EQ(interpreter.find("_valueBoolean").find("extension")[0].find("valueCode").str(), "unknown");
  // (This input also lacks a birth date, which stays an error: only the
  // language and interpreter gaps have a stated form.)
  std::vector<fhir::Issue> patient_errors;
  for (const fhir::Issue& i : validation_errors(out)) {
    bool about_language = i.expression.find("communication") != std::string::npos ||
                          i.expression.find("extension") != std::string::npos ||
                          i.diagnostics.find("mc-pat-1") != std::string::npos ||
                          i.diagnostics.find("interpreterRequired") != std::string::npos;
    if (i.expression.rfind("Bundle.entry[1].", 0) == 0 && about_language) patient_errors.push_back(i);
  }
  EXPECT_TRUE(patient_errors.empty()) << first(patient_errors);

  // The demo patient states both: no warnings, and both reach the output
  // and the care-needs narrative.
  json::Document demo = load_file(demo_path());
  auto d = build_with(demo.root());
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_TRUE(d->warnings.empty()) << d->warnings.front().expression;
  EXPECT_NE(d->json.find("patient-interpreterRequired"), std::string::npos);
  EXPECT_NE(d->json.find("Language: Arabic (preferred)"), std::string::npos);
  EXPECT_NE(d->json.find("Interpreter required: yes"), std::string::npos);
}

TEST(HandoffBuild, InputNarrativeNeverReachesTheOutput) {
  std::string text = gw::testing::read_file(demo_path());
  const std::string open = R"(<div xmlns=\"http://www.w3.org/1999/xhtml\">)";
  std::size_t planted = 0;
  for (std::size_t at = text.find(open); at != std::string::npos; at = text.find(open, at + 1)) {
    text.insert(at + open.size(), "<p>PLANTED-NARRATIVE-7731</p>");
    ++planted;
  }
  ASSERT_GE(planted, 5u);
  json::Document in = parse(text);
  auto h = build_with(in.root());
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->json.find("PLANTED-NARRATIVE-7731"), std::string::npos);
  // The narrative that is there was generated from the coded data.
  json::Document out = parse(h->json);
  json::Value comp = out.root().find("entry")[0].find("resource");
  EXPECT_EQ(comp.find("text").find("status").str(), "generated");
  std::string meds(comp.find("section")[0].find("text").find("div").str());
  EXPECT_EQ(
      meds.rfind("<div xmlns=\"http://www.w3.org/1999/xhtml\"><ul><li>MedicationStatement: ", 0),
      0u)
      << meds;
}

TEST(HandoffBuild, DeterministicWithFixedClockAndIds) {
  json::Document in = load_file(demo_path());
  auto a = build_with(in.root());
  auto b = build_with(in.root());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->json, b->json);
  json::Document out = parse(a->json);
  EXPECT_EQ(out.root().find("identifier").find("value").str(),
            "urn:uuid:00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(out.root().find("timestamp").str(), "2026-11-20T10:00:00Z");
  json::Value first = out.root().find("entry")[0];
  EXPECT_EQ(first.find("fullUrl").str(), "urn:uuid:00000000-0000-4000-8000-000000000002");
  EXPECT_EQ(first.find("resource").find("id").str(), "00000000-0000-4000-8000-000000000002");
  EXPECT_EQ(first.find("resource").find("date").str(), "2026-11-20T10:00:00Z");
}

TEST(HandoffBuild, SectionsProfilesAndAuthor) {
  json::Document in = load_file(demo_path());
  auto h = build_with(in.root());
  ASSERT_TRUE(h) << h.error().to_string();
  std::vector<std::pair<std::string, std::size_t>> sections;
  for (const SectionSummary& s : h->sections) sections.emplace_back(s.code, s.entries);
  EXPECT_EQ(sections, (std::vector<std::pair<std::string, std::size_t>>{{"10160-0", 2},
                                                                        {"11450-4", 2},
                                                                        {"48765-2", 1},
                                                                        {"11369-6", 1},
                                                                        {"18776-5", 1},
                                                                        {"29762-2", 0}}));
  json::Document out = parse(h->json);
  for (json::Value e : out.root().find("entry").items()) {
    json::Value r = e.find("resource");
    std::string type(r.find("resourceType").str());
    if (type == "Patient" || type == "MedicationStatement" || type == "Condition" ||
        type == "Appointment") {
      std::string want = "http://fhir.migrant-care.example.org/StructureDefinition/mc-" + type;
      std::transform(want.begin() + want.rfind("mc-"), want.end(), want.begin() + want.rfind("mc-"),
                     [](unsigned char c) { return std::tolower(c); });
      EXPECT_EQ(r.find("meta").find("profile")[0].str(), want);
    }
  }
  // The author is the sending hospital (the input Composition's custodian).
  json::Value comp = out.root().find("entry")[0].find("resource");
  json::Value author =
      resource_at(out, std::string(comp.find("author")[0].find("reference").str()));
  EXPECT_EQ(author.find("resourceType").str(), "Organization");

  // Empty required sections carry emptyReason; a transaction without any
  // organisation is authored by the gateway.
  json::Document bare = parse(R"({"resourceType": "Bundle", "type": "transaction", "entry": [
    {"fullUrl": "urn:uuid:bbbbbbbb-0000-4000-8000-000000000001",
     "resource": {"resourceType": "Patient", "id": "p"}, "request": {"method": "POST", "url": "Patient"}}]})");
  auto b = build_with(bare.root());
  ASSERT_TRUE(b) << b.error().to_string();
  // The three required sections, empty, and care needs stating that the
  // language and interpreter need are unknown.
  ASSERT_EQ(b->sections.size(), 4u);
  for (const SectionSummary& s : b->sections) {
    if (s.code == "29762-2") {
      EXPECT_FALSE(s.empty_reason);
    } else {
      EXPECT_TRUE(s.empty_reason) << s.code;
    }
  }
  EXPECT_NE(b->json.find("Language: unknown (not stated by the sender)"), std::string::npos);
  EXPECT_NE(b->json.find("Interpreter required: unknown (not stated by the sender)"), std::string::npos);
  json::Document bout = parse(b->json);
  EXPECT_NE(b->json.find("\"code\":\"unavailable\""), std::string::npos);
  EXPECT_NE(b->json.find("Migrant-care FHIR gateway"), std::string::npos);
  std::vector<fhir::Issue> errors = unexplained_errors(bout, *b);
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, first: " << first(errors);
}

TEST(HandoffBuild, OmittedElementsAndFollowUpChecks) {
  json::Document in = parse(R"({"resourceType": "Bundle", "type": "collection", "entry": [
    {"fullUrl": "urn:uuid:ffffffff-0000-4000-8000-000000000001", "resource": {"resourceType": "Patient"}},
    {"fullUrl": "urn:uuid:ffffffff-0000-4000-8000-000000000002", "resource": {"resourceType": "CarePlan",
      "status": "active", "intent": "plan", "period": {"start": "2026-12-01"}, "description": "Review",
      "subject": {"reference": "urn:uuid:ffffffff-0000-4000-8000-000000000001"},
      "activity": [{"detail": {"status": "scheduled", "location": {"display": "Shelter 4"}}}]}},
    {"fullUrl": "urn:uuid:ffffffff-0000-4000-8000-000000000003", "resource": {"resourceType": "ServiceRequest",
      "status": "active", "intent": "order", "occurrenceDateTime": "2026-12-02",
      "subject": {"reference": "urn:uuid:ffffffff-0000-4000-8000-000000000001"},
      "locationReference": [{"display": "Shelter 4"}]}}]})");
  auto h = build_with(in.root());
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->json.find("Shelter 4"), std::string::npos);
  EXPECT_NE(h->json.find("\"status\":\"scheduled\""),
            std::string::npos);  // the rest of the activity stays
  // Follow-ups without a place, requester or reason are reported, not filled
  // in. Entries: Composition, Patient, gateway Organization, ServiceRequest,
  // CarePlan (section selector order).
  std::vector<std::string> where;
  for (const fhir::Issue& i : h->warnings) where.push_back(i.expression);
  for (const char* w :
       {"Bundle.entry[4].resource.extension('http://fhir.migrant-care.example.org/"
        "StructureDefinition/followup-organization')",
        "Bundle.entry[3].resource.requester", "Bundle.entry[3].resource.reasonCode"}) {
    EXPECT_NE(std::find(where.begin(), where.end(), w), where.end()) << w;
  }
  json::Document out = parse(h->json);
  std::vector<fhir::Issue> errors = unexplained_errors(out, *h);
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, first: " << first(errors);
}

// The pull use case merges several stored handoffs of one patient by
// flattening their entries into a collection and mapping again: the copies
// of each fact (new ids every time) must collapse back to one.
TEST(HandoffBuild, RebuildingFromTwoHandoffsMergesTheCopies) {
  json::Document in = load_file(demo_path());
  auto first = build_with(in.root());
  ASSERT_TRUE(first) << first.error().to_string();
  FixedClock clock;
  SequentialIdGenerator other(1000);
  BuildOptions opt;
  opt.clock = &clock;
  opt.ids = &other;
  auto second = build(*repo_mappings(), in.root(), opt);
  ASSERT_TRUE(second) << second.error().to_string();
  json::Writer w;
  w.begin_object();
  w.key("resourceType");
  w.string("Bundle");
  w.key("type");
  w.string("collection");
  w.key("entry");
  w.begin_array();
  json::Document a = parse(first->json), b = parse(second->json);
  for (const json::Document* d : {&a, &b}) {
    for (json::Value e : d->root().find("entry").items()) {
      std::string_view type = e.find("resource").find("resourceType").str();
      if (type != "Composition" && type != "Provenance") w.value(e);
    }
  }
  w.end_array();
  w.end_object();
  json::Document collection = parse(std::move(w).take());
  auto merged = build_with(collection.root());
  ASSERT_TRUE(merged) << merged.error().to_string();
  std::vector<std::pair<std::string, std::size_t>> want, got;
  for (const SectionSummary& s : first->sections) want.emplace_back(s.code, s.entries);
  for (const SectionSummary& s : merged->sections) got.emplace_back(s.code, s.entries);
  EXPECT_EQ(got, want);
  json::Document out = parse(merged->json);
  EXPECT_EQ(count_type(out, "Patient"), 1u);
  EXPECT_EQ(count_type(out, "Organization"), 2u);  // the hospital and the follow-up clinic
  EXPECT_TRUE(dangling(out).empty());
}

TEST(HandoffBuild, ErrorsAreClearAndCarryNoData) {
  json::Document search = parse(R"({"resourceType": "Bundle", "type": "searchset", "entry": [
    {"fullUrl": "urn:uuid:cccccccc-0000-4000-8000-000000000001",
     "resource": {"resourceType": "Patient", "id": "secret-id", "name": [{"family": "Secretname"}]}}]})");
  auto none = build_with(search.root());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(none.error().message().find("no mapping accepts this input"), std::string::npos);
  EXPECT_EQ(none.error().to_string().find("Secretname"), std::string::npos);

  json::Document patient = parse(R"({"resourceType": "Patient", "id": "x"})");
  auto notbundle = build_with(patient.root());
  ASSERT_FALSE(notbundle);
  EXPECT_EQ(notbundle.error().code(), ErrorCode::kInvalidArgument);

  json::Document demo = load_file(demo_path());
  auto forced = build_with(demo.root(), "generic-bundle");
  ASSERT_TRUE(forced) << forced.error().to_string();
  EXPECT_EQ(forced->mapping, "generic-bundle");
  auto unknown = build_with(demo.root(), "no-such-mapping");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
  json::Document collection = parse(std::string(kDuplicates));
  auto refused = build_with(collection.root(), "discharge-summary");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("does not accept"), std::string::npos);
}

// Resources of two types under one fullUrl (invalid input; the validator
// refuses it on the push path) are two resources, not one: merging them
// made the Condition the patient's representative, and writing the
// overview then threw (found by handoff_map_fuzz).
TEST(HandoffBuild, OneFullUrlOnTwoTypesIsNotOneResource) {
  json::Document doc = parse(R"({"resourceType": "Bundle", "type": "collection", "entry": [
    {"fullUrl": "urn:uuid:dddddddd-0000-4000-8000-000000000001",
     "resource": {"resourceType": "Condition", "id": "c",
       "code": {"text": "x"}, "subject": {"reference": "urn:uuid:dddddddd-0000-4000-8000-000000000001"}}},
    {"fullUrl": "urn:uuid:dddddddd-0000-4000-8000-000000000001",
     "resource": {"resourceType": "Patient", "id": "p", "gender": "other"}}]})");
  auto h = build_with(doc.root());
  ASSERT_TRUE(h) << h.error().to_string();
  json::Document out = parse(h->json);
  EXPECT_EQ(count_type(out, "Patient"), 1u);
  for (json::Value e : out.root().find("entry").items()) {
    json::Value r = e.find("resource");
    if (r.find("resourceType").str() != "Composition") continue;
    const std::string subject(r.find("subject").find("reference").str());
    EXPECT_EQ(resource_at(out, subject).find("resourceType").str(), "Patient");
  }
}

TEST(HandoffCommand, PrintsTheDocument) {
  FixedClock clock;
  SequentialIdGenerator ids;
  std::string dir = gw::testing::source_dir() + "/mappings";
  std::string file = demo_path();
  std::vector<std::string_view> args{"--mappings", dir, file};
  std::ostringstream out, err;
  EXPECT_EQ(run_handoff_command(args, model(), clock, ids, out, err), 0) << err.str();
  json::Document doc = parse(out.str());
  EXPECT_EQ(doc.root().find("type").str(), "document");

  std::vector<std::string_view> bad{"--mappings", dir, "--mapping"};
  std::ostringstream out2, err2;
  EXPECT_EQ(run_handoff_command(bad, model(), clock, ids, out2, err2), 2);
  std::vector<std::string_view> missing{"--mappings", dir, "/no/such/file.json"};
  EXPECT_EQ(run_handoff_command(missing, model(), clock, ids, out2, err2), 2);

  auto tmp = std::filesystem::temp_directory_path() / "gw_handoff_command_patient.json";
  std::ofstream(tmp) << R"({"resourceType": "Patient"})";
  std::string tmp_path = tmp.string();
  std::vector<std::string_view> patient{"--mappings", dir, tmp_path};
  std::ostringstream out3, err3;
  EXPECT_EQ(run_handoff_command(patient, model(), clock, ids, out3, err3), 1);
  EXPECT_NE(err3.str().find("not a Bundle"), std::string::npos) << err3.str();
  std::string tests_dir = gw::testing::source_dir() + "/tests";  // holds no *.json
  std::vector<std::string_view> broken{"--mappings", tests_dir, file};
  EXPECT_EQ(run_handoff_command(broken, model(), clock, ids, out3, err3), 2);
}

TEST(HandoffBuild, GeneratedNarrativeIsEscaped) {
  json::Document in = parse(R"({"resourceType": "Bundle", "type": "collection", "entry": [
    {"fullUrl": "urn:uuid:eeeeeeee-0000-4000-8000-000000000001", "resource": {"resourceType": "Patient"}},
    {"fullUrl": "urn:uuid:eeeeeeee-0000-4000-8000-000000000002", "resource": {"resourceType": "Condition",
      "code": {"text": "A & B <script>alert(1)</script>"},
      "subject": {"reference": "urn:uuid:eeeeeeee-0000-4000-8000-000000000001"}}}]})");
  auto h = build_with(in.root());
  ASSERT_TRUE(h) << h.error().to_string();
  json::Document out = parse(h->json);
  // The data keeps its text; every narrative div has it escaped.
  std::vector<std::string> divs;
  json::Value comp = out.root().find("entry")[0].find("resource");
  divs.emplace_back(comp.find("text").find("div").str());
  for (json::Value sec : comp.find("section").items())
    divs.emplace_back(sec.find("text").find("div").str());
  for (json::Value e : out.root().find("entry").items())
    divs.emplace_back(e.find("resource").find("text").find("div").str());
  std::size_t escaped = 0;
  for (const std::string& d : divs) {
    EXPECT_EQ(d.find("<script>"), std::string::npos) << d;
    escaped += d.find("A &amp; B &lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos;
  }
  EXPECT_EQ(escaped, 2u);  // the problems section and the Condition's own text
  std::vector<fhir::Issue> errors = unexplained_errors(out, *h);
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, first: " << first(errors);
}

TEST(HandoffIds, RandomUuidsAreVersion4) {
  RandomIdGenerator ids;
  std::string a = ids.uuid(), b = ids.uuid();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
}

}  // namespace
}  // namespace gw::handoff
