#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace gw::testing {

namespace fs = std::filesystem;

std::string package_cache_dir() {
  if (const char* env = std::getenv("FHIR_PACKAGE_CACHE"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.fhir/packages";
}

std::string package_dir(const std::string& id) {
  fs::path p = fs::path(package_cache_dir()) / id / "package";
  std::error_code ec;
  return fs::is_directory(p, ec) ? p.string() : std::string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string source_dir() {
#ifdef GW_SOURCE_DIR
  return GW_SOURCE_DIR;
#else
  return ".";
#endif
}

namespace {

std::unique_ptr<CoreDefinitions> load_core() {
  auto out = std::make_unique<CoreDefinitions>();
  std::string dir = package_dir("hl7.fhir.r4.core#4.0.1");
  if (!dir.empty()) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir)) {
      std::string name = e.path().filename().string();
      if (name.rfind("StructureDefinition-", 0) == 0) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto doc = json::Document::parse_file(f.string());
      if (!doc) return nullptr;
      out->documents.push_back(std::move(*doc));
    }
  } else if (const char* bundles = std::getenv("GW_R4_BUNDLE_DIR"); bundles && *bundles) {
    // Development fallback: HL7's definition bundles, before the cache exists.
    for (const char* f : {"profiles-types.json", "profiles-resources.json"}) {
      auto doc = json::Document::parse_file(std::string(bundles) + "/" + f);
      if (!doc) return nullptr;
      out->documents.push_back(std::move(*doc));
    }
  } else {
    return nullptr;
  }
  std::vector<json::Value> sds;
  for (const auto& d : out->documents) {
    json::Value root = d.root();
    if (root.find("resourceType").str() == "Bundle") {
      for (json::Value e : root.find("entry").items()) sds.push_back(e.find("resource"));
    } else {
      sds.push_back(root);
    }
  }
  auto model = fhir::Model::build(sds);
  if (!model) return nullptr;
  out->model = *model;
  return out;
}

}  // namespace

const CoreDefinitions* core_definitions() {
  static std::once_flag once;
  static std::unique_ptr<CoreDefinitions> defs;
  std::call_once(once, [] { defs = load_core(); });
  if (!defs) {
    ADD_FAILURE() << "R4 core definitions not found in the FHIR package cache ("
                  << package_cache_dir()
                  << "); run the README's test command, which installs them";
  }
  return defs.get();
}

}  // namespace gw::testing
