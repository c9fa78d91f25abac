#include "gateway/terminology/terminology.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "tests/terminology/fake_registry.hpp"

namespace gw::terminology {
namespace {

using testing::FakeRegistry;

constexpr std::string_view kAnimals = "http://example.org/cs/animals";
constexpr std::string_view kFlat = "http://example.org/cs/flat";
constexpr std::string_view kSnomed = "http://snomed.info/sct";

// A nested hierarchy (R4 core style):
//   animal (notSelectable)
//     mammal
//       dog
//       cat
//     bird
//       parrot
//   fish
constexpr std::string_view kAnimalsCs = R"({
  "resourceType": "CodeSystem", "id": "animals", "url": "http://example.org/cs/animals",
  "version": "1.0", "content": "complete", "caseSensitive": true,
  "property": [{"code": "notSelectable", "uri": "http://hl7.org/fhir/concept-properties#notSelectable", "type": "boolean"},
               {"code": "legs", "type": "integer"},
               {"code": "status", "type": "code"}],
  "concept": [
    {"code": "animal", "display": "Animal", "property": [{"code": "notSelectable", "valueBoolean": true}],
     "concept": [
       {"code": "mammal", "display": "Mammal",
        "concept": [
          {"code": "dog", "display": "Dog", "designation": [{"value": "Hound"}],
           "property": [{"code": "legs", "valueInteger": 4}]},
          {"code": "cat", "display": "Cat", "property": [{"code": "legs", "valueInteger": 4}]}]},
       {"code": "bird", "display": "Bird",
        "concept": [{"code": "parrot", "display": "Parrot",
                     "property": [{"code": "legs", "valueInteger": 2}, {"code": "status", "valueCode": "retired"}]}]}]},
    {"code": "fish", "display": "Fish"}]
})";

// A flat hierarchy linked by subsumedBy (THO style): A <- B <- C, A <- D, E.
constexpr std::string_view kFlatCs = R"({
  "resourceType": "CodeSystem", "id": "flat", "url": "http://example.org/cs/flat",
  "content": "complete", "hierarchyMeaning": "is-a",
  "property": [{"code": "subsumedBy", "uri": "http://hl7.org/fhir/concept-properties#parent", "type": "code"}],
  "concept": [
    {"code": "A", "display": "a"},
    {"code": "B", "display": "b", "property": [{"code": "subsumedBy", "valueCode": "A"}]},
    {"code": "C", "display": "c", "property": [{"code": "subsumedBy", "valueCode": "B"}]},
    {"code": "D", "display": "d", "property": [{"code": "subsumedBy", "valueCode": "A"}]},
    {"code": "E", "display": "e"}]
})";

std::string vs(std::string_view url, std::string_view compose) {
  std::string s = R"({"resourceType": "ValueSet", "url": ")";
  s.append(url);
  s.append(R"(", "status": "active", "compose": )");
  s.append(compose);
  s.append("}");
  return s;
}

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest() { reg_->add(kAnimalsCs).add(kFlatCs); }
  Service& service() {
    if (!service_) service_ = std::make_unique<Service>(reg_);
    return *service_;
  }
  Membership member(std::string_view value_set, std::string_view system, std::string_view code) {
    return service().validate_code(value_set, system, code).membership;
  }
  std::shared_ptr<FakeRegistry> reg_ = std::make_shared<FakeRegistry>();
  std::unique_ptr<Service> service_;
};

TEST_F(ServiceTest, EnumeratedIncludeIsDecidable) {
  reg_->add(
      vs("http://example.org/vs/pets", R"({"include": [{"system": "http://example.org/cs/animals",
      "concept": [{"code": "dog"}, {"code": "cat", "display": "Kitty"}, {"code": "unicorn"}]}]})"));
  auto dog = service().validate_code("http://example.org/vs/pets", kAnimals, "dog", "hound");
  EXPECT_EQ(dog.membership, Membership::kMember);
  EXPECT_EQ(dog.reason, Reason::kNone);
  EXPECT_EQ(dog.display, "Dog");
  EXPECT_EQ(dog.display_check, DisplayCheck::kMatches);  // a designation, case folded

  auto cat = service().validate_code("http://example.org/vs/pets", kAnimals, "cat", "Cat");
  EXPECT_EQ(cat.membership, Membership::kMember);
  EXPECT_EQ(cat.display, "Kitty");                       // the ValueSet's display override
  EXPECT_EQ(cat.display_check, DisplayCheck::kMatches);  // the CodeSystem's display also counts

  auto bad_display = service().validate_code("http://example.org/vs/pets", kAnimals, "dog", "Wolf");
  EXPECT_EQ(bad_display.membership, Membership::kMember);
  EXPECT_EQ(bad_display.display_check, DisplayCheck::kMismatch);

  auto fish = service().validate_code("http://example.org/vs/pets", kAnimals, "fish");
  EXPECT_EQ(fish.membership, Membership::kNotMember);
  EXPECT_EQ(fish.reason, Reason::kNotInValueSet);
  EXPECT_NE(fish.message.find("http://example.org/vs/pets"), std::string::npos);
  EXPECT_EQ(fish.message.find("fish"), std::string::npos) << "messages never quote the code";

  // 'unicorn' is listed but the complete CodeSystem does not have it.
  auto unicorn = service().validate_code("http://example.org/vs/pets", kAnimals, "unicorn");
  EXPECT_EQ(unicorn.membership, Membership::kNotMember);
  EXPECT_EQ(unicorn.reason, Reason::kCodeNotInSystem);

  auto x = service().expand("http://example.org/vs/pets");
  ASSERT_TRUE(x);
  EXPECT_TRUE((*x)->is_complete());
  ASSERT_EQ((*x)->concepts().size(), 2u);
  EXPECT_EQ((*x)->concepts()[0].code, "dog");
  EXPECT_EQ((*x)->concepts()[0].version, "1.0");
  EXPECT_EQ((*x)->concepts()[1].code, "cat");

  // A different system with the same code is not a member.
  EXPECT_EQ(member("http://example.org/vs/pets", kFlat, "A"), Membership::kNotMember);
}

