#include "gateway/primitives/primitives.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gw::primitives {
namespace {

Decimal dec(std::string_view text, DecimalSyntax syntax = DecimalSyntax::kFhirPath) {
  auto r = Decimal::parse(text, syntax);
  EXPECT_TRUE(r.has_value()) << text;
  return r ? *r : Decimal();
}

std::string str(const std::optional<Decimal>& d) { return d ? d->to_string() : std::string("{}"); }

// --- Parsing and printing ---------------------------------------------------

TEST(DecimalParse, KeepsScale) {
  EXPECT_EQ(dec("1.50").to_string(), "1.50");
  EXPECT_EQ(dec("1.50").scale(), 2);
  EXPECT_EQ(dec("0.0").to_string(), "0.0");
  EXPECT_EQ(dec("-0.001").to_string(), "-0.001");
  EXPECT_EQ(dec("120").to_string(), "120");
  EXPECT_EQ(dec("1.58700").precision(), 5);
}

TEST(DecimalParse, FhirGrammar) {
  const auto fhir = DecimalSyntax::kFhir;
  EXPECT_EQ(dec("-12.340", fhir).to_string(), "-12.340");
  EXPECT_EQ(dec("0", fhir).to_string(), "0");
  EXPECT_EQ(dec("1.5e2", fhir).to_string(), "150");
  EXPECT_EQ(dec("15e-1", fhir).to_string(), "1.5");
  EXPECT_EQ(dec("1.50E+1", fhir).to_string(), "15.0");
  EXPECT_EQ(dec("0e5", fhir).to_string(), "0");
  for (const char* bad : {"", "-", "+1", "01", "1.", ".5", "1e", "1e+", "1..2", " 1", "1 ", "0x10", "1,5", "NaN",
                          "Infinity", "--1", "1e1.5"}) {
    EXPECT_FALSE(Decimal::parse(bad, fhir).has_value()) << bad;
  }
}

TEST(DecimalParse, FhirPathGrammar) {
  EXPECT_EQ(dec("+1.0").to_string(), "1.0");
  EXPECT_EQ(dec("007.5").to_string(), "7.5");
  EXPECT_EQ(dec("-0.1").to_string(), "-0.1");
  for (const char* bad : {"1e3", "1.", ".1", "1.a", "a", "", "+", "1.0.0"}) {
    EXPECT_FALSE(Decimal::parse(bad, DecimalSyntax::kFhirPath).has_value()) << bad;
  }
}

TEST(DecimalParse, Limits) {
  // 38 significant digits fit; 39 do not. Leading zeros do not count.
  const std::string d38(38, '9');
  EXPECT_EQ(dec(d38).to_string(), d38);
  auto r = Decimal::parse(std::string(39, '9'));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kLimit);
  EXPECT_TRUE(Decimal::parse("0000000000000000000000000000000000000000001", DecimalSyntax::kFhirPath).has_value());
  EXPECT_FALSE(Decimal::parse("1e99", DecimalSyntax::kFhir).has_value());
  EXPECT_FALSE(Decimal::parse("1e-99", DecimalSyntax::kFhir).has_value());
  EXPECT_FALSE(Decimal::parse("1e123456", DecimalSyntax::kFhir).has_value());
  // The error message never echoes the input.
  auto bad = Decimal::parse("12345x");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message().find("12345"), std::string::npos);
}

TEST(DecimalParse, NegativeZeroKeepsItsSignButNotInArithmetic) {
  const Decimal nz = dec("-0.0");
  EXPECT_EQ(nz.to_string(), "-0.0");
  EXPECT_TRUE(nz.is_negative_zero());
  EXPECT_EQ(nz, dec("0"));
  EXPECT_FALSE(identical(nz, dec("0.0")));
  EXPECT_EQ(negate(nz).to_string(), "0.0");
  EXPECT_EQ(negate(dec("0.0")).to_string(), "0.0");
  EXPECT_EQ(abs(nz).to_string(), "0.0");
  EXPECT_EQ(str(add(nz, nz)), "0.0");
  EXPECT_EQ(str(multiply(dec("-1"), dec("0"))), "0");
  EXPECT_EQ(dec("-0", DecimalSyntax::kFhir).to_string(), "-0");
}

