// Building our own FHIR package (fhir-profiles/) from hand-written
// differential-only sources: the snapshots the gateway loads are generated
// here, checked, and installed into the package cache, so the registry
// loads the package like any package HL7 publishes.
//
// Why here and not in gw::packages: snapshots need the validator's
// generator and plan compiler, and validation already depends on packages.
//
// Steps (each a function below):
//   read_manifest    package.json -> name, version, dependencies
//   load_sources     registry = dependencies from the cache + input folders
//   check_snapshot   base elements kept, differential placed and applied
//   write_package    package.json, <Type>-<id>.json, .index.json
//   install          rename the staged folder into <cache>/<name>#<version>
#include "gateway/packages/packages.hpp"
#include "gateway/validation/validation.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>
#include <unistd.h>
#include <unordered_map>

namespace gw::validation {
namespace {

namespace fs = std::filesystem;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

constexpr std::string_view kHelp =
    "Usage: fhir-gateway packages build SOURCE_DIR [--out DIR] [--fhir-cache DIR] [--no-install]\n"
    "  Generates the snapshots of SOURCE_DIR/input/*/ StructureDefinitions, checks them,\n"
    "  writes the package (package.json, one file per resource, .index.json) to DIR/package\n"
    "  when --out is given, and installs it into the FHIR package cache as name#version.\n";

struct SourceManifest {
  std::string name;
  std::string version;
  std::vector<std::string> dependencies;  // "name#version"
  std::string bytes;                      // package.json as written in the source
};

Result<std::string> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::kNotFound, "cannot read file", path);
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

Status write_bytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return fail(ErrorCode::kIo, "cannot create file", path);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return fail(ErrorCode::kIo, "cannot write file", path);
  return {};
}

Result<SourceManifest> read_manifest(const std::string& source_dir) {
  SourceManifest m;
  std::string path = source_dir + "/package.json";
  GW_TRY(m.bytes, read_bytes(path));
  GW_TRY(json::Document doc, json::Document::parse(m.bytes));
  json::Value root = doc.root();
  m.name = std::string(root.find("name").str());
  m.version = std::string(root.find("version").str());
  GW_TRY(packages::PackageId id, packages::PackageId::parse(m.name + "#" + m.version));
  (void)id;
  json::Value deps = root.find("dependencies");
  for (std::size_t i = 0; deps.is_object() && i < deps.size(); ++i) {
    m.dependencies.push_back(std::string(deps.key(i)) + "#" + std::string(deps[i].str()));
  }
  if (m.dependencies.empty()) return fail(ErrorCode::kParse, "package.json names no dependencies", path);
  return m;
}

// The input folders that belong to the package (examples do not).
Result<std::vector<std::string>> input_folders(const std::string& source_dir) {
  std::error_code ec;
  fs::path input = fs::path(source_dir) / "input";
  if (!fs::is_directory(input, ec)) return fail(ErrorCode::kNotFound, "no input folder", input.string());
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(input, ec)) {
    if (!e.is_directory(ec) || e.path().filename() == "examples") continue;
    out.push_back(e.path().string());
  }
  if (ec) return fail(ErrorCode::kIo, "cannot list the input folder", input.string());
  std::sort(out.begin(), out.end());
  return out;
}

// The resources of one flat folder, parsed, sorted by file name.
Result<std::vector<json::Document>> read_folder(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec) && e.path().extension() == ".json") files.push_back(e.path().string());
  }
  if (ec) return fail(ErrorCode::kIo, "cannot list folder", dir);
  std::sort(files.begin(), files.end());
  std::vector<json::Document> out;
  for (const std::string& f : files) {
    GW_TRY(json::Document doc, json::Document::parse_file(f));
    if (doc.root().find("resourceType").str().empty() || doc.root().find("id").str().empty()) {
      return fail(ErrorCode::kParse, "not a FHIR resource with an id", f);
    }
    out.push_back(std::move(doc));
  }
  return out;
}

