// Evaluation beyond the official suite: concurrency, limits, context,
// resolve(), memberOf()/conformsTo() through the Environment, htmlChecks(),
// and the JSON output format.
#include "gateway/fhirpath/fhirpath.hpp"

#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace gw::fhirpath {
namespace {

const std::shared_ptr<const fhir::Model>& model() {
  static const std::shared_ptr<const fhir::Model> empty;
  const testing::CoreDefinitions* core = testing::core_definitions();
  return core ? core->model : empty;
}

struct Resource {
  json::Document doc;
  fhir::Node root;
};

Resource load(std::string text) {
  auto doc = json::Document::parse(std::move(text));
  EXPECT_TRUE(doc) << (doc ? "" : doc.error().to_string());
  Resource r{std::move(*doc), {}};
  auto root = model()->resource(r.doc.root());
  EXPECT_TRUE(root) << (root ? "" : root.error().to_string());
  if (root) r.root = *root;
  return r;
}

Expression compile(std::string_view text, std::string context_type = "") {
  CompileOptions o;
  o.model = model();
  o.context_type = std::move(context_type);
  auto e = Expression::compile(text, o);
  if (!e) {
    ADD_FAILURE() << text << ": " << e.error().to_string();
    return *Expression::compile("{}");
  }
  return std::move(*e);
}

std::string eval_json(const Resource& r, std::string_view text, const EvaluationContext& ctx = {}) {
  auto e = compile(text, r.root.type->name);
  auto result = e.evaluate(r.root, ctx);
  if (!result) return "error: " + result.error().to_string();
  return to_json(*result);
}

constexpr std::string_view kPatient = R"({
  "resourceType": "Patient", "id": "p1",
  "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]},
           {"use": "usual", "given": ["Jim"]}],
  "birthDate": "1974-12-25",
  "managingOrganization": {"reference": "#org"},
  "contained": [{"resourceType": "Organization", "id": "org", "name": "Acme"}]
})";

TEST(Evaluate, PathsAndOutputFormat) {
  ASSERT_TRUE(model());
  Resource p = load(std::string(kPatient));
  EXPECT_EQ(eval_json(p, "name.given"), R"(["Peter","James","Jim"])");
  EXPECT_EQ(eval_json(p, "Patient.birthDate + 1 day"), R"(["1974-12-26"])");
  EXPECT_EQ(eval_json(p, "name.count() * 1.50"), R"([3.00])");
  EXPECT_EQ(eval_json(p, "4 'g' + 1 'g'"), R"([{"value":5,"unit":"g"}])");
  EXPECT_EQ(eval_json(p, "name[0]"), R"([{"use":"official","family":"Chalmers","given":["Peter","James"]}])");
  EXPECT_EQ(eval_json(p, "1.type()"), R"([{"namespace":"System","name":"Integer"}])");
}

