#include "gateway/validation/validation.hpp"

#include "gateway/fhirpath/fhirpath.hpp"
#include "gateway/json/json.hpp"
#include "gateway/packages/packages.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"
#include "tests/validation/validation_support.hpp"

#include <optional>
#include <thread>

namespace gw::validation {
namespace {

using gw::testing::summarize;
using gw::testing::validate_text;
using ::testing::ElementsAre;

TEST(ValidatorTest, MinimalPatientIsValid) {
  auto issues = validate_text(R"({"resourceType": "Patient", "id": "p1",
    "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
    "name": [{"family": "Doe", "given": ["J"]}], "gender": "female", "birthDate": "1970-01-01"})");
  EXPECT_TRUE(issues.empty()) << ::testing::PrintToString(summarize(issues));
}

TEST(ValidatorTest, UnknownPropertyAndBadDate) {
  auto issues = validate_text(R"({"resourceType": "Patient", "foo": 1, "birthDate": "1970-02-30",
    "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}})");
  EXPECT_THAT(summarize(issues), ElementsAre("error structure Patient.foo", "error value Patient.birthDate"));
}

}  // namespace
}  // namespace gw::validation

namespace gw::validation {
namespace {
TEST(ValidatorTest, InvariantsAndBindingsRun) {
  auto issues = validate_text(R"({"resourceType": "Patient", "gender": "mal",
    "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
    "contact": [{"gender": "male"}]})");
  EXPECT_THAT(summarize(issues), ElementsAre("error code-invalid Patient.gender", "error invariant Patient.contact[0]"));
}
}  // namespace
}  // namespace gw::validation

