// A small UCUM engine: parses unit expressions (prefixes, atoms, integer
// exponents, '.', '/', parentheses, annotations) and reduces them to a
// factor over the base dimensions, so that quantities in different units
// can be compared exactly.
//
// Scope: the units seen in clinical data (lab results, vital signs, doses,
// durations), not all of UCUM. Unknown atoms are a parse error, and callers
// then fall back to comparing unit text literally, which is the safe
// direction (a missed conversion yields "not comparable", never a wrong
// number).
//
// Factors are exact decimals or exact ratios of decimals (5/9 for [degF],
// 1/60 inside U); see CanonicalUnit in the public header.
#include "gateway/primitives/primitives.hpp"

#include "gateway/primitives/detail/decimal_internal.hpp"

#include <map>

namespace gw::primitives::ucum {

namespace {

// Dimension vector order: m, g, s, A, K, mol, cd.
using Dims = std::array<std::int8_t, 7>;
constexpr Dims kNone{};
constexpr Dims kLength{1, 0, 0, 0, 0, 0, 0};
constexpr Dims kMass{0, 1, 0, 0, 0, 0, 0};
constexpr Dims kTime{0, 0, 1, 0, 0, 0, 0};
constexpr Dims kCurrent{0, 0, 0, 1, 0, 0, 0};
constexpr Dims kTemperature{0, 0, 0, 0, 1, 0, 0};
constexpr Dims kAmount{0, 0, 0, 0, 0, 1, 0};
constexpr Dims kLuminous{0, 0, 0, 0, 0, 0, 1};
constexpr Dims kVolume{3, 0, 0, 0, 0, 0, 0};
constexpr Dims kFrequency{0, 0, -1, 0, 0, 0, 0};
constexpr Dims kForce{1, 1, -2, 0, 0, 0, 0};
constexpr Dims kPressure{-1, 1, -2, 0, 0, 0, 0};
constexpr Dims kEnergy{2, 1, -2, 0, 0, 0, 0};
constexpr Dims kPower{2, 1, -3, 0, 0, 0, 0};
constexpr Dims kCharge{0, 0, 1, 1, 0, 0, 0};
constexpr Dims kVoltage{2, 1, -3, -1, 0, 0, 0};
constexpr Dims kResistance{2, 1, -3, -2, 0, 0, 0};
constexpr Dims kConductance{-2, -1, 3, 2, 0, 0, 0};
constexpr Dims kCapacitance{-2, -1, 4, 2, 0, 0, 0};
constexpr Dims kMagneticFlux{2, 1, -2, -1, 0, 0, 0};
constexpr Dims kFluxDensity{0, 1, -2, -1, 0, 0, 0};
constexpr Dims kInductance{2, 1, -2, -2, 0, 0, 0};
constexpr Dims kDose{2, 0, -2, 0, 0, 0, 0};
constexpr Dims kCatalytic{0, 0, -1, 0, 0, 1, 0};
constexpr Dims kMassConcentration{-3, 1, 0, 0, 0, 0, 0};

enum class Kind : std::uint8_t { kNormal, kCelsius, kFahrenheit, kArbitrary };

struct Atom {
  std::string_view symbol;
  std::string_view numerator;  // factor to base units, decimal text
  std::string_view denominator;
  Dims dims;
  bool metric;  // may take a prefix
  Kind kind = Kind::kNormal;
  std::string_view canonical_name = {};  // arbitrary units: the name they compare by
};

constexpr std::string_view kPi = "3.1415926535897932384626433832795028842";

// Factors are in base units m, g, s, A, K, mol, cd (note: g, not kg, as UCUM).
constexpr Atom kAtoms[] = {
    // Base units.
    {"m", "1", "1", kLength, true},
    {"g", "1", "1", kMass, true},
    {"s", "1", "1", kTime, true},
    {"A", "1", "1", kCurrent, true},
    {"K", "1", "1", kTemperature, true},
    {"mol", "1", "1", kAmount, true},
    {"cd", "1", "1", kLuminous, true},
    // Dimensionless.
    {"rad", "1", "1", kNone, true},
    {"sr", "1", "1", kNone, true},
    {"10*", "10", "1", kNone, false},
    {"10^", "10", "1", kNone, false},
    {"%", "0.01", "1", kNone, false},
    {"[ppth]", "0.001", "1", kNone, false},
    {"[ppm]", "0.000001", "1", kNone, false},
    {"[ppb]", "0.000000001", "1", kNone, false},
    {"[pptr]", "0.000000000001", "1", kNone, false},
    {"[pi]", kPi, "1", kNone, false},
    {"deg", kPi, "180", kNone, false},
    // Time.
    {"min", "60", "1", kTime, false},
    {"h", "3600", "1", kTime, false},
    {"d", "86400", "1", kTime, false},
    {"wk", "604800", "1", kTime, false},
    {"mo", "2629800", "1", kTime, false},  // mean Julian month, 30.4375 d
    {"mo_j", "2629800", "1", kTime, false},
    {"mo_g", "2629746", "1", kTime, false},
    {"a", "31557600", "1", kTime, false},  // Julian year, 365.25 d
    {"a_j", "31557600", "1", kTime, false},
    {"a_g", "31556952", "1", kTime, false},
    // Length.
    {"[in_i]", "0.0254", "1", kLength, false},
    {"[ft_i]", "0.3048", "1", kLength, false},
    {"[yd_i]", "0.9144", "1", kLength, false},
    {"[mi_i]", "1609.344", "1", kLength, false},
    {"[nmi_i]", "1852", "1", kLength, false},
    {"Ao", "0.0000000001", "1", kLength, false},
    // Mass.
    {"t", "1000000", "1", kMass, true},
    {"[lb_av]", "453.59237", "1", kMass, false},
    {"[oz_av]", "28.349523125", "1", kMass, false},
    {"[dr_av]", "1.7718451953125", "1", kMass, false},
    {"[gr]", "0.06479891", "1", kMass, false},
    {"[ston_av]", "6350.29318", "1", kMass, false},
    // Volume.
    {"L", "0.001", "1", kVolume, true},
    {"l", "0.001", "1", kVolume, true},
    {"[gal_us]", "0.003785411784", "1", kVolume, false},
    {"[qt_us]", "0.000946352946", "1", kVolume, false},
    {"[pt_us]", "0.000473176473", "1", kVolume, false},
    {"[cup_us]", "0.0002365882365", "1", kVolume, false},
    {"[foz_us]", "0.0000295735295625", "1", kVolume, false},
    {"[tbs_us]", "0.00001478676478125", "1", kVolume, false},
    {"[tsp_us]", "0.00000492892159375", "1", kVolume, false},
    {"[gal_br]", "0.00454609", "1", kVolume, false},
    {"[pt_br]", "0.00056826125", "1", kVolume, false},
    {"[foz_br]", "0.0000284130625", "1", kVolume, false},
    {"[drp]", "0.00000005", "1", kVolume, false},  // 1/20 mL
    // Amount of substance and concentrations.
    {"eq", "1", "1", kAmount, true},
    {"osm", "1", "1", kAmount, true},
    {"g%", "10000", "1", kMassConcentration, true},  // g/dL
    // Mechanics and energy.
    {"N", "1000", "1", kForce, true},
    {"Pa", "1000", "1", kPressure, true},
    {"bar", "100000000", "1", kPressure, true},
    {"atm", "101325000", "1", kPressure, false},
    {"m[Hg]", "133322000", "1", kPressure, true},
    {"m[H2O]", "9806650", "1", kPressure, true},
    {"J", "1000", "1", kEnergy, true},
    {"cal", "4184", "1", kEnergy, true},
    {"[Cal]", "4184000", "1", kEnergy, false},
    {"W", "1000", "1", kPower, true},
    // Electromagnetism.
    {"C", "1", "1", kCharge, true},
    {"V", "1000", "1", kVoltage, true},
    {"Ohm", "1000", "1", kResistance, true},
    {"S", "0.001", "1", kConductance, true},
    {"F", "0.001", "1", kCapacitance, true},
    {"Wb", "1000", "1", kMagneticFlux, true},
    {"T", "1000", "1", kFluxDensity, true},
    {"H", "1000", "1", kInductance, true},
    // Frequency, radioactivity, dose, catalytic activity.
    {"Hz", "1", "1", kFrequency, true},
    {"Bq", "1", "1", kFrequency, true},
    {"Ci", "37000000000", "1", kFrequency, true},
    {"Gy", "1", "1", kDose, true},
    {"Sv", "1", "1", kDose, true},
    {"kat", "1", "1", kCatalytic, true},
    {"U", "0.000001", "60", kCatalytic, true},  // umol/min
    // Temperature: affine when written alone.
    {"Cel", "1", "1", kTemperature, true, Kind::kCelsius},
    {"[degF]", "5", "9", kTemperature, false, Kind::kFahrenheit},
    {"[degR]", "5", "9", kTemperature, false},
    // Arbitrary units: no conversion to anything else.
    {"[iU]", "1", "1", kNone, true, Kind::kArbitrary, "[iU]"},
    {"[IU]", "1", "1", kNone, true, Kind::kArbitrary, "[iU]"},
    {"[arb'U]", "1", "1", kNone, false, Kind::kArbitrary, "[arb'U]"},
    {"[USP'U]", "1", "1", kNone, false, Kind::kArbitrary, "[USP'U]"},
    {"[CFU]", "1", "1", kNone, false, Kind::kArbitrary, "[CFU]"},
    {"[PFU]", "1", "1", kNone, false, Kind::kArbitrary, "[PFU]"},
    {"[FFU]", "1", "1", kNone, false, Kind::kArbitrary, "[FFU]"},
    {"[BAU]", "1", "1", kNone, false, Kind::kArbitrary, "[BAU]"},
    {"[AU]", "1", "1", kNone, false, Kind::kArbitrary, "[AU]"},
    {"[HPF]", "1", "1", kNone, false, Kind::kArbitrary, "[HPF]"},
    {"[LPF]", "1", "1", kNone, false, Kind::kArbitrary, "[LPF]"},
};

struct Prefix {
  std::string_view symbol;
  int exponent;
};

// "da" first: prefixes are tried in this order and the longest must win.
constexpr Prefix kPrefixes[] = {
    {"da", 1},  {"Y", 24}, {"Z", 21}, {"E", 18},  {"P", 15},  {"T", 12},  {"G", 9},
    {"M", 6},   {"k", 3},  {"h", 2},  {"d", -1},  {"c", -2},  {"m", -3},  {"u", -6},
    {"n", -9},  {"p", -12}, {"f", -15}, {"a", -18}, {"z", -21}, {"y", -24},
};

const Atom* find_atom(std::string_view symbol) {
  for (const Atom& a : kAtoms) {
    if (a.symbol == symbol) return &a;
  }
  return nullptr;
}

Decimal constant(std::string_view text) {
  auto d = Decimal::parse(text, DecimalSyntax::kFhir);
  GW_ASSERT(d.has_value(), "bad constant in the UCUM atom table");
  return *d;
}

Decimal power_of_ten(int exponent) {
  // 10^e for |e| <= 24 is exact within Decimal's limits.
  auto d = exponent >= 0 ? Decimal::from_parts(detail::pow10_128(exponent), 0)
                         : Decimal::from_parts(1, -exponent);
  GW_ASSERT(d.has_value(), "prefix out of range");
  return *d;
}

/// A partially reduced unit expression.
struct Term {
  Decimal numerator = Decimal::from_int64(1);
  Decimal denominator = Decimal::from_int64(1);
  Dims dims{};
  std::map<std::string, int> arbitrary;  // canonical name -> exponent
  // Set when the whole expression so far is one unprefixed atom, exponent 1.
  const Atom* lone_atom = nullptr;
  int components = 0;
};

std::optional<Decimal> mul(const Decimal& a, const Decimal& b) { return multiply(a, b); }

/// t := t * u^sign (sign = +1 for '.', -1 for '/').
bool combine(Term& t, const Term& u, int sign) {
  auto n = mul(t.numerator, sign > 0 ? u.numerator : u.denominator);
  auto d = mul(t.denominator, sign > 0 ? u.denominator : u.numerator);
  if (!n || !d) return false;
  t.numerator = *n;
  t.denominator = *d;
  for (std::size_t i = 0; i < t.dims.size(); ++i) {
    const int e = t.dims[i] + sign * u.dims[i];
    if (e > 127 || e < -127) return false;
    t.dims[i] = static_cast<std::int8_t>(e);
  }
  for (const auto& [name, e] : u.arbitrary) {
    const int v = (t.arbitrary[name] += sign * e);
    if (v == 0) t.arbitrary.erase(name);
  }
  t.components += u.components;
  t.lone_atom = nullptr;  // a product is never a lone atom
  return true;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Term> parse() {
    if (text_.empty()) return error("empty unit");
    GW_TRY(Term t, term());
    if (pos_ != text_.size()) return error("unexpected character");
    return t;
  }

 private:
  Error error(const char* what) const {
    return Error(ErrorCode::kParse, std::string("ucum: ") + what, "offset " + std::to_string(pos_));
  }

  bool peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

  // term := '/'? component (('.' | '/') component)*
  Result<Term> term() {
    if (++depth_ > 16) return Error(ErrorCode::kLimit, "ucum: nesting too deep");
    Term t;
    if (peek('/')) {
      ++pos_;
      GW_TRY(Term first, component());
      if (!combine(t, first, -1)) return error("factor out of range");
    } else {
      GW_TRY(Term first, component());
      t = std::move(first);
    }
    while (peek('.') || peek('/')) {
      const int sign = text_[pos_] == '.' ? 1 : -1;
      ++pos_;
      GW_TRY(Term next, component());
      if (!combine(t, next, sign)) return error("factor out of range");
    }
    --depth_;
    return t;
  }

  // component := '(' term ')' | annotatable annotation? | annotation
  Result<Term> component() {
    if (peek('(')) {
      ++pos_;
      GW_TRY(Term inner, term());
      if (!peek(')')) return error("expected ')'");
      ++pos_;
      inner.lone_atom = nullptr;
      skip_annotation();
      return inner;
    }
    if (peek('{')) {
      if (!skip_annotation()) return error("unterminated annotation");
      Term unity;
      unity.components = 1;
      return unity;
    }
    const std::size_t begin = pos_;
    int bracket = 0;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '[') ++bracket;
      if (c == ']') --bracket;
      if (bracket == 0 && (c == '.' || c == '/' || c == '(' || c == ')' || c == '{')) break;
      if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 127) {
        return error("invalid character");
      }
      ++pos_;
    }
    if (bracket != 0) return error("unbalanced brackets");
    if (pos_ == begin) return error("expected a unit");
    GW_TRY(Term t, simple(text_.substr(begin, pos_ - begin)));
    if (peek('{') && !skip_annotation()) return error("unterminated annotation");
    return t;
  }

  bool skip_annotation() {
    if (!peek('{')) return true;
    const std::size_t close = text_.find('}', pos_);
    if (close == std::string_view::npos) return false;
    pos_ = close + 1;
    return true;
  }

  // A run such as "mg", "m2", "s-1", "10*3", "[lb_av]", "mm[Hg]" or "1000".
  Result<Term> simple(std::string_view run) {
    Term t;
    t.components = 1;
    if (run.find_first_not_of("0123456789") == std::string_view::npos) {
      auto n = Decimal::parse(run, DecimalSyntax::kFhirPath);
      if (!n) return error("factor out of range");
      t.numerator = *n;
      return t;
    }
    // Split a trailing integer exponent (digits, optionally signed) that
    // is not inside brackets.
    std::size_t cut = run.size();
    while (cut > 0 && run[cut - 1] >= '0' && run[cut - 1] <= '9') --cut;
    int exponent = 1;
    if (cut < run.size()) {
      std::size_t sign_at = cut;
      if (cut > 0 && (run[cut - 1] == '-' || run[cut - 1] == '+')) sign_at = cut - 1;
      const std::string_view digits = run.substr(cut);
      if (digits.size() > 3) return error("exponent too large");
      exponent = 0;
      for (char c : digits) exponent = exponent * 10 + (c - '0');
      if (sign_at < cut && run[sign_at] == '-') exponent = -exponent;
      run = run.substr(0, sign_at);
      if (run.empty()) return error("exponent without a unit");
    }
    const Atom* atom = find_atom(run);
    int prefix_exponent = 0;
    bool prefixed = false;
    if (atom == nullptr) {
      for (const Prefix& p : kPrefixes) {
        if (run.size() > p.symbol.size() && run.substr(0, p.symbol.size()) == p.symbol) {
          const Atom* a = find_atom(run.substr(p.symbol.size()));
          if (a != nullptr && a->metric) {
            atom = a;
            prefix_exponent = p.exponent;
            prefixed = true;
            break;
          }
        }
      }
    }
    if (atom == nullptr) return error("unknown unit symbol");
    auto base = mul(power_of_ten(prefix_exponent), constant(atom->numerator));
    if (!base) return error("factor out of range");
    const Decimal den = constant(atom->denominator);
    Term one;
    one.components = 1;
    one.numerator = *base;
    one.denominator = den;
    one.dims = atom->dims;
    if (atom->kind == Kind::kArbitrary) one.arbitrary[std::string(atom->canonical_name)] = 1;
    const int times = exponent < 0 ? -exponent : exponent;
    if (times > 24) return error("exponent too large");
    const int sign = exponent < 0 ? -1 : 1;
    for (int i = 0; i < times; ++i) {
      if (!combine(t, one, sign)) return error("factor out of range");
    }
    t.components = 1;
    t.lone_atom = !prefixed && exponent == 1 ? atom : nullptr;
    return t;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<CanonicalUnit> canonicalize(std::string_view code) {
  GW_TRY(Term t, Parser(code).parse());
  CanonicalUnit u;
  u.numerator = t.numerator;
  u.denominator = t.denominator;
  // Fold the denominator in when the factor is an exact decimal, so that
  // equal units have equal canonical forms (10*3/uL is 10^12, over 1).
  if (auto ratio = divide(t.numerator, t.denominator)) {
    if (auto back = multiply(*ratio, t.denominator); back && *back == t.numerator) {
      u.numerator = ratio->normalized();
      u.denominator = Decimal::from_int64(1);
    }
  }
  u.dimension.exponents = t.dims;
  if (t.lone_atom != nullptr && t.components == 1) {
    if (t.lone_atom->kind == Kind::kCelsius) u.offset = constant("273.15");
    if (t.lone_atom->kind == Kind::kFahrenheit) u.offset = constant("459.67");
  }
  for (const auto& [name, e] : t.arbitrary) {
    u.arbitrary += name;
    if (e != 1) u.arbitrary += std::to_string(e);
    u.arbitrary += '.';
  }
  return u;
}

bool is_known_unit(std::string_view code) noexcept { return canonicalize(code).has_value(); }

bool comparable(std::string_view unit_a, std::string_view unit_b) noexcept {
  auto a = canonicalize(unit_a);
  auto b = canonicalize(unit_b);
  return a && b && a->dimension == b->dimension && a->arbitrary == b->arbitrary;
}

std::optional<Decimal> convert(const Decimal& value, std::string_view from, std::string_view to) noexcept {
  auto a = canonicalize(from);
  auto b = canonicalize(to);
  if (!a || !b || a->dimension != b->dimension || a->arbitrary != b->arbitrary) return std::nullopt;
  return detail::convert_canonical(value, *a, *b);
}

}  // namespace gw::primitives::ucum

