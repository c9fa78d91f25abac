#include "gateway/fhir/fhir.hpp"

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace gw::fhir {
namespace {

// NameTable copies names of up to kInline bytes into their slots and views
// longer ones: both kinds, and names that differ only after the inline
// part or only in length, must find exactly their own value, also after
// the table has grown (and moved its inline copies) many times.
TEST(NameTableTest, InlineAndViewedNamesFindOnlyTheirOwnValue) {
  std::vector<std::string> names;
  for (std::size_t n = 0; n <= 3 * NameTable<int>::kInline; ++n) names.push_back(std::string(n, 'k'));
  const std::string stem = "medicationCodeableConcept";  // longer than the inline part
  for (char c = 'a'; c <= 'z'; ++c) names.push_back(stem + c);
  names.push_back(stem.substr(0, NameTable<int>::kInline));
  names.push_back(stem.substr(0, NameTable<int>::kInline + 1));
  NameTable<int> table;
  for (std::size_t i = 0; i < names.size(); ++i) table.add(names[i], static_cast<int>(i));
  table.add(names[3], 999);  // the first value added for a name wins
  for (std::size_t i = 0; i < names.size(); ++i) {
    const int* v = table.find(names[i]);
    ASSERT_NE(v, nullptr) << "length " << names[i].size();
    EXPECT_EQ(*v, static_cast<int>(i)) << "length " << names[i].size();
  }
  EXPECT_EQ(table.find(stem), nullptr);
  EXPECT_EQ(table.find(stem + "aa"), nullptr);
  EXPECT_EQ(table.find(std::string(3 * NameTable<int>::kInline + 1, 'k')), nullptr);
  EXPECT_EQ(table.find("K"), nullptr);
  EXPECT_EQ(NameTable<int>().find("k"), nullptr);
}

class ModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    defs_ = gw::testing::core_definitions();
    ASSERT_NE(defs_, nullptr);
    model_ = defs_->model.get();
  }
  json::Document parse(std::string text) {
    auto d = json::Document::parse(std::move(text));
    EXPECT_TRUE(d);
    return d ? std::move(*d) : json::Document();
  }
  std::vector<Node> kids(const Node& n, std::string_view name) {
    std::vector<Node> out;
    model_->children(n, name, out);
    return out;
  }
  const gw::testing::CoreDefinitions* defs_ = nullptr;
  const Model* model_ = nullptr;
};

TEST_F(ModelTest, TypesAndInheritance) {
  const TypeDef* patient = model_->type("Patient");
  ASSERT_NE(patient, nullptr);
  EXPECT_EQ(patient->kind, TypeKind::kResource);
  const TypeDef* domain = model_->type("DomainResource");
  ASSERT_NE(domain, nullptr);
  EXPECT_TRUE(patient->is_a(domain));
  EXPECT_TRUE(patient->is_a(model_->type("Resource")));
  EXPECT_FALSE(domain->is_a(patient));
  EXPECT_EQ(model_->type("http://hl7.org/fhir/StructureDefinition/Patient"), patient);
  const TypeDef* date = model_->type("date");
  ASSERT_NE(date, nullptr);
  EXPECT_EQ(date->kind, TypeKind::kPrimitive);
  EXPECT_EQ(date->system_type, SystemType::kDate);
  EXPECT_EQ(model_->type("positiveInt")->system_type, SystemType::kInteger);
  // A profile (constraint) is not a type.
  EXPECT_EQ(model_->type("SimpleQuantity"), nullptr);
  const ElementDef* contact = patient->element("contact");
  ASSERT_NE(contact, nullptr);
  EXPECT_TRUE(contact->is_array);
  ASSERT_NE(contact->backbone, nullptr);
  EXPECT_EQ(contact->backbone->name, "Patient.contact");
  EXPECT_NE(contact->backbone->element("relationship"), nullptr);
  // contentReference: Questionnaire.item.item has the children of Questionnaire.item.
  const ElementDef* item = model_->type("Questionnaire")->element("item");
  ASSERT_NE(item, nullptr);
  const ElementDef* nested = item->backbone->element("item");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->backbone, item->backbone);
}

TEST_F(ModelTest, ChoiceKeysResolveToElementAndType) {
  const TypeDef* obs = model_->type("Observation");
  auto m = obs->match_key("valueQuantity");
  ASSERT_NE(m.element, nullptr);
  EXPECT_EQ(m.element->name, "value");
  EXPECT_TRUE(m.element->is_choice);
  EXPECT_EQ(m.type, "Quantity");
  EXPECT_EQ(obs->match_key("valueFoo").element, nullptr);
  EXPECT_EQ(obs->match_key("value").element, nullptr);
  EXPECT_EQ(obs->match_key("status").type, "code");
}

