// Mapping files are checked at load: every mistake is an error with the
// file, line and column (and the FHIRPath offset), never a silently empty
// section.
#include "gateway/handoff/handoff.hpp"

#include "tests/handoff/handoff_fixture.hpp"

namespace gw::handoff {
namespace {

using namespace gw::handoff::testing;

// A minimal valid mapping; `extra` is spliced in as further top-level keys
// and `sections` replaces the section list.
std::string mapping_text(const std::string& extra = {}, const std::string& sections = {}) {
  std::string s = sections.empty() ? R"J([
    {"code": "10160-0", "select": "Bundle.entry.resource.ofType(MedicationStatement)"},
    {"code": "11450-4", "select": "Bundle.entry.resource.ofType(Condition)"},
    {"code": "48765-2", "select": "Bundle.entry.resource.ofType(AllergyIntolerance)"}
  ])J"
                                   : sections;
  return "{\n  \"name\": \"test\",\n  \"accepts\": \"Bundle.type = 'collection'\",\n"
         "  \"patient\": \"Bundle.entry.resource.ofType(Patient).first()\",\n" +
         extra + "  \"sections\": " + s + "\n}\n";
}

Result<std::shared_ptr<const MappingSet>> load_text(const std::string& text) {
  std::vector<MappingSet::Source> src{{"test.json", text}};
  return MappingSet::parse(src, model());
}

TEST(MappingLoad, RepositoryMappingsLoadInFileOrder) {
  auto set = repo_mappings();
  ASSERT_TRUE(set);
  EXPECT_EQ(set->names(), (std::vector<std::string>{"discharge-summary", "generic-bundle"}));
}

TEST(MappingLoad, MinimalMappingLoads) {
  auto set = load_text(mapping_text());
  ASSERT_TRUE(set) << set.error().to_string();
  EXPECT_EQ((*set)->names(), std::vector<std::string>{"test"});
}

TEST(MappingLoad, UnknownKeyIsAnErrorWithPosition) {
  auto set = load_text(mapping_text("  \"selct\": \"x\",\n"));
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(set.error().message().find("unknown key 'selct'"), std::string::npos);
  EXPECT_EQ(set.error().location(), "test.json: line 5, column 12");
}

TEST(MappingLoad, UnknownKeyInASection) {
  auto set = load_text(mapping_text({}, R"J([{"code": "10160-0", "selector": "Bundle"}])J"));
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message().find("unknown key 'selector' in a section"), std::string::npos);
  EXPECT_NE(set.error().location().find("test.json: line 5"), std::string::npos);
}

TEST(MappingLoad, BadFhirPathIsAParseErrorWithOffset) {
  auto set = load_text(mapping_text({}, R"J([
    {"code": "10160-0", "select": "Bundle.entry.resource.ofType(MedicationStatement"},
    {"code": "11450-4", "select": "Bundle.entry.resource.ofType(Condition)"},
    {"code": "48765-2", "select": "Bundle.entry.resource.ofType(AllergyIntolerance)"}])J"));
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().code(), ErrorCode::kParse);
  EXPECT_NE(set.error().location().find("test.json: line 6, column 35 (FHIRPath offset"),
            std::string::npos)
      << set.error().location();
}

TEST(MappingLoad, UnknownElementIsACompileError) {
  auto set = load_text(mapping_text("  \"author\": \"Bundle.entri.resource\",\n"));
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message().find("'author'"), std::string::npos);
  EXPECT_NE(set.error().location().find("(FHIRPath offset 7)"), std::string::npos)
      << set.error().location();
}

TEST(MappingLoad, BadTemplateHole) {
  auto set = load_text(mapping_text("  \"title\": \"Summary {{Bundle.type\",\n"));
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message().find("'{{' without '}}'"), std::string::npos);
}

TEST(MappingLoad, UnknownSectionCode) {
  auto set = load_text(mapping_text({}, R"J([{"code": "99999-9", "select": "Bundle"}])J"));
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message().find("unknown section code '99999-9'"), std::string::npos);
  EXPECT_NE(set.error().location().find("line 5"), std::string::npos);
}

TEST(MappingLoad, RequiredSectionMissing) {
  auto set =
      load_text(mapping_text({}, R"J([{"code": "10160-0", "select": "Bundle.entry.resource"}])J"));
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message().find("required section 11450-4 is missing"), std::string::npos);
}

