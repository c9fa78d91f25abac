#include "gateway/validation/detail/fold.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <optional>

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

// Evaluates `expr` with the named members present.
std::optional<bool> existence(std::string_view expr, std::initializer_list<std::string_view> present) {
  auto program = compile_existence(expr);
  if (!program) return std::nullopt;
  std::vector<bool> flags;
  for (const std::string& n : program->names) {
    flags.push_back(std::find(present.begin(), present.end(), n) != present.end());
  }
  return run_existence(*program, flags);
}

TEST(FoldTest, ExistenceLogicCompilesPresenceConstraints) {
  // qty-3
  EXPECT_EQ(existence("code.empty() or system.exists()", {}), true);
  EXPECT_EQ(existence("code.empty() or system.exists()", {"code"}), false);
  EXPECT_EQ(existence("code.empty() or system.exists()", {"code", "system"}), true);
  // rat-1: xor and parentheses
  const char* rat1 = "(numerator.empty() xor denominator.exists()) and (numerator.exists() or extension.exists())";
  EXPECT_EQ(existence(rat1, {"numerator", "denominator"}), true);
  EXPECT_EQ(existence(rat1, {"numerator"}), false);
  EXPECT_EQ(existence(rat1, {"denominator"}), false);  // numerator.empty() xor true = false
  EXPECT_EQ(existence(rat1, {"extension"}), true);
  // implies binds loosest, and before or
  EXPECT_EQ(existence("a.exists() implies b.exists() or c.exists()", {"a", "c"}), true);
  EXPECT_EQ(existence("a.exists() implies b.exists() or c.exists()", {"a"}), false);
  EXPECT_EQ(existence("a.exists() or b.exists() and c.exists()", {"a"}), true);
  EXPECT_EQ(existence("a.exists() or b.exists() and c.exists()", {"b"}), false);
  // .not()
  EXPECT_EQ(existence("a.exists().not() or b.exists()", {"a"}), false);
  EXPECT_EQ(existence("a.exists().not() or b.exists()", {}), true);
}

TEST(FoldTest, ExistenceLogicLeavesEverythingElseToFhirPath) {
  EXPECT_FALSE(compile_existence("fullUrl.exists() implies fullUrl.contains('/_history/').not()"));
  EXPECT_FALSE(compile_existence("identifier.system.exists()"));
  EXPECT_FALSE(compile_existence("start <= end"));
  EXPECT_FALSE(compile_existence("hasValue() or children().exists()"));
  EXPECT_FALSE(compile_existence("a.exists() or"));
  EXPECT_FALSE(compile_existence("(a.exists()"));
  EXPECT_FALSE(compile_existence("a.exists() b.exists()"));
  EXPECT_FALSE(compile_existence("and.exists()"));
  // Deeper than the evaluator's fixed stack: refused, not truncated.
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "(a.exists() or ";
  deep += "a.exists()";
  for (int i = 0; i < 40; ++i) deep += ")";
  EXPECT_FALSE(compile_existence(deep));
}

}  // namespace
}  // namespace gw::validation::detail
