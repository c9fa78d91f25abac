#include "gateway/primitives/primitives.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gw::primitives {
namespace {

using P = TemporalPrecision;
constexpr auto kPath = TemporalSyntax::kFhirPath;
constexpr auto kFhir = TemporalSyntax::kFhir;

Date date(std::string_view text) {
  auto r = parse_date(text, kPath);
  EXPECT_TRUE(r.has_value()) << text;
  return r ? *r : Date{};
}

DateTime dt(std::string_view text) {
  auto r = parse_datetime(text, kPath);
  EXPECT_TRUE(r.has_value()) << text;
  return r ? *r : DateTime{};
}

Time tm(std::string_view text) {
  auto r = parse_time(text, kPath);
  EXPECT_TRUE(r.has_value()) << text;
  return r ? *r : Time{};
}

Quantity qty(std::string_view text) {
  auto r = parse_quantity(text);
  EXPECT_TRUE(r.has_value()) << text;
  return r ? *r : Quantity{};
}

std::string opt(const std::optional<bool>& b) { return b ? (*b ? "true" : "false") : "{}"; }
std::string opt(const std::optional<int>& c) { return c ? std::to_string(*c < 0 ? -1 : (*c > 0 ? 1 : 0)) : "{}"; }

// --- Parsing ------------------------------------------------------------------

TEST(TemporalParse, DatePrecisions) {
  const Date y = date("2015");
  EXPECT_EQ(y.precision, P::kYear);
  EXPECT_EQ(y.to_string(), "2015");
  EXPECT_EQ(date("2015-02").to_string(), "2015-02");
  const Date d = date("2015-02-04");
  EXPECT_EQ(d.year, 2015);
  EXPECT_EQ(d.month, 2);
  EXPECT_EQ(d.day, 4);
  EXPECT_EQ(d.precision, P::kDay);
  EXPECT_EQ(d.to_literal(), "@2015-02-04");
  EXPECT_EQ(date("0001-01-01").to_string(), "0001-01-01");
}

TEST(TemporalParse, DateCalendarChecks) {
  EXPECT_TRUE(is_valid_fhir_date("2024-02-29"));   // leap year
  EXPECT_FALSE(is_valid_fhir_date("2023-02-29"));  // not a leap year
  EXPECT_TRUE(is_valid_fhir_date("2000-02-29"));   // divisible by 400
  EXPECT_FALSE(is_valid_fhir_date("1900-02-29"));  // divisible by 100
  EXPECT_FALSE(is_valid_fhir_date("2015-02-30"));
  EXPECT_FALSE(is_valid_fhir_date("2015-04-31"));
  EXPECT_TRUE(is_valid_fhir_date("2015-12-31"));
  EXPECT_FALSE(is_valid_fhir_date("2015-13"));
  EXPECT_FALSE(is_valid_fhir_date("2015-00"));
  EXPECT_FALSE(is_valid_fhir_date("2015-01-00"));
  EXPECT_FALSE(is_valid_fhir_date("2015-1-1"));
  EXPECT_FALSE(is_valid_fhir_date("15-01-01"));
  EXPECT_FALSE(is_valid_fhir_date("20150101"));
  EXPECT_FALSE(is_valid_fhir_date("0000"));
  EXPECT_FALSE(is_valid_fhir_date("10000"));
  EXPECT_FALSE(is_valid_fhir_date(""));
  EXPECT_FALSE(is_valid_fhir_date("2015-01-01T00:00:00Z"));
  EXPECT_FALSE(is_valid_fhir_date(" 2015"));
  EXPECT_FALSE(is_valid_fhir_date("2015-"));
}

TEST(TemporalParse, FhirDateTime) {
  EXPECT_TRUE(is_valid_fhir_datetime("2015"));
  EXPECT_TRUE(is_valid_fhir_datetime("2015-02"));
  EXPECT_TRUE(is_valid_fhir_datetime("2015-02-07"));
  EXPECT_TRUE(is_valid_fhir_datetime("2015-02-07T13:28:17-05:00"));
  EXPECT_TRUE(is_valid_fhir_datetime("2017-01-01T00:00:00.000Z"));
  EXPECT_TRUE(is_valid_fhir_datetime("2017-01-01T00:00:00.1234567+14:00"));
  EXPECT_TRUE(is_valid_fhir_datetime("2016-12-31T23:59:60Z"));  // leap second (R4 regex)
  // A time needs seconds and a timezone in FHIR.
  EXPECT_FALSE(is_valid_fhir_datetime("2015-02-07T13:28:17"));
  EXPECT_FALSE(is_valid_fhir_datetime("2015-02-07T13:28Z"));
  EXPECT_FALSE(is_valid_fhir_datetime("2015-02-07T13Z"));
  EXPECT_FALSE(is_valid_fhir_datetime("2015-02-07T"));
  EXPECT_FALSE(is_valid_fhir_datetime("2015T"));
  EXPECT_FALSE(is_valid_fhir_datetime("2015-02-07T24:00:00Z"));
  EXPECT_FALSE(is_valid_fhir_datetime("2015-02-07T23:60:00Z"));
  EXPECT_FALSE(is_valid_fhir_datetime("2015-02-07T23:59:61Z"));
  EXPECT_FALSE(is_valid_fhir_datetime("2015-02-07T23:59:59.Z"));
  EXPECT_FALSE(is_valid_fhir_datetime("2015-02-07T23:59:59+14:01"));
  EXPECT_FALSE(is_valid_fhir_datetime("2015-02-07T23:59:59+05:60"));
  EXPECT_FALSE(is_valid_fhir_datetime("2015-02-07T23:59:59+0500"));
  EXPECT_FALSE(is_valid_fhir_datetime("2015-02-07T23:59:59z"));
  EXPECT_FALSE(is_valid_fhir_datetime("2015-02-30T10:00:00Z"));
  EXPECT_FALSE(is_valid_fhir_datetime("2015-02-07 10:00:00Z"));
  EXPECT_TRUE(is_valid_fhir_datetime("2015-02-07T23:59:59-14:00"));
}

TEST(TemporalParse, FhirInstantAndTime) {
  EXPECT_TRUE(is_valid_fhir_instant("2015-02-07T13:28:17.239+02:00"));
  EXPECT_TRUE(is_valid_fhir_instant("2015-02-07T13:28:17Z"));
  EXPECT_FALSE(is_valid_fhir_instant("2015-02-07T13:28:17"));
  EXPECT_FALSE(is_valid_fhir_instant("2015-02-07"));
  EXPECT_FALSE(is_valid_fhir_instant("2015-02-07T13:28Z"));
  EXPECT_TRUE(is_valid_fhir_time("13:28:17"));
  EXPECT_TRUE(is_valid_fhir_time("00:00:00.5"));
  EXPECT_FALSE(is_valid_fhir_time("13:28"));
  EXPECT_FALSE(is_valid_fhir_time("24:00:00"));
  EXPECT_FALSE(is_valid_fhir_time("13:28:17Z"));
  EXPECT_FALSE(is_valid_fhir_time("1:28:17"));
}

TEST(TemporalParse, FhirPathDateTimeLiterals) {
  const DateTime y = dt("2015T");
  EXPECT_EQ(y.precision, P::kYear);
  EXPECT_EQ(y.to_literal(), "@2015T");
  EXPECT_EQ(y.to_string(), "2015");
  EXPECT_EQ(dt("2015-02T").precision, P::kMonth);
  EXPECT_EQ(dt("2015-02-04T").precision, P::kDay);
  EXPECT_EQ(dt("2015-02-04T14").precision, P::kHour);
  EXPECT_EQ(dt("2015-02-04T14").to_string(), "2015-02-04T14");
  EXPECT_EQ(dt("2015-02-04T14:34").precision, P::kMinute);
  EXPECT_EQ(dt("2015-02-04T14:34:28").precision, P::kSecond);
  const DateTime ms = dt("2015-02-04T14:34:28.123+09:00");
  EXPECT_EQ(ms.precision, P::kMillisecond);
  EXPECT_EQ(ms.millisecond, 123);
  EXPECT_EQ(ms.tz_offset_minutes, 540);
  EXPECT_EQ(ms.to_string(), "2015-02-04T14:34:28.123+09:00");
  EXPECT_EQ(ms.to_literal(), "@2015-02-04T14:34:28.123+09:00");
  EXPECT_EQ(dt("2015-02-04T14:34:28Z").to_string(), "2015-02-04T14:34:28Z");
  EXPECT_EQ(dt("2015-02-04T14:34:28-05:30").tz_offset_minutes, -330);
  // One fraction digit is milliseconds precision too: .5 is 500 ms.
  EXPECT_EQ(dt("2017-11-05T01:30:00.5").millisecond, 500);
  EXPECT_EQ(dt("2017-11-05T01:30:00.5").to_string(), "2017-11-05T01:30:00.500");
  // Digits past milliseconds are truncated.
  EXPECT_EQ(dt("2017-11-05T01:30:00.123999").millisecond, 123);
  // The FHIR text forms convert too (toDateTime('2015')).
  EXPECT_EQ(dt("2015").precision, P::kYear);
  EXPECT_FALSE(parse_datetime("2015T14", kPath).has_value());
  EXPECT_FALSE(parse_datetime("2015-02-04T14:", kPath).has_value());
  EXPECT_FALSE(parse_datetime("2015-02-04TZ", kPath).has_value());
  EXPECT_FALSE(parse_datetime("2015-02-04T25", kPath).has_value());
}

TEST(TemporalParse, FhirPathTimes) {
  EXPECT_EQ(tm("14").precision, P::kHour);
  EXPECT_EQ(tm("14:34").to_literal(), "@T14:34");
  EXPECT_EQ(tm("14:34:28").precision, P::kSecond);
  EXPECT_EQ(tm("14:34:28.123").to_string(), "14:34:28.123");
  EXPECT_FALSE(parse_time("14:34:60", kPath).has_value());
  EXPECT_FALSE(parse_time("T14", kPath).has_value());
  EXPECT_FALSE(parse_time("14:34+01:00", kPath).has_value());
}

TEST(TemporalParse, ErrorsDoNotEchoInput) {
  auto r = parse_datetime("1974-12-25T12:34:00+99:00", kFhir);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kParse);
  EXPECT_EQ(r.error().message().find("1974"), std::string::npos);
}