namespace gw::primitives::detail {

std::optional<Decimal> convert_canonical(const Decimal& value, const ucum::CanonicalUnit& a,
                                         const ucum::CanonicalUnit& b) {
  // x_b = (value + off_a) * (num_a * den_b) / (den_a * num_b) - off_b.
  // The ratio is used when it is an exact decimal (keeps the value's scale:
  // 4040 mg -> 4.040 g); otherwise one division at the end keeps the result
  // exact whenever it terminates (212 [degF] -> 100 Cel).
  auto shifted = add(value, a.offset);
  auto top = multiply(a.numerator, b.denominator);
  auto bottom = multiply(a.denominator, b.numerator);
  if (!shifted || !top || !bottom || bottom->is_zero()) return std::nullopt;
  std::optional<Decimal> scaled;
  auto ratio = divide(*top, *bottom);
  if (!ratio) return std::nullopt;
  auto check = multiply(*ratio, *bottom);
  if (check && *check == *top) {
    const Decimal r = ratio->normalized();
    scaled = r == Decimal::from_int64(1) ? shifted : multiply(*shifted, r);
  } else {
    auto product = multiply(*shifted, *top);
    if (!product) return std::nullopt;
    scaled = divide(*product, *bottom);
  }
  if (!scaled) return std::nullopt;
  if (!b.offset.is_zero()) scaled = subtract(*scaled, b.offset);
  if (!scaled) return std::nullopt;
  // A multiplication by an exact ratio gives a meaningful scale (4040 mg ->
  // 4.040 g). A division or an offset only adds digits of its own constants
  // (212 [degF] -> 100.00 Cel): drop those zeros, down to the input's scale.
  const bool artificial = !a.offset.is_zero() || !b.offset.is_zero() || !(check && *check == *top);
  if (artificial) return strip_zeros(*scaled, value.scale());
  return scaled;
}

}  // namespace gw::primitives::detail
