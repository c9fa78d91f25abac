// The Model from a registry: every StructureDefinition whose derivation is a
// specialization (or absent), i.e. the base types. Profiles are constraints
// on those and are the validator's business.
#include "gateway/fhir/fhir.hpp"
#include "gateway/packages/packages.hpp"

namespace gw::fhir {

Result<std::shared_ptr<const Model>> Model::from_registry(const packages::Registry& registry) {
  std::vector<json::Value> sds;
  for (const packages::Entry* e : registry.all("StructureDefinition")) {
    // The index does not carry `derivation`; only core's own definitions are
    // base types, so parse just those (and skip e.g. IPS profiles unread).
    if (e->url().rfind("http://hl7.org/fhir/StructureDefinition/", 0) != 0) continue;
    GW_TRY(json::Value sd, e->json());
    if (sd.find("derivation").str() == "constraint") continue;
    sds.push_back(sd);
  }
  return build(sds);
}

}  // namespace gw::fhir
