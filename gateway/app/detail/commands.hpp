// Commands implemented inside the app module. Each takes the arguments after
// its name and returns an exit code (see app.hpp).
#pragma once

#include "gateway/core/core.hpp"

#include <memory>
#include <ostream>
#include <span>
#include <string_view>

namespace gw::packages {
class Registry;
}
namespace gw::fhir {
class Model;
}

namespace gw::app::detail {

/// R4 core + IPS from the package cache ($FHIR_PACKAGE_CACHE or
/// ~/.fhir/packages), with our migrant-care package when asked, and the
/// element model of the base types.
struct Definitions {
  std::shared_ptr<const packages::Registry> registry;
  std::shared_ptr<const fhir::Model> model;
};
Result<Definitions> load_definitions(bool with_migrant_care = false);

/// `fhir-gateway fhirpath EXPRESSION FILE [--var name=value]...`: loads the
/// R4 model from the package cache and hands over to the FHIRPath module.
int run_fhirpath(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

/// `fhir-gateway packages ...`: `build` goes to the validation module (it
/// generates snapshots), everything else to the packages module.
int run_packages(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

/// `fhir-gateway handoff ...` (handoff module) with the R4 model, the clock
/// and random UUIDs.
int run_handoff(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

/// `fhir-gateway redact ...` (consent module) with the R4 model and the clock.
int run_redact(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

/// `fhir-gateway serve ...` (http module) with the validator behind $validate.
int run_serve(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

/// `fhir-gateway sign ...` / `verify ...` (signing module) with the system clock.
int run_sign(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
int run_verify(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

/// `fhir-gateway audit verify|export ...` (store module) with the system clock.
int run_audit(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

/// `fhir-gateway conformance list|run|receiver ...` (conformance module)
/// with the definitions and an HTTPS transport over the forward client.
int run_conformance(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace gw::app::detail
