// Item accessors and renderings, the JSON output format, and the default
// Environment.
#include "gateway/fhirpath/detail/value.hpp"
#include "gateway/fhirpath/fhirpath.hpp"

namespace gw::fhirpath {

namespace prim = gw::primitives;

std::string_view to_string(ItemKind kind) {
  switch (kind) {
    case ItemKind::kNode: return "Node";
    case ItemKind::kBoolean: return "Boolean";
    case ItemKind::kString: return "String";
    case ItemKind::kInteger: return "Integer";
    case ItemKind::kDecimal: return "Decimal";
    case ItemKind::kDate: return "Date";
    case ItemKind::kDateTime: return "DateTime";
    case ItemKind::kTime: return "Time";
    case ItemKind::kQuantity: return "Quantity";
    case ItemKind::kTypeInfo: return "TypeInfo";
  }
  return "?";
}

const fhir::Node& Item::node() const {
  GW_ASSERT(v_.index() == 0, "Item is not a node");
  return std::get<0>(v_);
}
bool Item::boolean() const {
  GW_ASSERT(v_.index() == 1, "Item is not a Boolean");
  return std::get<1>(v_);
}
const std::string& Item::string() const {
  GW_ASSERT(v_.index() == 2, "Item is not a String");
  return std::get<2>(v_);
}
std::int64_t Item::integer() const {
  GW_ASSERT(v_.index() == 3, "Item is not an Integer");
  return std::get<3>(v_);
}
const prim::Decimal& Item::decimal() const {
  GW_ASSERT(v_.index() == 4, "Item is not a Decimal");
  return std::get<4>(v_);
}
const prim::Date& Item::date() const {
  GW_ASSERT(v_.index() == 5, "Item is not a Date");
  return std::get<5>(v_);
}
const prim::DateTime& Item::datetime() const {
  GW_ASSERT(v_.index() == 6, "Item is not a DateTime");
  return std::get<6>(v_);
}
const prim::Time& Item::time() const {
  GW_ASSERT(v_.index() == 7, "Item is not a Time");
  return std::get<7>(v_);
}
const prim::Quantity& Item::quantity() const {
  GW_ASSERT(v_.index() == 8, "Item is not a Quantity");
  return std::get<8>(v_);
}
const TypeInfo& Item::type_info() const {
  GW_ASSERT(v_.index() == 9, "Item is not a TypeInfo");
  return std::get<9>(v_);
}

std::string Item::type_name() const {
  if (is_node()) return node().type ? node().type->name : std::string();
  return std::string(fhirpath::to_string(kind()));
}

std::string Item::to_string() const {
  switch (kind()) {
    case ItemKind::kNode: {
      if (auto v = detail::system_value(*this)) return v->to_string();
      json::Writer w;
      w.value(node().value ? node().value : node().extension_part);
      return std::move(w).take();
    }
    case ItemKind::kBoolean: return boolean() ? "true" : "false";
    case ItemKind::kString: return string();
    case ItemKind::kInteger: return std::to_string(integer());
    case ItemKind::kDecimal: return decimal().to_string();
    case ItemKind::kDate: return date().to_literal();
    case ItemKind::kDateTime: return datetime().to_literal();
    case ItemKind::kTime: return time().to_literal();
    case ItemKind::kQuantity: return quantity().to_string();
    case ItemKind::kTypeInfo: return type_info().ns + "." + type_info().name;
  }
  return {};
}

namespace {

// The CLI's JSON shape (documented on to_json() in fhirpath.hpp). Decimals
// keep their scale (1.50 stays 1.50) because the writer takes the literal
// text; temporal values use the FHIR form, without FHIRPath's '@'.
void write_item(json::Writer& w, const Item& item) {
  switch (item.kind()) {
    case ItemKind::kNode: {
      const fhir::Node& n = item.node();
      if (n.value) {
        w.value(n.value);
      } else if (n.extension_part) {
        w.value(n.extension_part);
      } else {
        w.null();
      }
      return;
    }
    case ItemKind::kBoolean: w.boolean(item.boolean()); return;
    case ItemKind::kString: w.string(item.string()); return;
    case ItemKind::kInteger: w.integer(item.integer()); return;
    case ItemKind::kDecimal: w.number_text(item.decimal().to_string()); return;
    case ItemKind::kDate: w.string(item.date().to_string()); return;
    case ItemKind::kDateTime: w.string(item.datetime().to_string()); return;
    case ItemKind::kTime: w.string(item.time().to_string()); return;
    case ItemKind::kQuantity:
      w.begin_object();
      w.key("value");
      w.number_text(item.quantity().value.to_string());
      w.key("unit");
      w.string(item.quantity().unit);
      w.end_object();
      return;
    case ItemKind::kTypeInfo:
      w.begin_object();
      w.key("namespace");
      w.string(item.type_info().ns);
      w.key("name");
      w.string(item.type_info().name);
      w.end_object();
      return;
  }
}

}  // namespace

std::string to_json(const Collection& items, bool pretty) {
  json::Writer w(pretty);
  w.begin_array();
  for (const Item& i : items) write_item(w, i);
  w.end_array();
  return std::move(w).take();
}

// Defaults: no terminology (unknown -> empty), no profiles (the engine's
// base-type rule applies), no external references.
Result<std::optional<bool>> Environment::member_of(std::span<const Code>, std::string_view) const {
  return std::optional<bool>();
}

Result<bool> Environment::conforms_to(const fhir::Node&, std::string_view) const {
  return fail(ErrorCode::kUnsupported, "no profile validation available");
}

std::optional<fhir::Node> Environment::resolve(std::string_view) const { return std::nullopt; }

}  // namespace gw::fhirpath
