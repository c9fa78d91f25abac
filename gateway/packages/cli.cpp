// `fhir-gateway packages ...`: argument parsing and output of the list and
// install commands. The lead's app/main.cpp routes "packages" here.
#include "gateway/packages/packages.hpp"

#include <iomanip>
#include <map>
#include <optional>
#include <ostream>

namespace gw::packages {
namespace {

constexpr std::string_view kUsage =
    "usage: fhir-gateway packages <command> [options]\n"
    "\n"
    "commands:\n"
    "  list [--fhir-cache DIR]\n"
    "      list the packages in the cache with their resource counts\n"
    "  list --loaded [--fhir-cache DIR] [--ig PATH]... [NAME#VERSION...]\n"
    "      load packages (default: hl7.fhir.r4.core#4.0.1 hl7.fhir.uv.ips#2.0.0) with\n"
    "      their dependencies and print what was loaded and any warnings\n"
    "  install [--fhir-cache DIR] [--manifest FILE]\n"
    "      fetch, verify (sha512 from the lockfile) and install the pinned packages\n"
    "      of FILE (default: config/packages/package.json) that are not installed yet\n"
    "\n"
    "The cache is --fhir-cache DIR, else $FHIR_PACKAGE_CACHE, else ~/.fhir/packages.\n"
    "Exit codes: 0 success, 1 failure, 2 usage error.\n";

constexpr int kOk = 0;
constexpr int kFailure = 1;
constexpr int kUsageError = 2;

struct Args {
  std::string command;
  std::string cache;
  std::string manifest;
  bool loaded = false;
  bool help = false;
  std::vector<std::string> ig;
  std::vector<std::string> positional;
};

// Parses args; returns a usage error message, or nullopt on success.
std::optional<std::string> parse_args(std::span<const std::string_view> args, Args& a) {
  std::size_t i = 0;
  if (i < args.size() && !args[i].starts_with("-")) a.command = std::string(args[i++]);
  for (; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      a.help = true;
      continue;
    }
    if (!arg.starts_with("-")) {
      a.positional.emplace_back(arg);
      continue;
    }
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (std::size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (name == "--loaded" && !value) {
      a.loaded = true;
      continue;
    }
    std::string* target = nullptr;
    if (name == "--fhir-cache") target = &a.cache;
    if (name == "--manifest") target = &a.manifest;
    if (name == "--ig") target = &a.ig.emplace_back();
    if (!target) return "unknown option " + std::string(name);
    if (!value) {
      if (i + 1 >= args.size()) return "option " + std::string(name) + " needs a value";
      value = args[++i];
    }
    if (value->empty()) return "option " + std::string(name) + " needs a value";
    *target = std::string(*value);
  }
  if (a.command == "help") a.help = true;
  return std::nullopt;
}

int usage_error(std::ostream& err, const std::string& message) {
  err << "error: " << message << "\n\n" << kUsage;
  return kUsageError;
}

int failure(std::ostream& err, const Error& e) {
  err << "error: " << e.to_string() << "\n";
  return kFailure;
}

int list_installed_command(const Args& a, std::ostream& out, std::ostream& err) {
  std::string cache = resolve_cache_dir(a.cache);
  auto found = list_installed(cache);
  if (!found) return failure(err, found.error());
  if (found->empty()) {
    out << "no packages in " << cache << "; run `fhir-gateway packages install`\n";
    return kOk;
  }
  out << "cache: " << cache << "\n";
  for (const InstalledPackage& p : *found) {
    out << std::left << std::setw(40) << p.id.to_string() << " ";
    if (p.indexed) {
      out << std::right << std::setw(6) << p.resource_count << " resources\n";
    } else {
      out << "not indexed (no .index.json)\n";
    }
  }
  return kOk;
}

int list_loaded_command(const Args& a, std::ostream& out, std::ostream& err) {
  LoadOptions opt;
  opt.cache_dir = resolve_cache_dir(a.cache);
  opt.packages = a.positional;
  if (opt.packages.empty()) {
    for (std::string_view p : kDefaultPackages) opt.packages.emplace_back(p);
  }
  opt.extra_paths = a.ig;
  auto reg = Registry::load(opt);
  if (!reg) return failure(err, reg.error());
  const Registry& r = **reg;
  for (const LoadedPackage& p : r.packages()) {
    out << std::left << std::setw(40) << p.id.to_string() << " " << std::right << std::setw(6)
        << p.resource_count << " resources  ";
    if (p.required_by.empty()) {
      out << "requested";
    } else {
      out << "for " << p.required_by;
      if (!p.substituted_for.empty()) out << " (which names " << p.substituted_for << ")";
    }
    out << "\n";
  }
  for (const std::string& path : a.ig) out << "extra path: " << path << "\n";
  for (const LoadWarning& w : r.warnings()) out << "warning: " << w.message << "\n";
  out << "loaded " << r.packages().size() << " packages, " << r.size() << " resources:";
  for (std::string_view type : {"StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter",
                                "OperationDefinition", "ConceptMap"}) {
    out << " " << r.all(type).size() << " " << type;
  }
  out << "\n";
  return kOk;
}

int install_command(const Args& a, std::ostream& out, std::ostream& err) {
  std::string manifest_path = a.manifest.empty() ? std::string(kDefaultManifest) : a.manifest;
  auto manifest = Manifest::load(manifest_path);
  if (!manifest) return failure(err, manifest.error());
  InstallOptions opt;
  opt.cache_dir = resolve_cache_dir(a.cache);
  opt.progress = [&out](std::string_view line) { out << line << "\n" << std::flush; };
  out << "cache: " << opt.cache_dir << "\n";
  auto items = install(*manifest, opt);
  if (!items) return failure(err, items.error());
  std::size_t fetched = 0;
  for (const InstallItem& item : *items) {
    if (item.fetched) ++fetched;
    if (!item.skipped.empty()) {
      out << "note: " << item.skipped.size() << " JSON file(s) of "
          << item.installed_as.to_string() << " are not FHIR resources and were not indexed\n";
    }
  }
  out << items->size() << " packages pinned: " << fetched << " installed, "
      << items->size() - fetched << " already present\n";
  return kOk;
}

}  // namespace

int run_packages_command(std::span<const std::string_view> args, std::ostream& out,
                         std::ostream& err) {
  Args a;
  if (auto problem = parse_args(args, a)) return usage_error(err, *problem);
  if (a.help) {
    out << kUsage;
    return kOk;
  }
  if (a.command.empty()) return usage_error(err, "missing command");
  if (a.command == "list") {
    if (!a.manifest.empty()) return usage_error(err, "list does not take --manifest");
    if (!a.loaded && (!a.positional.empty() || !a.ig.empty())) {
      return usage_error(err, "package names and --ig need --loaded");
    }
    return a.loaded ? list_loaded_command(a, out, err) : list_installed_command(a, out, err);
  }
  if (a.command == "install") {
    if (a.loaded || !a.ig.empty() || !a.positional.empty()) {
      return usage_error(err, "install takes only --fhir-cache and --manifest");
    }
    return install_command(a, out, err);
  }
  return usage_error(err, "unknown command '" + a.command + "'");
}

}  // namespace gw::packages