TEST_F(ModelTest, NavigatesPrimitivesExtensionsAndChoices) {
  json::Document doc = parse(R"({
    "resourceType": "Observation", "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "1234-5"}]},
    "valueQuantity": {"value": 1.50, "unit": "mg"},
    "_status": {"extension": [{"url": "http://example.org/x", "valueBoolean": true}]},
    "category": [{"text": "a"}, {"text": "b"}]
  })");
  auto root = model_->resource(doc.root());
  ASSERT_TRUE(root);
  auto status = kids(*root, "status");
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].type->name, "code");
  EXPECT_EQ(status[0].value.str(), "final");
  ASSERT_TRUE(status[0].extension_part.is_object());
  auto exts = kids(status[0], "extension");
  ASSERT_EQ(exts.size(), 1u);
  auto flag = kids(exts[0], "value");
  ASSERT_EQ(flag.size(), 1u);
  EXPECT_EQ(flag[0].type->name, "boolean");

  auto value = kids(*root, "value");
  ASSERT_EQ(value.size(), 1u);
  EXPECT_EQ(value[0].type->name, "Quantity");
  auto qv = kids(value[0], "value");
  ASSERT_EQ(qv.size(), 1u);
  EXPECT_EQ(qv[0].value.str(), "1.50");
  EXPECT_EQ(qv[0].type->system_type, SystemType::kDecimal);

  auto cats = kids(*root, "category");
  ASSERT_EQ(cats.size(), 2u);
  EXPECT_EQ(cats[1].index, 1);

  std::vector<Node> all;
  model_->children(*root, all);
  // status (value + _status paired into one), code, value, 2 categories.
  EXPECT_EQ(all.size(), 5u);
}

TEST_F(ModelTest, PrimitiveArraysPairWithUnderscoreArrays) {
  json::Document doc = parse(R"({
    "resourceType": "Patient",
    "name": [{"given": ["A", null, "C"], "_given": [null, {"id": "x"}, null]}]
  })");
  auto root = model_->resource(doc.root());
  ASSERT_TRUE(root);
  auto name = kids(*root, "name");
  ASSERT_EQ(name.size(), 1u);
  auto given = kids(name[0], "given");
  ASSERT_EQ(given.size(), 3u);
  EXPECT_EQ(given[0].value.str(), "A");
  EXPECT_FALSE(given[1].value);
  EXPECT_TRUE(given[1].extension_part.is_object());
  EXPECT_EQ(given[2].index, 2);
  auto id = kids(given[1], "id");
  ASSERT_EQ(id.size(), 1u);
}

TEST_F(ModelTest, ContainedResourcesAndBundleEntriesAreTypedByResourceType) {
  json::Document doc = parse(R"({
    "resourceType": "Bundle", "type": "collection",
    "entry": [{"resource": {"resourceType": "Patient", "id": "p",
      "contained": [{"resourceType": "Organization", "id": "o"}]}}]
  })");
  auto root = model_->resource(doc.root());
  ASSERT_TRUE(root);
  auto entry = kids(*root, "entry");
  ASSERT_EQ(entry.size(), 1u);
  auto res = kids(entry[0], "resource");
  ASSERT_EQ(res.size(), 1u);
  ASSERT_NE(res[0].type, nullptr);
  EXPECT_EQ(res[0].type->name, "Patient");
  auto contained = kids(res[0], "contained");
  ASSERT_EQ(contained.size(), 1u);
  EXPECT_EQ(contained[0].type->name, "Organization");
}

TEST_F(ModelTest, ResourceRejectsNonResources) {
  json::Document doc = parse(R"([{"resourceType": "Patient"}, {"resourceType": "Nope"},
                                  {"resourceType": "DomainResource"}, {"id": "x"}, 3])");
  json::Value arr = doc.root();
  EXPECT_TRUE(model_->resource(arr[0]));
  EXPECT_FALSE(model_->resource(arr[1]));
  EXPECT_FALSE(model_->resource(arr[2]));
  EXPECT_FALSE(model_->resource(arr[3]));
  EXPECT_FALSE(model_->resource(arr[4]));
}

}  // namespace
}  // namespace gw::fhir
