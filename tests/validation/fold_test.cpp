#include "gateway/validation/detail/fold.hpp"

#include <gtest/gtest.h>

namespace gw::validation::detail {
namespace {

std::vector<std::string> reads(std::string_view e) {
  auto r = focus_members(e);
  EXPECT_TRUE(r.has_value()) << e;
  std::vector<std::string> out = r.value_or(std::vector<std::string>{});
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FoldTest, CollectsPathStartsOnly) {
  EXPECT_EQ(reads("fixed.empty() or (type.count()  <= 1)"), (std::vector<std::string>{"fixed", "type"}));
  EXPECT_EQ(reads("name.where(use = 'official').given.exists()"), (std::vector<std::string>{"name", "use"}));
  EXPECT_EQ(reads("iif(max != '*', min <= max.toInteger(), true)"), (std::vector<std::string>{"max", "min"}));
  EXPECT_EQ(reads("value is Quantity implies `div`.exists()"),
            (std::vector<std::string>{"Quantity", "div", "value"}));
  // String contents and keywords are not names.
  EXPECT_EQ(reads("code = 'a.b or c' and true"), (std::vector<std::string>{"code"}));
  EXPECT_EQ(reads("start <= end // comment mentioning other"), (std::vector<std::string>{"end", "start"}));
}

TEST(FoldTest, RefusesWhatReadsMoreThanMembers) {
  EXPECT_FALSE(focus_members("hasValue() or children().count() > 1"));
  EXPECT_FALSE(focus_members("%resource.id.exists()"));
  EXPECT_FALSE(focus_members("$this.empty()"));
  EXPECT_FALSE(focus_members("now() > @2020-01-01"));
  EXPECT_FALSE(focus_members("exists()"));
}

TEST(FoldTest, KeyMayHoldElement) {
  EXPECT_TRUE(key_may_hold("value", "value"));
  EXPECT_TRUE(key_may_hold("valueQuantity", "value"));
  EXPECT_TRUE(key_may_hold("_valueString", "value"));
  EXPECT_TRUE(key_may_hold("_given", "given"));
  EXPECT_FALSE(key_may_hold("values", "value"));
  EXPECT_FALSE(key_may_hold("name", "value"));
}

}  // namespace
}  // namespace gw::validation::detail
