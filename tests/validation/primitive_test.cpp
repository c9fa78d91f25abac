#include "gateway/validation/detail/primitive.hpp"
#include "gateway/validation/detail/xhtml.hpp"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <string>
#include <vector>

namespace gw::validation::detail {
namespace {

// Every hand-written matcher must accept exactly what RE2 accepts on the
// regex R4 publishes for the type.
TEST(PrimitiveTest, FastMatchersAgreeWithPublishedRegexes) {
  const std::vector<std::string> samples = {
      "", " ", "a", "a b", "a  b", " a", "a ", "\tx", "x\f", "true", "false", "True", "0", "-0", "00",
      "01", "1", "-1", "+1", "12345678901", "1.0", "1.", ".5", "-0.50", "1e5", "1E-5", "1e+05", "1e",
      "2147483647", "2147483648", "-2147483648", "abc-DEF.12", std::string(64, 'a'), std::string(65, 'a'),
      "a_b", "http://x.org/a b", "http://x.org/a", "urn:oid:1.2.3", "urn:oid:3.1", "urn:oid:1",
      "urn:oid:1.02", "urn:oid:1.0.2", "urn:uuid:c757873d-ec9a-4326-a141-556f43239520",
      "urn:uuid:C757873D-ec9a-4326-a141-556f43239520", "urn:uuid:c757873d-ec9a-4326-a141-556f4323952",
      "2020", "0000", "0001", "2020-01", "2020-13", "2020-00", "2020-01-01", "2020-01-32",
      "2020-1-01", "2020-01-01T10:00:00Z", "2020-01-01T10:00:00+01:00", "2020-01-01T10:00:00",
      "2020-01-01T24:00:00Z", "2020-01-01T10:00:60Z", "2020-01-01T10:00:61Z",
      "2020-01-01T10:00:00.123-05:00", "2020-01-01T10:00:00.Z", "2020-01-01T10:00Z",
      "2020-01-01T10:00:00+14:00", "2020-01-01T10:00:00+14:01", "2020-01-01T10:00:00+15:00",
      "2020-01-01T10:00:00+13:59", "10:00:00", "10:00", "23:59:59.999", "24:00:00", "1:00:00",
      "SGVsbG8=", "SGVsbG8", "SGVs bG8=", "SG Vs", " SGVs ", "SGVs\nbG8=", "****", "ab+/",
      "<div>", "line1\nline2", "tab\there",
      // base64 runs longer than the eight-byte steps, whitespace at every
      // group boundary and inside groups, a bad byte late in a long run.
      "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo",
      "QUJD REVG\r\nR0hJ\tSktM\fTU5P UFFS", "QUJDREVG R0hJSktMT U5PUFFS", "  QUJDREVGR0hJSktM  ",
      "QUJDREVGR0hJSktMTU5P-FFSU1RVVldY", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\v", "\n\n", "QUJDREVGR0hJSktM\n"};
  for (PrimitiveKind k :
       {PrimitiveKind::kBoolean, PrimitiveKind::kInteger, PrimitiveKind::kDecimal, PrimitiveKind::kPositiveInt,
        PrimitiveKind::kUnsignedInt, PrimitiveKind::kString, PrimitiveKind::kMarkdown, PrimitiveKind::kCode,
        PrimitiveKind::kId, PrimitiveKind::kUri, PrimitiveKind::kUrl, PrimitiveKind::kCanonical,
        PrimitiveKind::kOid, PrimitiveKind::kUuid, PrimitiveKind::kDate, PrimitiveKind::kDateTime,
        PrimitiveKind::kInstant, PrimitiveKind::kTime, PrimitiveKind::kBase64Binary}) {
    std::string_view rx = r4_regex(k);
    ASSERT_FALSE(rx.empty());
    RE2 re{re2::StringPiece(rx.data(), rx.size())};
    ASSERT_TRUE(re.ok()) << rx;
    for (const std::string& s : samples) {
      EXPECT_EQ(matches_r4_regex(k, s), RE2::FullMatch(s, re)) << "regex " << rx << " sample [" << s << "]";
    }
  }
}

TEST(PrimitiveTest, CalendarAndRanges) {
  EXPECT_TRUE(calendar_valid(PrimitiveKind::kDate, "2024-02-29"));
  EXPECT_FALSE(calendar_valid(PrimitiveKind::kDate, "2023-02-29"));
  EXPECT_FALSE(calendar_valid(PrimitiveKind::kDate, "1900-02-29"));
  EXPECT_TRUE(calendar_valid(PrimitiveKind::kDate, "2000-02-29"));
  EXPECT_FALSE(calendar_valid(PrimitiveKind::kDateTime, "2023-04-31T10:00:00Z"));
  EXPECT_TRUE(calendar_valid(PrimitiveKind::kDateTime, "2023-04"));
  EXPECT_TRUE(integer_in_range(PrimitiveKind::kInteger, "2147483647"));
  EXPECT_FALSE(integer_in_range(PrimitiveKind::kInteger, "2147483648"));
  EXPECT_TRUE(integer_in_range(PrimitiveKind::kInteger, "-2147483648"));
  EXPECT_FALSE(integer_in_range(PrimitiveKind::kInteger, "-2147483649"));
  EXPECT_FALSE(integer_in_range(PrimitiveKind::kInteger, "99999999999"));
  EXPECT_FALSE(integer_in_range(PrimitiveKind::kPositiveInt, "0"));
  EXPECT_TRUE(integer_in_range(PrimitiveKind::kUnsignedInt, "0"));
  EXPECT_FALSE(no_illegal_controls(std::string("a\x01" "b")));
  EXPECT_FALSE(no_illegal_controls("a\x7f"));
  EXPECT_FALSE(no_illegal_controls("a\xc2\x85"));
  EXPECT_TRUE(no_illegal_controls("caf\xc3\xa9\t\r\n"));
}

// The control-byte and whitespace scans read eight bytes at a time: a
// forbidden byte must be found at every offset of a long string (first,
// last, and on both sides of each word boundary), and the bytes that are
// allowed, high UTF-8 bytes included, must never be taken for one.
TEST(PrimitiveTest, WordAtATimeScansFindABadByteAtEveryOffset) {
  const std::string clean = "http://example.org/fhir/ValueSet/some-value-set|4.0.1";
  std::vector<std::string> forbidden;
  for (int c = 0; c < 0x20; ++c) {
    if (c != '\t' && c != '\r' && c != '\n') forbidden.push_back(std::string(1, static_cast<char>(c)));
  }
  forbidden.push_back("\x7f");
  forbidden.push_back("\xc2\x80");
  forbidden.push_back("\xc2\x9f");
  const std::vector<std::string> allowed = {"\t", "\r", "\n", " ", "~", "\xc3\xa9", "\xc2\xa0", "\xe2\x80\x94",
                                            "\xf0\x9f\x98\x80"};
  for (std::size_t at = 0; at <= clean.size(); ++at) {
    for (const std::string& bad : forbidden) {
      std::string s = clean;
      s.insert(at, bad);
      EXPECT_FALSE(no_illegal_controls(s)) << "offset " << at << " byte " << int(static_cast<unsigned char>(bad[0]));
    }
    for (const std::string& ok : allowed) {
      std::string s = clean;
      s.insert(at, ok);
      EXPECT_TRUE(no_illegal_controls(s)) << "offset " << at << " byte " << int(static_cast<unsigned char>(ok[0]));
    }
    for (const char* ws : {" ", "\t", "\n", "\r", "\f"}) {
      std::string s = clean;
      s.insert(at, ws);
      EXPECT_FALSE(matches_r4_regex(PrimitiveKind::kUri, s)) << "offset " << at;
    }
    std::string s = clean;
    s.insert(at, "\xc3\xa9\x01");  // a control byte after a high byte
    EXPECT_FALSE(no_illegal_controls(s)) << "offset " << at;
    s = clean;
    s.insert(at, "\xc3\xa9~");
    EXPECT_TRUE(matches_r4_regex(PrimitiveKind::kUri, s)) << "offset " << at;
  }
  EXPECT_TRUE(no_illegal_controls(clean));
  EXPECT_TRUE(matches_r4_regex(PrimitiveKind::kUri, clean));
}

// base64Binary runs go eight bytes per step: every byte value at every
// offset of a 48-byte run (six steps and every step boundary) must get
// RE2's answer on the published regex, and so must runs cut short at every
// length.
TEST(PrimitiveTest, WordAtATimeBase64AgreesWithTheRegexAtEveryOffset) {
  std::string_view rx = r4_regex(PrimitiveKind::kBase64Binary);
  RE2 re{re2::StringPiece(rx.data(), rx.size())};
  ASSERT_TRUE(re.ok());
  const std::string run = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlq";  // 48 alphabet bytes
  ASSERT_EQ(run.size(), 48u);
  std::size_t accepted = 0, refused = 0;
  for (int c = 0; c < 256; ++c) {
    for (std::size_t at = 0; at < run.size(); ++at) {
      std::string s = run;
      s[at] = static_cast<char>(c);
      const bool want = RE2::FullMatch(s, re);
      ASSERT_EQ(matches_r4_regex(PrimitiveKind::kBase64Binary, s), want) << "byte " << c << " at offset " << at;
      (want ? accepted : refused) += 1;
    }
  }
  // Both answers occur: the alphabet is accepted anywhere, anything else
  // refused (whitespace inside a group of four included).
  EXPECT_EQ(accepted, 65u * run.size());
  EXPECT_EQ(refused, (256u - 65u) * run.size());
  for (std::size_t n = 0; n <= run.size(); ++n) {
    const std::string s = run.substr(0, n);
    EXPECT_EQ(matches_r4_regex(PrimitiveKind::kBase64Binary, s), RE2::FullMatch(s, re)) << "length " << n;
  }
}

// The narrative's element and attribute lists are searched as packed
// integers for names of up to 8 bytes and by plain comparison beyond:
// every listed name must pass, and near misses (one byte more or less,
// another case, a prefix of a long name) must not.
TEST(XhtmlTest, ElementAndAttributeListsAcceptListedNamesOnly) {
  auto rules = [](const std::string& inner) {
    std::vector<XhtmlProblem> out;
    check_xhtml("<div xmlns=\"http://www.w3.org/1999/xhtml\">" + inner + "</div>", out);
    std::vector<XhtmlProblem::Rule> r;
    for (const XhtmlProblem& p : out) r.push_back(p.rule);
    return r;
  };
  using R = XhtmlProblem::Rule;
  for (const char* el : {"p", "br", "h6", "a", "span", "acronym", "address", "colgroup", "blockquote", "caption",
                         "tbody", "td", "map", "area", "img", "tt"}) {
    EXPECT_EQ(rules(std::string("<") + el + ">x</" + el + ">"), std::vector<R>{}) << el;
  }
  for (const char* el : {"P", "script", "blockquotes", "blockquot", "colgroups", "acronyms", "h7", "td2", "areas",
                         "iframe", "x"}) {
    EXPECT_EQ(rules(std::string("<") + el + ">x</" + el + ">"), std::vector<R>{R::kElement}) << el;
  }
  EXPECT_EQ(rules("<table cellspacing=\"0\" cellpadding=\"1\" summary=\"s\"><tr><td nowrap=\"x\">x</td></tr></table>"),
            std::vector<R>{});
  EXPECT_EQ(rules("<p title=\"t\" class=\"c\" xml:lang=\"en\" accesskey=\"k\" colspan=\"2\">x</p>"), std::vector<R>{});
  EXPECT_EQ(rules("<a href=\"#x\" hreflang=\"en\">x</a>"), std::vector<R>{});
  EXPECT_EQ(rules("<table cellspacings=\"0\">x</table>"), std::vector<R>{R::kAttribute});
  EXPECT_EQ(rules("<p href=\"#x\">x</p>"), std::vector<R>{R::kAttribute});
  EXPECT_EQ(rules("<p onclick=\"x\">x</p>"), std::vector<R>{R::kAttribute});
  EXPECT_EQ(rules("<p Title=\"x\">x</p>"), std::vector<R>{R::kAttribute});
  EXPECT_EQ(rules("<p titl=\"x\">x</p>"), std::vector<R>{R::kAttribute});
  // Namespace declarations (xmlns:prefix) pass on any element; a name that
  // only starts like one does not.
  EXPECT_EQ(rules("<p xmlns:xlink=\"http://www.w3.org/1999/xlink\">x</p>"), std::vector<R>{});
  EXPECT_EQ(rules("<span xmlns:=\"x\">x</span>"), std::vector<R>{});
  EXPECT_EQ(rules("<p xmlnsx=\"x\">x</p>"), std::vector<R>{R::kAttribute});
  EXPECT_EQ(rules("<p xmlns-a=\"x\">x</p>"), std::vector<R>{R::kAttribute});
}

TEST(PrimitiveTest, DecimalComparison) {
  EXPECT_EQ(compare_decimal("1.50", "1.5"), 0);
  EXPECT_LT(compare_decimal("1.49", "1.5"), 0);
  EXPECT_GT(compare_decimal("10", "9.99"), 0);
  EXPECT_LT(compare_decimal("-2", "-1"), 0);
  EXPECT_EQ(compare_decimal("1e2", "100"), 0);
  EXPECT_EQ(compare_decimal("-0", "0"), 0);
  EXPECT_GT(compare_decimal("0.001", "1e-4"), 0);
}

}  // namespace
}  // namespace gw::validation::detail

#include "gateway/primitives/primitives.hpp"

namespace gw::validation::detail {
namespace {

bool ours(PrimitiveKind k, std::string_view s) {
  if (!matches_r4_regex(k, s) || !calendar_valid(k, s)) return false;
  if (k == PrimitiveKind::kInteger || k == PrimitiveKind::kPositiveInt || k == PrimitiveKind::kUnsignedInt) {
    return integer_in_range(k, s);
  }
  return true;
}

// The validator's format checks and the primitives module (used by
// FHIRPath) must agree on what a valid FHIR date, time or number is.
TEST(PrimitiveTest, AgreesWithThePrimitivesModule) {
  const std::vector<std::string> samples = {
      "2020", "0000", "2020-02", "2020-13", "2020-02-29", "2021-02-29", "2021-04-31", "1900-02-29",
      "2020-01-01T10:00:00Z", "2020-01-01T10:00:00", "2020-01-01T23:59:59.999+14:00", "2020-01-01T24:00:00Z",
      "2020-01-01T10:00Z", "2020-01-01T10:00:00+15:00", "10:00:00", "23:59:59.5", "24:00:00", "10:00",
      "0", "-0", "01", "1.50", "1e3", "-1.5E-2", ".5", "2147483647", "2147483648", "-2147483648", "+1", "1.0"};
  struct Pair {
    PrimitiveKind kind;
    bool (*theirs)(std::string_view) noexcept;
  };
  const Pair pairs[] = {
      {PrimitiveKind::kDate, primitives::is_valid_fhir_date},
      {PrimitiveKind::kDateTime, primitives::is_valid_fhir_datetime},
      {PrimitiveKind::kInstant, primitives::is_valid_fhir_instant},
      {PrimitiveKind::kTime, primitives::is_valid_fhir_time},
      {PrimitiveKind::kDecimal, primitives::is_valid_fhir_decimal},
      {PrimitiveKind::kInteger, primitives::is_valid_fhir_integer},
      {PrimitiveKind::kUnsignedInt, primitives::is_valid_fhir_unsigned_int},
      {PrimitiveKind::kPositiveInt, primitives::is_valid_fhir_positive_int},
  };
  for (const Pair& p : pairs) {
    for (const std::string& s : samples) {
      // R4's positiveInt regex (profiles-types.json) has no leading '+',
      // the spec page's text does; JSON numbers cannot carry one anyway.
      if (p.kind == PrimitiveKind::kPositiveInt && s == "+1") continue;
      EXPECT_EQ(ours(p.kind, s), p.theirs(s)) << "kind " << static_cast<int>(p.kind) << " sample [" << s << "]";
    }
  }
}

}  // namespace
}  // namespace gw::validation::detail
