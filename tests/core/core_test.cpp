#include "gateway/core/core.hpp"
#include "gateway/core/flat_index.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

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
// flat_equal reads strings as overlapping words; every length from 0 to
// 40 is compared with a difference at every position, on views into a
// larger buffer (so a read past the view would see equal bytes and hide a
// bug).
TEST(CoreFlatIndex, EqualityAtEveryLengthAndPosition) {
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string a(n + 16, 'x');
    std::string b = a;
    for (std::size_t i = 0; i < n; ++i) a[i] = b[i] = static_cast<char>('a' + i % 26);
    std::string_view va(a.data(), n);
    std::string_view vb(b.data(), n);
    EXPECT_TRUE(flat_equal(va, vb)) << n;
    EXPECT_EQ(flat_hash(va), flat_hash(vb)) << n;
    for (std::size_t i = 0; i < n; ++i) {
      std::string c = b;
      c[i] = static_cast<char>(c[i] ^ 0x20);
      EXPECT_FALSE(flat_equal(va, std::string_view(c.data(), n))) << n << " " << i;
      EXPECT_NE(flat_hash(va), flat_hash(std::string_view(c.data(), n))) << n << " " << i;
    }
    if (n > 0) {
      EXPECT_FALSE(flat_equal(va, std::string_view(b.data(), n - 1))) << n;
      EXPECT_NE(flat_hash(va), flat_hash(std::string_view(a.data(), n - 1))) << n;
    }
  }
}

TEST(CoreFlatIndex, FindsEveryKeyAddedAndNothingElseAcrossGrowth) {
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i) keys.push_back("http://example.org/fhir/Patient/" + std::to_string(i * 7919));
  auto key_of = [&keys](std::uint32_t k) { return std::string_view(keys[k]); };
  FlatIndex index;
  for (std::uint32_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(index.add(i, key_of), FlatIndex::kNone) << i;
  }
  EXPECT_EQ(index.size(), keys.size());
  for (std::uint32_t i = 0; i < keys.size(); ++i) EXPECT_EQ(index.find(keys[i], key_of), i);
  EXPECT_EQ(index.find("http://example.org/fhir/Patient/1", key_of), FlatIndex::kNone);
  EXPECT_EQ(index.find("", key_of), FlatIndex::kNone);
  // A repeated key keeps the first position and is reported.
  keys.push_back(keys[42]);
  EXPECT_EQ(index.add(static_cast<std::uint32_t>(keys.size() - 1), key_of), 42);
  EXPECT_EQ(index.find(keys[42], key_of), 42);
  EXPECT_EQ(index.size(), keys.size() - 1);
}

TEST(CoreFlatIndex, EmptyIndexFindsNothingAndReserveKeepsEntries) {
  std::vector<std::string> keys{"a", "bb", "ccc"};
  auto key_of = [&keys](std::uint32_t k) { return std::string_view(keys[k]); };
  FlatIndex index;
  EXPECT_EQ(index.find("a", key_of), FlatIndex::kNone);
  for (std::uint32_t i = 0; i < keys.size(); ++i) index.add(i, key_of);
  index.reserve(1000);
  for (std::uint32_t i = 0; i < keys.size(); ++i) EXPECT_EQ(index.find(keys[i], key_of), i);
  index.clear();
  EXPECT_EQ(index.find("a", key_of), FlatIndex::kNone);
}

// The hash spreads short codes: 20,000 distinct codes of 2 to 11
// characters give distinct high halves (the part the index keeps) but for
// a couple (the birthday bound for 32 bits expects 0.05 collisions).
TEST(CoreFlatIndex, HashSpreadsShortCodes) {
  std::set<std::string> codes;
  for (int i = 0; i < 20000; ++i) {
    std::string code = std::to_string(i);
    code.resize(1 + i % 6, '-');
    codes.insert(code + std::to_string(i));
  }
  std::set<std::uint64_t> highs;
  for (const std::string& c : codes) highs.insert(flat_hash(c) >> 32);
  EXPECT_GE(highs.size() + 2, codes.size());
}

TEST(CoreFormatInstant, SecondsAndMillisecondsInUtc) {
  using namespace std::chrono;
  const system_clock::time_point epoch{};
  EXPECT_EQ(format_instant(epoch), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_instant(epoch, true), "1970-01-01T00:00:00.000Z");
  // 2024-02-29T23:59:59.999 (a leap day): the fraction is dropped, not rounded.
  const auto leap = epoch + seconds(1709251199) + milliseconds(999) + microseconds(999);
  EXPECT_EQ(format_instant(leap), "2024-02-29T23:59:59Z");
  EXPECT_EQ(format_instant(leap, true), "2024-02-29T23:59:59.999Z");
  // Before 1970: the floor of the second, not a truncation towards zero.
  EXPECT_EQ(format_instant(epoch - milliseconds(1), true), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_instant(epoch - seconds(86400 * 365)), "1969-01-01T00:00:00Z");
  EXPECT_EQ(format_instant(epoch + seconds(4102444800)), "2100-01-01T00:00:00Z");
}

}  // namespace
}  // namespace gw