TEST(FhirNumberFormats, Decimal) {
  for (const char* ok :
       {"0", "-0", "1.50", "-12.340", "1e3", "1.5E-7", "0.0", "123456789012345678901234567890123456789012"}) {
    EXPECT_TRUE(is_valid_fhir_decimal(ok)) << ok;
  }
  for (const char* bad : {"", "01", "+1", "1.", ".5", "1e", "--1", "1 ", "NaN", "1,5", "0x1", "1e+"}) {
    EXPECT_FALSE(is_valid_fhir_decimal(bad)) << bad;
  }
}

TEST(FhirNumberFormats, Integers) {
  EXPECT_TRUE(is_valid_fhir_integer("0"));
  EXPECT_TRUE(is_valid_fhir_integer("-2147483648"));
  EXPECT_TRUE(is_valid_fhir_integer("2147483647"));
  EXPECT_FALSE(is_valid_fhir_integer("2147483648"));
  EXPECT_FALSE(is_valid_fhir_integer("-2147483649"));
  EXPECT_FALSE(is_valid_fhir_integer("99999999999999999999"));
  EXPECT_FALSE(is_valid_fhir_integer("01"));
  EXPECT_FALSE(is_valid_fhir_integer("1.0"));
  EXPECT_FALSE(is_valid_fhir_integer("+1"));
  EXPECT_FALSE(is_valid_fhir_integer(""));
  EXPECT_FALSE(is_valid_fhir_integer("-"));
  EXPECT_TRUE(is_valid_fhir_unsigned_int("0"));
  EXPECT_TRUE(is_valid_fhir_unsigned_int("2147483647"));
  EXPECT_FALSE(is_valid_fhir_unsigned_int("-1"));
  EXPECT_FALSE(is_valid_fhir_unsigned_int("2147483648"));
  EXPECT_TRUE(is_valid_fhir_positive_int("1"));
  EXPECT_TRUE(is_valid_fhir_positive_int("+7"));
  EXPECT_FALSE(is_valid_fhir_positive_int("0"));
  EXPECT_FALSE(is_valid_fhir_positive_int("+0"));
  EXPECT_FALSE(is_valid_fhir_positive_int("+"));
  EXPECT_FALSE(is_valid_fhir_positive_int("-1"));
  EXPECT_FALSE(is_valid_fhir_positive_int("2147483648"));
}

TEST(Decimal, FromParts) {
  EXPECT_EQ(str(Decimal::from_parts(150, 2)), "1.50");
  EXPECT_FALSE(Decimal::from_parts(1, -1).has_value());
  EXPECT_FALSE(Decimal::from_parts(1, 39).has_value());
}

TEST(Decimal, Int64Conversion) {
  EXPECT_EQ(Decimal::from_int64(INT64_MIN).to_string(), "-9223372036854775808");
  EXPECT_EQ(dec("2.00").to_int64(), 2);
  EXPECT_EQ(dec("-7").to_int64(), -7);
  EXPECT_FALSE(dec("1.5").to_int64().has_value());
  EXPECT_FALSE(dec("9223372036854775808").to_int64().has_value());
  EXPECT_EQ(dec("9223372036854775807").to_int64(), INT64_MAX);
  EXPECT_EQ(dec("-9223372036854775808").to_int64(), INT64_MIN);
  EXPECT_TRUE(dec("2.00").is_integer());
  EXPECT_FALSE(dec("2.01").is_integer());
}

TEST(Decimal, LongDoubleConversion) {
  EXPECT_EQ(dec("1.25").to_long_double(), 1.25L);
  EXPECT_EQ(str(Decimal::from_long_double(0.1L)), "0.1");
  EXPECT_EQ(str(Decimal::from_long_double(2.0000000000000001L)), "2");
  EXPECT_EQ(str(Decimal::from_long_double(-1234.5L)), "-1234.5");
  EXPECT_EQ(str(Decimal::from_long_double(1e-60L)), "0");
  EXPECT_FALSE(Decimal::from_long_double(1e60L).has_value());
  EXPECT_FALSE(Decimal::from_long_double(std::numeric_limits<long double>::infinity()).has_value());
  EXPECT_FALSE(Decimal::from_long_double(std::numeric_limits<long double>::quiet_NaN()).has_value());
}

