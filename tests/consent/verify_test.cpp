// The verifier on hand-made leaks: each test takes a correct redaction of
// the planted bundle, puts one thing back, and expects the verifier to
// name it. The last tests show the release failing closed.
#include "gateway/consent/consent.hpp"
#include "gateway/consent/detail/engine.hpp"

#include <gtest/gtest.h>

#include "tests/consent/consent_fixture.hpp"

namespace gw::consent {
namespace {

using testing::default_policy;
using testing::model;

class Verify : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = default_policy();
    ASSERT_NE(policy_, nullptr);
    input_ = testing::load("planted-bundle.json");
    decision_.permitted.assign(policy_->categories().size(), false);
    auto r = redact(*policy_, *model(), input_.root(), decision_);
    ASSERT_TRUE(r) << r.error().to_string();
    redaction_ = std::move(*r);
  }

  // Findings for the redacted document after replacing `from` by `to`
  // (both must be present / valid JSON afterwards).
  std::vector<Finding> findings_after(std::string_view from, std::string_view to) {
    std::string doc = redaction_.document;
    std::size_t at = doc.find(from);
    EXPECT_NE(at, std::string::npos) << "test set-up: text not in the output: " << from;
    if (at == std::string::npos) return {};
    doc.replace(at, from.size(), to);
    return findings_of(std::move(doc));
  }
  std::vector<Finding> findings_of(std::string doc) {
    json::Document parsed = testing::parse(std::move(doc));
    auto f = verify(*policy_, *model(), parsed.root(), decision_, redaction_.removed_values,
                    redaction_.removed_resources);
    EXPECT_TRUE(f) << (f ? "" : f.error().to_string());
    return f ? *f : std::vector<Finding>{};
  }
  static bool has(const std::vector<Finding>& fs, Finding::Kind k,
                  std::string_view path_part = "") {
    for (const Finding& f : fs) {
      if (f.kind == k && f.path.find(path_part) != std::string::npos) return true;
    }
    return false;
  }
  static std::string dump(const std::vector<Finding>& fs) {
    std::string s;
    for (const Finding& f : fs)
      s += std::string(to_string(f.kind)) + " " + f.category + " at " + f.path + "\n";
    return s;
  }

  std::shared_ptr<const Policy> policy_;
  json::Document input_;
  Decision decision_;
  Redaction redaction_;
};

TEST_F(Verify, CleanRedactionHasNoFindings) {
  auto f = findings_of(redaction_.document);
  EXPECT_TRUE(f.empty()) << dump(f);
  EXPECT_FALSE(redaction_.removed_values.empty());
  // Removed values are normalised and long enough to search for.
  for (const std::string& v : redaction_.removed_values) {
    EXPECT_GE(v.size(), 4u);
    EXPECT_EQ(v, testing::normalised(v));
  }
}

TEST_F(Verify, AddressLeftInANarrativeIsCaught) {
  auto f =
      findings_after("<p><b>Patient</b></p>", "<p><b>Patient</b> at <i>12  Hidden\\n LANE</i></p>");
  EXPECT_TRUE(has(f, Finding::Kind::kValue, "Bundle.entry[0].resource.text")) << dump(f);
}

TEST_F(Verify, PassportNumberInANoteIsCaught) {
  auto f = findings_after(
      R"("code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006")",
      R"("note":[{"text":"Copy of passport p99887766 on file"}],"code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006")");
  EXPECT_TRUE(has(f, Finding::Kind::kFreeText, "note")) << dump(f);
  EXPECT_TRUE(has(f, Finding::Kind::kValue, "note")) << dump(f);
}

TEST_F(Verify, PassportNumberCopiedIntoAnotherIdentifierIsCaught) {
  auto f = findings_after(R"("value":"MRN-12345")", R"("value":"P99887766")");
  EXPECT_TRUE(has(f, Finding::Kind::kValue, "identifier")) << dump(f);
}

TEST_F(Verify, RemovedValueInADisplayIsCaughtButNotInsideAnotherWord) {
  auto f = findings_after(R"("display":"Diabetes mellitus type 2")",
                          R"("display":"Diabetes, see caseworker at Lindenau-Nord")");
  EXPECT_TRUE(has(f, Finding::Kind::kValue)) << dump(f);
  // Word boundaries: a longer number or word is not the removed value.
  f = findings_after(R"("value":"MRN-12345")", R"("value":"MRN-1402919")");
  EXPECT_FALSE(has(f, Finding::Kind::kValue)) << dump(f);
  f = findings_after(R"("display":"Diabetes mellitus type 2")", R"("display":"12 Hidden Lanes")");
  EXPECT_FALSE(has(f, Finding::Kind::kValue)) << dump(f);
}