TEST(TemporalMake, CheckedConstructors) {
  auto d = make_date(2020, 2, 29, P::kDay);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->to_string(), "2020-02-29");
  EXPECT_FALSE(make_date(2021, 2, 29, P::kDay));
  auto m = make_date(2021, 2, 99, P::kMonth);  // day ignored at month precision
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, date("2021-02"));
  EXPECT_FALSE(make_date(2021, 2, 1, P::kHour));
  auto t = make_datetime(2020, 1, 2, 3, 4, 5, 6, P::kMillisecond, 60);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->to_string(), "2020-01-02T03:04:05.006+01:00");
  EXPECT_FALSE(make_datetime(2020, 1, 2, 0, 0, 0, 0, P::kDay, 0));  // tz without time
  EXPECT_FALSE(make_datetime(2020, 1, 2, 0, 0, 0, 0, P::kSecond, 15 * 60));
  EXPECT_FALSE(make_time(24, 0, 0, 0, P::kHour));
  EXPECT_FALSE(make_time(1, 0, 0, 0, P::kDay));
  EXPECT_EQ(make_time(1, 2, 3, 4, P::kMinute)->to_string(), "01:02");
}

TEST(TemporalConvert, PartsAndClock) {
  EXPECT_EQ(to_datetime(date("2015-02-04")).to_literal(), "@2015-02-04T");
  EXPECT_EQ(date_part(dt("2015-02-04T14:34")).to_string(), "2015-02-04");
  EXPECT_EQ(date_part(dt("2015-02T")).to_string(), "2015-02");
  EXPECT_EQ(time_part(dt("2015-02-04T14:34"))->to_string(), "14:34");
  EXPECT_FALSE(time_part(dt("2015-02-04T")).has_value());
  // 2001-09-09T01:46:40Z is 1e9 seconds after the epoch.
  const auto tp = std::chrono::system_clock::time_point(std::chrono::seconds(1000000000)) +
                  std::chrono::milliseconds(250);
  auto v = datetime_from_time_point(tp, 0);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->to_string(), "2001-09-09T01:46:40.250Z");
  auto tokyo = datetime_from_time_point(tp, 540);
  ASSERT_TRUE(tokyo);
  EXPECT_EQ(tokyo->to_string(), "2001-09-09T10:46:40.250+09:00");
  auto hawaii = datetime_from_time_point(tp, -600);
  ASSERT_TRUE(hawaii);
  EXPECT_EQ(hawaii->to_string(), "2001-09-08T15:46:40.250-10:00");
  EXPECT_FALSE(datetime_from_time_point(tp, 15 * 60));
}