TEST_F(ServiceTest, WholeSystemIncludesNestedConcepts) {
  reg_->add(vs("http://example.org/vs/all-animals",
               R"({"include": [{"system": "http://example.org/cs/animals"}]})"));
  auto x = service().expand("http://example.org/vs/all-animals");
  ASSERT_TRUE(x);
  std::vector<std::string> codes;
  for (const Concept& c : (*x)->concepts()) codes.push_back(c.code);
  EXPECT_EQ(codes,
            (std::vector<std::string>{"animal", "mammal", "dog", "cat", "bird", "parrot", "fish"}));
  EXPECT_TRUE((*x)->concepts()[0].abstract);
  EXPECT_TRUE((*x)->concepts()[5].inactive);  // parrot: status retired
  EXPECT_EQ(member("http://example.org/vs/all-animals", kAnimals, "parrot"), Membership::kMember);
  EXPECT_EQ(member("http://example.org/vs/all-animals", kAnimals, "Parrot"),
            Membership::kNotMember);
}

TEST_F(ServiceTest, HierarchyFiltersOnNestedConcepts) {
  reg_->add(
      vs("http://example.org/vs/isa", R"({"include": [{"system": "http://example.org/cs/animals",
      "filter": [{"property": "concept", "op": "is-a", "value": "mammal"}]}]})"));
  reg_->add(
      vs("http://example.org/vs/desc", R"({"include": [{"system": "http://example.org/cs/animals",
      "filter": [{"property": "concept", "op": "descendent-of", "value": "animal"}]}]})"));
  reg_->add(
      vs("http://example.org/vs/notisa", R"({"include": [{"system": "http://example.org/cs/animals",
      "filter": [{"property": "concept", "op": "is-not-a", "value": "mammal"}]}]})"));
  reg_->add(
      vs("http://example.org/vs/gen", R"({"include": [{"system": "http://example.org/cs/animals",
      "filter": [{"property": "concept", "op": "generalizes", "value": "dog"}]}]})"));
  const std::string_view isa = "http://example.org/vs/isa";
  EXPECT_EQ(member(isa, kAnimals, "mammal"), Membership::kMember);
  EXPECT_EQ(member(isa, kAnimals, "dog"), Membership::kMember);
  EXPECT_EQ(member(isa, kAnimals, "cat"), Membership::kMember);
  EXPECT_EQ(member(isa, kAnimals, "animal"), Membership::kNotMember);
  EXPECT_EQ(member(isa, kAnimals, "parrot"), Membership::kNotMember);

  const std::string_view desc = "http://example.org/vs/desc";
  EXPECT_EQ(member(desc, kAnimals, "animal"), Membership::kNotMember);
  EXPECT_EQ(member(desc, kAnimals, "parrot"), Membership::kMember);
  EXPECT_EQ(member(desc, kAnimals, "fish"), Membership::kNotMember);

  const std::string_view notisa = "http://example.org/vs/notisa";
  EXPECT_EQ(member(notisa, kAnimals, "dog"), Membership::kNotMember);
  EXPECT_EQ(member(notisa, kAnimals, "fish"), Membership::kMember);
  EXPECT_EQ(member(notisa, kAnimals, "animal"), Membership::kMember);

  const std::string_view gen = "http://example.org/vs/gen";
  EXPECT_EQ(member(gen, kAnimals, "dog"), Membership::kMember);
  EXPECT_EQ(member(gen, kAnimals, "mammal"), Membership::kMember);
  EXPECT_EQ(member(gen, kAnimals, "animal"), Membership::kMember);
  EXPECT_EQ(member(gen, kAnimals, "cat"), Membership::kNotMember);
}

