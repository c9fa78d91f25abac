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
  EXPECT_TRUE(e) << text << ": " << (e ? "" : e.error().to_string());
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

}  // namespace
}  // namespace gw::fhirpath
