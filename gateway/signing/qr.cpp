// A QR Code encoder (ISO/IEC 18004), byte mode, error correction level M,
// versions 1-10: enough for what a patient-held copy carries (a document
// id and a digest, about 100 bytes) and small enough to read and test.
// The steps follow the standard's order; each names its clause:
//   7.4   data: mode indicator 0100, 8/16-bit count, bytes, terminator,
//         pad to a byte, pad codewords 0xEC 0x11;
//   7.5   Reed-Solomon over GF(256) (x^8+x^4+x^3+x^2+1), generator with
//         roots a^0..a^(n-1), blocks interleaved;
//   7.7   module placement: two-module columns, upward then downward,
//         skipping the vertical timing column;
//   7.8   the mask (of eight) with the lowest penalty (N1..N4);
//   7.9   format information (BCH(15,5), XOR 101010000010010) and, from
//         version 7, version information (BCH(18,6)).
#include "gateway/signing/signing.hpp"

#include <array>
#include <climits>
#include <cstdlib>

namespace gw::signing {

namespace {

constexpr int kMaxVersion = 10;
// Level M, versions 1..10 (index 0 unused): EC codewords per block and
// number of blocks (ISO/IEC 18004 Table 9).
constexpr std::array<int, 11> kEccPerBlock = {0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26};
constexpr std::array<int, 11> kBlocks = {0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5};

int size_of(int version) { return version * 4 + 17; }

// Modules available for data and EC codewords (everything but function
// patterns and format/version information).
int raw_data_modules(int version) {
  int result = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const int align = version / 7 + 2;
    result -= (25 * align - 10) * align - 55;
    if (version >= 7) result -= 36;
  }
  return result;
}

int data_codewords(int version) {
  return raw_data_modules(version) / 8 - kEccPerBlock[version] * kBlocks[version];
}

std::vector<int> alignment_positions(int version) {
  if (version == 1) return {};
  const int count = version / 7 + 2;
  const int step = (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2;
  std::vector<int> out(static_cast<std::size_t>(count));
  out[0] = 6;
  for (int i = count - 1, pos = size_of(version) - 7; i >= 1; --i, pos -= step) out[static_cast<std::size_t>(i)] = pos;
  return out;
}

std::uint8_t gf_mul(std::uint8_t x, std::uint8_t y) {
  int z = 0;
  for (int i = 7; i >= 0; --i) {
    z = (z << 1) ^ ((z >> 7) * 0x11D);
    z ^= ((y >> i) & 1) * x;
  }
  return static_cast<std::uint8_t>(z);
}

std::vector<std::uint8_t> rs_divisor(int degree) {
  std::vector<std::uint8_t> result(static_cast<std::size_t>(degree), 0);
  result.back() = 1;
  std::uint8_t root = 1;
  for (int i = 0; i < degree; ++i) {
    for (std::size_t j = 0; j < result.size(); ++j) {
      result[j] = gf_mul(result[j], root);
      if (j + 1 < result.size()) result[j] ^= result[j + 1];
    }
    root = gf_mul(root, 0x02);
  }
  return result;
}

std::vector<std::uint8_t> rs_remainder(const std::vector<std::uint8_t>& data, const std::vector<std::uint8_t>& divisor) {
  std::vector<std::uint8_t> result(divisor.size(), 0);
  for (std::uint8_t b : data) {
    const std::uint8_t factor = b ^ result.front();
    result.erase(result.begin());
    result.push_back(0);
    for (std::size_t i = 0; i < result.size(); ++i) result[i] ^= gf_mul(divisor[i], factor);
  }
  return result;
}

class Builder {
 public:
  explicit Builder(int version)
      : version_(version), size_(size_of(version)), dark_(grid()), function_(grid()) {}

  void draw_function_patterns() {
    for (int i = 0; i < size_; ++i) {  // timing
      set_function(6, i, i % 2 == 0);
      set_function(i, 6, i % 2 == 0);
    }
    finder(3, 3);
    finder(size_ - 4, 3);
    finder(3, size_ - 4);
    const auto pos = alignment_positions(version_);
    const int n = static_cast<int>(pos.size());
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        // Not over the three finder patterns.
        if ((i == 0 && j == 0) || (i == 0 && j == n - 1) || (i == n - 1 && j == 0)) continue;
        alignment(pos[static_cast<std::size_t>(i)], pos[static_cast<std::size_t>(j)]);
      }
    }
    draw_format(0);  // reserves the area; redrawn with the chosen mask
    draw_version();
  }

  void draw_codewords(const std::vector<std::uint8_t>& data) {
    std::size_t i = 0;
    for (int right = size_ - 1; right >= 1; right -= 2) {
      if (right == 6) right = 5;
      for (int vert = 0; vert < size_; ++vert) {
        for (int j = 0; j < 2; ++j) {
          const int x = right - j;
          const bool upward = ((right + 1) & 2) == 0;
          const int y = upward ? size_ - 1 - vert : vert;
          if (!function_[at(x, y)] && i < data.size() * 8) {
            dark_[at(x, y)] = ((data[i >> 3] >> (7 - (i & 7))) & 1) != 0;
            ++i;
          }
        }
      }
    }
  }

