// Regenerated narratives. A narrative is free text that nobody can check
// for immigration status or whereabouts, so the original never passes: it
// is replaced by a plain list of what the redacted resource still says
// (status "generated"). Only kept data is rendered, read through the plan,
// so a removed or coarsened element cannot reappear here.
#include "gateway/consent/detail/engine.hpp"
#include "gateway/core/html.hpp"

namespace gw::consent::detail {

namespace {

constexpr std::size_t kMaxItemsPerElement = 10;

class Renderer {
 public:
  explicit Renderer(const RedactState& s) : s_(s) {}

  // A kept string member of `obj` ("" if absent or dropped).
  std::string_view str(json::Value obj, std::string_view key) const {
    json::Value v = obj.find(key);
    if (!v.is_string() || s_.is_dropped(v, json::Value())) return {};
    return v.str();
  }

  // Kept strings of an array member, joined by spaces.
  std::string strs(json::Value obj, std::string_view key) const {
    std::string out;
    for (json::Value v : obj.find(key).items()) {
      if (!v.is_string() || s_.is_dropped(v, json::Value())) continue;
      if (!out.empty()) out += ' ';
      out += v.str();
    }
    return out;
  }

  json::Value first_kept(json::Value arr) const {
    for (json::Value v : arr.items()) {
      if (!s_.is_dropped(v, json::Value())) return v;
    }
    return {};
  }

  std::string coding(json::Value c) const {
    std::string_view d = str(c, "display");
    return std::string(d.empty() ? str(c, "code") : d);
  }

  // What a reference points at, in a few words, when the target is in the
  // input and kept: its code, medication, vaccine or name (read through the
  // plan like everything else). Lets a section narrative list "Type 2
  // diabetes" rather than a urn:uuid.
  // `ref` is "Type/id", or a URL ending in "/Type/id". Compared in place:
  // this runs for every reference against every resource of the document.
  static bool names_resource(std::string_view ref, std::string_view type, std::string_view id) {
    if (id.empty()) return false;
    const std::size_t n = type.size() + 1 + id.size();
    if (ref.size() < n || (ref.size() > n && ref[ref.size() - n - 1] != '/')) return false;
    std::string_view tail = ref.substr(ref.size() - n);
    return tail.starts_with(type) && tail[type.size()] == '/' && tail.ends_with(id);
  }

  std::string target_summary(std::string_view ref) const {
    if (ref.empty() || ref[0] == '#') return {};
    for (const ResourceInfo& info : s_.resources) {
      if (info.removed) continue;
      bool match = (!info.full_url.empty() && info.full_url == ref) || names_resource(ref, info.type, info.id);
      if (!match) continue;
      std::vector<fhir::Node> kids;
      for (std::string_view name : {"code", "medication", "vaccineCode", "name", "type"}) {
        kids.clear();
        s_.model.children(info.node, name, kids);
        for (const fhir::Node& k : kids) {
          if (!k.type || s_.is_dropped(k.value, k.extension_part)) continue;
          const std::string& kt = k.type->name;
          if (kt != "CodeableConcept" && kt != "HumanName" && kt != "string") continue;
          std::string text = render(k);
          if (!text.empty()) return text;
        }
      }
      return {};
    }
    return {};
  }

  std::string render(const fhir::Node& n) const {
    const std::string_view t = n.type->name;  // a view: length-first compares with the literals below
    json::Value v = n.value;
    if (n.is_primitive()) {
      if (!n.has_primitive_value() || t == "base64Binary" || t == "xhtml") return {};
      return std::string(v.str());
    }
    if (!v.is_object()) return {};
    if (t == "CodeableConcept") {
      std::string_view text = str(v, "text");
      if (!text.empty()) return std::string(text);
      json::Value c = first_kept(v.find("coding"));
      return c ? coding(c) : std::string();
    }
    if (t == "Coding") return coding(v);
    if (t == "Quantity" || t == "Age" || t == "Duration" || t == "Distance" || t == "Count" ||
        t == "SimpleQuantity" || t == "MoneyQuantity") {
      std::string out(v.find("value").str());
      std::string_view unit = str(v, "unit");
      if (unit.empty()) unit = str(v, "code");
      if (!unit.empty()) out += " " + std::string(unit);
      return out;
    }
    if (t == "Money")
      return std::string(v.find("value").str()) + " " + std::string(str(v, "currency"));
    if (t == "Reference") {
      std::string_view d = str(v, "display");
      if (!d.empty()) return std::string(d);
      std::string_view ref = str(v, "reference");
      std::string summary = target_summary(ref);
      return summary.empty() ? std::string(ref) : summary;
    }
    if (t == "HumanName") {
      std::string_view text = str(v, "text");
      if (!text.empty()) return std::string(text);
      std::string out = strs(v, "given");
      std::string_view family = str(v, "family");
      if (!family.empty()) out += (out.empty() ? "" : " ") + std::string(family);
      return out;
    }
    if (t == "Identifier") return std::string(str(v, "value"));
    if (t == "ContactPoint") return std::string(str(v, "value"));
    if (t == "Period") {
      std::string_view start = str(v, "start"), end = str(v, "end");
      if (start.empty() && end.empty()) return {};
      return std::string(start) + " to " + std::string(end);
    }
    if (t == "Address") {
      const Mark* mk = s_.mark_of(v, json::Value());
      if (mk && mk->kind == Mark::Kind::kCoarsen) {
        std::string out;
        if (s_.policy.rules[static_cast<std::size_t>(mk->rule)].coarsen == CoarsenLevel::kRegion) {
          out = std::string(str(v, "state"));
        }
        std::string_view country = str(v, "country");
        if (!country.empty()) out += (out.empty() ? "" : ", ") + std::string(country);
        return out;
      }
      std::string_view text = str(v, "text");
      if (!text.empty()) return std::string(text);
      std::string out = strs(v, "line");
      for (std::string_view key : {"city", "state", "postalCode", "country"}) {
        std::string_view part = str(v, key);
        if (!part.empty()) out += (out.empty() ? "" : ", ") + std::string(part);
      }
      return out;
    }
    return {};
  }