namespace gw::validation {
namespace {

// One Validator, many threads: profiles compile lazily under their once
// flags while other threads validate; every thread must see the same
// issues as a single-threaded run.
TEST(ValidatorTest, ConcurrentValidationGivesTheSameIssues) {
  const auto* env = gw::testing::validation_env();
  ASSERT_NE(env, nullptr);
  // A fresh validator, so that profile compilation races happen here.
  ValidatorOptions options;
  auto v = Validator::create(env->registry, gw::testing::core_definitions()->model, options);
  ASSERT_TRUE(v);
  std::vector<std::string> names = {"profile-patient-valid", "profile-bp-missing-slice", "profile-obs-invariant-error",
                                    "profile-bundle-profile-discriminator", "bundle-reference-resolves-to-wrong-type",
                                    "fmt-bad-date"};
  std::vector<json::Document> docs;
  for (const auto& n : names) {
    auto d = json::Document::parse_file(gw::testing::source_dir() + "/tests/data/validation/" + n + ".json");
    ASSERT_TRUE(d);
    docs.push_back(std::move(*d));
  }
  std::vector<std::vector<std::vector<Issue>>> results(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep) {
        for (std::size_t k = 0; k < docs.size(); ++k) {
          std::size_t i = (k + static_cast<std::size_t>(t)) % docs.size();  // different orders
          auto r = (*v)->validate(docs[i].root());
          if (rep == 0) {
            results[static_cast<std::size_t>(t)].resize(docs.size());
            results[static_cast<std::size_t>(t)][i] = r ? *r : std::vector<Issue>{};
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (std::size_t i = 0; i < docs.size(); ++i) {
    auto single = (*v)->validate(docs[i].root());
    ASSERT_TRUE(single);
    EXPECT_FALSE(names[i] != "profile-patient-valid" && single->empty()) << names[i];
    for (int t = 0; t < 4; ++t) EXPECT_EQ(results[static_cast<std::size_t>(t)][i], *single) << names[i];
  }
}

// Walks borrow their per-depth scratch from a pool in the Validator and
// give it back (sets grown past the pool's size limit are replaced): a
// validation must not see what an earlier one left there, however wide.
TEST(ValidatorTest, ScratchLentBetweenValidationsLeavesNoTrace) {
  const std::string small = R"({"resourceType": "Patient", "foo": 1, "birthDate": "1970-02-30",
    "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
    "name": [{"family": "Doe", "given": ["J"], "bar": true}]})";
  // 1,500 names (past the pool's 1,024-item limit), the last one wrong.
  std::string wide = R"({"resourceType": "Patient",
    "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
    "name": [)";
  for (int i = 0; i < 1500; ++i) wide += R"({"family": "F", "given": ["G"]},)";
  wide += R"({"family": 7}]})";
  const auto small_first = summarize(validate_text(small));
  const auto wide_first = summarize(validate_text(wide));
  EXPECT_THAT(small_first, ElementsAre("error structure Patient.foo", "error value Patient.birthDate",
                                       "error structure Patient.name[0].bar"));
  EXPECT_THAT(wide_first, ElementsAre("error structure Patient.name[1500].family"));
  for (int rep = 0; rep < 3; ++rep) {
    EXPECT_EQ(summarize(validate_text(small)), small_first);
    EXPECT_EQ(summarize(validate_text(wide)), wide_first);
  }
}

TEST(ValidatorTest, OperationalErrorsAreResults) {
  const auto* env = gw::testing::validation_env();
  ASSERT_NE(env, nullptr);
  auto doc = json::Document::parse("[1, 2]");
  ASSERT_TRUE(doc);
  auto r = env->validator->validate(doc->root());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  auto obj = json::Document::parse(R"({"resourceType": "Patient"})");
  ValidateOptions options;
  options.profiles = {"http://example.org/no/such/profile"};
  auto r2 = env->validator->validate(obj->root(), options);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code(), ErrorCode::kNotFound);
}

TEST(ValidatorTest, BrokenInvariantIsALoadProblemReportedOnce) {
  const auto* env = gw::testing::validation_env();
  ASSERT_NE(env, nullptr);
  ASSERT_TRUE(env->validator->prepare_profile("http://example.org/fhir/StructureDefinition/test-observation"));
  std::size_t n = 0;
  for (const auto& p : env->validator->load_problems()) {
    if (p.element == "tst-3") ++n;
  }
  EXPECT_EQ(n, 1u);
}

TEST(ValidatorTest, MessagesNeverQuoteFreeText) {
  // A name, an identifier value and a date that must not show up in any
  // message, even when each is the thing in error.
  auto issues = validate_text(R"({"resourceType": "Patient", "id": "p1",
    "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
    "name": [{"family": "Zyxwvutsr\u0001"}], "birthDate": "1999-02-31",
    "identifier": [{"system": "http://x.org/a b", "value": "SECRET-123"}]})");
  ASSERT_EQ(issues.size(), 3u) << ::testing::PrintToString(summarize(issues));
  for (const auto& i : issues) {
    EXPECT_EQ(i.diagnostics.find("Zyxwvutsr"), std::string::npos) << i.diagnostics;
    EXPECT_EQ(i.diagnostics.find("1999-02-31"), std::string::npos) << i.diagnostics;
    EXPECT_EQ(i.diagnostics.find("SECRET"), std::string::npos) << i.diagnostics;
    EXPECT_EQ(i.diagnostics.find("x.org/a b"), std::string::npos) << i.diagnostics;
    EXPECT_GT(i.position.line, 0u);
  }
}

}  // namespace
}  // namespace gw::validation

namespace gw::validation {
namespace {
// Presence constraints run natively (detail/fold.hpp, kExistence) rather
// than through FHIRPath: the verdicts must be FHIRPath's, including members
// seen only through their `_x` sibling and choice keys.
TEST(ValidatorTest, PresenceInvariantsFollowFhirPath) {
  const std::string text =
      R"("text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"})";
  // qty-3: a code without a system; obs-6: a value beside dataAbsentReason,
  // the value present only as `_valueString` (an extension, no value).
  auto issues = validate_text(R"({"resourceType": "Observation", "status": "final", "code": {"text": "x"}, )" + text +
                              R"(, "dataAbsentReason": {"text": "n/a"},
      "_valueString": {"extension": [{"url": "http://example.org/x", "valueBoolean": true}]},
      "component": [{"code": {"text": "c"}, "valueQuantity": {"value": 1, "code": "mg"}}],
      "referenceRange": [{"type": {"text": "t"}}]})");
  EXPECT_THAT(summarize(issues),
              ::testing::IsSupersetOf({"error invariant Observation",
                                       "error invariant Observation.component[0].valueQuantity",
                                       "error invariant Observation.referenceRange[0]"}));
  // The same shapes made valid: a system for the code; the absent reason
  // alone; a low bound.
  auto fixed = validate_text(R"({"resourceType": "Observation", "status": "final", "code": {"text": "x"}, )" + text +
                             R"(, "dataAbsentReason": {"text": "n/a"}, "component": [{"code": {"text": "c"},
         "valueQuantity": {"value": 1, "code": "mg", "system": "http://unitsofmeasure.org"}}],
      "referenceRange": [{"low": {"value": 1}}]})");
  for (const std::string& s : summarize(fixed)) EXPECT_EQ(s.find("error invariant"), std::string::npos) << s;
}
}  // namespace
}  // namespace gw::validation

