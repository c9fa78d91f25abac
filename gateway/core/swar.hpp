// Eight bytes at a time in one 64-bit word ("SWAR"): the byte tests the JSON
// parser and the primitive checks run over every string. Each test sets the
// high bit of a byte it flags; bits can also be set spuriously, but only in
// bytes above (later in memory than) the first byte truly flagged, so
// "any set" and, on little-endian machines, the lowest set bit are exact.
#pragma once

#include <cstdint>
#include <cstring>

namespace gw::swar {

inline constexpr std::uint64_t kOnes = 0x0101010101010101ull;
inline constexpr std::uint64_t kHighs = 0x8080808080808080ull;

/// Eight bytes from `p`, unaligned.
inline std::uint64_t load_word(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

/// High bit set in the bytes of `w` below `n` (n <= 0x80).
inline std::uint64_t bytes_below(std::uint64_t w, unsigned char n) { return (w - kOnes * n) & ~w & kHighs; }

/// High bit set in the bytes of `w` equal to `b`.
inline std::uint64_t bytes_equal(std::uint64_t w, unsigned char b) { return bytes_below(w ^ (kOnes * b), 1); }

}  // namespace gw::swar
