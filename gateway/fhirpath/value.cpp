// FHIR elements as FHIRPath values; equality, equivalence, ordering, hashing.
//
// The rules are FHIRPath N1 §6.1 (equality) and §6.2 (comparison), with the
// implicit conversions of §4.5: Integer -> Decimal, Integer/Decimal ->
// Quantity (unit '1'), Date -> DateTime. Primitive FHIR nodes compare through
// their System value; complex nodes compare member by member on their JSON
// (FHIR Quantity-like nodes compare as quantities, with unit conversion).
#include "gateway/fhirpath/detail/value.hpp"

#include <algorithm>
#include <charconv>
#include <functional>

namespace gw::fhirpath::detail {

namespace prim = gw::primitives;

namespace {

constexpr std::string_view kUcumSystem = "http://unitsofmeasure.org";
constexpr int kMaxJsonDepth = 300;

// A FHIR Quantity (or Age, Duration, ...) as a System Quantity. The unit
// is the UCUM code when the system is UCUM (or absent): that is what makes
// `Observation.value = 185 '[lb_av]'` hold for {value 185, unit "lbs",
// code "[lb_av]"}. A human-readable unit is used only when it is a calendar
// keyword or nothing better exists.
std::optional<Item> quantity_of_node(const fhir::Node& n) {
  json::Value obj = n.value;
  if (!obj.is_object()) return std::nullopt;
  json::Value v = obj.find("value");
  if (!v.is_number()) return std::nullopt;
  auto d = prim::Decimal::parse(v.str(), prim::DecimalSyntax::kFhir);
  if (!d) return std::nullopt;
  prim::Quantity q;
  q.value = *d;
  std::string_view code = obj.find("code").str();
  std::string_view system = obj.find("system").str();
  std::string_view unit = obj.find("unit").str();
  if (!code.empty() && (system.empty() || system == kUcumSystem)) {
    q.unit = std::string(code);
  } else if (!unit.empty() && prim::calendar_unit(unit)) {
    q.unit = std::string(unit);
  } else if (!code.empty()) {
    q.unit = std::string(code);
  } else if (!unit.empty()) {
    q.unit = std::string(unit);
  } else {
    q.unit = "1";
  }
  return Item::quantity(std::move(q));
}

// A primitive's System value, parsed by its *FHIR* type, not its text: a
// dateTime "2001-05-06" is a DateTime of day precision (so lowBoundary()
// extends it to 17 digits), never a Date. An integer written "2.0" is still
// the Integer 2.
std::optional<Item> primitive_of_node(const fhir::Node& n) {
  if (!n.has_primitive_value()) return std::nullopt;
  json::Value v = n.value;
  std::string_view text = v.str();
  switch (n.type->system_type) {
    case fhir::SystemType::kBoolean:
      if (!v.is_bool()) return std::nullopt;
      return Item::boolean(v.boolean());
    case fhir::SystemType::kInteger: {
      if (!v.is_number()) return std::nullopt;
      std::int64_t i = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
      if (ec == std::errc() && p == text.data() + text.size()) return Item::integer(i);
      auto d = prim::Decimal::parse(text, prim::DecimalSyntax::kFhir);
      if (d) {
        if (auto as_int = d->to_int64()) return Item::integer(*as_int);
      }
      return std::nullopt;
    }
    case fhir::SystemType::kDecimal: {
      if (!v.is_number()) return std::nullopt;
      auto d = prim::Decimal::parse(text, prim::DecimalSyntax::kFhir);
      if (!d) return std::nullopt;
      return Item::decimal(*d);
    }
    case fhir::SystemType::kDate: {
      auto d = prim::parse_date(text, prim::TemporalSyntax::kFhir);
      if (!d) return std::nullopt;
      return Item::date(*d);
    }
    case fhir::SystemType::kDateTime: {
      auto d = n.type->name == "instant" ? prim::parse_instant(text)
                                         : prim::parse_datetime(text, prim::TemporalSyntax::kFhir);
      if (!d) return std::nullopt;
      return Item::datetime(*d);
    }
    case fhir::SystemType::kTime: {
      auto t = prim::parse_time(text, prim::TemporalSyntax::kFhir);
      if (!t) return std::nullopt;
      return Item::time(*t);
    }
    case fhir::SystemType::kString:
    case fhir::SystemType::kNone:
      return Item::string(std::string(text));
  }
  return std::nullopt;
}

bool is_numeric(ItemKind k) { return k == ItemKind::kInteger || k == ItemKind::kDecimal; }

prim::Decimal to_decimal(const Item& i) {
  return i.kind() == ItemKind::kInteger ? prim::Decimal::from_int64(i.integer()) : i.decimal();
}

prim::Quantity to_quantity(const Item& i) {
  if (i.kind() == ItemKind::kQuantity) return i.quantity();
  prim::Quantity q;
  q.value = to_decimal(i);
  q.unit = "1";
  return q;
}

bool is_temporal_date(ItemKind k) { return k == ItemKind::kDate || k == ItemKind::kDateTime; }

prim::DateTime to_datetime_item(const Item& i) {
  return i.kind() == ItemKind::kDate ? prim::to_datetime(i.date()) : i.datetime();
}

// Deep comparison of two JSON values (complex FHIR elements). `equiv`
// selects equivalence rules at the leaves. Objects compare as member sets
// (key order is not data), arrays in order, numbers numerically (1.0 =
// 1.00). The recursion is bounded by the JSON parser's own depth limit and
// checked again here.
bool json_equal(json::Value a, json::Value b, bool equiv, int depth) {
  if (depth > kMaxJsonDepth) return false;
  if (a.kind() != b.kind()) {
    // true/false are distinct kinds; a number and a string never match.
    return false;
  }
  switch (a.kind()) {
    case json::Kind::kNull:
    case json::Kind::kTrue:
    case json::Kind::kFalse:
      return true;
    case json::Kind::kNumber: {
      auto x = prim::Decimal::parse(a.str(), prim::DecimalSyntax::kFhir);
      auto y = prim::Decimal::parse(b.str(), prim::DecimalSyntax::kFhir);
      if (!x || !y) return a.str() == b.str();
      return equiv ? prim::equivalent(*x, *y) : *x == *y;
    }
    case json::Kind::kString:
      return equiv ? normalize_for_equivalence(a.str()) == normalize_for_equivalence(b.str())
                   : a.str() == b.str();
    case json::Kind::kArray:
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!json_equal(a[i], b[i], equiv, depth + 1)) return false;
      }
      return true;
    case json::Kind::kObject:
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i) {
        json::Value other = b.find(a.key(i));
        if (!other || !json_equal(a[i], other, equiv, depth + 1)) return false;
      }
      return true;
  }
  return false;
}