namespace gw::validation {
namespace {
// A Bundle large enough that its fullUrl index probes and grows past a few
// slots: every relative reference must still resolve to its own entry
// (the one deliberately pointing at an Observation is caught as the wrong
// type, so resolution really found it), and one repeated fullUrl, at the
// very end, is bdl-7's only error.
TEST(ValidatorTest, LargeBundleResolvesEveryEntryAndFindsTheOneRepeatedFullUrl) {
  const std::string div =
      R"("text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"})";
  auto patient = [&](int i) {
    return R"({"fullUrl": "http://example.org/fhir/Patient/p)" + std::to_string(i) +
           R"(", "resource": {"resourceType": "Patient", "id": "p)" + std::to_string(i) + R"(", )" + div + "}}";
  };
  std::string text = R"({"resourceType": "Bundle", "type": "collection", "entry": [)";
  constexpr int kEntries = 3000;
  constexpr int kWrong = 2001;
  for (int i = 0; i < kEntries; ++i) {
    if (i) text += ',';
    if (i % 2 == 0) {
      text += patient(i);
      continue;
    }
    const std::string subject = i == kWrong ? "Observation/o" + std::to_string(i - 2) : "Patient/p" + std::to_string(i - 1);
    text += R"({"fullUrl": "http://example.org/fhir/Observation/o)" + std::to_string(i) +
            R"(", "resource": {"resourceType": "Observation", "id": "o)" + std::to_string(i) + R"(", )" + div +
            R"(, "status": "final", "code": {"text": "pulse"}, "subject": {"reference": ")" + subject + R"("}}})";
  }
  const std::string clean = text + "]}";
  EXPECT_THAT(summarize(validate_text(clean)),
              ElementsAre("error structure Bundle.entry[" + std::to_string(kWrong) + "].resource.subject"));
  const std::string repeated = text + "," + patient(0) + "]}";
  EXPECT_THAT(summarize(validate_text(repeated)),
              ::testing::UnorderedElementsAre("error invariant Bundle",
                                              "error structure Bundle.entry[" + std::to_string(kWrong) +
                                                  "].resource.subject"));
}
}  // namespace
}  // namespace gw::validation