TEST(TemporalPrecisionDigits, MatchesSuite) {
  EXPECT_EQ(precision_digits(date("2014")), 4);
  EXPECT_EQ(precision_digits(date("2014-01")), 6);
  EXPECT_EQ(precision_digits(date("2014-01-05")), 8);
  EXPECT_EQ(precision_digits(dt("2014-01-05T10:30:00.000")), 17);
  EXPECT_EQ(precision_digits(dt("2014-01-05T10")), 10);
  EXPECT_EQ(precision_digits(tm("10:30")), 4);
  EXPECT_EQ(precision_digits(tm("10:30:00.000")), 9);
}

// --- Comparison ---------------------------------------------------------------

TEST(TemporalCompare, SamePrecision) {
  EXPECT_EQ(opt(compare(date("2014-12-12"), date("2014-12-13"))), "-1");
  EXPECT_EQ(opt(compare(date("2014-12-13"), date("2014-12-13"))), "0");
  EXPECT_EQ(opt(compare(dt("2014-12-13T12:00:01"), dt("2014-12-13T12:00:00"))), "1");
  EXPECT_EQ(opt(compare(tm("12:00:00"), tm("14:00:00"))), "-1");
  EXPECT_EQ(opt(equals(date("2012-04-15"), date("2012-04-16"))), "false");
}