TEST(Evaluate, OneExpressionEvaluatesConcurrently) {
  ASSERT_TRUE(model());
  // Compiled once, shared by every thread: the regex is compiled at compile
  // time and shared too.
  Expression e = compile("name.where(given.matches('^J.*')).given.join(',') & '|' & name.count().toString()",
                         "Patient");
  std::vector<Resource> docs;
  std::vector<std::string> expected;
  for (int i = 0; i < 4; ++i) {
    std::string names;
    for (int k = 0; k <= i; ++k) {
      names += std::string(k ? "," : "") + R"({"given": ["J)" + std::to_string(k) + R"("]}, {"given": ["X"]})";
    }
    docs.push_back(load(R"({"resourceType": "Patient", "name": [)" + names + "]}"));
    std::string want;
    for (int k = 0; k <= i; ++k) want += std::string(k ? "," : "") + "J" + std::to_string(k);
    expected.push_back(want + "|" + std::to_string(2 * (i + 1)));
  }
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      EvaluationContext ctx;
      for (int round = 0; round < 300; ++round) {
        std::size_t d = static_cast<std::size_t>((t + round) % 4);
        auto r = e.evaluate(docs[d].root, ctx);
        if (!r || r->size() != 1 || (*r)[0].string() != expected[d]) ++mismatches[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(Evaluate, DepthAndSizeLimitsAreErrors) {
  ASSERT_TRUE(model());
  Resource p = load(std::string(kPatient));
  EvaluationContext shallow;
  shallow.max_depth = 6;
  auto e = compile("name.where(given.where(length().where($this > 1).exists()).exists()).count()", "Patient");
  auto r = e.evaluate(p.root, shallow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kLimit);
  EXPECT_TRUE(e.evaluate(p.root, EvaluationContext{}));

  // A runaway repeat() stops at the item limit instead of looping forever.
  EvaluationContext small;
  small.max_items = 1000;
  auto runaway = compile("1.repeat($this + 1).count()").evaluate(p.root, small);
  ASSERT_FALSE(runaway);
  EXPECT_EQ(runaway.error().code(), ErrorCode::kLimit);
  // repeat() stops by itself when nothing new appears.
  EXPECT_EQ(eval_json(p, "(1 | 2).repeat(iif($this < 5, $this + 1, {}))"), "[2,3,4,5]");
}

// Dates and quantities share hash buckets (equality converts time zones and
// units), so set functions compare each new one with every earlier one; the
// work limit bounds that (fhirpath_fuzz found a repeat() over quantity
// arithmetic comparing for hours).
TEST(Evaluate, SetFunctionsOnDatesAndQuantitiesStopAtTheWorkLimit) {
  ASSERT_TRUE(model());
  Resource p = load(std::string(kPatient));
  const char* days = "@2020-01-01.repeat(iif($this < @2020-12-31, $this + 1 day, {})).count()";
  EXPECT_EQ(eval_json(p, days), "[365]");  // about 66,000 comparisons: well inside the default
  EvaluationContext tight;
  tight.max_work = 10'000;
  auto stopped = compile(days).evaluate(p.root, tight);
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code(), ErrorCode::kLimit);
  EXPECT_NE(stopped.error().message().find("work limit"), std::string::npos);
  // Quantities cost more per comparison: 100 distinct ones exceed 10,000.
  auto q = compile("1 'mg'.repeat(iif($this < 100 'mg', $this + 1 'mg', {})).distinct().count()").evaluate(p.root, tight);
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().code(), ErrorCode::kLimit);
  // The input the fuzzer found ends with the limit error, not a hang.
  auto fuzz = compile("1.repeat($this -aggregate(0.4+11'/3'/1++1'/2'/1+1+1+1+10)+1+1+1+0)").evaluate(p.root, {});
  ASSERT_FALSE(fuzz);
  EXPECT_EQ(fuzz.error().code(), ErrorCode::kLimit);
}

TEST(Evaluate, DeeplyNestedDataIsWalkedWithoutRecursion) {
  ASSERT_TRUE(model());
  std::string open, close;
  for (int i = 0; i < 120; ++i) {
    open += R"({"url": "u", "extension": [)";
    close += "]}";
  }
  std::string text = R"({"resourceType": "Patient", "extension": [)" + open + R"({"url": "leaf", "valueString": "x"})" +
                     close + "]}";
  Resource deep = load(text);
  EXPECT_EQ(eval_json(deep, "descendants().where($this is Extension).count()"), "[121]");
  EXPECT_EQ(eval_json(deep, "repeat(extension).url.last()"), R"(["leaf"])");
  EXPECT_EQ(eval_json(deep, "extension = extension"), "[true]");
}

class FixedClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));  // 2023-11-14T22:13:20Z
  }
};

TEST(Evaluate, NowTodayAndTimeOfDayReadTheInjectedClock) {
  ASSERT_TRUE(model());
  Resource p = load(std::string(kPatient));
  FixedClock clock;
  EvaluationContext ctx;
  ctx.clock = &clock;
  EXPECT_EQ(eval_json(p, "now()", ctx), R"(["2023-11-14T22:13:20.000Z"])");
  EXPECT_EQ(eval_json(p, "today()", ctx), R"(["2023-11-14"])");
  EXPECT_EQ(eval_json(p, "timeOfDay()", ctx), R"(["22:13:20.000"])");
  EXPECT_EQ(eval_json(p, "now() = now()", ctx), "[true]");
  ctx.tz_offset_minutes = 120;
  EXPECT_EQ(eval_json(p, "today()", ctx), R"(["2023-11-15"])");
  EXPECT_EQ(eval_json(p, "birthDate < today()", ctx), "[true]");
}