namespace gw::validation {
namespace {
// tim-4 and tim-5 are native, per-1 and tim-9 prefiltered (detail/plan.hpp,
// NativeCheck): on every shape below the validator's verdict must be
// FHIRPath's own, evaluated here on the same element.
// Whether validating `text` reports invariant `key` at `at`.
bool reports_invariant(const std::string& text, const std::string& at, const std::string& key) {
  for (const Issue& i : gw::testing::validate_text(text)) {
    if (i.expression == at && i.diagnostics.rfind(key + ":", 0) == 0) return true;
  }
  return false;
}

// FHIRPath's own verdict on `value` as a `type`: empty when the invariant
// does not apply.
std::optional<bool> fhirpath_verdict(const fhirpath::Expression& expr, json::Value value, const fhir::TypeDef* type) {
  fhir::Node node;
  node.value = value;
  node.type = type;
  fhirpath::EvaluationContext ctx;
  ctx.model = gw::testing::core_definitions()->model.get();
  auto verdict = expr.evaluate_boolean(node, ctx);
  EXPECT_TRUE(verdict) << verdict.error().to_string();
  return verdict ? *verdict : std::nullopt;
}

TEST(ValidatorTest, NativeTimingAndPeriodChecksFollowFhirPath) {
  const auto* defs = gw::testing::core_definitions();
  ASSERT_NE(defs, nullptr);
  const std::string div =
      R"("text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"})";
  struct Case {
    std::string key, type, expression, member_json;
  };
  const std::string tim4 = "duration.exists() implies duration >= 0";
  const std::string tim5 = "period.exists() implies period >= 0";
  const std::string tim9 =
      "offset.empty() or (when.exists() and when.select($this in ('C' | 'CM' | 'CD' | 'CV')).allFalse())";
  const std::string per1 = "start.hasValue().not() or end.hasValue().not() or (start <= end)";
  std::vector<Case> cases;
  for (const char* n : {"-0.5", "-0", "-0.0", "0", "1", "-1e-3", "1e2", "-0e5", "0.000"}) {
    cases.push_back({"tim-5", "Timing.repeat", tim5, std::string(R"({"period": )") + n + R"(, "periodUnit": "d"})"});
    cases.push_back({"tim-4", "Timing.repeat", tim4, std::string(R"({"duration": )") + n + R"(, "durationUnit": "h"})"});
  }
  for (const char* r : {R"({"offset": 30})", R"({"offset": 30, "when": ["C"]})", R"({"offset": 30, "when": ["ACM"]})",
                        R"({"when": ["C"]})", R"({"offset": 0, "when": ["CM", "HS"]})"}) {
    cases.push_back({"tim-9", "Timing.repeat", tim9, r});
  }
  for (const char* p : {R"({"start": "2020-02-01", "end": "2020-01-01"})", R"({"start": "2020-01-01"})",
                        R"({"end": "2020-01-01"})", R"({"start": "2020-02", "end": "2020-02-14"})",
                        R"({"start": "2020-01-01T10:00:00+02:00", "end": "2020-01-01T09:30:00Z"})",
                        R"({"start": "2020-01-01T10:00:00Z", "end": "2020-01-01T09:30:00Z"})",
                        R"({"start": "2021", "end": "2020-06"})", R"({"_start": {"id": "s"}, "end": "2020-01-01"})",
                        // per-1 is decided natively when both values parse:
                        // equal values, date against dateTime, a local time
                        // against a zoned one, fractions, offsets; a value
                        // that does not parse goes to FHIRPath.
                        R"({"start": "2020-01-01", "end": "2020-01-01"})",
                        R"({"start": "2020-01-01", "end": "2020-01-01T00:00:00Z"})",
                        R"({"start": "2020-01-01T10:00:00", "end": "2020-01-01T09:00:00Z"})",
                        R"({"start": "2020-01-01T10:00:00.5Z", "end": "2020-01-01T10:00:00.25Z"})",
                        R"({"start": "2020-01-01T12:00:00-02:00", "end": "2020-01-01T13:00:00Z"})",
                        R"({"start": "2020-01-01T12:00:00+02:00", "end": "2020-01-01T11:00:00Z"})",
                        R"({"start": "2020-13-01", "end": "2020-01-01"})"}) {
    cases.push_back({"per-1", "Period", per1, p});
  }
  std::size_t failing = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key + " " + c.member_json);
    std::string text;
    std::string at;
    if (c.type == "Period") {
      text = R"({"resourceType": "Patient", "id": "p", )" + div + R"(, "name": [{"family": "A", "period": )" +
             c.member_json + "}]}";
      at = "Patient.name[0].period";
    } else {
      text = R"({"resourceType": "Observation", "id": "o", )" + div +
             R"(, "status": "final", "code": {"text": "x"}, "effectiveTiming": {"repeat": )" + c.member_json + "}}";
      at = "Observation.effectiveTiming.repeat";
    }
    const bool reported = reports_invariant(text, at, c.key);
    // FHIRPath on the same element.
    auto doc = json::Document::parse(c.member_json);
    ASSERT_TRUE(doc);
    fhirpath::CompileOptions co;
    co.model = defs->model;
    co.context_type = c.type;
    auto expr = fhirpath::Expression::compile(c.expression, co);
    ASSERT_TRUE(expr) << expr.error().to_string();
    const fhir::TypeDef* type = c.type == "Period" ? defs->model->type("Period")
                                                   : defs->model->type("Timing")->element("repeat")->backbone;
    ASSERT_NE(type, nullptr);
    const std::optional<bool> verdict = fhirpath_verdict(*expr, doc->root(), type);
    const bool fhirpath_fails = verdict.has_value() && !*verdict;
    EXPECT_EQ(reported, fhirpath_fails);
    failing += fhirpath_fails;
  }
  // Both verdicts occur: 2 + 2 negative decimals, 3 offsets, 5 periods.
  EXPECT_EQ(failing, 12u);
}