TEST(TemporalCompare, DifferentPrecisionIsIndeterminate) {
  EXPECT_EQ(opt(compare(date("2018-03"), date("2018-03-01"))), "{}");
  EXPECT_EQ(opt(compare(dt("2018-03-01T10:30"), dt("2018-03-01T10:30:00"))), "{}");
  EXPECT_EQ(opt(compare(tm("10:30"), tm("10:30:00"))), "{}");
  EXPECT_EQ(opt(equals(to_datetime(date("2012-04-15")), dt("2012-04-15T10:00:00"))), "{}");
  // ... unless a common component already differs.
  EXPECT_EQ(opt(compare(date("2018-02"), date("2018-03-01"))), "-1");
  EXPECT_EQ(opt(equals(to_datetime(date("2012-04-15")), dt("2012-04-16T10:00:00"))), "false");
  EXPECT_EQ(opt(compare(dt("2019T"), dt("2018-03-01T10:30:00"))), "1");
}

TEST(TemporalCompare, SecondsAndMillisecondsAreOnePrecision) {
  EXPECT_EQ(opt(equals(dt("2012-04-15T15:30:31"), dt("2012-04-15T15:30:31.0"))), "true");
  EXPECT_EQ(opt(equals(dt("2012-04-15T15:30:31"), dt("2012-04-15T15:30:31.1"))), "false");
  EXPECT_EQ(opt(compare(dt("2018-03-01T10:30:00"), dt("2018-03-01T10:30:00.0"))), "0");
  EXPECT_EQ(opt(compare(tm("10:30:00"), tm("10:30:00.0"))), "0");
  EXPECT_TRUE(equivalent(dt("2012-04-15T15:30:31"), dt("2012-04-15T15:30:31.0")));
  EXPECT_FALSE(equivalent(dt("2012-04-15T15:30:31"), dt("2012-04-15T15:30:31.1")));
}