TEST(Evaluate, VariablesAndTrace) {
  ASSERT_TRUE(model());
  Resource p = load(std::string(kPatient));
  EvaluationContext ctx;
  ctx.variables["wanted"] = Collection{Item::string("usual")};
  std::vector<std::string> traced;
  ctx.trace = [&](std::string_view name, const Collection& items) {
    traced.push_back(std::string(name) + ":" + std::to_string(items.size()));
  };
  EXPECT_EQ(eval_json(p, "name.where(use = %wanted).given", ctx), R"(["Jim"])");
  EXPECT_EQ(eval_json(p, "%resource.id & %rootResource.id & %context.id", ctx), R"(["p1p1p1"])");
  EXPECT_EQ(eval_json(p, "name.trace('names').given.trace('given', $this.length()).count()", ctx), "[3]");
  EXPECT_EQ(traced, (std::vector<std::string>{"names:2", "given:3"}));
  EXPECT_EQ(eval_json(p, "%ucum & ' ' & %`vs-marital-status`"),
            R"(["http://unitsofmeasure.org http://hl7.org/fhir/ValueSet/marital-status"])");
  std::string missing = eval_json(p, "%nothing");
  EXPECT_NE(missing.find("unknown variable %nothing"), std::string::npos) << missing;
}

TEST(Evaluate, ResolveFindsContainedResourcesAndBundleEntries) {
  ASSERT_TRUE(model());
  Resource p = load(std::string(kPatient));
  EXPECT_EQ(eval_json(p, "managingOrganization.resolve().name"), R"(["Acme"])");
  EXPECT_EQ(eval_json(p, "managingOrganization.resolve() is Organization"), "[true]");

  Resource b = load(R"({"resourceType": "Bundle", "type": "collection", "entry": [
    {"fullUrl": "http://example.org/fhir/Patient/1",
     "resource": {"resourceType": "Patient", "id": "1", "gender": "female"}},
    {"fullUrl": "urn:uuid:9d1714da-b7e6-455b-bfd2-69ce0ff5fb12",
     "resource": {"resourceType": "Patient", "id": "2", "gender": "male"}},
    {"fullUrl": "http://example.org/fhir/Observation/o",
     "resource": {"resourceType": "Observation", "id": "o", "status": "final",
                  "code": {"text": "x"},
                  "subject": {"reference": "Patient/1"},
                  "performer": [{"reference": "urn:uuid:9d1714da-b7e6-455b-bfd2-69ce0ff5fb12"},
                                {"reference": "Patient/404"}]}}]})");
  EXPECT_EQ(eval_json(b, "entry.resource.ofType(Observation).subject.resolve().gender"), R"(["female"])");
  EXPECT_EQ(eval_json(b, "entry.resource.ofType(Observation).performer.resolve().gender"), R"(["male"])");

  // Evaluated on the entry's resource with the Bundle in the context.
  auto e = compile("subject.resolve().id", "Observation");
  EvaluationContext ctx;
  ctx.bundle = b.root;
  std::vector<fhir::Node> entries, resources;
  model()->children(b.root, "entry", entries);
  model()->children(entries[2], "resource", resources);
  ASSERT_EQ(resources.size(), 1u);
  auto r = e.evaluate(resources[0], ctx);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(to_json(*r), R"(["1"])");
}

class FakeEnvironment final : public Environment {
 public:
  Result<std::optional<bool>> member_of(std::span<const Code> codes, std::string_view vs) const override {
    if (vs != "http://hl7.org/fhir/ValueSet/administrative-gender") return std::optional<bool>();
    for (const Code& c : codes) {
      if (c.code == "male" || c.code == "female") return std::optional<bool>(true);
    }
    return std::optional<bool>(false);
  }
  Result<bool> conforms_to(const fhir::Node& node, std::string_view url) const override {
    if (url == "http://example.org/StructureDefinition/named-patient") {
      return node.value.find("name").is_array();
    }
    return fail(ErrorCode::kNotFound, "unknown profile");
  }
  std::optional<fhir::Node> resolve(std::string_view reference) const override {
    if (reference != "Organization/remote" || !org_) return std::nullopt;
    return org_;
  }
  std::optional<fhir::Node> org_;
};