  void apply_mask(int mask) {
    for (int y = 0; y < size_; ++y) {
      for (int x = 0; x < size_; ++x) {
        bool invert = false;
        switch (mask) {
          case 0: invert = (x + y) % 2 == 0; break;
          case 1: invert = y % 2 == 0; break;
          case 2: invert = x % 3 == 0; break;
          case 3: invert = (x + y) % 3 == 0; break;
          case 4: invert = (x / 3 + y / 2) % 2 == 0; break;
          case 5: invert = x * y % 2 + x * y % 3 == 0; break;
          case 6: invert = (x * y % 2 + x * y % 3) % 2 == 0; break;
          default: invert = ((x + y) % 2 + x * y % 3) % 2 == 0; break;
        }
        if (!function_[at(x, y)] && invert) dark_[at(x, y)] = !dark_[at(x, y)];
      }
    }
  }

  void draw_format(int mask) {
    const int data = (0 /* level M */ << 3) | mask;
    int rem = data;
    for (int i = 0; i < 10; ++i) rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    const int bits = ((data << 10) | rem) ^ 0x5412;
    auto bit = [&](int i) { return ((bits >> i) & 1) != 0; };
    for (int i = 0; i <= 5; ++i) set_function(8, i, bit(i));
    set_function(8, 7, bit(6));
    set_function(8, 8, bit(7));
    set_function(7, 8, bit(8));
    for (int i = 9; i < 15; ++i) set_function(14 - i, 8, bit(i));
    for (int i = 0; i < 8; ++i) set_function(size_ - 1 - i, 8, bit(i));
    for (int i = 8; i < 15; ++i) set_function(8, size_ - 15 + i, bit(i));
    set_function(8, size_ - 8, true);  // the dark module
  }

  // Penalty of the current matrix (7.8.3): N1 runs of five or more, N2
  // 2x2 blocks, N3 finder-like 1:1:3:1:1 with four light modules beside,
  // N4 imbalance of dark and light.
  long penalty() const {
    long score = 0;
    for (int pass = 0; pass < 2; ++pass) {
      for (int a = 0; a < size_; ++a) {
        int run = 1;
        for (int b = 1; b <= size_; ++b) {
          const bool same = b < size_ && module(pass, a, b) == module(pass, a, b - 1);
          if (same) {
            ++run;
          } else {
            if (run >= 5) score += 3 + (run - 5);
            run = 1;
          }
        }
        for (int b = 0; b + 11 <= size_; ++b) {
          static constexpr std::array<bool, 11> kA = {true, false, true, true, true, false, true, false, false, false, false};
          static constexpr std::array<bool, 11> kB = {false, false, false, false, true, false, true, true, true, false, true};
          bool a_match = true, b_match = true;
          for (int k = 0; k < 11; ++k) {
            a_match = a_match && module(pass, a, b + k) == kA[static_cast<std::size_t>(k)];
            b_match = b_match && module(pass, a, b + k) == kB[static_cast<std::size_t>(k)];
          }
          score += (a_match ? 40 : 0) + (b_match ? 40 : 0);
        }
      }
    }
    int dark = 0;
    for (int y = 0; y < size_; ++y) {
      for (int x = 0; x < size_; ++x) {
        dark += dark_[at(x, y)] ? 1 : 0;
        if (x + 1 < size_ && y + 1 < size_) {
          const bool c = dark_[at(x, y)];
          if (c == dark_[at(x + 1, y)] && c == dark_[at(x, y + 1)] && c == dark_[at(x + 1, y + 1)]) score += 3;
        }
      }
    }
    const int total = size_ * size_;
    // k = how far the dark share is from 50%, in steps of 5%.
    const int k = (std::abs(dark * 20 - total * 10) + total - 1) / total - 1;
    score += std::max(0, k) * 10;
    return score;
  }

  QrCode take(int mask) && { return QrCode{version_, mask, size_, std::move(dark_)}; }

 private:
  std::vector<bool> grid() const { return std::vector<bool>(static_cast<std::size_t>(size_ * size_), false); }
  std::size_t at(int x, int y) const { return static_cast<std::size_t>(y * size_ + x); }
  bool module(int pass, int a, int b) const { return pass == 0 ? dark_[at(b, a)] : dark_[at(a, b)]; }

  void set_function(int x, int y, bool dark) {
    dark_[at(x, y)] = dark;
    function_[at(x, y)] = true;
  }

  void finder(int cx, int cy) {
    for (int dy = -4; dy <= 4; ++dy) {
      for (int dx = -4; dx <= 4; ++dx) {
        const int x = cx + dx, y = cy + dy;
        if (x < 0 || x >= size_ || y < 0 || y >= size_) continue;
        const int dist = std::max(std::abs(dx), std::abs(dy));
        set_function(x, y, dist != 2 && dist != 4);  // separator ring at 4 is light
      }
    }
  }