bool is_quantity_node(const Item& i) {
  return i.is_node() && !i.node().is_primitive() && derives_from(i.node().type, "Quantity");
}

// Both nodes, at least one complex.
std::optional<bool> equal_complex(const fhir::Node& a, const fhir::Node& b, bool equiv) {
  if (a.is_primitive() != b.is_primitive()) return false;
  return json_equal(a.value, b.value, equiv, 0);
}

}  // namespace

bool derives_from(const fhir::TypeDef* t, std::string_view name) {
  for (; t; t = t->base) {
    if (t->name == name) return true;
  }
  return false;
}

std::optional<Item> system_value(const Item& item) {
  if (!item.is_node()) return item;
  const fhir::Node& n = item.node();
  if (!n.type) return std::nullopt;
  if (n.is_primitive()) return primitive_of_node(n);
  if (derives_from(n.type, "Quantity")) return quantity_of_node(n);
  return std::nullopt;
}

std::optional<ItemKind> system_kind(const Item& item) {
  if (!item.is_node()) return item.kind();
  const fhir::Node& n = item.node();
  if (!n.type) return std::nullopt;
  if (!n.is_primitive()) {
    if (derives_from(n.type, "Quantity")) return ItemKind::kQuantity;
    return std::nullopt;
  }
  switch (n.type->system_type) {
    case fhir::SystemType::kBoolean: return ItemKind::kBoolean;
    case fhir::SystemType::kInteger: return ItemKind::kInteger;
    case fhir::SystemType::kDecimal: return ItemKind::kDecimal;
    case fhir::SystemType::kDate: return ItemKind::kDate;
    case fhir::SystemType::kDateTime: return ItemKind::kDateTime;
    case fhir::SystemType::kTime: return ItemKind::kTime;
    default: return ItemKind::kString;
  }
}