std::string compact(json::Value v) {
  json::Writer w;
  w.value(v);
  return std::move(w).take();
}

// A generated snapshot must (1) list every element id of its base's
// snapshot, (2) hold every differential element with the differential's
// values, (3) compile into a plan without load problems.
Status check_snapshot(const Validator& validator, json::Value sd, json::Value generated) {
  std::string url(sd.find("url").str());
  std::set<std::string> ids;
  std::unordered_map<std::string, json::Value> by_id;
  for (json::Value el : generated.find("snapshot").find("element").items()) {
    ids.emplace(el.find("id").str());
    by_id.emplace(std::string(el.find("id").str()), el);
  }
  const packages::Entry* base = validator.registry().find("StructureDefinition", sd.find("baseDefinition").str());
  if (!base) return fail(ErrorCode::kNotFound, "base definition not found", url);
  GW_TRY(json::Value base_sd, base->json());
  json::Value base_elements = base_sd.find("snapshot").find("element");
  std::shared_ptr<const json::Document> base_generated;  // a base of our own package
  if (!base_elements.is_array() || base_elements.size() == 0) {
    GW_TRY(base_generated, validator.generate_snapshot(base_sd));
    base_elements = base_generated->root().find("snapshot").find("element");
  }
  for (json::Value el : base_elements.items()) {
    if (!ids.contains(std::string(el.find("id").str()))) {
      return fail(ErrorCode::kParse, "generated snapshot lacks base element " + std::string(el.find("id").str()),
                  url);
    }
  }
  for (json::Value d : sd.find("differential").find("element").items()) {
    std::string id(d.find("id").str());
    auto it = by_id.find(id);
    if (it == by_id.end()) return fail(ErrorCode::kParse, "differential element not placed: " + id, url);
    for (std::size_t i = 0; i < d.size(); ++i) {
      std::string_view k = d.key(i);
      if (k == "id" || k == "path" || k == "constraint") continue;
      if (compact(it->second.find(k)) != compact(d[i])) {
        return fail(ErrorCode::kParse, "differential property not applied: " + id + " " + std::string(k), url);
      }
    }
  }
  if (Status st = validator.prepare_profile(url); !st) return st;
  for (const LoadProblem& p : validator.load_problems()) {
    if (p.definition == url) {
      return fail(ErrorCode::kParse, "load problem at " + (p.element.empty() ? url : p.element) + ": " + p.message,
                  url);
    }
  }
  return {};
}

Status write_package(const std::string& dir, const SourceManifest& m,
                     const std::vector<std::pair<std::string, std::string>>& files) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot create the package folder", dir);
  GW_CHECK_OK(write_bytes(dir + "/package.json", m.bytes));
  for (const auto& [name, bytes] : files) GW_CHECK_OK(write_bytes(dir + "/" + name, bytes));
  GW_TRY(std::size_t indexed, packages::write_index(dir));
  if (indexed != files.size()) return fail(ErrorCode::kInternal, "index does not list every resource", dir);
  return {};
}

// Stages the package inside the cache (same file system) and renames it
// into place, replacing an older build of the same id.
Result<std::string> install(const std::string& cache_dir, const std::string& id, const SourceManifest& m,
                            const std::vector<std::pair<std::string, std::string>>& files) {
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot create the package cache", cache_dir);
  fs::path stage = fs::path(cache_dir) / ("." + id + ".build-" + std::to_string(::getpid()));
  fs::remove_all(stage, ec);
  Status written = write_package((stage / "package").string(), m, files);
  if (!written) {
    fs::remove_all(stage, ec);
    return written.error();
  }
  fs::path target = fs::path(cache_dir) / id;
  fs::path old = fs::path(cache_dir) / ("." + id + ".old-" + std::to_string(::getpid()));
  if (fs::exists(target, ec)) {
    fs::rename(target, old, ec);
    if (ec) {
      fs::remove_all(stage, ec);
      return fail(ErrorCode::kIo, "cannot move the previous build aside", target.string());
    }
  }
  fs::rename(stage, target, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot install the package", target.string());
  fs::remove_all(old, ec);
  return target.string();
}

}  // namespace

