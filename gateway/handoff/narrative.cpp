// Generated narrative. A receiving clinician reads the Composition's text
// first, so it must say exactly what the structured entries say: it is
// rendered here from coded data, statuses and dates, never copied from the
// sender's narrative (which nobody can check against the data, and which may
// carry what consent redaction removes from the structure). Everything
// written is XML-escaped; the markup is the small subset FHIR narrative
// allows (div, p, ul, li).
#include "gateway/handoff/detail/narrative.hpp"
#include "gateway/core/html.hpp"

namespace gw::handoff::detail {

namespace {

constexpr std::string_view kDivOpen = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";
constexpr std::size_t kMaxText = 200;  // one summary part; longer data is cut

std::string clip(std::string_view s) {
  if (s.size() <= kMaxText) return std::string(s);
  std::size_t n = kMaxText;
  // Do not cut a UTF-8 sequence in half.
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "...";
}

std::string human_name(json::Value names) {
  json::Value n = names.is_array() ? names[0] : json::Value();
  if (!n.is_object()) return {};
  if (n.find("text").is_string()) return clip(n.find("text").str());
  std::string out;
  for (json::Value g : n.find("given").items()) {
    if (!g.is_string()) continue;
    if (!out.empty()) out += ' ';
    out += g.str();
  }
  if (n.find("family").is_string()) {
    if (!out.empty()) out += ' ';
    out += n.find("family").str();
  }
  return clip(out);
}

std::string first_concept(json::Value v) {
  if (v.is_array()) {
    for (json::Value c : v.items()) {
      std::string t = concept_text(c);
      if (!t.empty()) return t;
    }
    return {};
  }
  return concept_text(v);
}

std::string when(json::Value r) {
  static constexpr std::string_view kDates[] = {"onsetDateTime",
                                                "occurrenceDateTime",
                                                "performedDateTime",
                                                "effectiveDateTime",
                                                "start",
                                                "authoredOn",
                                                "recordedDate",
                                                "issued",
                                                "dateAsserted",
                                                "date"};
  for (std::string_view k : kDates) {
    json::Value v = r.find(k);
    if (v.is_string()) return std::string(v.str());
  }
  static constexpr std::string_view kPeriods[] = {"effectivePeriod", "performedPeriod",
                                                  "onsetPeriod", "period", "occurrencePeriod"};
  for (std::string_view k : kPeriods) {
    json::Value v = r.find(k).find("start");
    if (v.is_string()) return "from " + std::string(v.str());
  }
  return {};
}

std::string observation_value(json::Value r) {
  json::Value q = r.find("valueQuantity");
  if (q.is_object() && q.find("value").is_number()) {
    std::string out(q.find("value").str());
    json::Value unit = q.find("unit").is_string() ? q.find("unit") : q.find("code");
    if (unit.is_string()) out += " " + clip(unit.str());
    return out;
  }
  if (json::Value c = r.find("valueCodeableConcept"); c.is_object()) return concept_text(c);
  if (json::Value s = r.find("valueString"); s.is_string()) return clip(s.str());
  if (json::Value b = r.find("valueBoolean"); b.is_bool()) return b.boolean() ? "yes" : "no";
  return {};
}

}  // namespace

std::string concept_text(json::Value cc) {
  if (!cc.is_object()) return {};
  if (json::Value t = cc.find("text"); t.is_string() && !t.str().empty()) return clip(t.str());
  for (json::Value c : cc.find("coding").items()) {
    if (json::Value d = c.find("display"); d.is_string() && !d.str().empty()) return clip(d.str());
  }
  for (json::Value c : cc.find("coding").items()) {
    if (json::Value d = c.find("code"); d.is_string() && !d.str().empty()) return clip(d.str());
  }
  return {};
}

std::string summarize(json::Value r, const Resolver& resolve) {
  std::string_view type = r.find("resourceType").str();
  std::string what;
  if (type == "Patient" || type == "Practitioner" || type == "RelatedPerson" || type == "Person") {
    what = human_name(r.find("name"));
  } else if (json::Value n = r.find("name"); n.is_string()) {
    what = clip(n.str());
  }
  if (what.empty()) {
    json::Value med = r.find("medicationCodeableConcept");
    if (med.is_object()) {
      what = concept_text(med);
    } else if (json::Value ref = r.find("medicationReference"); ref.is_object()) {
      json::Value m =
          ref.find("reference").is_string() ? resolve(ref.find("reference").str()) : json::Value();
      if (m) what = concept_text(m.find("code"));
      if (what.empty() && ref.find("display").is_string()) what = clip(ref.find("display").str());
    }
  }
  static constexpr std::string_view kWhat[] = {
      "code", "vaccineCode", "serviceType", "appointmentType", "category", "type"};
  for (std::string_view k : kWhat) {
    if (!what.empty()) break;
    what = first_concept(r.find(k));
  }
  if (what.empty() && r.find("title").is_string()) what = clip(r.find("title").str());
  if (what.empty() && r.find("description").is_string()) what = clip(r.find("description").str());
  if (what.empty()) what = "(not coded)";

  std::string out = std::string(type) + ": " + what;
  if (type == "Observation") {
    std::string v = observation_value(r);
    if (!v.empty()) out += " = " + v;
  }
  std::string status = concept_text(r.find("clinicalStatus"));
  if (status.empty() && r.find("status").is_string()) status = std::string(r.find("status").str());
  if (!status.empty()) out += "; status " + status;
  if (json::Value c = r.find("criticality"); c.is_string())
    out += "; criticality " + std::string(c.str());
  if (type == "Patient") {
    if (json::Value g = r.find("gender"); g.is_string()) out += "; " + std::string(g.str());
    if (json::Value b = r.find("birthDate"); b.is_string()) out += "; born " + std::string(b.str());
  } else {
    std::string w = when(r);
    if (!w.empty()) out += "; " + w;
  }
  return out;
}

std::vector<std::string> care_needs(json::Value patient) {
  std::vector<std::string> out;
  for (json::Value c : patient.find("communication").items()) {
    std::string lang = concept_text(c.find("language"));
    if (lang.empty()) continue;
    bool preferred = c.find("preferred").boolean();
    out.push_back("Language: " + lang + (preferred ? " (preferred)" : ""));
  }
  // A clinic reading only the narrative must see that these are unknown,
  // as the structured data states with data-absent-reason.
  if (out.empty()) out.emplace_back("Language: unknown (not stated by the sender)");
  bool interpreter = false;
  for (json::Value e : patient.find("extension").items()) {
    if (e.find("url").str() ==
            "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired" &&
        e.find("valueBoolean").is_bool()) {
      out.push_back(std::string("Interpreter required: ") +
                    (e.find("valueBoolean").boolean() ? "yes" : "no"));
      interpreter = true;
    }
  }
  if (!interpreter) out.emplace_back("Interpreter required: unknown (not stated by the sender)");
  return out;
}

std::string div_paragraph(std::string_view text) {
  std::string out(kDivOpen);
  out += "<p>";
  gw::append_html_escaped(out, text);
  out += "</p></div>";
  return out;
}

std::string div_list(std::string_view heading, std::span<const std::string> items) {
  std::string out(kDivOpen);
  if (!heading.empty()) {
    out += "<p>";
    gw::append_html_escaped(out, heading);
    out += "</p>";
  }
  if (!items.empty()) {
    out += "<ul>";
    for (const std::string& i : items) {
      out += "<li>";
      gw::append_html_escaped(out, i);
      out += "</li>";
    }
    out += "</ul>";
  }
  out += "</div>";
  return out;
}

}  // namespace gw::handoff::detail