TEST(TemporalCompare, Timezones) {
  // Both zoned: normalised to UTC.
  EXPECT_EQ(opt(equals(dt("2012-04-15T15:00:00+02:00"), dt("2012-04-15T16:00:00+03:00"))), "true");
  EXPECT_EQ(opt(compare(dt("2017-11-05T01:30:00.0-04:00"), dt("2017-11-05T01:15:00.0-05:00"))), "-1");
  EXPECT_EQ(opt(equals(dt("2017-11-05T01:30:00.0-04:00"), dt("2017-11-05T00:30:00.0-05:00"))), "true");
  EXPECT_EQ(opt(equals(dt("2012-04-15T23:30:00-02:00"), dt("2012-04-16T01:30:00Z"))), "true");
  // One zoned, one local: indeterminate when the offsets could make them meet.
  EXPECT_EQ(opt(equals(dt("2012-04-15T15:00:00Z"), dt("2012-04-15T10:00:00"))), "{}");
  EXPECT_EQ(opt(compare(dt("2012-04-15T15:00:00Z"), dt("2012-04-15T10:00:00"))), "{}");
  // ... and determinate when no offset could (more than 26 hours apart).
  EXPECT_EQ(opt(compare(dt("2012-04-15T15:00:00Z"), dt("2012-04-17T10:00:00"))), "-1");
  EXPECT_EQ(opt(compare(dt("2012-04-17T10:00:00"), dt("2012-04-15T15:00:00Z"))), "1");
  EXPECT_EQ(opt(equals(dt("2012-04-15T15:00:00Z"), dt("2012-04-17T10:00:00"))), "false");
  // A date-only value against a zoned time compares local fields.
  EXPECT_EQ(opt(equals(to_datetime(date("1974-12-25")), dt("1974-12-25T12:34:00-10:00"))), "{}");
  EXPECT_EQ(opt(compare(to_datetime(date("1974-12-24")), dt("1974-12-25T01:00:00+10:00"))), "-1");
  EXPECT_FALSE(equivalent(dt("2012-04-15T15:00:00Z"), dt("2012-04-15T15:00:00")));
  EXPECT_TRUE(equivalent(dt("2012-04-15T15:00:00Z"), dt("2012-04-15T17:00:00+02:00")));
}

TEST(TemporalCompare, Equivalence) {
  EXPECT_TRUE(equivalent(date("2012-04-15"), date("2012-04-15")));
  EXPECT_FALSE(equivalent(date("2012-04-15"), date("2012-04-16")));
  EXPECT_FALSE(equivalent(to_datetime(date("2012-04-15")), dt("2012-04-15T10:00:00")));
  EXPECT_FALSE(equivalent(date("2012"), date("2012-01")));
  EXPECT_TRUE(equivalent(tm("10:30"), tm("10:30")));
  EXPECT_FALSE(equivalent(tm("10:30"), tm("10:30:00")));
}

// --- Boundaries (suite groups LowBoundary / HighBoundary) ---------------------

TEST(TemporalBoundary, MatchesSuite) {
  EXPECT_EQ(low_boundary(date("2014"), 6)->to_string(), "2014-01");
  EXPECT_EQ(high_boundary(date("2014"), 6)->to_string(), "2014-12");
  EXPECT_EQ(low_boundary(dt("2014-01-01T08"), 17)->to_string(), "2014-01-01T08:00:00.000+14:00");
  EXPECT_EQ(low_boundary(dt("2014-01-01T08:05+08:00"), 17)->to_string(), "2014-01-01T08:05:00.000+08:00");
  EXPECT_EQ(low_boundary(dt("2014-01-01T08"), 8)->to_string(), "2014-01-01");
  EXPECT_EQ(low_boundary(tm("10:30"), 9)->to_string(), "10:30:00.000");
  EXPECT_EQ(high_boundary(dt("2014-01-01T08"), 17)->to_string(), "2014-01-01T08:00:59.999-12:00");
  EXPECT_EQ(high_boundary(dt("2014-01-01T08:05-05:00"), 17)->to_string(), "2014-01-01T08:05:59.999-05:00");
  EXPECT_EQ(high_boundary(tm("10:30"), 9)->to_string(), "10:30:59.999");
}