Result<PackageBuildResult> build_package(const PackageBuildOptions& options) {
  GW_TRY(SourceManifest manifest, read_manifest(options.source_dir));
  GW_TRY(std::vector<std::string> folders, input_folders(options.source_dir));

  packages::LoadOptions load;
  load.cache_dir = options.cache_dir;
  load.packages = manifest.dependencies;
  load.extra_paths = folders;
  GW_TRY(auto registry, packages::Registry::load(load));
  std::shared_ptr<const fhir::Model> model = options.model;
  if (!model) {
    GW_TRY(model, fhir::Model::from_registry(*registry));
  }
  GW_TRY(auto validator, Validator::create(registry, model));

  PackageBuildResult result;
  result.id = manifest.name + "#" + manifest.version;
  std::vector<std::pair<std::string, std::string>> files;  // file name, bytes
  std::set<std::string> names;
  for (const std::string& folder : folders) {
    GW_TRY(std::vector<json::Document> docs, read_folder(folder));
    for (const json::Document& doc : docs) {
      json::Value root = doc.root();
      std::string type(root.find("resourceType").str());
      std::string name = type + "-" + std::string(root.find("id").str()) + ".json";
      if (!names.insert(name).second) return fail(ErrorCode::kParse, "two resources with the same type and id", name);
      json::Writer w(true);
      if (type == "StructureDefinition") {
        GW_TRY(auto generated, validator->generate_snapshot(root));
        GW_CHECK_OK(check_snapshot(*validator, root, generated->root()));
        w.value(generated->root());
        ++result.profiles;
      } else {
        w.value(root);
      }
      files.emplace_back(std::move(name), std::move(w).take());
    }
  }
  result.resources = files.size();
  if (!options.out_dir.empty()) GW_CHECK_OK(write_package(options.out_dir + "/package", manifest, files));
  if (options.install) {
    GW_TRY(result.installed_path, install(options.cache_dir, result.id, manifest, files));
  }
  return result;
}

int run_package_build_command(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  PackageBuildOptions options;
  std::string_view cache_flag;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    auto value = [&](std::string_view& into) {
      if (i + 1 >= args.size()) return false;
      into = args[++i];
      return true;
    };
    std::string_view v;
    if (a == "--help" || a == "-h") {
      out << kHelp;
      return kExitOk;
    } else if (a == "--out") {
      if (!value(v)) return err << "packages build: --out needs a value\n" << kHelp, kExitUsage;
      options.out_dir = std::string(v);
    } else if (a == "--fhir-cache") {
      if (!value(cache_flag)) return err << "packages build: --fhir-cache needs a value\n" << kHelp, kExitUsage;
    } else if (a == "--no-install") {
      options.install = false;
    } else if (a.size() > 1 && a[0] == '-') {
      err << "packages build: unknown option " << a.substr(0, 64) << "\n" << kHelp;
      return kExitUsage;
    } else if (options.source_dir.empty()) {
      options.source_dir = std::string(a);
    } else {
      err << "packages build: more than one SOURCE_DIR\n" << kHelp;
      return kExitUsage;
    }
  }
  if (options.source_dir.empty()) {
    err << "packages build: no SOURCE_DIR given\n" << kHelp;
    return kExitUsage;
  }
  options.cache_dir = packages::resolve_cache_dir(cache_flag);
  auto built = build_package(options);
  if (!built) {
    err << "packages build: " << built.error().to_string() << "\n";
    return kExitFailed;
  }
  out << "built " << built->id << ": " << built->resources << " resources, " << built->profiles
      << " snapshots generated";
  if (!built->installed_path.empty()) out << ", installed in " << built->installed_path;
  out << "\n";
  return kExitOk;
}

}  // namespace gw::validation