TEST_F(ServiceTest, HierarchyFiltersOnSubsumedByProperties) {
  reg_->add(
      vs("http://example.org/vs/flat-isa", R"({"include": [{"system": "http://example.org/cs/flat",
      "filter": [{"property": "concept", "op": "is-a", "value": "B"}]}]})"));
  reg_->add(vs("http://example.org/vs/flat-child",
               R"({"include": [{"system": "http://example.org/cs/flat",
      "filter": [{"property": "parent", "op": "=", "value": "A"}]}]})"));
  const std::string_view isa = "http://example.org/vs/flat-isa";
  EXPECT_EQ(member(isa, kFlat, "B"), Membership::kMember);
  EXPECT_EQ(member(isa, kFlat, "C"), Membership::kMember);
  EXPECT_EQ(member(isa, kFlat, "A"), Membership::kNotMember);
  EXPECT_EQ(member(isa, kFlat, "D"), Membership::kNotMember);
  const std::string_view child = "http://example.org/vs/flat-child";
  EXPECT_EQ(member(child, kFlat, "B"), Membership::kMember);
  EXPECT_EQ(member(child, kFlat, "D"), Membership::kMember);
  EXPECT_EQ(member(child, kFlat, "C"), Membership::kNotMember);
}

TEST_F(ServiceTest, PropertyCodeAndRegexFilters) {
  reg_->add(vs("http://example.org/vs/four-legs",
               R"({"include": [{"system": "http://example.org/cs/animals",
      "filter": [{"property": "legs", "op": "=", "value": "4"}]}]})"));
  reg_->add(
      vs("http://example.org/vs/in", R"({"include": [{"system": "http://example.org/cs/animals",
      "filter": [{"property": "concept", "op": "in", "value": "dog, fish,nothing"}]}]})"));
  reg_->add(
      vs("http://example.org/vs/regex", R"({"include": [{"system": "http://example.org/cs/animals",
      "filter": [{"property": "code", "op": "regex", "value": "[a-z]a.*"}]}]})"));
  reg_->add(
      vs("http://example.org/vs/and", R"({"include": [{"system": "http://example.org/cs/animals",
      "filter": [{"property": "concept", "op": "is-a", "value": "animal"},
                 {"property": "legs", "op": "exists", "value": "true"},
                 {"property": "code", "op": "regex", "value": "[cp].*"}]}]})"));
  EXPECT_EQ(member("http://example.org/vs/four-legs", kAnimals, "dog"), Membership::kMember);
  EXPECT_EQ(member("http://example.org/vs/four-legs", kAnimals, "parrot"), Membership::kNotMember);
  EXPECT_EQ(member("http://example.org/vs/in", kAnimals, "fish"), Membership::kMember);
  EXPECT_EQ(member("http://example.org/vs/in", kAnimals, "cat"), Membership::kNotMember);
  EXPECT_EQ(member("http://example.org/vs/regex", kAnimals, "cat"), Membership::kMember);
  EXPECT_EQ(member("http://example.org/vs/regex", kAnimals, "parrot"), Membership::kMember);
  EXPECT_EQ(member("http://example.org/vs/regex", kAnimals, "dog"), Membership::kNotMember);
  // Filters in one include are ANDed.
  auto x = service().expand("http://example.org/vs/and");
  ASSERT_TRUE(x);
  std::vector<std::string> codes;
  for (const Concept& c : (*x)->concepts()) codes.push_back(c.code);
  EXPECT_EQ(codes, (std::vector<std::string>{"cat", "parrot"}));
}

TEST_F(ServiceTest, UnsupportedFilterLeavesOnlyTheUndecidedOpen) {
  reg_->add(
      vs("http://example.org/vs/weird", R"({"include": [{"system": "http://example.org/cs/animals",
      "filter": [{"property": "concept", "op": "is-a", "value": "mammal"},
                 {"property": "concept", "op": "sounds-like", "value": "dog"}]}]})"));
  reg_->add(
      vs("http://example.org/vs/badre", R"({"include": [{"system": "http://example.org/cs/animals",
      "filter": [{"property": "code", "op": "regex", "value": "(unclosed"}]}]})"));
  auto dog = service().validate_code("http://example.org/vs/weird", kAnimals, "dog");
  EXPECT_EQ(dog.membership, Membership::kCannotCheck);
  EXPECT_EQ(dog.reason, Reason::kUnsupportedFilter);
  // Outside the filter we do understand: decidably not a member.
  EXPECT_EQ(member("http://example.org/vs/weird", kAnimals, "fish"), Membership::kNotMember);
  EXPECT_EQ(member("http://example.org/vs/badre", kAnimals, "fish"), Membership::kCannotCheck);
}

TEST_F(ServiceTest, ExcludeRemovesConcepts) {
  reg_->add(vs("http://example.org/vs/no-birds", R"({
      "include": [{"system": "http://example.org/cs/animals"}],
      "exclude": [{"system": "http://example.org/cs/animals",
                   "filter": [{"property": "concept", "op": "is-a", "value": "bird"}]},
                  {"system": "http://example.org/cs/animals", "concept": [{"code": "fish"}]}]})"));
  const std::string_view url = "http://example.org/vs/no-birds";
  EXPECT_EQ(member(url, kAnimals, "dog"), Membership::kMember);
  EXPECT_EQ(member(url, kAnimals, "bird"), Membership::kNotMember);
  EXPECT_EQ(member(url, kAnimals, "parrot"), Membership::kNotMember);
  EXPECT_EQ(member(url, kAnimals, "fish"), Membership::kNotMember);
  auto x = service().expand(url);
  ASSERT_TRUE(x);
  EXPECT_EQ((*x)->concepts().size(), 4u);  // animal, mammal, dog, cat
}

