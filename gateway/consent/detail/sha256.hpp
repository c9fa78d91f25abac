// SHA-256 (FIPS 180-4), self-contained, for hashing the canonical form of the
// consent policy into redaction receipts and audit records.
//
// Why not OpenSSL: consent is a domain module and must not link the I/O
// libraries (STYLE.md §2). The policy is a few kilobytes, hashed once at
// start-up, so a small portable implementation is plenty. It lives in
// consent/detail because consent is its only user today; move it to core if
// a second module needs it.
//
// Usage:
//   gw::consent::detail::Sha256 h;
//   h.update(bytes);
//   std::string hex = h.hex_digest();     // 64 lowercase hex digits
// or simply sha256_hex(bytes).
//
// Thread-compatible value type.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gw::consent::detail {

class Sha256 {
 public:
  Sha256();
  /// Feeds more bytes. May be called any number of times before digest().
  void update(std::string_view bytes);
  /// Finishes the hash and returns the 32-byte digest. The object must not
  /// be updated afterwards (GW_ASSERT).
  std::array<std::uint8_t, 32> digest();
  /// digest() as 64 lowercase hex digits.
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);
  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
  bool finished_ = false;
};

/// Hex SHA-256 of `bytes` in one call.
std::string sha256_hex(std::string_view bytes);

}  // namespace gw::consent::detail
