#include "gateway/fhir/fhir.hpp"

#include <gtest/gtest.h>

namespace gw::fhir {
namespace {

TEST(ParseResource, AcceptsAResource) {
  ParsedResource r = parse_resource(R"({"resourceType":"Patient"})");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.document.root().find("resourceType").str(), "Patient");
}

TEST(ParseResource, MalformedJsonGivesLineAndColumn) {
  ParsedResource r = parse_resource("{\n  \"resourceType\": \"Patient\",\n  \"x\": ]\n}");
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_EQ(r.issues[0].severity, Issue::Severity::kFatal);
  EXPECT_EQ(r.issues[0].position.line, 3u);
  EXPECT_EQ(r.issues[0].position.column, 8u);
}

TEST(ParseResource, NonObjectRootAndMissingResourceType) {
  EXPECT_FALSE(parse_resource("[1]").ok());
  ParsedResource r = parse_resource("{\"id\": \"a\"}");
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_NE(r.issues[0].diagnostics.find("resourceType"), std::string::npos);
  EXPECT_FALSE(parse_resource("{\"resourceType\": 1}").ok());
  EXPECT_FALSE(parse_resource("{\"resourceType\":\"A\",\"resourceType\":\"B\"}").ok());
}

TEST(OperationOutcome, CarriesSeverityExpressionAndPosition) {
  Issue i;
  i.severity = Issue::Severity::kError;
  i.code = "value";
  i.expression = "Patient.birthDate";
  i.position = {4, 9};
  i.diagnostics = "not a valid date";
  std::vector<Issue> issues{i};
  std::string json = operation_outcome_json(issues);
  auto doc = json::Document::parse(json);
  ASSERT_TRUE(doc);
  json::Value issue = doc->root().find("issue")[0];
  EXPECT_EQ(issue.find("severity").str(), "error");
  EXPECT_EQ(issue.find("expression")[0].str(), "Patient.birthDate");
  EXPECT_EQ(issue.find("extension")[0].find("valueInteger").str(), "4");
  EXPECT_EQ(issue.find("extension")[1].find("valueInteger").str(), "9");
  std::string empty = operation_outcome_json({});
  EXPECT_NE(empty.find("informational"), std::string::npos);
}

}  // namespace
}  // namespace gw::fhir