TEST_F(ServiceTest, ImportsAreIntersectedWithinAnIncludeAndUnitedAcross) {
  reg_->add(vs("http://example.org/vs/mammals",
               R"({"include": [{"system": "http://example.org/cs/animals",
      "filter": [{"property": "concept", "op": "is-a", "value": "mammal"}]}]})"));
  reg_->add(
      vs("http://example.org/vs/four", R"({"include": [{"system": "http://example.org/cs/animals",
      "concept": [{"code": "dog"}, {"code": "fish"}]}]})"));
  // mammals ∩ {dog, fish}  ∪  {E}
  reg_->add(vs("http://example.org/vs/both", R"({"include": [
      {"valueSet": ["http://example.org/vs/mammals", "http://example.org/vs/four"]},
      {"system": "http://example.org/cs/flat", "concept": [{"code": "E"}]}]})"));
  // system part ∩ import: animals{cat, fish} ∩ mammals
  reg_->add(vs("http://example.org/vs/sys-and-import", R"({"include": [
      {"system": "http://example.org/cs/animals", "concept": [{"code": "cat"}, {"code": "fish"}],
       "valueSet": ["http://example.org/vs/mammals"]}]})"));
  const std::string_view both = "http://example.org/vs/both";
  EXPECT_EQ(member(both, kAnimals, "dog"), Membership::kMember);
  EXPECT_EQ(member(both, kAnimals, "cat"), Membership::kNotMember);
  EXPECT_EQ(member(both, kAnimals, "fish"), Membership::kNotMember);
  EXPECT_EQ(member(both, kFlat, "E"), Membership::kMember);
  const std::string_view si = "http://example.org/vs/sys-and-import";
  EXPECT_EQ(member(si, kAnimals, "cat"), Membership::kMember);
  EXPECT_EQ(member(si, kAnimals, "fish"), Membership::kNotMember);
  EXPECT_EQ(member(si, kAnimals, "dog"), Membership::kNotMember);
}

TEST_F(ServiceTest, ImportCycleIsAnErrorNotAHang) {
  reg_->add(
      vs("http://example.org/vs/a", R"({"include": [{"valueSet": ["http://example.org/vs/b"]}]})"));
  reg_->add(vs("http://example.org/vs/b", R"({"include": [{"valueSet": ["http://example.org/vs/c"]},
      {"system": "http://example.org/cs/flat"}]})"));
  reg_->add(
      vs("http://example.org/vs/c", R"({"include": [{"valueSet": ["http://example.org/vs/a"]}]})"));
  reg_->add(vs("http://example.org/vs/self",
               R"({"include": [{"valueSet": ["http://example.org/vs/self"]}]})"));
  auto x = service().expand("http://example.org/vs/a");
  ASSERT_FALSE(x);
  EXPECT_EQ(x.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(x.error().message().find("cycle"), std::string::npos);
  // Every member of the cycle is unusable, whichever is asked first.
  EXPECT_FALSE(service().expand("http://example.org/vs/b"));
  EXPECT_FALSE(service().expand("http://example.org/vs/c"));
  EXPECT_FALSE(service().expand("http://example.org/vs/self"));
  auto r = service().validate_code("http://example.org/vs/b", kFlat, "A");
  EXPECT_EQ(r.membership, Membership::kCannotCheck);
  EXPECT_EQ(r.reason, Reason::kValueSetUnusable);
}

TEST_F(ServiceTest, ImportDepthLimitDoesNotPoisonTheCache) {
  // v0 -> v1 -> ... -> v5 -> animals
  for (int i = 0; i < 5; ++i) {
    reg_->add(vs("http://example.org/vs/v" + std::to_string(i),
                 R"({"include": [{"valueSet": ["http://example.org/vs/v)" + std::to_string(i + 1) +
                     R"("]}]})"));
  }
  reg_->add(vs("http://example.org/vs/v5",
               R"({"include": [{"system": "http://example.org/cs/animals"}]})"));
  Service::Options options;
  options.max_import_depth = 3;
  Service limited(reg_, options);
  auto deep = limited.expand("http://example.org/vs/v0");
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().code(), ErrorCode::kLimit);
  // v3 is within the limit on its own, even after the failed walk through it.
  auto shallow = limited.expand("http://example.org/vs/v3");
  ASSERT_TRUE(shallow) << shallow.error().to_string();
  EXPECT_EQ(limited.validate_code("http://example.org/vs/v3", kAnimals, "dog").membership,
            Membership::kMember);
}

TEST_F(ServiceTest, ExternalSystemsCannotBeCheckedUnlessEnumerated) {
  reg_->add(
      vs("http://example.org/vs/snomed-filter", R"({"include": [{"system": "http://snomed.info/sct",
      "filter": [{"property": "concept", "op": "is-a", "value": "404684003"}]}],
      "exclude": [{"system": "http://snomed.info/sct", "concept": [{"code": "1111"}]}]})"));
  reg_->add(
      vs("http://example.org/vs/snomed-enum", R"({"include": [{"system": "http://snomed.info/sct",
      "concept": [{"code": "77386006", "display": "Pregnant"}]}]})"));
  auto r = service().validate_code("http://example.org/vs/snomed-filter", kSnomed, "22298006");
  EXPECT_EQ(r.membership, Membership::kCannotCheck);
  EXPECT_EQ(r.reason, Reason::kExternalSystem);
  EXPECT_NE(r.message.find("http://snomed.info/sct"), std::string::npos);
  // An explicit exclusion is decidable even inside an open system.
  EXPECT_EQ(member("http://example.org/vs/snomed-filter", kSnomed, "1111"), Membership::kNotMember);
  // Other systems are still closed.
  EXPECT_EQ(member("http://example.org/vs/snomed-filter", kAnimals, "dog"), Membership::kNotMember);

  auto x = service().expand("http://example.org/vs/snomed-filter");
  ASSERT_TRUE(x);
  EXPECT_FALSE((*x)->is_complete());
  ASSERT_EQ((*x)->open_systems().size(), 1u);
  EXPECT_EQ((*x)->open_systems()[0], (OpenSystem{std::string(kSnomed), Reason::kExternalSystem}));

  auto yes =
      service().validate_code("http://example.org/vs/snomed-enum", kSnomed, "77386006", "pregnant");
  EXPECT_EQ(yes.membership, Membership::kMember);
  EXPECT_EQ(yes.display_check, DisplayCheck::kMatches);
  EXPECT_EQ(member("http://example.org/vs/snomed-enum", kSnomed, "60001007"),
            Membership::kNotMember);
  auto look = service().lookup(kSnomed, "77386006");
  EXPECT_EQ(look.status, CodeStatus::kCannotCheck);
  EXPECT_EQ(look.reason, Reason::kExternalSystem);
}