TEST(TemporalBoundary, MonthLengthsAndDefaults) {
  EXPECT_EQ(high_boundary(date("2024-02"))->to_string(), "2024-02-29");
  EXPECT_EQ(high_boundary(date("2023-02"))->to_string(), "2023-02-28");
  EXPECT_EQ(high_boundary(date("2023"))->to_string(), "2023-12-31");
  EXPECT_EQ(low_boundary(date("2023"))->to_string(), "2023-01-01");
  EXPECT_EQ(high_boundary(dt("2023-04T"))->to_string(), "2023-04-30T23:59:59.999-12:00");
  EXPECT_EQ(low_boundary(dt("2023T"))->to_string(), "2023-01-01T00:00:00.000+14:00");
  EXPECT_EQ(high_boundary(dt("2023-04-05T10:11:12.345Z"))->to_string(), "2023-04-05T10:11:12.345Z");
  EXPECT_EQ(low_boundary(tm("10"))->to_string(), "10:00:00.000");
  EXPECT_EQ(high_boundary(tm("10:30:15"), 4)->to_string(), "10:30");
  EXPECT_FALSE(low_boundary(date("2014"), 10).has_value());
  EXPECT_FALSE(low_boundary(dt("2014T"), 5).has_value());
  EXPECT_FALSE(low_boundary(tm("10"), 8).has_value());
  // A zoned value cut to a date drops its offset.
  EXPECT_FALSE(low_boundary(dt("2014-01-01T08:05+08:00"), 8)->tz_offset_minutes.has_value());
}

// --- Arithmetic (suite groups testPlus* / testMinus*) -------------------------

