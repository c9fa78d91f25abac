// The command table. Each command is a function taking its own arguments
// (after the command name); the module that owns the behaviour owns its
// option parsing too where it has one (packages, validate, fhirpath), so
// this file stays a table and a help text.
#include "gateway/app/app.hpp"

#include "gateway/app/detail/commands.hpp"
#include "gateway/forward/forward.hpp"
#include "gateway/packages/packages.hpp"
#include "gateway/validation/validation.hpp"

#include <string>

namespace gw::app {

namespace {

constexpr std::string_view kVersion = "0.1.0";

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
};

const Command kCommands[] = {
    {"audit", "verify or export the hash-chained audit trail (store)", detail::run_audit},
    {"clinic-sim", "run a simulated clinic endpoint (tests, demo)", forward::run_clinic_sim_command},
    {"conformance", "run conformance TestScripts against a gateway or clinic endpoint",
     detail::run_conformance},
    {"fhirpath", "evaluate a FHIRPath expression against a resource", detail::run_fhirpath},
    {"forward", "deliver the outbox to the recipients (until SIGTERM)", forward::run_forward_command},
    {"handoff", "map a bundle to the HandoffDocument that travels with the patient",
     detail::run_handoff},
    {"outbox", "list delivery queues and dead letters; replay dead letters", forward::run_outbox_command},
    {"packages", "list, install and build FHIR packages (pinned, checksummed)", detail::run_packages},
    {"redact", "apply consent filters to a bundle for one recipient and purpose", detail::run_redact},
    {"serve", "run the HTTPS FHIR gateway", detail::run_serve},
    {"sign", "sign a FHIR Bundle (Bundle.signature, detached JWS)", detail::run_sign},
    {"validate", "validate FHIR resources and bundles against R4 and profiles",
     validation::run_validate_command},
    {"verify", "check the Bundle.signature of a FHIR Bundle", detail::run_verify},
    {"version", "print the version", nullptr},
};

void print_help(std::ostream& out) {
  out << "fhir-gateway " << kVersion << " - continuity-of-care record exchange gateway (FHIR R4)\n\n"
      << "Usage: fhir-gateway <command> [options]\n"
      << "       fhir-gateway <command> --help\n\n"
      << "Commands:\n";
  for (const Command& c : kCommands) {
    out << "  " << c.name << std::string(12 - c.name.size(), ' ') << c.summary << "\n";
  }
  out << "\nGlobal environment:\n"
      << "  FHIR_PACKAGE_CACHE   FHIR package cache (default ~/.fhir/packages)\n\n"
      << "Exit codes:\n"
      << "  0  success\n"
      << "  1  the command found a problem (invalid resource, failed install)\n"
      << "  2  usage error or internal error\n";
}

}  // namespace

int run(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h" || args[1] == "help") {
    print_help(args.size() < 2 ? err : out);
    return args.size() < 2 ? kExitUsage : kExitOk;
  }
  if (args[1] == "--version" || args[1] == "version") {
    out << "fhir-gateway " << kVersion << "\n";
    return kExitOk;
  }
  for (const Command& c : kCommands) {
    if (c.name == args[1] && c.run) return c.run(args.subspan(2), out, err);
  }
  err << "fhir-gateway: unknown command '" << std::string(args[1].substr(0, 40))
      << "' (see fhir-gateway --help)\n";
  return kExitUsage;
}

}  // namespace gw::app