 private:
  const RedactState& s_;
};

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  }
  out += static_cast<char>(0x80 | (cp & 0x3F));
}

// Not rendered: metadata, the narrative itself, contained resources (they
// have their own), extensions (their meaning needs their definitions), and
// sections (each section gets its own narrative).
bool skipped_element(std::string_view name) {
  return name == "id" || name == "meta" || name == "text" || name == "contained" ||
         name == "extension" || name == "modifierExtension" || name == "implicitRules" ||
         name == "language" || name == "section";
}

}  // namespace

std::string generate_narrative(const RedactState& s, const fhir::Node& node) {
  Renderer render(s);
  std::string out = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p><b>";
  if (node.type->kind == fhir::TypeKind::kResource) {
    gw::append_html_escaped(out, node.type->name);
  } else {
    std::string_view title = render.str(node.value, "title");
    gw::append_html_escaped(out, title.empty() ? std::string_view("Section") : title);
  }
  out += "</b></p>";
  std::vector<fhir::Node> kids;
  s.model.children(node, kids);
  std::string list;
  std::size_t i = 0;
  while (i < kids.size()) {
    std::string_view name = kids[i].name;
    std::string line;
    std::size_t count = 0;
    for (; i < kids.size() && kids[i].name == name; ++i) {
      const fhir::Node& k = kids[i];
      if (skipped_element(name) || !k.type || k.is_resource()) continue;
      if (s.is_dropped(k.value, k.extension_part)) continue;
      if (count >= kMaxItemsPerElement) continue;
      std::string text = render.render(k);
      if (text.empty()) continue;
      if (count++ > 0) line += "; ";
      gw::append_html_escaped(line, text);
    }
    if (line.empty()) continue;
    list += "<li>";
    gw::append_html_escaped(list, name);
    list += ": " + line + "</li>";
  }
  if (!list.empty()) out += "<ul>" + list + "</ul>";
  out += "</div>";
  return out;
}

std::string xhtml_text(std::string_view div) {
  std::string out;
  out.reserve(div.size());
  for (std::size_t i = 0; i < div.size(); ++i) {
    char c = div[i];
    if (c == '<') {
      std::size_t close = div.find('>', i);
      if (close == std::string_view::npos) break;
      out += ' ';
      i = close;
      continue;
    }
    if (c == '&') {
      std::size_t semi = div.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 10) {
        std::string_view ent = div.substr(i + 1, semi - i - 1);
        char decoded = 0;
        if (ent == "amp")
          decoded = '&';
        else if (ent == "lt")
          decoded = '<';
        else if (ent == "gt")
          decoded = '>';
        else if (ent == "quot")
          decoded = '"';
        else if (ent == "apos" || ent == "#39")
          decoded = '\'';
        else if (ent == "nbsp" || ent == "#160")
          decoded = ' ';
        else if (ent.size() > 1 && ent[0] == '#') {
          unsigned code = 0;
          bool hex = ent[1] == 'x' || ent[1] == 'X';
          for (std::size_t k = hex ? 2 : 1; k < ent.size(); ++k) {
            char d = ent[k];
            unsigned digit = d >= '0' && d <= '9'          ? static_cast<unsigned>(d - '0')
                             : hex && d >= 'a' && d <= 'f' ? static_cast<unsigned>(d - 'a' + 10)
                             : hex && d >= 'A' && d <= 'F' ? static_cast<unsigned>(d - 'A' + 10)
                                                           : 1000;
            if (digit == 1000) {
              code = 0;
              break;
            }
            code = code * (hex ? 16 : 10) + digit;
            if (code > 0x10FFFF) break;
          }
          if (code > 0 && code < 0x80) {
            decoded = static_cast<char>(code);
          } else if (code >= 0x80 && code <= 0x10FFFF) {
            append_utf8(out, code);
            i = semi;
            continue;
          }
        }
        if (decoded) {
          out += decoded;
          i = semi;
          continue;
        }
      }
    }
    out += c;
  }
  return out;
}

}  // namespace gw::consent::detail