std::optional<std::string> string_value(const Item& item) {
  if (item.kind() == ItemKind::kString) return item.string();
  if (!item.is_node()) return std::nullopt;
  const fhir::Node& n = item.node();
  if (!n.is_primitive() || n.type->system_type != fhir::SystemType::kString) return std::nullopt;
  if (!n.has_primitive_value()) return std::nullopt;
  return std::string(n.value.str());
}

std::string normalize_for_equivalence(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out.push_back(' ');
      pending_space = false;
    }
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

// Order of the rules: identical nodes are equal; complex elements compare
// structurally and never equal a System value; everything else compares
// through System values with the implicit conversions (Integer -> Decimal,
// numbers -> Quantity '1', Date -> DateTime). Different kinds after
// conversion are simply not equal (false, not empty), as N1 says.
std::optional<bool> equal_items(const Item& a, const Item& b) {
  if (a.is_node() && b.is_node()) {
    if (a.node() == b.node()) return true;
    const fhir::Node& x = a.node();
    const fhir::Node& y = b.node();
    bool both_quantity = is_quantity_node(a) && is_quantity_node(b);
    if (!both_quantity && (!x.is_primitive() || !y.is_primitive())) {
      return equal_complex(x, y, false);
    }
  } else if ((a.is_node() && !a.node().is_primitive() && !is_quantity_node(a)) ||
             (b.is_node() && !b.node().is_primitive() && !is_quantity_node(b))) {
    return false;  // a complex element never equals a System value
  }
  std::optional<Item> sa = system_value(a);
  std::optional<Item> sb = system_value(b);
  if (!sa || !sb) return std::nullopt;
  const Item& x = *sa;
  const Item& y = *sb;
  ItemKind kx = x.kind();
  ItemKind ky = y.kind();
  if (is_numeric(kx) && is_numeric(ky)) {
    if (kx == ItemKind::kInteger && ky == ItemKind::kInteger) return x.integer() == y.integer();
    return to_decimal(x) == to_decimal(y);
  }
  if ((kx == ItemKind::kQuantity && (ky == ItemKind::kQuantity || is_numeric(ky))) ||
      (ky == ItemKind::kQuantity && is_numeric(kx))) {
    return prim::equals(to_quantity(x), to_quantity(y));
  }
  if (is_temporal_date(kx) && is_temporal_date(ky)) {
    if (kx == ItemKind::kDate && ky == ItemKind::kDate) return prim::equals(x.date(), y.date());
    return prim::equals(to_datetime_item(x), to_datetime_item(y));
  }
  if (kx != ky) return false;
  switch (kx) {
    case ItemKind::kBoolean: return x.boolean() == y.boolean();
    case ItemKind::kString: return x.string() == y.string();
    case ItemKind::kTime: return prim::equals(x.time(), y.time());
    case ItemKind::kTypeInfo: return x.type_info() == y.type_info();
    default: return false;
  }
}

