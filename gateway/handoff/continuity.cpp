// Continuity facts of a handoff (contract at continuity_facts in
// handoff.hpp). The delays are counted in calendar days from the dates as
// written: the buckets are a week wide at their finest, so a time zone
// that moves a date by one day at most moves a handoff to the next bucket,
// and no time-zone table is needed in a domain module.
#include "gateway/handoff/handoff.hpp"

#include <array>
#include <chrono>
#include <charconv>

namespace gw::handoff {

namespace {

constexpr std::string_view kInterpreterRequired =
    "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired";

constexpr std::array<std::string_view, 7> kBuckets = {"0-7d", "8-14d", "15-30d", "31-90d",
                                                     "over-90d", "none", "unknown"};

// Days since the epoch of a FHIR date/dateTime/instant's date part; nullopt
// for anything that does not start with a full YYYY-MM-DD.
std::optional<std::int64_t> day_of(std::string_view text) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto number = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    int v = 0;
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + n, v);
    if (ec != std::errc() || end != text.data() + at + n) return std::nullopt;
    return v;
  };
  auto y = number(0, 4), m = number(5, 2), d = number(8, 2);
  if (!y || !m || !d) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(*y), std::chrono::month(static_cast<unsigned>(*m)),
                                        std::chrono::day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd).time_since_epoch().count();
}

// Calls `fn(resource, fullUrl)` for each entry resource of `bundle`.
template <class Fn>
void each_resource(json::Value bundle, Fn&& fn) {
  const json::Value entries = bundle.find("entry");
  for (std::size_t i = 0; entries.is_array() && i < entries.size(); ++i) {
    const json::Value resource = entries[i].find("resource");
    if (resource.is_object()) fn(resource, entries[i].find("fullUrl").str());
  }
}

bool names(std::string_view reference, std::string_view full_url, json::Value resource) {
  if (reference.empty()) return false;
  if (!full_url.empty() && reference == full_url) return true;
  const std::string_view id = resource.find("id").str();
  const std::string_view type = resource.find("resourceType").str();
  return !id.empty() && reference.size() == type.size() + 1 + id.size() && reference.starts_with(type) &&
         reference[type.size()] == '/' && reference.ends_with(id);
}

std::optional<std::int64_t> discharge_day(json::Value source) {
  std::string_view encounter_ref;
  each_resource(source, [&](json::Value r, std::string_view) {
    if (encounter_ref.empty() && r.find("resourceType").str() == "Composition") {
      encounter_ref = r.find("encounter").find("reference").str();
    }
  });
  std::optional<std::int64_t> named, first;
  each_resource(source, [&](json::Value r, std::string_view full_url) {
    if (r.find("resourceType").str() != "Encounter") return;
    const auto end = day_of(r.find("period").find("end").str());
    if (!end) return;
    if (!first) first = end;
    if (!named && names(encounter_ref, full_url, r)) named = end;
  });
  return named ? named : first;
}

}  // namespace

ContinuityFacts continuity_facts(json::Value handoff_document, json::Value source) {
  ContinuityFacts f;
  const auto discharge = discharge_day(source);
  f.discharge_known = discharge.has_value();
  each_resource(handoff_document, [&](json::Value r, std::string_view) {
    const std::string_view type = r.find("resourceType").str();
    if (type == "Immunization") {
      f.immunizations = true;
    } else if (type == "Patient") {
      const json::Value ext = r.find("extension");
      for (std::size_t i = 0; ext.is_array() && i < ext.size(); ++i) {
        if (ext[i].find("url").str() == kInterpreterRequired && ext[i].find("valueBoolean").boolean()) {
          f.interpreter = true;
        }
      }
    } else if (type == "Appointment" && discharge) {
      const std::string_view status = r.find("status").str();
      if (status == "cancelled" || status == "noshow" || status == "entered-in-error") return;
      const auto start = day_of(r.find("start").str());
      if (!start || *start < *discharge) return;
      const std::int64_t days = *start - *discharge;
      if (!f.days_to_follow_up || days < *f.days_to_follow_up) f.days_to_follow_up = days;
    }
  });
  return f;
}

std::string_view follow_up_bucket(const ContinuityFacts& facts) noexcept {
  if (!facts.discharge_known) return "unknown";
  if (!facts.days_to_follow_up) return "none";
  const std::int64_t d = *facts.days_to_follow_up;
  if (d <= 7) return "0-7d";
  if (d <= 14) return "8-14d";
  if (d <= 30) return "15-30d";
  if (d <= 90) return "31-90d";
  return "over-90d";
}

std::span<const std::string_view> follow_up_buckets() noexcept { return kBuckets; }

}  // namespace gw::handoff
