#include "gateway/primitives/primitives.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gw::primitives {
namespace {

Quantity q(std::string_view text) {
  auto r = parse_quantity(text);
  EXPECT_TRUE(r.has_value()) << text;
  return r ? *r : Quantity{};
}

std::string opt(const std::optional<bool>& b) { return b ? (*b ? "true" : "false") : "{}"; }
std::string opt(const std::optional<int>& c) { return c ? std::to_string(*c < 0 ? -1 : (*c > 0 ? 1 : 0)) : "{}"; }
std::string str(const std::optional<Quantity>& x) { return x ? x->to_string() : "{}"; }

TEST(QuantityParse, Forms) {
  EXPECT_EQ(q("4 days").to_string(), "4 days");
  EXPECT_EQ(q("1 'wk'").to_string(), "1 'wk'");
  EXPECT_EQ(q("1 'wk'").unit, "wk");
  EXPECT_EQ(q("10.1 'mg'").value.to_string(), "10.1");
  EXPECT_EQ(q("1").unit, "1");
  EXPECT_EQ(q("1.0").to_string(), "1.0 '1'");
  EXPECT_EQ(q("-2.50 'mg'").to_string(), "-2.50 'mg'");
  EXPECT_EQ(q("+3 'g'").value.to_string(), "3");
  EXPECT_EQ(q("4'g'").unit, "g");  // whitespace is optional before a quoted unit
  EXPECT_EQ(q("2 '[arb\\'U]'").unit, "[arb'U]");
  EXPECT_EQ(q("2 '[arb\\'U]'").to_string(), "2 '[arb\\'U]'");
  EXPECT_EQ(q("1 year").unit, "year");
  EXPECT_EQ(q("3 milliseconds").to_string(), "3 milliseconds");
}

TEST(QuantityParse, Rejects) {
  for (const char* bad : {"", "1 wk", "1.a", "a", "1 'mg", "1 ''", "1 'mg' x", "1 Days", "1 days ", " 1",
                          "1.", "1 decade", "1days", "1 'g''"}) {
    EXPECT_FALSE(parse_quantity(bad).has_value()) << bad;
  }
}

TEST(QuantityCalendarUnit, Keywords) {
  EXPECT_EQ(calendar_unit("year"), CalendarUnit::kYear);
  EXPECT_EQ(calendar_unit("months"), CalendarUnit::kMonth);
  EXPECT_EQ(calendar_unit("millisecond"), CalendarUnit::kMillisecond);
  EXPECT_FALSE(calendar_unit("a").has_value());
  EXPECT_FALSE(calendar_unit("Year").has_value());
}

TEST(QuantityEquality, AcrossUnits) {
  EXPECT_EQ(opt(equals(q("4.0000 'g'"), q("4000.0 'mg'"))), "true");
  EXPECT_EQ(opt(equals(q("4 'g'"), q("4040 'mg'"))), "false");
  EXPECT_EQ(opt(equals(q("185 '[lb_av]'"), q("83.91458845 'kg'"))), "true");
  EXPECT_EQ(opt(equals(q("185 '[lb_av]'"), q("185 'kg'"))), "false");
  EXPECT_EQ(opt(equals(q("1 'g'"), q("1 'm'"))), "{}");
  EXPECT_EQ(opt(equals(q("100 'mg/dL'"), q("1 'g/L'"))), "true");
  EXPECT_EQ(opt(equals(q("1 'foo'"), q("1.0 'foo'"))), "true");  // unknown unit: literal match
  EXPECT_EQ(opt(equals(q("1 'foo'"), q("1 'bar'"))), "{}");
  EXPECT_EQ(opt(equals(q("1 '[iU]'"), q("1 '[IU]'"))), "true");
  EXPECT_EQ(opt(equals(q("1 '[iU]'"), q("1 'g'"))), "{}");
  EXPECT_EQ(opt(equals(q("37 'Cel'"), q("98.6 '[degF]'"))), "true");
  EXPECT_EQ(opt(equals(q("0 'Cel'"), q("273.15 'K'"))), "true");
}

TEST(QuantityEquality, CalendarDurations) {
  EXPECT_EQ(opt(equals(q("7 days"), q("1 week"))), "true");
  EXPECT_EQ(opt(equals(q("7 days"), q("1 'wk'"))), "true");
  EXPECT_EQ(opt(equals(q("1 day"), q("1 'd'"))), "true");
  EXPECT_EQ(opt(equals(q("1 'wk'"), q("1 week"))), "true");
  EXPECT_EQ(opt(equals(q("1 hour"), q("60 minutes"))), "true");
  EXPECT_EQ(opt(equals(q("1 second"), q("1000 'ms'"))), "true");
  // Calendar years/months are not UCUM 'a'/'mo', nor a number of days.
  EXPECT_EQ(opt(equals(q("1 'mo'"), q("1 month"))), "{}");
  EXPECT_EQ(opt(equals(q("1 'a'"), q("1 year"))), "{}");
  EXPECT_EQ(opt(equals(q("1 year"), q("365 days"))), "{}");
  // FHIRPath 2.0: "1 year = 12 months // empty, because calendar unit
  // conversion must be explicit".
  EXPECT_EQ(opt(equals(q("1 year"), q("12 months"))), "{}");
  EXPECT_EQ(opt(equals(*convert(q("1 year"), "months"), q("12 months"))), "true");
  EXPECT_EQ(opt(equals(q("1 year"), q("1 years"))), "true");
  EXPECT_EQ(opt(equals(q("2 years"), q("1 year"))), "false");
  EXPECT_EQ(opt(equals(q("1 'month'"), q("1 month"))), "true");
}

TEST(QuantityEquivalence, RoundsToLeastPrecise) {
  EXPECT_TRUE(equivalent(q("4 'g'"), q("4000 'mg'")));
  EXPECT_TRUE(equivalent(q("4 'g'"), q("4040 'mg'")));
  EXPECT_TRUE(equivalent(q("4040 'mg'"), q("4 'g'")));  // symmetric
  // Trailing zeros do not count as precision (N1 §6.3): 4.0 is as coarse as 4.
  EXPECT_TRUE(equivalent(q("4.0 'g'"), q("4040 'mg'")));
  EXPECT_FALSE(equivalent(q("4.1 'g'"), q("4040 'mg'")));
  EXPECT_TRUE(equivalent(q("4 'kg'"), q("4040 'g'")));
  EXPECT_FALSE(equivalent(q("185 '[lb_av]'"), q("185 'kg'")));
  EXPECT_TRUE(equivalent(q("1.0 '1'"), q("1")));
  EXPECT_FALSE(equivalent(q("1 'g'"), q("1 'm'")));
  EXPECT_TRUE(equivalent(q("1 year"), q("1 'a'")));
  EXPECT_TRUE(equivalent(q("1 month"), q("1 'mo'")));
  EXPECT_TRUE(equivalent(q("1 second"), q("1 's'")));
  EXPECT_TRUE(equivalent(q("1 week"), q("7 days")));
  EXPECT_TRUE(equivalent(q("1 year"), q("12 months")));  // as 1 'a' and 12 'mo'
  // Rounded to the precision of "1": 13 months is 1.08 'a' (~ 1), 18 is 1.5 (not).
  EXPECT_TRUE(equivalent(q("1 year"), q("13 months")));
  EXPECT_FALSE(equivalent(q("1 year"), q("18 months")));
}

TEST(QuantityCompare, Ordering) {
  EXPECT_EQ(opt(compare(q("6 days"), q("1 week"))), "-1");
  EXPECT_EQ(opt(compare(q("8 days"), q("1 week"))), "1");
  EXPECT_EQ(opt(compare(q("185 '[lb_av]'"), q("200 '[lb_av]'"))), "-1");
  EXPECT_EQ(opt(compare(q("185 '[lb_av]'"), q("80 'kg'"))), "1");
  EXPECT_EQ(opt(compare(q("99 'mg/dL'"), q("1 'g/L'"))), "-1");
  EXPECT_EQ(opt(compare(q("-40 'Cel'"), q("-40 '[degF]'"))), "0");
  EXPECT_EQ(opt(compare(q("36.6 'Cel'"), q("100.4 '[degF]'"))), "-1");
  EXPECT_EQ(opt(compare(q("1 'g'"), q("1 'm'"))), "{}");
  EXPECT_EQ(opt(compare(q("11 months"), q("1 year"))), "{}");
  EXPECT_EQ(opt(compare(q("11 months"), q("1 month"))), "1");
  EXPECT_EQ(opt(compare(q("1 year"), q("400 days"))), "{}");
}

TEST(QuantityComparable, MatchesSuite) {
  EXPECT_TRUE(comparable(q("1 'cm'"), q("1 '[in_i]'")));
  EXPECT_FALSE(comparable(q("1 'cm'"), q("1 '[s]'")));
  EXPECT_FALSE(comparable(q("1 'cm'"), q("1 's'")));
  EXPECT_FALSE(comparable(q("1 year"), q("3 months")));
  EXPECT_TRUE(comparable(q("1 year"), q("3 years")));
  EXPECT_FALSE(comparable(q("1 year"), q("1 'a'")));
  EXPECT_TRUE(comparable(q("1 week"), q("1 'd'")));
  EXPECT_TRUE(comparable(q("1 'foo'"), q("2 'foo'")));
}

TEST(QuantityArithmetic, AddSubtractUseTheFinerUnit) {
  // N1 §6.5 examples.
  EXPECT_EQ(str(add(q("3 'm'"), q("3 'cm'"))), "303 'cm'");
  EXPECT_EQ(str(subtract(q("3 'm'"), q("3 'cm'"))), "297 'cm'");
  EXPECT_EQ(str(add(q("1 'g'"), q("500 'mg'"))), "1500 'mg'");
  EXPECT_EQ(str(add(q("0.1 'mL'"), q("0.2 'mL'"))), "0.3 'mL'");
  EXPECT_EQ(str(subtract(q("1 'kg'"), q("1 'g'"))), "999 'g'");
  EXPECT_EQ(str(add(q("1 week"), q("1 day"))), "8 day");
  EXPECT_EQ(str(add(q("1 day"), q("1 week"))), "8 day");
  EXPECT_EQ(str(add(q("1 year"), q("6 months"))), "{}");
  EXPECT_EQ(str(add(q("1 year"), q("2 years"))), "3 year");
  EXPECT_EQ(str(add(q("1 'Cel'"), q("1 'Cel'"))), "2 'Cel'");
  EXPECT_EQ(str(add(q("1.5 'foo'"), q("1 'foo'"))), "2.5 'foo'");
  EXPECT_EQ(str(add(q("1 'g'"), q("1 'm'"))), "{}");
  EXPECT_EQ(str(add(q("1 year"), q("1 day"))), "{}");
  EXPECT_EQ(str(add(q("1 'foo'"), q("1 'bar'"))), "{}");
}

TEST(QuantityArithmetic, MultiplyDivideMatchSuite) {
  auto area = multiply(q("2.0 'cm'"), q("2.0 'm'"));
  ASSERT_TRUE(area);
  EXPECT_EQ(area->unit, "cm2");
  EXPECT_EQ(opt(equals(*area, q("0.040 'm2'"))), "true");
  auto density = divide(q("4.0 'g'"), q("2.0 'm'"));
  ASSERT_TRUE(density);
  EXPECT_EQ(density->to_string(), "2.0 'g/m'");
  EXPECT_EQ(opt(equals(*density, q("2 'g/m'"))), "true");
  auto ratio = divide(q("1.0 'm'"), q("1.0 'm'"));
  ASSERT_TRUE(ratio);
  EXPECT_EQ(ratio->unit, "1");
  EXPECT_EQ(opt(equals(*ratio, q("1 '1'"))), "true");
}

TEST(QuantityArithmetic, MultiplyDivideSpecExamples) {
  EXPECT_EQ(str(multiply(q("12 'cm'"), q("3 'cm'"))), "36 'cm2'");
  EXPECT_EQ(str(multiply(q("3 'cm'"), q("12 'cm2'"))), "36 'cm3'");
  EXPECT_EQ(str(divide(q("12 'cm2'"), q("3 'cm'"))), "4 'cm'");
  EXPECT_EQ(str(divide(q("12 'cm'"), q("3 'cm2'"))), "4 'cm-1'");
  EXPECT_EQ(str(multiply(q("2 's-1'"), q("3 's'"))), "6 '1'");
  EXPECT_EQ(str(multiply(q("2 '10*3'"), q("3 '10*3'"))), "6 '10*6'");
}

TEST(QuantityArithmetic, MultiplyDivideUnits) {
  EXPECT_EQ(str(multiply(q("3 'mg'"), q("2"))), "6 'mg'");
  EXPECT_EQ(str(multiply(q("2"), q("3 'mg'"))), "6 'mg'");
  EXPECT_EQ(str(multiply(q("2 'kg'"), q("3 'm/s2'"))), "6 'kg.(m/s2)'");
  EXPECT_EQ(str(divide(q("10 'mg'"), q("2 'dL'"))), "5 'mg/dL'");
  EXPECT_EQ(str(divide(q("10 'mg'"), q("2 'mg/dL'"))), "5 'mg/(mg/dL)'");
  EXPECT_EQ(str(divide(q("1"), q("4 's'"))), "0.25 '1/s'");
  EXPECT_EQ(str(divide(q("6 'm'"), q("2"))), "3 'm'");
  EXPECT_EQ(str(divide(q("1 'g'"), q("0 'm'"))), "{}");
  EXPECT_EQ(str(multiply(q("2 'Cel'"), q("2 'Cel'"))), "{}");  // affine
  EXPECT_EQ(str(multiply(q("2 'foo'"), q("2 'g'"))), "{}");     // not UCUM
  EXPECT_EQ(str(divide(q("14 days"), q("1 week"))), "2 '1'");
  EXPECT_EQ(str(multiply(q("2 years"), q("2"))), "4 'a'");
  auto kmh = divide(q("10 'km'"), q("2 'h'"));
  ASSERT_TRUE(kmh);
  EXPECT_EQ(opt(compare(*kmh, q("1 'm/s'"))), "1");
}

TEST(QuantityConvert, ToQuantityWithUnit) {
  EXPECT_EQ(str(convert(q("1 week"), "days")), "7 days");
  EXPECT_EQ(str(convert(q("24 hours"), "day")), "1 day");
  EXPECT_EQ(str(convert(q("1 year"), "months")), "12 months");
  EXPECT_EQ(str(convert(q("1 year"), "days")), "{}");
  EXPECT_EQ(str(convert(q("4040 'mg'"), "g")), "4.040 'g'");
  EXPECT_EQ(str(convert(q("1 'g'"), "m")), "{}");
  EXPECT_EQ(str(convert(q("1 'foo'"), "foo")), "1 'foo'");
}

TEST(QuantityBoundary, MatchesSuite) {
  EXPECT_EQ(str(low_boundary(q("1.587 'cm'"), 8)), "1.58650000 'cm'");
  EXPECT_EQ(str(high_boundary(q("1.587 'm'"), 8)), "1.58750000 'm'");
  EXPECT_EQ(str(high_boundary(q("1.587 'm'"), 40)), "{}");
}

TEST(QuantityPrint, EscapesQuotes) {
  Quantity x{Decimal::from_int64(1), "a'b\\c"};
  EXPECT_EQ(x.to_string(), "1 'a\\'b\\\\c'");
  auto back = parse_quantity(x.to_string());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, x);
}

}  // namespace
}  // namespace gw::primitives