bool equivalent_items(const Item& a, const Item& b) {
  if (a.is_node() && b.is_node()) {
    if (a.node() == b.node()) return true;
    bool both_quantity = is_quantity_node(a) && is_quantity_node(b);
    if (!both_quantity && (!a.node().is_primitive() || !b.node().is_primitive())) {
      return equal_complex(a.node(), b.node(), true).value_or(false);
    }
  }
  std::optional<Item> sa = system_value(a);
  std::optional<Item> sb = system_value(b);
  if (!sa || !sb) return false;
  const Item& x = *sa;
  const Item& y = *sb;
  ItemKind kx = x.kind();
  ItemKind ky = y.kind();
  if (is_numeric(kx) && is_numeric(ky)) {
    if (kx == ItemKind::kInteger && ky == ItemKind::kInteger) return x.integer() == y.integer();
    return prim::equivalent(to_decimal(x), to_decimal(y));
  }
  if ((kx == ItemKind::kQuantity && (ky == ItemKind::kQuantity || is_numeric(ky))) ||
      (ky == ItemKind::kQuantity && is_numeric(kx))) {
    return prim::equivalent(to_quantity(x), to_quantity(y));
  }
  if (is_temporal_date(kx) && is_temporal_date(ky)) {
    if (kx == ItemKind::kDate && ky == ItemKind::kDate) return prim::equivalent(x.date(), y.date());
    return prim::equivalent(to_datetime_item(x), to_datetime_item(y));
  }
  if (kx != ky) return false;
  switch (kx) {
    case ItemKind::kBoolean: return x.boolean() == y.boolean();
    case ItemKind::kString:
      return normalize_for_equivalence(x.string()) == normalize_for_equivalence(y.string());
    case ItemKind::kTime: return prim::equivalent(x.time(), y.time());
    case ItemKind::kTypeInfo: return x.type_info() == y.type_info();
    default: return false;
  }
}

Comparison compare_items(const Item& a, const Item& b) {
  using S = Comparison::Status;
  auto result = [](std::optional<int> c) {
    return c ? Comparison{S::kOk, *c} : Comparison{S::kEmpty, 0};
  };
  std::optional<Item> sa = system_value(a);
  std::optional<Item> sb = system_value(b);
  if (!sa || !sb) {
    // A primitive without a value compares as empty; a complex element
    // (other than a quantity) cannot be ordered at all.
    bool a_ok = sa || (a.is_node() && a.node().is_primitive());
    bool b_ok = sb || (b.is_node() && b.node().is_primitive());
    return a_ok && b_ok ? Comparison{S::kEmpty, 0} : Comparison{S::kIncompatible, 0};
  }
  const Item& x = *sa;
  const Item& y = *sb;
  ItemKind kx = x.kind();
  ItemKind ky = y.kind();
  if (is_numeric(kx) && is_numeric(ky)) {
    if (kx == ItemKind::kInteger && ky == ItemKind::kInteger) {
      return {S::kOk, x.integer() < y.integer() ? -1 : (x.integer() > y.integer() ? 1 : 0)};
    }
    auto c = to_decimal(x) <=> to_decimal(y);
    return {S::kOk, c < 0 ? -1 : (c > 0 ? 1 : 0)};
  }
  if ((kx == ItemKind::kQuantity && (ky == ItemKind::kQuantity || is_numeric(ky))) ||
      (ky == ItemKind::kQuantity && is_numeric(kx))) {
    return result(prim::compare(to_quantity(x), to_quantity(y)));
  }
  if (is_temporal_date(kx) && is_temporal_date(ky)) {
    if (kx == ItemKind::kDate && ky == ItemKind::kDate) return result(prim::compare(x.date(), y.date()));
    return result(prim::compare(to_datetime_item(x), to_datetime_item(y)));
  }
  if (kx == ItemKind::kTime && ky == ItemKind::kTime) return result(prim::compare(x.time(), y.time()));
  if (kx == ItemKind::kString && ky == ItemKind::kString) {
    int c = x.string().compare(y.string());
    return {S::kOk, c < 0 ? -1 : (c > 0 ? 1 : 0)};
  }
  return {S::kIncompatible, 0};
}

