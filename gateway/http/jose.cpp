// The gateway's own token MAC and random ids with OpenSSL (detail/jose.hpp).
// The error queue is cleared after a failed call so that it cannot confuse
// the next TLS operation on the thread.
#include "gateway/http/detail/jose.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>

namespace gw::http::detail {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len)) {
    ERR_clear_error();
    return {};
  }
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    ERR_clear_error();
    return {};
  }
  return out;
}

}  // namespace gw::http::detail