TEST_F(Verify, DeniedElementsAreCaught) {
  const std::string patient_start = R"({"resourceType":"Patient","id":"amina",)";
  auto f = findings_after(
      patient_start,
      patient_start +
          R"("extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-nationality","extension":[{"url":"code","valueCodeableConcept":{"text":"x"}}]}],)");
  EXPECT_TRUE(has(f, Finding::Kind::kExtension)) << dump(f);
  f = findings_after(R"({"country":"DE"})", R"({"city":"Elsewhere","country":"DE"})");
  EXPECT_TRUE(has(f, Finding::Kind::kPath, "address")) << dump(f);
  f = findings_after(
      R"("value":"MRN-12345")",
      R"("value":"X1","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"PPN"}]})");
  EXPECT_TRUE(has(f, Finding::Kind::kIdentifier)) << dump(f);
  f = findings_after(R"("code":"44054006")", R"("code":"446654005")");
  EXPECT_TRUE(has(f, Finding::Kind::kCode)) << dump(f);
  f = findings_after(R"("reasonCode":)",
                     R"("location":[{"location":{"reference":"Location/x"}}],"reasonCode":)");
  EXPECT_TRUE(has(f, Finding::Kind::kReference)) << dump(f);
  EXPECT_TRUE(has(f, Finding::Kind::kPath, "location")) << dump(f);
  f = findings_after(R"("reasonCode":)",
                     R"("contained":[{"resourceType":"Location","id":"l"}],"reasonCode":)");
  EXPECT_TRUE(has(f, Finding::Kind::kResource, "contained")) << dump(f);
  f = findings_after(R"("reasonCode":)",
                     R"("serviceProvider":{"reference":"#nowhere"},"reasonCode":)");
  EXPECT_TRUE(has(f, Finding::Kind::kReference, "serviceProvider")) << dump(f);
  f = findings_after(R"("reasonCode":)", R"("secretNotes":"x","reasonCode":)");
  EXPECT_TRUE(has(f, Finding::Kind::kUnknownMember, "(unknown member)")) << dump(f);
  EXPECT_FALSE(dump(f).find("secretNotes") != std::string::npos);
  // A reference to a resource the redaction removed.
  f = findings_after(R"("reasonCode":)",
                     R"("partOf":{"reference":"Observation/status-1"},"reasonCode":)");
  EXPECT_TRUE(has(f, Finding::Kind::kReference, "partOf")) << dump(f);
  // An original narrative.
  f = findings_after(
      R"({"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p><b>Patient</b>)",
      R"({"status":"additional","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p><b>Patient</b>)");
  EXPECT_TRUE(has(f, Finding::Kind::kFreeText, "text")) << dump(f);
}

TEST_F(Verify, ReleaseFailsClosedWhenARemovedValueStaysInText) {
  // The clinic's display name contains the patient's (removed) town: the
  // verifier cannot tell this from a leak, so nothing is released.
  std::string text(input_.source());
  std::string from = R"("agent": [{"who": {"display": "Dr. Weber"}}])";
  std::size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, from.size(),
               R"("agent": [{"who": {"display": "Dr. Weber, Springfield Heights practice"}}])");
  json::Document doc = testing::parse(text);
  auto config = load_gateway_config(testing::config_path("demo.json"));
  Engine engine(policy_, model(), config->recipients);
  ReleaseRequest req{"demo-hospital", "TREAT", {}, testing::fixture_now()};
  auto r = engine.release(doc.root(), req);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->outcome, Outcome::kFailedClosed);
  EXPECT_TRUE(r->document.empty());
  EXPECT_TRUE(r->receipt.empty());
  EXPECT_EQ(r->audit.outcome, Outcome::kFailedClosed);
  EXPECT_EQ(r->audit.reason, "verifier-finding");
  ASSERT_FALSE(r->audit.findings.empty());
  EXPECT_EQ(r->audit.findings[0].kind, Finding::Kind::kValue);
  ASSERT_EQ(r->issues.size(), 1u);
  EXPECT_EQ(r->issues[0].code, "security");
  std::string audit = audit_event_json(r->audit, *policy_);
  EXPECT_EQ(audit.find("Springfield"), std::string::npos);
  EXPECT_NE(audit.find("\"8\""), std::string::npos);
}