// --- Comparison ---------------------------------------------------------------

TEST(DecimalCompare, NumericEqualityIgnoresScale) {
  EXPECT_EQ(dec("1.0"), dec("1.00"));
  EXPECT_EQ(dec("0.0"), dec("0"));
  EXPECT_NE(dec("1.1"), dec("1.2"));
  EXPECT_FALSE(identical(dec("1.0"), dec("1.00")));
  EXPECT_TRUE(identical(dec("1.0"), dec("1.0")));
  EXPECT_LT(dec("-1.5"), dec("-1.49"));
  EXPECT_GT(dec("10"), dec("9.999999"));
  EXPECT_LT(dec("0.00000000000000000000000000000000000001"), dec("0.0000000000000000000000000000000000001"));
}

TEST(DecimalCompare, Equivalence) {
  EXPECT_TRUE(equivalent(dec("1.10"), dec("1.1")));
  EXPECT_TRUE(equivalent(dec("0.0"), dec("0")));
  EXPECT_FALSE(equivalent(dec("1.1"), dec("1.2")));
  // Rounded to the least precise operand (suite: testEquivalent11 and
  // testNotEquivalent13).
  auto q = divide(dec("1.2"), dec("1.8"));
  ASSERT_TRUE(q);
  EXPECT_TRUE(equivalent(*q, dec("0.67")));
  EXPECT_FALSE(equivalent(*q, dec("0.6")));
  EXPECT_TRUE(equivalent(dec("4.04"), dec("4")));
  EXPECT_FALSE(equivalent(dec("4.5"), dec("4")));  // 4.5 rounds to 5
}

// --- Arithmetic ---------------------------------------------------------------

TEST(DecimalArithmetic, ExactAddition) {
  EXPECT_EQ(str(add(dec("0.1"), dec("0.2"))), "0.3");
  EXPECT_EQ(*add(dec("0.1"), dec("0.2")), dec("0.3"));
  EXPECT_EQ(str(add(dec("1.2"), dec("1.8"))), "3.0");
  EXPECT_EQ(str(add(dec("1.50"), Decimal::from_int64(2))), "3.50");
  EXPECT_EQ(str(subtract(dec("1.8"), dec("1.2"))), "0.6");
  EXPECT_EQ(str(subtract(dec("1"), dec("1.001"))), "-0.001");
}