TEST_F(ServiceTest, AbsentAndIncompleteCodeSystemsCannotBeChecked) {
  reg_->add(
      R"({"resourceType": "CodeSystem", "url": "http://example.org/cs/frag", "content": "fragment",
      "concept": [{"code": "f1", "display": "F one"}]})");
  reg_->add(
      R"({"resourceType": "CodeSystem", "url": "http://example.org/cs/stub", "content": "not-present"})");
  reg_->add(vs("http://example.org/vs/frag",
               R"({"include": [{"system": "http://example.org/cs/frag"}]})"));
  reg_->add(vs("http://example.org/vs/stub",
               R"({"include": [{"system": "http://example.org/cs/stub"}]})"));
  reg_->add(
      vs("http://example.org/vs/absent", R"({"include": [{"system": "http://example.org/cs/nowhere",
      "filter": [{"property": "concept", "op": "is-a", "value": "x"}]}]})"));
  EXPECT_EQ(member("http://example.org/vs/frag", "http://example.org/cs/frag", "f1"),
            Membership::kMember);
  auto f2 =
      service().validate_code("http://example.org/vs/frag", "http://example.org/cs/frag", "f2");
  EXPECT_EQ(f2.membership, Membership::kCannotCheck);
  EXPECT_EQ(f2.reason, Reason::kSystemIncomplete);
  auto stub =
      service().validate_code("http://example.org/vs/stub", "http://example.org/cs/stub", "s");
  EXPECT_EQ(stub.membership, Membership::kCannotCheck);
  EXPECT_EQ(stub.reason, Reason::kSystemIncomplete);
  auto absent =
      service().validate_code("http://example.org/vs/absent", "http://example.org/cs/nowhere", "y");
  EXPECT_EQ(absent.membership, Membership::kCannotCheck);
  EXPECT_EQ(absent.reason, Reason::kSystemNotFound);

  EXPECT_EQ(service().lookup("http://example.org/cs/frag", "f1").status, CodeStatus::kFound);
  EXPECT_EQ(service().lookup("http://example.org/cs/frag", "f2").status, CodeStatus::kCannotCheck);
  EXPECT_EQ(service().lookup("http://example.org/cs/nowhere", "y").reason, Reason::kSystemNotFound);
}

TEST_F(ServiceTest, UnknownValueSetIsAClearNotFound) {
  auto r = service().validate_code("http://example.org/vs/missing", kAnimals, "dog");
  EXPECT_EQ(r.membership, Membership::kCannotCheck);
  EXPECT_EQ(r.reason, Reason::kValueSetNotFound);
  EXPECT_NE(r.message.find("http://example.org/vs/missing"), std::string::npos);
  auto x = service().expand("http://example.org/vs/missing");
  ASSERT_FALSE(x);
  EXPECT_EQ(x.error().code(), ErrorCode::kNotFound);
}

TEST_F(ServiceTest, MissingImportMakesOnlyThatIncludeUndecidable) {
  reg_->add(vs("http://example.org/vs/partly", R"({"include": [
      {"valueSet": ["http://example.org/vs/not-loaded"]},
      {"system": "http://example.org/cs/flat", "concept": [{"code": "A"}]}]})"));
  const std::string_view url = "http://example.org/vs/partly";
  EXPECT_EQ(member(url, kFlat, "A"), Membership::kMember);
  auto b = service().validate_code(url, kFlat, "B");
  EXPECT_EQ(b.membership, Membership::kCannotCheck);
  EXPECT_EQ(b.reason, Reason::kImportNotFound);
  // Still a code the CodeSystem lacks is decidably wrong.
  EXPECT_EQ(service().validate_code(url, kFlat, "Z").reason, Reason::kCodeNotInSystem);
}

TEST_F(ServiceTest, PrecomputedExpansion) {
  reg_->add(R"({"resourceType": "ValueSet", "url": "http://example.org/vs/exp", "expansion": {
      "timestamp": "2020-01-01T00:00:00Z", "contains": [
        {"abstract": true, "display": "group", "contains": [
          {"system": "http://example.org/cs/flat", "code": "A", "display": "a"}]},
        {"system": "http://example.org/cs/other", "code": "x1"}]}})");
  reg_->add(R"({"resourceType": "ValueSet", "url": "http://example.org/vs/paged", "expansion": {
      "total": 10, "offset": 0, "contains": [{"system": "http://example.org/cs/flat", "code": "A"}]}})");
  reg_->add(R"({"resourceType": "ValueSet", "url": "http://example.org/vs/snomed-with-exp",
      "compose": {"include": [{"system": "http://snomed.info/sct",
                               "filter": [{"property": "concept", "op": "is-a", "value": "1"}]}]},
      "expansion": {"contains": [{"system": "http://snomed.info/sct", "code": "2"}]}})");
  EXPECT_EQ(member("http://example.org/vs/exp", kFlat, "A"), Membership::kMember);
  EXPECT_EQ(member("http://example.org/vs/exp", kFlat, "B"), Membership::kNotMember);
  EXPECT_EQ(member("http://example.org/vs/exp", "http://example.org/cs/other", "x1"),
            Membership::kMember);
  EXPECT_EQ(member("http://example.org/vs/paged", kFlat, "A"), Membership::kMember);
  auto b = service().validate_code("http://example.org/vs/paged", kFlat, "B");
  EXPECT_EQ(b.membership, Membership::kCannotCheck);
  EXPECT_EQ(b.reason, Reason::kPartialExpansion);
  EXPECT_EQ(member("http://example.org/vs/snomed-with-exp", kSnomed, "2"), Membership::kMember);
  EXPECT_EQ(member("http://example.org/vs/snomed-with-exp", kSnomed, "3"),
            Membership::kCannotCheck);
}

