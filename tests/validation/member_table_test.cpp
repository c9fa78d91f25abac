// The validator's per-type member keys (detail/plan.hpp, MemberKey) repeat
// what the model's key table says, with the walk's per-member facts folded
// in. They must agree with the model for every key of every R4 type: a key
// the model knows and the table does not would be reported as unknown, and
// a wrong item type would walk a value against the wrong rules.
#include "gateway/validation/detail/validator_impl.hpp"

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

#include <cctype>
#include <string>

namespace gw::validation::detail {
namespace {

const fhir::Model* model() {
  const gw::testing::CoreDefinitions* core = gw::testing::core_definitions();
  return core ? core->model.get() : nullptr;
}

// Every JSON key the model's key table answers for `type`, spelled out
// from FHIR's rule for choice elements (name + type code, first letter
// upper-cased), each with the model's own answer.
template <class F>
void for_each_model_key(const fhir::TypeDef& type, F&& f) {
  for (const fhir::ElementDef& e : type.elements) {
    if (!e.is_choice) {
      f(std::string(e.name), type.find_key(e.name));
      continue;
    }
    for (const std::string& code : e.types) {
      std::string key = e.name + code;
      key[e.name.size()] = static_cast<char>(std::toupper(static_cast<unsigned char>(code[0])));
      f(key, type.find_key(key));
    }
  }
}

TEST(MemberTableTest, AgreesWithTheModelForEveryKeyOfEveryType) {
  const fhir::Model* m = model();
  ASSERT_NE(m, nullptr);
  std::size_t keys = 0;
  std::size_t backbones = 0;
  std::size_t resource_slots = 0;
  for (const auto& t : m->types()) {
    auto table = build_member_table(*t, nullptr);
    for_each_model_key(*t, [&](const std::string& key, const fhir::TypeDef::KeyMatch* want) {
      ASSERT_NE(want, nullptr) << t->name << " " << key;
      const MemberKey* got = table->keys.find(key);
      ASSERT_NE(got, nullptr) << t->name << " " << key;
      ++keys;
      const fhir::ElementDef& e = t->elements[got->elem];
      EXPECT_EQ(&e, want->element) << t->name << " " << key;
      EXPECT_EQ(got->base_child, nullptr) << t->name << " " << key;
      EXPECT_EQ(got->type_code(), want->type) << t->name << " " << key;
      // A view of the model's own string, as the model's key table holds.
      EXPECT_EQ(got->type_code().data(), want->type.data()) << t->name << " " << key;
      EXPECT_EQ(got->has(MemberKey::kArray), e.is_array) << t->name << " " << key;
      const bool primitive_type = want->type_def && want->type_def->kind == fhir::TypeKind::kPrimitive;
      EXPECT_EQ(got->has(MemberKey::kUnderscore), primitive_type) << t->name << " " << key;
      EXPECT_EQ(got->has(MemberKey::kPlainId), !e.backbone && e.name == "id") << t->name << " " << key;
      const bool resource_slot = want->type == "Resource" || want->type == "DomainResource";
      const fhir::TypeDef* item = e.backbone ? e.backbone : resource_slot ? nullptr : want->type_def;
      EXPECT_EQ(got->item_type, item) << t->name << " " << key;
      EXPECT_EQ(got->has(MemberKey::kPrimitive), item && item->kind == fhir::TypeKind::kPrimitive)
          << t->name << " " << key;
      if (e.backbone) ++backbones;
      if (resource_slot && !e.backbone) ++resource_slots;
    });
    // Keys the model does not know are not in the table either.
    EXPECT_EQ(table->keys.find(""), nullptr);
    EXPECT_EQ(table->keys.find("not-an-element"), nullptr) << t->name;
  }
  // The whole R4 model was compared, backbones and resource slots included.
  EXPECT_GT(keys, 5000u);
  EXPECT_GT(backbones, 100u);
  EXPECT_GT(resource_slots, 2u);
}

TEST(MemberTableTest, FoldsInWhatTheWalkReadsPerMember) {
  const fhir::Model* m = model();
  ASSERT_NE(m, nullptr);
  const fhir::TypeDef* observation = m->type("Observation");
  const fhir::TypeDef* patient = m->type("Patient");
  const fhir::TypeDef* entry = m->type("Bundle.entry");
  ASSERT_TRUE(observation && patient && entry);
  auto obs = build_member_table(*observation, nullptr);
  auto pat = build_member_table(*patient, nullptr);
  auto ent = build_member_table(*entry, nullptr);

  // A choice: the chosen type, one element for all its keys.
  const MemberKey* quantity = obs->keys.find("valueQuantity");
  const MemberKey* string = obs->keys.find("valueString");
  ASSERT_TRUE(quantity && string);
  EXPECT_EQ(quantity->elem, string->elem);
  EXPECT_EQ(quantity->type_code(), "Quantity");
  EXPECT_EQ(quantity->item_type, m->type("Quantity"));
  EXPECT_FALSE(quantity->has(MemberKey::kUnderscore));
  EXPECT_TRUE(string->has(MemberKey::kUnderscore));
  EXPECT_TRUE(string->has(MemberKey::kPrimitive));
  EXPECT_EQ(obs->keys.find("value"), nullptr);
  EXPECT_EQ(obs->keys.find("valueFoo"), nullptr);
  // A key longer than the slot's inline bytes.
  const MemberKey* long_key = obs->keys.find("effectiveDateTime");
  ASSERT_NE(long_key, nullptr);
  EXPECT_EQ(long_key->type_code(), "dateTime");

  // A backbone: the items are of the inline type, in an array.
  const MemberKey* contact = pat->keys.find("contact");
  ASSERT_NE(contact, nullptr);
  EXPECT_EQ(contact->item_type, m->type("Patient.contact"));
  EXPECT_TRUE(contact->has(MemberKey::kArray));
  EXPECT_FALSE(contact->has(MemberKey::kPrimitive));
  // Resource.id: the walk types it as `id` at a resource root.
  const MemberKey* id = pat->keys.find("id");
  ASSERT_NE(id, nullptr);
  EXPECT_TRUE(id->has(MemberKey::kPlainId));
  EXPECT_FALSE(contact->has(MemberKey::kPlainId));
  // A resource slot: the value's resourceType decides.
  const MemberKey* resource = ent->keys.find("resource");
  ASSERT_NE(resource, nullptr);
  EXPECT_EQ(resource->item_type, nullptr);
  EXPECT_EQ(resource->type_code(), "Resource");
}

// In the base pass the walk takes an element's rule from the key
// (base_child) when the object is walked against the table's base node, and
// from the node's by_element otherwise: both must name the same child.
TEST(MemberTableTest, BaseChildrenAreTheBaseNodesChildren) {
  const fhir::Model* m = model();
  ASSERT_NE(m, nullptr);
  const fhir::TypeDef* patient = m->type("Patient");
  ASSERT_NE(patient, nullptr);
  const fhir::ElementDef* contact = patient->element("contact");
  const fhir::ElementDef* deceased = patient->element("deceased");
  ASSERT_TRUE(contact && deceased);
  ElementPlan node;
  node.owner = patient;
  node.by_element.assign(patient->elements.size(), nullptr);
  ElementPlan contact_rule;
  ElementPlan deceased_rule;
  node.by_element[static_cast<std::size_t>(contact - patient->elements.data())] = &contact_rule;
  node.by_element[static_cast<std::size_t>(deceased - patient->elements.data())] = &deceased_rule;

  auto table = build_member_table(*patient, &node);
  EXPECT_EQ(table->base_node, &node);
  for_each_model_key(*patient, [&](const std::string& key, const fhir::TypeDef::KeyMatch*) {
    const MemberKey* k = table->keys.find(key);
    ASSERT_NE(k, nullptr) << key;
    EXPECT_EQ(k->base_child, node.child_at(k->elem)) << key;
  });
  EXPECT_EQ(table->keys.find("contact")->base_child, &contact_rule);
  EXPECT_EQ(table->keys.find("deceasedBoolean")->base_child, &deceased_rule);
  EXPECT_EQ(table->keys.find("deceasedDateTime")->base_child, &deceased_rule);
  EXPECT_EQ(table->keys.find("gender")->base_child, nullptr);

  // A node of another type is not the table's base node.
  ElementPlan other;
  other.owner = m->type("Observation");
  auto unrelated = build_member_table(*patient, &other);
  EXPECT_EQ(unrelated->base_node, nullptr);
  EXPECT_EQ(unrelated->keys.find("contact")->base_child, nullptr);
}

}  // namespace
}  // namespace gw::validation::detail