// bdl-1, 2, 9, 10, 11 and 12 are prefiltered: a Bundle without a total,
// without entry.search, or of another type holds without FHIRPath; the
// rest goes to FHIRPath. Each verdict must be FHIRPath's on the same
// Bundle, for shapes on both sides of each prefilter.
TEST(ValidatorTest, BundlePrefiltersFollowFhirPath) {
  const auto* defs = gw::testing::core_definitions();
  ASSERT_NE(defs, nullptr);
  const std::string patient = R"({"fullUrl": "urn:uuid:6b1c0000-0000-4000-8000-000000000001",
      "resource": {"resourceType": "Patient", "id": "p"}})";
  const std::string composition = R"({"fullUrl": "urn:uuid:6b1c0000-0000-4000-8000-000000000002",
      "resource": {"resourceType": "Composition", "id": "c", "status": "final", "type": {"text": "x"},
                   "date": "2020-01-01", "author": [{"display": "a"}], "title": "t"}})";
  const std::string header = R"({"fullUrl": "urn:uuid:6b1c0000-0000-4000-8000-000000000003",
      "resource": {"resourceType": "MessageHeader", "id": "m", "eventCoding": {"code": "x"},
                   "source": {"endpoint": "http://example.org"}}})";
  const std::string searched = R"({"fullUrl": "urn:uuid:6b1c0000-0000-4000-8000-000000000004",
      "resource": {"resourceType": "Patient", "id": "q"}, "search": {"mode": "match"}})";
  const std::vector<std::string> bundles = {
      R"("type": "collection")",
      R"("type": "collection", "total": 3)",
      R"("type": "collection", "_total": {"extension": [{"url": "http://example.org/x", "valueString": "y"}]})",
      R"("type": "searchset", "total": 1, "entry": [)" + searched + "]",
      R"("type": "collection", "entry": [)" + patient + ", " + searched + "]",
      R"("type": "history", "total": 1)",
      R"("type": "document", "entry": [)" + patient + "]",
      R"("type": "document", "identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:6b1c0000-0000-4000-8000-0000000000ff"},
         "timestamp": "2020-01-01T00:00:00Z", "entry": [)" + composition + "]",
      R"("type": "document", "identifier": {"system": "urn:ietf:rfc:3986"}, "_timestamp": {"id": "t"}, "entry": [)" +
          composition + "]",
      R"("type": "message", "entry": [)" + patient + "]",
      R"("type": "message", "entry": [)" + header + "]",
      R"("type": "transaction", "entry": [)" + patient + "]",
      R"("total": 2, "entry": [)" + patient + "]",
      R"("_type": {"id": "t"}, "entry": [)" + searched + "]",
      R"("type": "collection", "entry": {"resource": {"resourceType": "Patient"}})",
  };
  auto* bundle_type = defs->model->type("Bundle");
  ASSERT_NE(bundle_type, nullptr);
  std::size_t failing = 0, verdicts = 0;
  for (const std::string key : {"bdl-1", "bdl-2", "bdl-9", "bdl-10", "bdl-11", "bdl-12"}) {
    std::string expression;
    const packages::Entry* sd = defs->registry->find("http://hl7.org/fhir/StructureDefinition/Bundle");
    ASSERT_NE(sd, nullptr);
    auto sd_json = sd->json();
    ASSERT_TRUE(sd_json);
    for (json::Value e : sd_json->find("snapshot").find("element").items()) {
      for (json::Value c : e.find("constraint").items()) {
        if (c.find("key").str() == key) expression = std::string(c.find("expression").str());
      }
    }
    ASSERT_FALSE(expression.empty()) << key;
    fhirpath::CompileOptions co;
    co.model = defs->model;
    co.context_type = "Bundle";
    auto expr = fhirpath::Expression::compile(expression, co);
    ASSERT_TRUE(expr) << expr.error().to_string();
    for (const std::string& members : bundles) {
      SCOPED_TRACE(key + " " + members);
      const std::string text = R"({"resourceType": "Bundle", "id": "b", )" + members + "}";
      const bool reported = reports_invariant(text, "Bundle", key);
      auto doc = json::Document::parse(text);
      ASSERT_TRUE(doc);
      const std::optional<bool> verdict = fhirpath_verdict(*expr, doc->root(), bundle_type);
      const bool fhirpath_fails = verdict.has_value() && !*verdict;
      EXPECT_EQ(reported, fhirpath_fails);
      failing += fhirpath_fails;
      verdicts += verdict.has_value();
    }
  }
  // Both answers occur for every key: bdl-1 fails on 2 Bundles, bdl-2 on
  // 1, bdl-9 on 2, bdl-10 on 2, bdl-11 on 1, bdl-12 on 1.
  EXPECT_EQ(failing, 9u);
  EXPECT_GT(verdicts, 60u);
}
}  // namespace
}  // namespace gw::validation