TEST(TemporalArithmetic, MatchesSuite) {
  EXPECT_EQ(add(date("1973-12-25"), qty("7 days"))->to_string(), "1974-01-01");
  EXPECT_EQ(add(date("1973-12-25"), qty("7.7 days"))->to_string(), "1974-01-01");
  const DateTime base = dt("1973-12-25T00:00:00.000+10:00");
  EXPECT_EQ(add(base, qty("7 days"))->to_string(), "1974-01-01T00:00:00.000+10:00");
  EXPECT_EQ(add(base, qty("7.7 days"))->to_string(), "1974-01-01T00:00:00.000+10:00");
  EXPECT_EQ(add(base, qty("1 second"))->to_string(), "1973-12-25T00:00:01.000+10:00");
  EXPECT_EQ(add(base, qty("10 millisecond"))->to_string(), "1973-12-25T00:00:00.010+10:00");
  EXPECT_EQ(add(base, qty("1 minute"))->to_string(), "1973-12-25T00:01:00.000+10:00");
  EXPECT_EQ(add(base, qty("1 hour"))->to_string(), "1973-12-25T01:00:00.000+10:00");
  EXPECT_EQ(add(date("1973-12-25"), qty("1 day"))->to_string(), "1973-12-26");
  EXPECT_EQ(add(date("1973-12-25"), qty("1 month"))->to_string(), "1974-01-25");
  EXPECT_EQ(add(date("1973-12-25"), qty("1 week"))->to_string(), "1974-01-01");
  EXPECT_EQ(add(date("1973-12-25"), qty("1 year"))->to_string(), "1974-12-25");
  EXPECT_EQ(add(date("1973-12-25"), qty("1 'd'"))->to_string(), "1973-12-26");
  EXPECT_EQ(add(date("1973-12-25"), qty("1 'wk'"))->to_string(), "1974-01-01");
  EXPECT_EQ(add(base, qty("1 's'"))->to_string(), "1973-12-25T00:00:01.000+10:00");
  EXPECT_EQ(add(base, qty("0.1 's'"))->to_string(), "1973-12-25T00:00:00.000+10:00");
  EXPECT_EQ(add(base, qty("10 'ms'"))->to_string(), "1973-12-25T00:00:00.010+10:00");
  EXPECT_EQ(add(base, qty("1 'min'"))->to_string(), "1973-12-25T00:01:00.000+10:00");
  EXPECT_EQ(add(base, qty("1 'h'"))->to_string(), "1973-12-25T01:00:00.000+10:00");
  EXPECT_EQ(subtract(date("1974-12-25"), qty("1 'month'"))->to_string(), "1974-11-25");
  // Execution errors.
  for (const char* bad : {"1 'mo'", "1 'a'", "1 'cm'", "1 'g'", "1", "1 'foo'"}) {
    auto r = add(date("1973-12-25"), qty(bad));
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(subtract(date("1974-12-25"), qty("1 'cm'")).has_value());
}

TEST(TemporalArithmetic, MonthEndClampingAndLeapYears) {
  EXPECT_EQ(add(date("2020-01-31"), qty("1 month"))->to_string(), "2020-02-29");
  EXPECT_EQ(add(date("2021-01-31"), qty("1 month"))->to_string(), "2021-02-28");
  EXPECT_EQ(add(date("2020-02-29"), qty("1 year"))->to_string(), "2021-02-28");
  EXPECT_EQ(add(date("2020-03-31"), qty("-1 month"))->to_string(), "2020-02-29");
  EXPECT_EQ(subtract(date("2020-03-31"), qty("13 months"))->to_string(), "2019-02-28");
  EXPECT_EQ(add(date("2020-02-28"), qty("1 day"))->to_string(), "2020-02-29");
  EXPECT_EQ(add(date("2021-02-28"), qty("1 day"))->to_string(), "2021-03-01");
  EXPECT_EQ(add(dt("2020-01-31T10:00:00Z"), qty("1 month"))->to_string(), "2020-02-29T10:00:00Z");
  EXPECT_EQ(add(dt("2020-12-31T23:59:59.999+01:00"), qty("1 'ms'"))->to_string(), "2021-01-01T00:00:00.000+01:00");
}

TEST(TemporalArithmetic, PartialValuesConvertToTheirPrecision) {
  EXPECT_EQ(add(date("2014"), qty("24 months"))->to_string(), "2016");
  EXPECT_EQ(add(date("2014"), qty("23 months"))->to_string(), "2015");
  EXPECT_EQ(add(date("2014"), qty("364 days"))->to_string(), "2014");
  EXPECT_EQ(add(date("2014"), qty("365 days"))->to_string(), "2015");
  EXPECT_EQ(add(date("2014-01"), qty("60 days"))->to_string(), "2014-03");
  EXPECT_EQ(add(date("2014-01"), qty("5 weeks"))->to_string(), "2014-02");  // 35 days
  EXPECT_EQ(add(dt("2014-01-01T"), qty("47 hours"))->to_literal(), "@2014-01-02T");
  // A Date takes days or coarser units only (N1 §6.6.1).
  EXPECT_FALSE(add(date("2014-01-01"), qty("47 hours")).has_value());
  EXPECT_FALSE(subtract(date("2014-01-01"), qty("1 's'")).has_value());
  EXPECT_EQ(add(dt("2014-01-01T10"), qty("90 minutes"))->to_string(), "2014-01-01T11");
  EXPECT_EQ(add(dt("2014-01-01T10:00"), qty("1 year"))->to_string(), "2015-01-01T10:00");
  EXPECT_EQ(add(dt("2014-01-01T10:00:00"), qty("1500 'ms'"))->to_string(), "2014-01-01T10:00:01");
  EXPECT_EQ(subtract(date("2014-03"), qty("1 year"))->to_string(), "2013-03");
}

TEST(TemporalArithmetic, TimeWrapsAndRange) {
  EXPECT_EQ(add(tm("23:00"), qty("2 hours"))->to_string(), "01:00");
  EXPECT_EQ(subtract(tm("00:30:00"), qty("45 'min'"))->to_string(), "23:45:00");
  EXPECT_EQ(add(tm("10"), qty("59 minutes"))->to_string(), "10");
  EXPECT_FALSE(add(tm("10:00"), qty("1 day")).has_value());
  auto over = add(date("9999-12-31"), qty("1 day"));
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code(), ErrorCode::kLimit);
  EXPECT_FALSE(subtract(date("0001-01-01"), qty("1 day")).has_value());
  EXPECT_FALSE(add(date("2000"), qty("100000000000000000000 years")).has_value());
  EXPECT_FALSE(add(date("2000-01-01"), qty("99999999999999 weeks")).has_value());
}

}  // namespace
}  // namespace gw::primitives