TEST(DecimalArithmetic, OverflowIsEmpty) {
  const Decimal big = dec(std::string(38, '9'));
  EXPECT_FALSE(add(big, dec("1")).has_value());
  EXPECT_FALSE(multiply(big, dec("10")).has_value());
  // Fractional digits that do not fit are rounded, not an error.
  auto r = add(big, dec("0.4"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->to_string(), std::string(38, '9'));
}

TEST(DecimalArithmetic, Multiplication) {
  EXPECT_EQ(str(multiply(dec("1.2"), dec("1.8"))), "2.16");
  EXPECT_EQ(str(multiply(dec("-2.5"), dec("4"))), "-10.0");
  // 30 digits x 30 digits: the product is rounded to 38 significant digits.
  auto p = multiply(dec("1.00000000000000000000000000001"), dec("1.00000000000000000000000000001"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->to_string(), "1.0000000000000000000000000000200000000");
}

TEST(DecimalArithmetic, Division) {
  EXPECT_EQ(str(divide(dec("1"), dec("2"))), "0.5");
  EXPECT_EQ(str(divide(dec("4.0"), dec("2.0"))), "2.0");
  EXPECT_EQ(str(divide(dec("4"), dec("2"))), "2");
  EXPECT_EQ(str(divide(dec("1.0"), dec("3"))), "0.3333333333333333333333333333");
  EXPECT_EQ(str(divide(dec("2"), dec("3"))), "0.6666666666666666666666666667");
  EXPECT_EQ(str(divide(dec("-2"), dec("3"))), "-0.6666666666666666666666666667");
  EXPECT_EQ(str(divide(dec("1"), dec("8"))), "0.125");
  EXPECT_EQ(str(divide(dec("0"), dec("8.00"))), "0.00");
  // The scale is at least that of the more precise operand.
  EXPECT_EQ(str(divide(dec("1000"), dec("0.001"))), "1000000.000");
  EXPECT_FALSE(divide(dec("1"), dec("0")).has_value());
  EXPECT_FALSE(divide(dec("1"), dec("0.000")).has_value());
  auto r = divide(dec("1.2"), dec("1.8"));
  ASSERT_TRUE(r);
  EXPECT_EQ(str(round(*r, 2)), "0.67");
}

TEST(DecimalArithmetic, DivAndMod) {
  EXPECT_EQ(str(div(dec("5"), dec("2"))), "2");
  EXPECT_EQ(str(div(dec("2.2"), dec("1.8"))), "1");
  EXPECT_EQ(str(div(dec("-5"), dec("2"))), "-2");
  EXPECT_FALSE(div(dec("5"), dec("0")).has_value());
  EXPECT_EQ(str(mod(dec("5"), dec("2"))), "1");
  EXPECT_EQ(str(mod(dec("2.2"), dec("1.8"))), "0.4");
  EXPECT_EQ(str(mod(dec("-5"), dec("2"))), "-1");
  EXPECT_EQ(str(mod(dec("5.5"), dec("-2"))), "1.5");
  EXPECT_FALSE(mod(dec("5"), dec("0.0")).has_value());
}

TEST(DecimalArithmetic, NegateAbs) {
  EXPECT_EQ(negate(dec("1.50")).to_string(), "-1.50");
  EXPECT_EQ(abs(dec("-5.5")).to_string(), "5.5");
  EXPECT_EQ(abs(dec("5.5")).to_string(), "5.5");
}

// --- Rounding family ----------------------------------------------------------

TEST(DecimalRounding, Round) {
  EXPECT_EQ(str(round(dec("3.14159"), 3)), "3.142");
  EXPECT_EQ(str(round(dec("1"))), "1");
  EXPECT_EQ(str(round(dec("2.5"))), "3");
  EXPECT_EQ(str(round(dec("-2.5"))), "-3");
  EXPECT_EQ(str(round(dec("-2.4"))), "-2");
  EXPECT_EQ(str(round(dec("0.999"), 2)), "1.00");
  EXPECT_EQ(str(round(dec("1.5"), 3)), "1.5");
  EXPECT_FALSE(round(dec("1.5"), -1).has_value());
}

TEST(DecimalRounding, TruncateCeilingFloor) {
  EXPECT_EQ(truncate(dec("101")).to_string(), "101");
  EXPECT_EQ(truncate(dec("1.00000001")).to_string(), "1");
  EXPECT_EQ(truncate(dec("-1.56")).to_string(), "-1");
  EXPECT_EQ(str(ceiling(dec("1.1"))), "2");
  EXPECT_EQ(str(ceiling(dec("-1.1"))), "-1");
  EXPECT_EQ(str(ceiling(dec("2.000"))), "2");
  EXPECT_EQ(str(floor(dec("2.1"))), "2");
  EXPECT_EQ(str(floor(dec("-2.1"))), "-3");
  EXPECT_EQ(str(floor(dec("-2.0"))), "-2");
}

// --- Long-double functions ----------------------------------------------------

TEST(DecimalMath, ExactWhereTheSuiteNeedsIt) {
  EXPECT_EQ(str(sqrt(dec("81"))), "9");
  EXPECT_FALSE(sqrt(dec("-1")).has_value());
  EXPECT_EQ(str(sqrt(dec("0"))), "0");
  EXPECT_EQ(str(sqrt(dec("2"))), "1.4142135623731"  /* 15 digits, trailing zero dropped */);
  EXPECT_EQ(str(exp(dec("0"))), "1");
  EXPECT_EQ(str(exp(dec("-0.0"))), "1");
  EXPECT_EQ(str(ln(dec("1.0"))), "0");
  EXPECT_FALSE(ln(dec("0")).has_value());
  EXPECT_FALSE(ln(dec("-1")).has_value());
  EXPECT_EQ(str(log(dec("16"), dec("2"))), "4");
  EXPECT_EQ(str(log(dec("100.0"), dec("10.0"))), "2");
  EXPECT_FALSE(log(dec("10"), dec("1")).has_value());
  EXPECT_FALSE(log(dec("10"), dec("0")).has_value());
  EXPECT_EQ(str(ln(dec("2.718281828459045"))), "1");
  EXPECT_FALSE(exp(dec("1000")).has_value());
}

TEST(DecimalMath, Power) {
  EXPECT_EQ(str(power(dec("2"), dec("3"))), "8");
  EXPECT_EQ(str(power(dec("2.5"), dec("2"))), "6.25");
  EXPECT_EQ(str(power(dec("2"), dec("-2"))), "0.25");
  EXPECT_EQ(str(power(dec("0"), dec("0"))), "1");
  EXPECT_FALSE(power(dec("-1"), dec("0.5")).has_value());
  EXPECT_FALSE(power(dec("0"), dec("-1")).has_value());
  EXPECT_EQ(str(power(dec("4"), dec("0.5"))), "2");
  EXPECT_FALSE(power(dec("10"), dec("100")).has_value());
}

// --- Boundaries (suite groups LowBoundary / HighBoundary) ---------------------

struct BoundaryCase {
  const char* value;
  std::optional<int> precision;
  const char* expected;  // nullptr = empty
};

TEST(DecimalBoundary, LowMatchesSuite) {
  const BoundaryCase cases[] = {
      {"1.587", std::nullopt, "1.58650000"}, {"1.587", 6, "1.586500"},   {"1.587", 2, "1.58"},
      {"1.587", -1, nullptr},                {"1.587", 0, "1"},          {"1.587", 32, nullptr},
      {"-1.587", std::nullopt, "-1.58750000"}, {"-1.587", 6, "-1.587500"}, {"-1.587", 2, "-1.59"},
      {"-1.587", 0, "-2"},                   {"1.587", 39, nullptr},     {"1", std::nullopt, "0.50000000"},
      {"1", 0, "0"},                         {"1", 5, "0.50000"},        {"12.587", 2, "12.58"},
      {"12.500", 4, "12.4995"},              {"120", 2, "119.50"},       {"-120", 2, "-120.50"},
      {"0.0034", 1, "0.0"},                  {"-0.0034", 1, "-0.0"},     {"0", 1, "-0.5"},
  };
  for (const auto& c : cases) {
    auto r = low_boundary(dec(c.value), c.precision);
    EXPECT_EQ(str(r), c.expected ? c.expected : "{}") << c.value << " " << c.precision.value_or(-99);
  }
}

TEST(DecimalBoundary, HighMatchesSuite) {
  const BoundaryCase cases[] = {
      {"1.587", std::nullopt, "1.58750000"}, {"1.587", 2, "1.59"},      {"1.587", 6, "1.587500"},
      {"1.587", -1, nullptr},                {"-1.587", std::nullopt, "-1.58650000"},
      {"-1.587", 2, "-1.58"},                {"-1.587", 6, "-1.586500"}, {"1.587", 39, nullptr},
      {"1", std::nullopt, "1.50000000"},     {"1", 0, "2"},              {"1", 5, "1.50000"},
      {"12.587", 2, "12.59"},                {"12.500", 4, "12.5005"},   {"120", 2, "120.50"},
      {"0.0034", 1, "0.0"},                  {"1.587", 8, "1.58750000"}, {"0", 1, "0.5"},
  };
  for (const auto& c : cases) {
    auto r = high_boundary(dec(c.value), c.precision);
    EXPECT_EQ(str(r), c.expected ? c.expected : "{}") << c.value << " " << c.precision.value_or(-99);
  }
}

TEST(DecimalBoundary, AtTheRepresentationLimits) {
  // Found by the fuzz target: the half-unit step of a value already at 38
  // digits or scale 38 needs more room than a Decimal has.
  const Decimal big = dec(std::string(38, '9'));
  EXPECT_FALSE(low_boundary(big).has_value());
  EXPECT_FALSE(high_boundary(big).has_value());
  EXPECT_EQ(str(low_boundary(big, 0)), std::string(37, '9') + "8");
  const Decimal tiny = dec("0.00000000000000000000000000000000000001");
  EXPECT_EQ(str(low_boundary(tiny)), "0.00000000");
  EXPECT_EQ(str(high_boundary(tiny)), "0.00000000");
  EXPECT_EQ(str(high_boundary(negate(tiny), 31)), "-0.0000000000000000000000000000000");
}

}  // namespace
}  // namespace gw::primitives