TEST_F(Verify, DepthLimitIsAnError) {
  std::string deep = R"({"resourceType":"Questionnaire","status":"draft","item":[)";
  std::string close;
  for (int i = 0; i < 80; ++i) {
    deep += R"({"linkId":"a","type":"group","item":[)";
    close += "]}";
  }
  deep += close + "]}";
  json::Document doc = testing::parse(deep);
  auto r = redact(*policy_, *model(), doc.root(), decision_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kLimit);
  auto v = verify(*policy_, *model(), doc.root(), decision_, {});
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), ErrorCode::kLimit);
}

TEST_F(Verify, NotAResourceIsAnError) {
  json::Document doc = testing::parse(R"({"resourceType":"NoSuchThing"})");
  auto r = redact(*policy_, *model(), doc.root(), decision_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kParse);
}

}  // namespace
}  // namespace gw::consent

// The verifier's text normalisation (detail::normalise_text): lower case,
// whitespace runs (with U+00A0) collapsed to one space, trimmed; UTF-8
// other than U+00A0 passes through byte for byte.
TEST(NormaliseText, FoldsCaseAndCollapsesWhitespace) {
  using gw::consent::detail::normalise_text;
  EXPECT_EQ(normalise_text(""), "");
  EXPECT_EQ(normalise_text(" \t\n"), "");
  EXPECT_EQ(normalise_text("Abc"), "abc");
  EXPECT_EQ(normalise_text("  Tier  One\r\nCamp\f\v "), "tier one camp");
  EXPECT_EQ(normalise_text("a\xC2\xA0\xC2\xA0" "B"), "a b");
  EXPECT_EQ(normalise_text("\xC2\xA0X"), "x");
  EXPECT_EQ(normalise_text("\xC3\x89vora  \xC3\xA9"), "\xC3\x89vora \xC3\xA9");  // non-ASCII kept as is
  EXPECT_EQ(normalise_text("x\xC2"), "x\xC2");  // a lone lead byte at the end stays
  std::string long_ws(1000, ' ');
  EXPECT_EQ(normalise_text(long_ws + "Q" + long_ws), "q");
}

TEST(NormaliseText, AppendsAfterWhatIsThere) {
  std::string out = "seg\n";
  gw::consent::detail::append_normalised(out, "  Two  Words ");
  EXPECT_EQ(out, "seg\ntwo words");
  gw::consent::detail::append_normalised(out, " \t ");
  EXPECT_EQ(out, "seg\ntwo words");
}

// normalise_text takes eight bytes at a time while none is whitespace, a
// control or 0xC2: every byte value at every offset of 1-24-byte texts,
// whitespace and U+00A0 pairs at every two offsets, and pseudo-random texts
// over an alphabet of the interesting bytes, all come out exactly as a
// byte-by-byte reference normalises them.
TEST(NormaliseText, WordAtATimeMatchesAByteLoop) {
  using gw::consent::detail::normalise_text;
  auto reference = [](std::string_view s) {
    std::string out;
    bool space = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
      auto c = static_cast<unsigned char>(s[i]);
      bool ws = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
      if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
        ws = true;
        ++i;
      }
      if (ws) {
        space = !out.empty();
        continue;
      }
      if (space) out += ' ';
      space = false;
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    return out;
  };
  const std::string base = "aBcDeFgHiJkLmNoPqRsTuVwXyZ@[`{";
  std::size_t checked = 0;
  for (std::size_t len = 1; len <= 24; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string s = base.substr(0, len);
        s[at] = static_cast<char>(b);
        ASSERT_EQ(normalise_text(s), reference(s)) << "length " << len << ", byte " << b << " at " << at;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 256u * 300u);
  for (std::size_t len = 2; len <= 24; ++len) {
    for (std::size_t a = 0; a < len; ++a) {
      for (std::size_t b = a + 1; b < len; ++b) {
        for (std::string_view pair : {std::string_view("  "), std::string_view("\xC2\xA0"), std::string_view(" \xC2")}) {
          std::string s = base.substr(0, len);
          s[a] = pair[0];
          s[b] = pair[1];
          ASSERT_EQ(normalise_text(s), reference(s)) << "length " << len << " at " << a << ", " << b;
        }
      }
    }
  }
  const std::string alphabet = std::string("aZq ") + "\t\n\xC2\xA0\xC3\x80\x7F\x01@[`{" + std::string(1, '\0');
  std::uint32_t x = 12345;
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    const std::size_t len = x % 40;
    for (std::size_t i = 0; i < len; ++i) {
      x = x * 1664525u + 1013904223u;
      s += alphabet[(x >> 16) % alphabet.size()];
    }
    x = x * 1664525u + 1013904223u;
    ASSERT_EQ(normalise_text(s), reference(s)) << "random text " << n;
  }
}