TEST_F(ServiceTest, VersionsOfValueSetsAndCodeSystems) {
  reg_->add(R"({"resourceType": "CodeSystem", "url": "http://example.org/cs/v", "version": "1",
      "content": "complete", "concept": [{"code": "old"}]})");
  reg_->add(R"({"resourceType": "CodeSystem", "url": "http://example.org/cs/v", "version": "2",
      "content": "complete", "concept": [{"code": "new"}]})");
  reg_->add(R"({"resourceType": "ValueSet", "url": "http://example.org/vs/v", "version": "1",
      "compose": {"include": [{"system": "http://example.org/cs/v", "version": "1"}]}})");
  reg_->add(R"({"resourceType": "ValueSet", "url": "http://example.org/vs/v", "version": "2",
      "compose": {"include": [{"system": "http://example.org/cs/v", "version": "2"}]}})");
  reg_->add(R"({"resourceType": "ValueSet", "url": "http://example.org/vs/v9",
      "compose": {"include": [{"system": "http://example.org/cs/v", "version": "9"}]}})");
  const std::string_view sys = "http://example.org/cs/v";
  EXPECT_EQ(member("http://example.org/vs/v|1", sys, "old"), Membership::kMember);
  EXPECT_EQ(member("http://example.org/vs/v|1", sys, "new"), Membership::kNotMember);
  EXPECT_EQ(member("http://example.org/vs/v|2", "http://example.org/cs/v|2", "new"),
            Membership::kMember);
  auto x = service().expand("http://example.org/vs/v|1");
  ASSERT_TRUE(x);
  EXPECT_EQ((*x)->version(), "1");
  EXPECT_EQ((*x)->concepts().at(0).version, "1");
  EXPECT_EQ(service().validate_code("http://example.org/vs/v|3", sys, "old").reason,
            Reason::kValueSetNotFound);
  EXPECT_EQ(service().validate_code("http://example.org/vs/v9", sys, "zzz").reason,
            Reason::kSystemVersionNotFound);
  EXPECT_EQ(service().lookup("http://example.org/cs/v|1", "old").status, CodeStatus::kFound);
  EXPECT_EQ(service().lookup("http://example.org/cs/v|1", "new").status, CodeStatus::kNotFound);
  EXPECT_EQ(service().lookup("http://example.org/cs/v|7", "old").reason,
            Reason::kSystemVersionNotFound);
}

