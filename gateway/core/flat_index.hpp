// A compact string-keyed index of positions into the caller's own array.
//
// Why: the validator's hot lookups (a code in a ValueSet expansion, a code in
// a CodeSystem, a system in an expansion, a fullUrl in a Bundle) ran through
// std::unordered_map, whose every probe is a murmur hash call, a bucket
// load, a node load and a key load: four dependent cache misses when the
// tables are cold, which they are between two documents. Here a probe is one
// 8-byte slot holding the hash's high half and the position; the key bytes
// are compared through the caller's element only when the hash halves agree,
// so a hit costs two loads and a miss usually one.
//
// The index stores positions, not pointers, so the caller's array may move
// (a vector reallocating, the owner being moved). Keys are whatever
// `key_of(position)` returns; they must not change while indexed.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace gw {

namespace flat_detail {
inline std::uint64_t load8(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
inline std::uint64_t load4(const char* p) noexcept {
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}
__extension__ typedef unsigned __int128 U128;
inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) noexcept {
  const U128 r = static_cast<U128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}
}  // namespace flat_detail

/// A 64-bit hash of short and medium strings: eight bytes per step, the
/// tail read as overlapping words instead of byte by byte (most keys here
/// are 4 to 40 bytes). A table whose keys come from a request (a Bundle's
/// fullUrls) passes a secret `seed`, so that nobody can compute in advance
/// a set of keys that pile up in one run of slots.
inline std::uint64_t flat_hash(std::string_view s, std::uint64_t seed = 0) noexcept {
  using namespace flat_detail;
  constexpr std::uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull;
  const char* p = s.data();
  const std::size_t n = s.size();
  std::uint64_t h = k0 ^ seed;
  std::uint64_t a, b;
  if (n >= 8) {
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) h = mix(load8(p + i) ^ k1, load8(p + i + 8) ^ h);
    a = n - i > 8 ? load8(p + i) : load8(p + n - 8);
    b = load8(p + n - 8);
  } else if (n >= 4) {
    a = load4(p);
    b = load4(p + n - 4);
  } else if (n > 0) {
    a = static_cast<unsigned char>(p[0]) | std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8 |
        std::uint64_t{static_cast<unsigned char>(p[n - 1])} << 16;
    b = 0;
  } else {
    a = b = 0;
  }
  // Two rounds, as wyhash: one product alone leaves the high half (the
  // part an index keeps) poorly spread over short keys.
  return mix(k1 ^ n, mix(a ^ k1, b ^ h));
}

/// Byte equality of two strings, inline: the keys compared here are short,
/// and a call into libc's memcmp cost more than the comparison.
inline bool flat_equal(std::string_view x, std::string_view y) noexcept {
  using namespace flat_detail;
  const std::size_t n = x.size();
  if (n != y.size()) return false;
  const char* p = x.data();
  const char* q = y.data();
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      if (load8(p + i) != load8(q + i)) return false;
    }
    return load8(p + n - 8) == load8(q + n - 8);
  }
  if (n >= 4) return load4(p) == load4(q) && load4(p + n - 4) == load4(q + n - 4);
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

/// Open addressing, linear probing, at most half full, grows by doubling.
class FlatIndex {
 public:
  static constexpr std::int64_t kNone = -1;

  FlatIndex() = default;
  /// An index whose hash is keyed with `seed` (see flat_hash).
  explicit FlatIndex(std::uint64_t seed) : seed_(seed) {}

  /// Sizes the table for `n` keys (optional; add grows as needed).
  void reserve(std::size_t n) {
    if (n * 2 <= slots_.size()) return;
    std::vector<std::uint64_t> old = std::move(slots_);
    std::size_t size = 8;
    while (size < n * 2) size *= 2;
    slots_.assign(size, 0);
    for (std::uint64_t s : old) {
      if (s != 0) slots_[empty_slot_for(s >> 32)] = s;
    }
  }

  void clear() {
    slots_.clear();
    used_ = 0;
  }
  std::size_t size() const { return used_; }

  /// The position whose key is `key`, or kNone. `key_of(position)` gives
  /// the key of an indexed position.
  template <class KeyOf>
  std::int64_t find(std::string_view key, const KeyOf& key_of) const {
    if (slots_.empty()) return kNone;
    const std::uint64_t s = slots_[slot_of(key, flat_hash(key, seed_) >> 32, key_of)];
    return s == 0 ? kNone : static_cast<std::int64_t>((s & 0xffffffffu) - 1);
  }

  /// Indexes `position` under `key_of(position)`. When that key is already
  /// indexed, nothing changes and the earlier position is returned;
  /// otherwise kNone.
  template <class KeyOf>
  std::int64_t add(std::uint32_t position, const KeyOf& key_of) {
    reserve(used_ + 1);
    const std::string_view key = key_of(position);
    const std::uint64_t high = flat_hash(key, seed_) >> 32;
    std::uint64_t& s = slots_[slot_of(key, high, key_of)];
    if (s != 0) return static_cast<std::int64_t>((s & 0xffffffffu) - 1);
    s = high << 32 | (std::uint64_t{position} + 1);
    ++used_;
    return kNone;
  }

 private:
  // The slot holding `key` (hash high half `high`), or the empty slot where
  // it would go.
  template <class KeyOf>
  std::size_t slot_of(std::string_view key, std::uint64_t high, const KeyOf& key_of) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = high & mask;; i = (i + 1) & mask) {
      const std::uint64_t s = slots_[i];
      if (s == 0) return i;
      if ((s >> 32) == high && flat_equal(key_of(static_cast<std::uint32_t>((s & 0xffffffffu) - 1)), key)) return i;
    }
  }
  std::size_t empty_slot_for(std::uint64_t high) const {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = high & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    return i;
  }

  std::vector<std::uint64_t> slots_;  // 0 = empty, else (hash >> 32) << 32 | (position + 1)
  std::size_t used_ = 0;
  std::uint64_t seed_ = 0;
};

}  // namespace gw