TEST(Evaluate, MemberOfConformsToAndExternalResolveUseTheEnvironment) {
  ASSERT_TRUE(model());
  Resource p = load(R"({"resourceType": "Patient", "gender": "male", "name": [{"family": "X"}],
    "maritalStatus": {"coding": [{"system": "s", "code": "M"}]},
    "generalPractitioner": [{"reference": "Organization/remote"}]})");
  Resource org = load(R"({"resourceType": "Organization", "name": "Remote clinic"})");
  FakeEnvironment env;
  env.org_ = org.root;
  EvaluationContext ctx;
  ctx.environment = &env;
  EXPECT_EQ(eval_json(p, "gender.memberOf(%`vs-administrative-gender`)", ctx), "[true]");
  EXPECT_EQ(eval_json(p, "maritalStatus.memberOf(%`vs-administrative-gender`)", ctx), "[false]");
  EXPECT_EQ(eval_json(p, "gender.memberOf('http://example.org/unknown')", ctx), "[]");
  EXPECT_EQ(eval_json(p, "gender.memberOf(%`vs-administrative-gender`)"), "[]");  // no environment
  EXPECT_EQ(eval_json(p, "conformsTo('http://example.org/StructureDefinition/named-patient')", ctx), "[true]");
  EXPECT_NE(eval_json(p, "conformsTo('http://example.org/nothing')", ctx).find("error"), std::string::npos);
  // Without an environment, the core definitions of the type and its ancestors.
  EXPECT_EQ(eval_json(p, "conformsTo('http://hl7.org/fhir/StructureDefinition/DomainResource')"), "[true]");
  EXPECT_EQ(eval_json(p, "conformsTo('http://hl7.org/fhir/StructureDefinition/Observation')"), "[false]");
  EXPECT_EQ(eval_json(p, "generalPractitioner.resolve().name", ctx), R"(["Remote clinic"])");
  EXPECT_EQ(eval_json(p, "generalPractitioner.resolve().name"), "[]");
}

std::string narrative_check(const std::string& div) {
  std::string quoted;
  json::append_quoted(quoted, div);
  Resource p = load(R"({"resourceType": "Patient", "text": {"status": "generated", "div": )" + quoted + "}}");
  return eval_json(p, "text.div.htmlChecks()");
}

