// Identifier generators. UUIDs are written by hand (RFC 4122 layout) so the
// module needs no UUID library: 16 random bytes, version nibble 4, variant
// bits 10.
#include "gateway/handoff/handoff.hpp"

#include <array>
#include <cstdio>

namespace gw::handoff {

namespace {

std::string format_uuid(const std::array<std::uint8_t, 16>& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0x0f];
  }
  return out;
}

}  // namespace

std::string RandomIdGenerator::uuid() {
  std::array<std::uint8_t, 16> b{};
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::size_t i = 0; i < b.size(); i += 4) {
      std::uint32_t r = device_();
      for (std::size_t j = 0; j < 4; ++j) b[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
    }
  }
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  return format_uuid(b);
}

std::string SequentialIdGenerator::uuid() {
  std::uint64_t n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    n = next_++;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(n & 0xffffffffffffULL));
  return buf;
}

}  // namespace gw::handoff