  void alignment(int cx, int cy) {
    for (int dy = -2; dy <= 2; ++dy) {
      for (int dx = -2; dx <= 2; ++dx) set_function(cx + dx, cy + dy, std::max(std::abs(dx), std::abs(dy)) != 1);
    }
  }

  void draw_version() {
    if (version_ < 7) return;
    int rem = version_;
    for (int i = 0; i < 12; ++i) rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
    const long bits = (static_cast<long>(version_) << 12) | rem;
    for (int i = 0; i < 18; ++i) {
      const bool bit = ((bits >> i) & 1) != 0;
      const int a = size_ - 11 + i % 3, b = i / 3;
      set_function(a, b, bit);
      set_function(b, a, bit);
    }
  }

  int version_;
  int size_;
  std::vector<bool> dark_;
  std::vector<bool> function_;
};

}  // namespace

Result<QrCode> qr_encode(std::string_view bytes) {
  int version = 1;
  // Bits: mode (4) + count (8 up to version 9, 16 from 10) + data.
  auto needed = [&](int v) { return 4 + (v < 10 ? 8 : 16) + static_cast<int>(bytes.size()) * 8; };
  while (version <= kMaxVersion && needed(version) > data_codewords(version) * 8) ++version;
  if (version > kMaxVersion) return fail(ErrorCode::kLimit, "too long for a QR code of version 10 at level M");

  // 7.4: the bit stream, padded to the data capacity.
  std::vector<std::uint8_t> data;
  std::uint32_t acc = 0;
  int bits = 0;
  auto put = [&](std::uint32_t value, int n) {
    for (int i = n - 1; i >= 0; --i) {
      acc = (acc << 1) | ((value >> i) & 1);
      if (++bits == 8) {
        data.push_back(static_cast<std::uint8_t>(acc));
        acc = 0;
        bits = 0;
      }
    }
  };
  const int capacity = data_codewords(version);
  put(0x4, 4);
  put(static_cast<std::uint32_t>(bytes.size()), version < 10 ? 8 : 16);
  for (char c : bytes) put(static_cast<std::uint8_t>(c), 8);
  const int used = static_cast<int>(data.size()) * 8 + bits;
  put(0, std::min(4, capacity * 8 - used));  // terminator
  if (bits) put(0, 8 - bits);
  for (std::uint8_t pad = 0xEC; static_cast<int>(data.size()) < capacity; pad ^= 0xEC ^ 0x11) data.push_back(pad);

  // 7.5: blocks, EC codewords, interleaving.
  const int blocks = kBlocks[static_cast<std::size_t>(version)];
  const int ecc = kEccPerBlock[static_cast<std::size_t>(version)];
  const int raw = raw_data_modules(version) / 8;
  const int short_blocks = blocks - raw % blocks;
  const int short_len = raw / blocks;  // data + EC of a short block
  const auto divisor = rs_divisor(ecc);
  std::vector<std::vector<std::uint8_t>> full;
  for (int i = 0, k = 0; i < blocks; ++i) {
    const int len = short_len - ecc + (i < short_blocks ? 0 : 1);
    std::vector<std::uint8_t> block(data.begin() + k, data.begin() + k + len);
    k += len;
    const auto ec = rs_remainder(block, divisor);
    if (i < short_blocks) block.push_back(0);  // placeholder so every block has the same length
    block.insert(block.end(), ec.begin(), ec.end());
    full.push_back(std::move(block));
  }
  std::vector<std::uint8_t> codewords;
  for (std::size_t i = 0; i < full[0].size(); ++i) {
    for (int j = 0; j < blocks; ++j) {
      if (i != static_cast<std::size_t>(short_len - ecc) || j >= short_blocks) codewords.push_back(full[static_cast<std::size_t>(j)][i]);
    }
  }

  // 7.7-7.9: placement, then the best of the eight masks.
  Builder base(version);
  base.draw_function_patterns();
  base.draw_codewords(codewords);
  int best_mask = 0;
  long best = LONG_MAX;
  for (int mask = 0; mask < 8; ++mask) {
    Builder b = base;
    b.apply_mask(mask);
    b.draw_format(mask);
    if (const long p = b.penalty(); p < best) {
      best = p;
      best_mask = mask;
    }
  }
  base.apply_mask(best_mask);
  base.draw_format(best_mask);
  return std::move(base).take(best_mask);
}

std::string qr_svg(const QrCode& code, int module_px) {
  const int quiet = 4;  // the standard's quiet zone, in modules
  const int side = (code.size + 2 * quiet) * module_px;
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(side) + "\" height=\"" +
                    std::to_string(side) + "\" viewBox=\"0 0 " + std::to_string(code.size + 2 * quiet) + " " +
                    std::to_string(code.size + 2 * quiet) +
                    "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"";
  for (int y = 0; y < code.size; ++y) {
    for (int x = 0; x < code.size; ++x) {
      if (code.dark(x, y)) out += "M" + std::to_string(x + quiet) + "," + std::to_string(y + quiet) + "h1v1h-1z";
    }
  }
  out += "\" fill=\"#000\"/></svg>";
  return out;
}

}  // namespace gw::signing
