#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <unistd.h>

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

bool have_chromium() { return ::access("/usr/bin/chromium", X_OK) == 0; }

std::string chromium_dump_dom(const std::string& html_file, const std::string& scratch_dir) {
  const std::string profile = scratch_dir + "/chromium-profile";
  const std::string dom = scratch_dir + "/chromium-dom.html";
  const std::string cmd =
      "timeout 60 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic "
      "--no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync --user-data-dir=" +
      profile + " --dump-dom file://" + html_file + " >" + dom + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) return {};
  return read_file(dom);
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
  packages::LoadOptions options;
  options.cache_dir = package_cache_dir();
  for (std::string_view id : packages::kDefaultPackages) options.packages.emplace_back(id);
  auto registry = packages::Registry::load(options);
  if (!registry) {
    ADD_FAILURE() << registry.error().to_string();
    return nullptr;
  }
  out->registry = *registry;
  auto model = fhir::Model::from_registry(*out->registry);
  if (!model) {
    ADD_FAILURE() << model.error().to_string();
    return nullptr;
  }
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