TEST(Evaluate, HtmlChecksIsARealNarrativeCheck) {
  ASSERT_TRUE(model());
  const std::string ns = R"(<div xmlns="http://www.w3.org/1999/xhtml">)";
  EXPECT_EQ(narrative_check(ns + "<p>Peter <b>Chalmers</b> &amp; family&nbsp;</p></div>"), "[true]");
  EXPECT_EQ(narrative_check(ns + R"(<table border="1"><tr><td colspan="2">x</td></tr></table></div>)"), "[true]");
  EXPECT_EQ(narrative_check(ns + R"(<img src="#pic" alt="photo"/></div>)"), "[true]");
  EXPECT_EQ(narrative_check(ns + "<script>alert(1)</script></div>"), "[false]");
  EXPECT_EQ(narrative_check(ns + R"x(<p onclick="steal()">x</p></div>)x"), "[false]");
  EXPECT_EQ(narrative_check(ns + R"x(<a href=" javascript:steal()">x</a></div>)x"), "[false]");
  EXPECT_EQ(narrative_check(ns + R"(<iframe src="http://evil"/>x</div>)"), "[false]");
  EXPECT_EQ(narrative_check(ns + "<p>unclosed</div>"), "[false]");
  EXPECT_EQ(narrative_check(ns + "<p>a & b</p></div>"), "[false]");
  EXPECT_EQ(narrative_check(ns + "  </div>"), "[false]");                   // no content
  EXPECT_EQ(narrative_check("<div><p>no namespace</p></div>"), "[false]");
  EXPECT_EQ(narrative_check("<p xmlns=\"http://www.w3.org/1999/xhtml\">x</p>"), "[false]");
  EXPECT_EQ(narrative_check(ns + "x</div><div>second root</div>"), "[false]");
}

TEST(Evaluate, SemanticChecksUseTheModel) {
  ASSERT_TRUE(model());
  CompileOptions o;
  o.model = model();
  o.context_type = "Patient";
  EXPECT_FALSE(Expression::compile("name.given1", o));
  EXPECT_FALSE(Expression::compile("Encounter.status", o));
  EXPECT_FALSE(Expression::compile("gender.as(string1)", o));
  EXPECT_FALSE(Expression::compile("identifier.startsWith('x')", o));
  EXPECT_TRUE(Expression::compile("Patient.contact.name.given", o));
  EXPECT_TRUE(Expression::compile("DomainResource.text.div", o));
  EXPECT_TRUE(Expression::compile("contained.where($this is Organization).name", o));
  EXPECT_TRUE(Expression::compile("link.other.resolve().name", o));
  o.context_type = "Observation";
  EXPECT_FALSE(Expression::compile("valueQuantity.unit", o));
  EXPECT_FALSE(Expression::compile("(value as Period).unit", o));
  EXPECT_TRUE(Expression::compile("value.as(Period).start", o));
  EXPECT_TRUE(Expression::compile("value.unit | component.value.ofType(Quantity).code", o));
  o.context_type = "Bundle";
  EXPECT_TRUE(Expression::compile("entry.resource.name", o));  // any resource may have a name
  o.context_type = "NoSuchType";
  EXPECT_FALSE(Expression::compile("id", o));
}

TEST(Evaluate, InvariantsReadAsBooleans) {
  ASSERT_TRUE(model());
  Resource p = load(std::string(kPatient));
  auto yes = compile("name.exists() and birthDate.exists()", "Patient").evaluate_boolean(p.root, {});
  ASSERT_TRUE(yes);
  EXPECT_EQ(*yes, std::optional<bool>(true));
  auto unknown = compile("deceased", "Patient").evaluate_boolean(p.root, {});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(*unknown, std::nullopt);
  auto several = compile("name.given", "Patient").evaluate_boolean(p.root, {});
  ASSERT_FALSE(several);
  EXPECT_EQ(several.error().code(), ErrorCode::kInvalidArgument);
}

TEST(Evaluate, ErrorMessagesDescribeShapeNotData) {
  ASSERT_TRUE(model());
  Resource p = load(std::string(kPatient));
  for (std::string_view text : {"name.given.single()", "birthDate < name.given.first()", "name.given - 1",
                                "name.family.first().toInteger() + name.given"}) {
    std::string out = eval_json(p, text);
    EXPECT_EQ(out.find("Peter"), std::string::npos) << out;
    EXPECT_EQ(out.find("Chalmers"), std::string::npos) << out;
    EXPECT_EQ(out.find("1974"), std::string::npos) << out;
    EXPECT_NE(out.find("error"), std::string::npos) << text;
  }
}

TEST(Evaluate, StringsCountCharactersAndMapCaseBeyondAscii) {
  ASSERT_TRUE(model());
  Resource p = load(R"({"resourceType": "Patient", "name": [{"family": "du Marché", "given": ["Bénédicte"]}]})");
  EXPECT_EQ(eval_json(p, "name.given.length()"), "[9]");
  EXPECT_EQ(eval_json(p, "name.given.upper()"), R"(["BÉNÉDICTE"])");
  EXPECT_EQ(eval_json(p, "name.family.substring(3, 4)"), R"(["Marc"])");
  EXPECT_EQ(eval_json(p, "name.family.indexOf('ché')"), "[6]");
  EXPECT_EQ(eval_json(p, "'ŁÓDŹ ΣΟΦΙΑ Ÿ'.lower()"), R"(["łódź σοφια ÿ"])");
  EXPECT_EQ(eval_json(p, "'ß ς'.upper()"), R"(["ß Σ"])");
  EXPECT_EQ(eval_json(p, "name.given.toChars().count()"), "[9]");
  EXPECT_EQ(eval_json(p, "'a-b-c'.replaceMatches('(\\\\w)-', '$1+')"), R"(["a+b+c"])");
}

TEST(Evaluate, PrimitivesWithOnlyExtensions) {
  ASSERT_TRUE(model());
  Resource p = load(R"({"resourceType": "Patient", "name": [{"given": [null, "James"],
    "_given": [{"extension": [{"url": "http://example.org/x", "valueString": "five"}]}]}]})");
  EXPECT_EQ(eval_json(p, "name.given.count()"), "[2]");
  EXPECT_EQ(eval_json(p, "name.given.select(hasValue())"), "[false,true]");
  EXPECT_EQ(eval_json(p, "name.given.first().extension('http://example.org/x').value"), R"(["five"])");
  EXPECT_EQ(eval_json(p, "name.given.getValue()"), "[]");  // several items
  EXPECT_EQ(eval_json(p, "name.given.last().getValue()"), R"(["James"])");
  EXPECT_EQ(eval_json(p, "name.given.first() = 'James'"), "[]");
}

}  // namespace
}  // namespace gw::fhirpath
