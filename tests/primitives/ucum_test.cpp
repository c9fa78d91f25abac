#include "gateway/primitives/primitives.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gw::primitives::ucum {
namespace {

Decimal dec(std::string_view text) {
  auto r = Decimal::parse(text, DecimalSyntax::kFhirPath);
  EXPECT_TRUE(r.has_value()) << text;
  return r ? *r : Decimal();
}

std::string conv(std::string_view value, std::string_view from, std::string_view to) {
  auto r = convert(dec(value), from, to);
  return r ? r->to_string() : "{}";
}

Dimension dims(std::initializer_list<int> e) {
  Dimension d;
  std::size_t i = 0;
  for (int v : e) d.exponents[i++] = static_cast<std::int8_t>(v);
  return d;
}

TEST(Ucum, CanonicalizesBaseAndPrefixedUnits) {
  auto mg = canonicalize("mg");
  ASSERT_TRUE(mg);
  EXPECT_EQ(mg->numerator, dec("0.001"));
  EXPECT_EQ(mg->denominator, dec("1"));
  EXPECT_EQ(mg->dimension, dims({0, 1}));
  auto kg = canonicalize("kg");
  ASSERT_TRUE(kg);
  EXPECT_EQ(kg->numerator, dec("1000"));
  auto dam = canonicalize("dam");
  ASSERT_TRUE(dam);
  EXPECT_EQ(dam->numerator, dec("10"));
  auto ml = canonicalize("mL");
  ASSERT_TRUE(ml);
  EXPECT_EQ(ml->numerator, dec("0.000001"));
  EXPECT_EQ(ml->dimension, dims({3}));
}

TEST(Ucum, AtomsWinOverPrefixReadings) {
  // "cd" is candela, not centi-day; "Pa" is pascal, not peta-annum;
  // "min" is minute, not milli-inch; "mo" is month.
  EXPECT_EQ(canonicalize("cd")->dimension, dims({0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(canonicalize("Pa")->dimension, dims({-1, 1, -2}));
  EXPECT_EQ(canonicalize("min")->numerator, dec("60"));
  EXPECT_EQ(canonicalize("mo")->numerator, dec("2629800"));
  // Non-metric atoms take no prefix.
  EXPECT_FALSE(is_known_unit("kmin"));
  EXPECT_FALSE(is_known_unit("k[lb_av]"));
  EXPECT_TRUE(is_known_unit("m[iU]"));
}

TEST(Ucum, CompoundExpressions) {
  auto conc = canonicalize("mg/dL");
  ASSERT_TRUE(conc);
  EXPECT_EQ(conc->dimension, dims({-3, 1}));
  auto accel = canonicalize("m.s-2");
  ASSERT_TRUE(accel);
  EXPECT_EQ(accel->dimension, dims({1, 0, -2}));
  EXPECT_EQ(canonicalize("m/s/s")->dimension, dims({1, 0, -2}));
  EXPECT_EQ(canonicalize("/min")->dimension, dims({0, 0, -1}));
  EXPECT_EQ(canonicalize("1/min")->dimension, dims({0, 0, -1}));
  EXPECT_EQ(canonicalize("kg/(m.s2)")->dimension, dims({-1, 1, -2}));
  EXPECT_EQ(canonicalize("cm2")->numerator, dec("0.0001"));
  EXPECT_EQ(canonicalize("10*3/uL")->numerator, dec("1000000000000"));
  EXPECT_EQ(canonicalize("10*3/uL")->dimension, dims({-3}));
  EXPECT_EQ(canonicalize("10^-3")->numerator, dec("0.001"));
  EXPECT_EQ(canonicalize("mm[Hg]")->numerator, dec("133322"));
  EXPECT_EQ(canonicalize("cm[H2O]")->numerator, dec("98066.5"));
  EXPECT_EQ(canonicalize("mL/min/{1.73_m2}")->dimension, dims({3, 0, -1}));
  EXPECT_EQ(canonicalize("{score}")->dimension, dims({}));
  EXPECT_EQ(canonicalize("%")->numerator, dec("0.01"));
  EXPECT_EQ(canonicalize("1")->numerator, dec("1"));
  EXPECT_EQ(canonicalize("kg.m2")->numerator, dec("1000"));
}

TEST(Ucum, RejectsMalformedAndUnknown) {
  for (const char* bad : {"", "foo", "mg/", "/", "m..s", "(m", "m)", "[lb_av", "mg{x", "m 2", "kg/(", "m/s2)",
                          "m1234", "wk wk", "\x01"}) {
    EXPECT_FALSE(is_known_unit(bad)) << bad;
  }
  auto r = canonicalize("mg/xyz");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kParse);
  EXPECT_EQ(r.error().message().find("xyz"), std::string::npos);
  // Deep nesting is bounded.
  EXPECT_FALSE(is_known_unit(std::string(100, '(') + "m" + std::string(100, ')')));
}

TEST(Ucum, ExactConversions) {
  EXPECT_EQ(conv("4040", "mg", "g"), "4.040");
  EXPECT_EQ(conv("4", "g", "mg"), "4000");
  EXPECT_EQ(conv("1", "[lb_av]", "g"), "453.59237");
  EXPECT_EQ(conv("185", "[lb_av]", "kg"), "83.91458845");
  EXPECT_EQ(conv("1", "[in_i]", "cm"), "2.54");
  EXPECT_EQ(conv("12", "[in_i]", "[ft_i]"), "1");  // 12 in = 1 ft exactly (via one division)
  EXPECT_EQ(conv("100", "mg/dL", "g/L"), "1.00");
  EXPECT_EQ(conv("1", "g/L", "mg/dL"), "100");
  EXPECT_EQ(conv("5.5", "mmol/L", "umol/L"), "5500.0");
  EXPECT_EQ(conv("1", "wk", "d"), "7");
  EXPECT_EQ(conv("90", "min", "h"), "1.5");
  EXPECT_EQ(conv("1", "a", "d"), "365.25");
  EXPECT_EQ(conv("1", "L", "mL"), "1000");
  EXPECT_EQ(conv("50", "%", "1"), "0.50");
  EXPECT_EQ(conv("1", "[gal_us]", "L"), "3.785411784");
  EXPECT_EQ(conv("120", "mm[Hg]", "kPa"), "15.998640");
  EXPECT_EQ(conv("1", "U", "kat"), "0.00000001666666666666666666666666667");
}

TEST(Ucum, AffineTemperature) {
  EXPECT_EQ(conv("37", "Cel", "K"), "310.15");
  EXPECT_EQ(conv("0", "K", "Cel"), "-273.15");
  EXPECT_EQ(conv("212", "[degF]", "Cel"), "100");
  EXPECT_EQ(conv("32", "[degF]", "Cel"), "0");
  EXPECT_EQ(conv("-40", "Cel", "[degF]"), "-40");
  EXPECT_EQ(conv("37", "Cel", "[degF]"), "98.6");
  EXPECT_EQ(conv("98.6", "[degF]", "Cel"), "37.0");  // keeps the input's scale
  // Inside a compound unit a temperature scales like a difference.
  EXPECT_EQ(conv("1", "Cel/h", "K/h"), "1");
  EXPECT_EQ(conv("9", "[degF]/h", "K/h"), "5");
}

TEST(Ucum, IncompatibleUnits) {
  EXPECT_EQ(conv("1", "g", "m"), "{}");
  EXPECT_EQ(conv("1", "mg/dL", "mmol/L"), "{}");  // needs a molar mass
  EXPECT_EQ(conv("1", "[iU]", "g"), "{}");
  EXPECT_EQ(conv("1", "[iU]", "[arb'U]"), "{}");
  EXPECT_EQ(conv("1", "[iU]/L", "m[iU]/mL"), "1");
  EXPECT_EQ(conv("1", "[IU]", "[iU]"), "1");
  EXPECT_EQ(conv("1", "foo", "foo"), "{}");
  EXPECT_TRUE(comparable("mg/dL", "g/L"));
  EXPECT_TRUE(comparable("Cel", "[degF]"));
  EXPECT_FALSE(comparable("Cel", "m"));
  EXPECT_FALSE(comparable("[iU]", "1"));
}

}  // namespace
}  // namespace gw::primitives::ucum