// `=` on collections: empty if either side is empty, false on different
// sizes, else item by item in order; an indeterminate pair makes the whole
// answer empty unless another pair is definitely unequal.
std::optional<bool> equal_collections(const Collection& a, const Collection& b) {
  if (a.empty() || b.empty()) return std::nullopt;
  if (a.size() != b.size()) return false;
  bool unknown = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::optional<bool> e = equal_items(a[i], b[i]);
    if (!e) {
      unknown = true;
    } else if (!*e) {
      return false;
    }
  }
  if (unknown) return std::nullopt;
  return true;
}

// `~` on collections ignores order (testEquivalent21), so it is a multiset
// match: each item of `a` pairs with a distinct equivalent item of `b`.
bool equivalent_collections(const Collection& a, const Collection& b) {
  if (a.size() != b.size()) return false;
  std::vector<bool> used(b.size(), false);
  for (const Item& x : a) {
    bool found = false;
    for (std::size_t j = 0; j < b.size(); ++j) {
      if (!used[j] && equivalent_items(x, b[j])) {
        used[j] = true;
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

// Equal items must hash alike, and equality crosses kinds (1 = 1.0, a FHIR
// code = its String, dates across timezones, quantities across units), so
// the hash is deliberately coarse where equality is rich: numbers hash by
// their normalized decimal text, all temporal values share a bucket, all
// quantities share one, complex elements hash by their member names.
// Every quantity hashes alike: equality converts units (1 'cm' = 10 'mm').
constexpr std::size_t kQuantityHash = 0x7153;

std::size_t item_hash(const Item& item) {
  constexpr std::size_t kNumber = 0x9e3779b97f4a7c15ULL;
  constexpr std::size_t kTemporal = 0x51ed270b1f3a2c4dULL;
  std::hash<std::string_view> h;
  if (item.is_node() && !item.node().is_primitive()) {
    const fhir::Node& n = item.node();
    if (derives_from(n.type, "Quantity")) return kQuantityHash;
    // Shallow: member count and keys. Equal elements have equal key sets.
    std::size_t acc = n.value.size();
    for (std::size_t i = 0; i < n.value.size(); ++i) acc = acc * 31 + h(n.value.key(i));
    return acc;
  }
  std::optional<Item> v = system_value(item);
  if (!v) return 0x5eed;
  switch (v->kind()) {
    case ItemKind::kBoolean: return v->boolean() ? 1 : 2;
    case ItemKind::kString: return h(v->string());
    case ItemKind::kInteger: return kNumber ^ h(prim::Decimal::from_int64(v->integer()).to_string());
    case ItemKind::kDecimal: return kNumber ^ h(v->decimal().normalized().to_string());
    case ItemKind::kDate:
    case ItemKind::kDateTime: return kTemporal;
    case ItemKind::kTime: return kTemporal + 1;
    case ItemKind::kQuantity: return kQuantityHash;
    case ItemKind::kTypeInfo: return h(v->type_info().name);
    case ItemKind::kNode: return 0;
  }
  return 0;
}

// A quantity comparison converts units through UCUM (hundreds of times the
// cost of comparing two strings); it is charged accordingly.
static std::uint64_t comparison_cost(std::size_t hash) { return hash == kQuantityHash ? 500 : 1; }

bool ItemSet::equal(const Item& stored, const Item& item, std::uint64_t cost) const {
  if (work_) *work_ += cost;
  return equal_items(stored, item).value_or(false);
}

bool ItemSet::contains(const Item& item) const {
  const std::size_t hash = item_hash(item);
  auto [lo, hi] = index_.equal_range(hash);
  for (auto it = lo; it != hi; ++it) {
    if (equal(items_[it->second], item, comparison_cost(hash))) return true;
  }
  return false;
}

bool ItemSet::insert(const Item& item) {
  std::size_t hash = item_hash(item);
  auto [lo, hi] = index_.equal_range(hash);
  for (auto it = lo; it != hi; ++it) {
    if (equal(items_[it->second], item, comparison_cost(hash))) return false;
  }
  items_.push_back(item);
  index_.emplace(hash, items_.size() - 1);
  return true;
}

}  // namespace gw::fhirpath::detail
