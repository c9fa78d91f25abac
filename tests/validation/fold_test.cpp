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
  std::uint64_t flags = 0;
  for (std::size_t i = 0; i < program->names.size(); ++i) {
    if (std::find(present.begin(), present.end(), program->names[i]) != present.end()) flags |= std::uint64_t{1} << i;
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

// Presence is one bit per name: 64 names compile (the last one decides
// below), 65 are left to FHIRPath.
TEST(FoldTest, ExistenceLogicTakesUpToSixtyFourNames) {
  auto chain = [](int names) {
    std::string e = "n0.exists()";
    for (int i = 1; i < names; ++i) e += " and n" + std::to_string(i) + ".exists()";
    return e;
  };
  const std::string all64 = chain(64);
  ASSERT_TRUE(compile_existence(all64));
  EXPECT_EQ(compile_existence(all64)->names.size(), 64u);
  EXPECT_FALSE(compile_existence(chain(65)));
  auto present = [](int from, int to) {
    std::vector<std::string> names;
    for (int i = from; i < to; ++i) names.push_back("n" + std::to_string(i));
    return names;
  };
  auto run = [&](const std::vector<std::string>& names) {
    auto program = compile_existence(all64);
    std::uint64_t flags = 0;
    for (std::size_t i = 0; i < program->names.size(); ++i) {
      if (std::find(names.begin(), names.end(), program->names[i]) != names.end()) flags |= std::uint64_t{1} << i;
    }
    return run_existence(*program, flags);
  };
  EXPECT_TRUE(run(present(0, 64)));
  EXPECT_FALSE(run(present(0, 63)));  // n63 absent: bit 63
  EXPECT_FALSE(run(present(1, 64)));  // n0 absent: bit 0
}

}  // namespace
}  // namespace gw::validation::detail
