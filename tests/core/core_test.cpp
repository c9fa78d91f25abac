#include "gateway/core/core.hpp"

#include <gtest/gtest.h>

namespace gw {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return fail(ErrorCode::kInvalidArgument, "must be positive", "arg");
  return v;
}

Result<int> doubled(int v) {
  GW_TRY(int x, parse_positive(v));
  return 2 * x;
}

TEST(CoreResult, TryPropagatesValueAndError) {
  auto ok = doubled(4);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 8);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().to_string(), "arg: must be positive");
}

TEST(CoreError, ContextIsPrefixed) {
  Error e(ErrorCode::kParse, "unexpected token", "line 3, column 7");
  EXPECT_EQ(e.with_context("a.json").to_string(), "a.json: line 3, column 7: unexpected token");
  EXPECT_EQ(Error(ErrorCode::kIo, "x").with_context("f").location(), "f");
  EXPECT_EQ(to_string(ErrorCode::kIntegrity), "integrity");
}

TEST(CoreAssertDeathTest, AbortsOnBrokenInvariant) {
  EXPECT_DEATH(GW_ASSERT(1 + 1 == 3, "arithmetic"), "GW_ASSERT failed");
}

}  // namespace
}  // namespace gw

namespace gw {
namespace {
// Messages quote untrusted keys cut to a length: the cut must never split
// a UTF-8 character (the OperationOutcome would not be valid JSON text).
TEST(CoreUtf8Prefix, CutsOnlyAtCharacterBoundaries) {
  EXPECT_EQ(utf8_prefix("short", 64), "short");
  EXPECT_EQ(utf8_prefix("abcdef", 3), "abc");
  const std::string euro = "ab\xe2\x82\xac" "cd";  // a b € c d
  EXPECT_EQ(utf8_prefix(euro, 2), "ab");
  EXPECT_EQ(utf8_prefix(euro, 3), "ab");  // inside the euro sign
  EXPECT_EQ(utf8_prefix(euro, 4), "ab");
  EXPECT_EQ(utf8_prefix(euro, 5), "ab\xe2\x82\xac");
  EXPECT_EQ(utf8_prefix("\xc3\xa9\xc3\xa9", 3), "\xc3\xa9");
  EXPECT_EQ(utf8_prefix("\xf0\x9f\x98\x80", 2), "");
}
}  // namespace
}  // namespace gw
