#include "test_files.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace gw::packages::test {

namespace fs = std::filesystem;

TempTree::TempTree() {
  std::string pattern = (fs::temp_directory_path() / "gw_packages_test_XXXXXX").string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  root_ = buf.data();
}

TempTree::~TempTree() {
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::string TempTree::path(std::string_view relative) const {
  return root_ + "/" + std::string(relative);
}

std::string TempTree::write(std::string_view relative, std::string_view content) const {
  std::string p = path(relative);
  fs::create_directories(fs::path(p).parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write test file");
  return p;
}

bool TempTree::exists(std::string_view relative) const { return fs::exists(path(relative)); }

std::string resource_json(std::string_view type, std::string_view id, std::string_view url,
                          std::string_view version, std::string_view sd_type) {
  std::string s = "{\n  \"resourceType\": \"" + std::string(type) + "\",\n  \"id\": \"" +
                  std::string(id) + "\"";
  if (!url.empty()) s += ",\n  \"url\": \"" + std::string(url) + "\"";
  if (!version.empty()) s += ",\n  \"version\": \"" + std::string(version) + "\"";
  if (!sd_type.empty()) s += ",\n  \"type\": \"" + std::string(sd_type) + "\"";
  s += "\n}\n";
  return s;
}

std::string package_json(std::string_view name, std::string_view version,
                         std::string_view dependency_members) {
  return "{\"name\": \"" + std::string(name) + "\", \"version\": \"" + std::string(version) +
         "\", \"fhirVersions\": [\"4.0.1\"], \"dependencies\": {" +
         std::string(dependency_members) + "}}\n";
}

int shell(const std::string& command) { return std::system(command.c_str()); }

}  // namespace gw::packages::test