TEST(MappingLoad, DuplicateSectionAndWrongTypes) {
  auto dup = load_text(mapping_text({}, R"J([
    {"code": "10160-0", "select": "Bundle"}, {"code": "10160-0", "select": "Bundle"}])J"));
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message().find("twice"), std::string::npos);
  auto follow = load_text(mapping_text("  \"follow\": [\"Medicine\"],\n"));
  ASSERT_FALSE(follow);
  EXPECT_NE(follow.error().message().find("not a concrete resource type"), std::string::npos);
  auto profiles = load_text(mapping_text("  \"profiles\": {\"Patient\": 3},\n"));
  ASSERT_FALSE(profiles);
  auto notjson = load_text("{\"name\": ");
  ASSERT_FALSE(notjson);
  EXPECT_EQ(notjson.error().code(), ErrorCode::kParse);
  EXPECT_EQ(notjson.error().location().rfind("test.json: line 1", 0), 0u);
}

TEST(MappingLoad, ChecksCompileAgainstTheirResourceType) {
  auto ok = load_text(mapping_text(
      "  \"checks\": [{\"resource\": \"Patient\", \"expression\": \"birthDate.exists()\", "
      "\"message\": \"m\"}],\n"));
  ASSERT_TRUE(ok) << ok.error().to_string();
  auto bad = load_text(mapping_text(
      "  \"checks\": [{\"resource\": \"Patient\", \"expression\": \"birthdate.exists()\", "
      "\"message\": \"m\"}],\n"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().location().find("line 5, column 52 (FHIRPath offset 0)"), std::string::npos)
      << bad.error().location();
  auto incomplete = load_text(mapping_text("  \"checks\": [{\"resource\": \"Patient\"}],\n"));
  ASSERT_FALSE(incomplete);
  EXPECT_NE(incomplete.error().message().find("needs 'resource', 'expression' and 'message'"),
            std::string::npos);
  auto omit = load_text(mapping_text("  \"omit\": [\"location\"],\n"));
  ASSERT_FALSE(omit);
  EXPECT_NE(omit.error().message().find("ResourceType.element"), std::string::npos);
}

TEST(MappingLoad, AbsentTemplatesAreChecked) {
  auto check = [](const std::string& absent) {
    return load_text(mapping_text(
        "  \"checks\": [{\"resource\": \"Patient\", \"expression\": \"birthDate.exists()\", "
        "\"message\": \"m\", \"absent\": " + absent + "}],\n"));
  };
  auto ok = check(R"J({"append": "extension", "value": {"url": "http://example.org/x"}})J");
  ASSERT_TRUE(ok) << ok.error().to_string();
  auto fill = check(R"J({"fill": "communication", "member": "_preferred", "value": {"extension": []}})J");
  ASSERT_TRUE(fill) << fill.error().to_string();
  auto list = check(R"J([{"fill": "period", "member": "_start", "value": {}}, {"set": "period", "value": {}}])J");
  ASSERT_TRUE(list) << list.error().to_string();
  const std::pair<std::string, std::string> bad[] = {
      {R"J({"append": "extension", "fill": "communication", "member": "m", "value": {}})J", "one of 'append', 'fill' or 'set'"},
      {R"J({"append": "extension"})J", "needs a 'value'"},
      {R"J({"fill": "communication", "value": {}})J", "needs a 'member'"},
      {R"J({"append": "extension", "member": "m", "value": {}})J", "'member' goes with 'fill' only"},
      {R"J({"append": "extension", "value": "text"})J", "must be an object"},
      {R"J([{"set": "period", "value": {}}, 7])J", "an object or a list of them"},
      {R"J({"append": "extension", "value": {}, "when": "x"})J", "unknown key 'when' in 'absent'"},
  };
  for (const auto& [text, message] : bad) {
    auto r = check(text);
    ASSERT_FALSE(r) << text;
    EXPECT_NE(r.error().message().find(message), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().location().find("test.json: line 5"), std::string::npos) << r.error().location();
  }
}

TEST(MappingLoad, DirectoryErrors) {
  auto missing = MappingSet::load(gw::testing::source_dir() + "/no-such-dir", model());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  auto empty = MappingSet::load(gw::testing::source_dir() + "/tests/handoff", model());
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace gw::handoff
