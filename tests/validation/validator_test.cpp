#include "gateway/validation/validation.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/validation/validation_support.hpp"

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