TEST_F(ServiceTest, CaseInsensitiveCodeSystems) {
  reg_->add(
      R"({"resourceType": "CodeSystem", "url": "http://example.org/cs/ci", "content": "complete",
      "caseSensitive": false, "concept": [{"code": "Abc", "display": "ABC"}]})");
  reg_->add(
      vs("http://example.org/vs/ci", R"({"include": [{"system": "http://example.org/cs/ci"}]})"));
  EXPECT_EQ(member("http://example.org/vs/ci", "http://example.org/cs/ci", "aBC"),
            Membership::kMember);
  auto look = service().lookup("http://example.org/cs/ci", "ABC");
  EXPECT_EQ(look.status, CodeStatus::kFound);
  EXPECT_FALSE(look.case_sensitive);
  EXPECT_EQ(look.display, "ABC");
  EXPECT_TRUE(service().lookup(kAnimals, "dog").case_sensitive);
}

TEST_F(ServiceTest, LookupGivesDisplayDesignationsAndFlags) {
  auto dog = service().lookup(kAnimals, "dog");
  EXPECT_EQ(dog.status, CodeStatus::kFound);
  EXPECT_EQ(dog.display, "Dog");
  EXPECT_EQ(dog.designations, std::vector<std::string>{"Hound"});
  EXPECT_EQ(dog.system_version, "1.0");
  EXPECT_TRUE(service().lookup(kAnimals, "animal").abstract);
  EXPECT_TRUE(service().lookup(kAnimals, "parrot").inactive);
  auto none = service().lookup(kAnimals, "dragon");
  EXPECT_EQ(none.status, CodeStatus::kNotFound);
  EXPECT_EQ(none.reason, Reason::kCodeNotInSystem);
  EXPECT_EQ(service().lookup(kAnimals, "").reason, Reason::kMissingCode);
}

TEST_F(ServiceTest, SupplementsAreNotTakenForTheirBase) {
  reg_->add(R"({"resourceType": "CodeSystem", "url": "http://example.org/cs/animals-supplement",
      "content": "supplement", "supplements": "http://example.org/cs/animals",
      "concept": [{"code": "dog", "designation": [{"language": "fr", "value": "Chien"}]}]})");
  EXPECT_EQ(service().lookup(kAnimals, "dog").designations, std::vector<std::string>{"Hound"});
  EXPECT_EQ(service().lookup("http://example.org/cs/animals-supplement", "dog").status,
            CodeStatus::kFound);
  EXPECT_EQ(service().lookup("http://example.org/cs/animals-supplement", "cat").status,
            CodeStatus::kCannotCheck);
}

TEST_F(ServiceTest, CodeTypedElementsMatchAnySystem) {
  reg_->add(vs("http://example.org/vs/mixed", R"({"include": [
      {"system": "http://example.org/cs/flat", "concept": [{"code": "A"}]},
      {"system": "http://example.org/cs/animals", "concept": [{"code": "dog"}]}]})"));
  EXPECT_EQ(member("http://example.org/vs/mixed", "", "dog"), Membership::kMember);
  EXPECT_EQ(member("http://example.org/vs/mixed", "", "A"), Membership::kMember);
  EXPECT_EQ(member("http://example.org/vs/mixed", "", "cat"), Membership::kNotMember);
  EXPECT_EQ(service().validate_code("http://example.org/vs/mixed", "", "").reason,
            Reason::kMissingCode);
}

TEST_F(ServiceTest, UcumIsCheckedForSyntaxOnly) {
  reg_->add(vs("http://example.org/vs/units",
               R"({"include": [{"system": "http://unitsofmeasure.org"}]})"));
  const std::string_view url = "http://example.org/vs/units";
  const std::string_view ucum = "http://unitsofmeasure.org";
  EXPECT_EQ(member(url, ucum, "mg/dL"), Membership::kCannotCheck);
  auto bad = service().validate_code(url, ucum, "mg//dL");
  EXPECT_EQ(bad.membership, Membership::kNotMember);
  EXPECT_EQ(bad.reason, Reason::kInvalidUcumSyntax);
  EXPECT_EQ(service().lookup(ucum, "kg/m2").status, CodeStatus::kCannotCheck);
  EXPECT_EQ(service().lookup(ucum, "kg m2").status, CodeStatus::kNotFound);
}

TEST(UcumSyntax, AcceptsAndRejects) {
  for (const char* ok :
       {"mg", "mg/dL", "kg/m2", "10*3/uL", "mm[Hg]", "[in_i]", "%", "{score}", "mL/min/{1.73_m2}",
        "/min", "(kg.m)/s2", "1", "m[H2O]{ann}", "ug/(kg.h)"}) {
    EXPECT_TRUE(ucum_syntax_ok(ok)) << ok;
  }
  for (const char* bad : {"", "mg//dL", "kg m2", "(mg", "mg)", "[in_i", "{unclosed", "mg.", ".mg",
                          "()", "[]", "mg/", "m{a{b}}"}) {
    EXPECT_FALSE(ucum_syntax_ok(bad)) << bad;
  }
  EXPECT_FALSE(ucum_syntax_ok(std::string(100, '(') + "m" + std::string(100, ')')));
}

TEST(DisplayMatches, FoldsCaseAndWhitespace) {
  EXPECT_TRUE(display_matches("  male ", "Male"));
  EXPECT_TRUE(display_matches("Blood  pressure", "blood pressure"));
  EXPECT_TRUE(display_matches("Hound", "Dog", {"hound"}));
  EXPECT_FALSE(display_matches("Wolf", "Dog", {"Hound"}));
  EXPECT_FALSE(display_matches("", "Dog"));
}

TEST(ExternalSystems, KnownList) {
  EXPECT_TRUE(is_external_system("http://snomed.info/sct"));
  EXPECT_TRUE(is_external_system("http://loinc.org"));
  EXPECT_TRUE(is_external_system("http://unitsofmeasure.org"));
  EXPECT_FALSE(is_external_system("http://hl7.org/fhir/administrative-gender"));
}

TEST_F(ServiceTest, CacheIsBoundedByTheRegistry) {
  reg_->add(vs("http://example.org/vs/all-animals",
               R"({"include": [{"system": "http://example.org/cs/animals"}]})"));
  Service& s = service();
  EXPECT_EQ(s.cache_size_ForTest(), 0u);
  // Systems that resolve to nothing are remembered up to a bound
  // (Engine::kMaxUnknownSystems in service.cpp); past it they are answered
  // the same, uncached.
  constexpr std::size_t kUnknownSystemsKept = 1024;
  for (int i = 0; i < 1100; ++i) {
    std::string url = "http://example.org/vs/hostile-" + std::to_string(i);
    EXPECT_EQ(s.validate_code(url, kAnimals, "dog").reason, Reason::kValueSetNotFound);
    EXPECT_EQ(s.lookup("http://example.org/cs/hostile-" + std::to_string(i), "x").reason,
              Reason::kSystemNotFound);
    EXPECT_EQ(s.validate_code("http://example.org/vs/all-animals", kAnimals, "dog").membership,
              Membership::kMember);
  }
  // One expansion (held by entry and by canonical), one CodeSystem index
  // (and its resolution), and the bounded list of unknown systems, however
  // many requests.
  EXPECT_EQ(s.cache_size_ForTest(), 4u + kUnknownSystemsKept);
  EXPECT_EQ(s.lookup("http://example.org/cs/hostile-0", "x").reason, Reason::kSystemNotFound);
  EXPECT_EQ(s.lookup("http://example.org/cs/hostile-1099", "x").reason, Reason::kSystemNotFound);
  EXPECT_EQ(s.cache_size_ForTest(), 4u + kUnknownSystemsKept);
}

TEST_F(ServiceTest, AbstractAndInactiveAreReported) {
  reg_->add(vs("http://example.org/vs/all-animals",
               R"({"include": [{"system": "http://example.org/cs/animals"}]})"));
  auto animal = service().validate_code("http://example.org/vs/all-animals", kAnimals, "animal");
  EXPECT_EQ(animal.membership, Membership::kMember);
  EXPECT_TRUE(animal.abstract);
  EXPECT_FALSE(animal.inactive);
  auto parrot = service().validate_code("http://example.org/vs/all-animals", kAnimals, "parrot");
  EXPECT_TRUE(parrot.inactive);
  EXPECT_FALSE(parrot.abstract);
}

TEST_F(ServiceTest, ComposeInactiveFalseDropsInactiveConcepts) {
  reg_->add(vs("http://example.org/vs/active-birds", R"({"inactive": false, "include": [
      {"system": "http://example.org/cs/animals",
       "filter": [{"property": "concept", "op": "is-a", "value": "bird"}]}]})"));
  EXPECT_EQ(member("http://example.org/vs/active-birds", kAnimals, "bird"), Membership::kMember);
  EXPECT_EQ(member("http://example.org/vs/active-birds", kAnimals, "parrot"),
            Membership::kNotMember);
}

TEST_F(ServiceTest, ConcurrentCallersAgree) {
  reg_->add(vs("http://example.org/vs/all-animals",
               R"({"include": [{"system": "http://example.org/cs/animals"}]})"));
  reg_->add(vs("http://example.org/vs/importer",
               R"({"include": [{"valueSet": ["http://example.org/vs/all-animals"]}]})"));
  Service& s = service();
  std::vector<std::thread> threads;
  std::vector<int> members(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const char* url =
            (i + t) % 2 ? "http://example.org/vs/importer" : "http://example.org/vs/all-animals";
        if (s.validate_code(url, kAnimals, "cat").membership == Membership::kMember) ++members[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(members, (std::vector<int>{50, 50, 50, 50}));
  auto a = s.expand("http://example.org/vs/all-animals");
  auto b = s.expand("http://example.org/vs/all-animals");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->get(), b->get()) << "one cached expansion per ValueSet";
}

}  // namespace
}  // namespace gw::terminology
