// The cache directory: where it is, what it holds, and the names of its
// package folders.
#include "gateway/packages/packages.hpp"

#include "gateway/packages/detail/files.hpp"
#include "gateway/packages/detail/index.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace gw::packages {
namespace {

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

// A package id part becomes a directory name: keep it to a safe alphabet and
// refuse anything that could climb out of the cache.
bool valid_part(std::string_view s, bool is_version) {
  if (s.empty() || s.size() > 128 || s.front() == '.' || s.front() == '-') return false;
  if (s.find("..") != std::string_view::npos) return false;
  for (char c : s) {
    if (!is_name_char(c) && !(is_version && c == '+')) return false;
  }
  return true;
}

// Splits a version into parts at '.', '-' and '+'.
std::vector<std::string_view> version_parts(std::string_view v) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= v.size(); ++i) {
    if (i == v.size() || v[i] == '.' || v[i] == '-' || v[i] == '+') {
      parts.push_back(v.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

Result<PackageId> PackageId::parse(std::string_view text) {
  std::size_t hash = text.find('#');
  if (hash == std::string_view::npos || text.find('#', hash + 1) != std::string_view::npos) {
    return fail(ErrorCode::kInvalidArgument, "package id must be written name#version");
  }
  std::string_view name = text.substr(0, hash);
  std::string_view version = text.substr(hash + 1);
  if (!valid_part(name, false) || !valid_part(version, true)) {
    return fail(ErrorCode::kInvalidArgument,
                "package id has an empty part or characters outside [A-Za-z0-9._-]");
  }
  return PackageId{std::string(name), std::string(version)};
}

std::string resolve_cache_dir(std::string_view flag_value) {
  if (!flag_value.empty()) return std::string(flag_value);
  if (const char* env = std::getenv("FHIR_PACKAGE_CACHE"); env && *env) return env;
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home) + "/.fhir/packages";
  }
  return ".fhir/packages";
}

int compare_versions(std::string_view a, std::string_view b) {
  std::vector<std::string_view> pa = version_parts(a);
  std::vector<std::string_view> pb = version_parts(b);
  for (std::size_t i = 0; i < pa.size() && i < pb.size(); ++i) {
    if (all_digits(pa[i]) && all_digits(pb[i])) {
      // Compare as numbers without overflow: strip leading zeros, then a
      // longer digit string is larger.
      std::string_view x = pa[i].substr(std::min(pa[i].find_first_not_of('0'), pa[i].size()));
      std::string_view y = pb[i].substr(std::min(pb[i].find_first_not_of('0'), pb[i].size()));
      if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
      if (int c = x.compare(y); c != 0) return c < 0 ? -1 : 1;
    } else if (int c = pa[i].compare(pb[i]); c != 0) {
      return c < 0 ? -1 : 1;
    }
  }
  if (pa.size() == pb.size()) return 0;
  return pa.size() < pb.size() ? -1 : 1;
}

bool is_installed(const std::string& cache_dir, const PackageId& id) {
  std::string dir = cache_dir + "/" + id.to_string() + "/package/";
  return detail::is_regular_file(dir + "package.json") &&
         detail::is_regular_file(dir + std::string(detail::kIndexFile));
}

Result<std::vector<InstalledPackage>> list_installed(const std::string& cache_dir) {
  std::vector<InstalledPackage> found;
  if (!detail::is_directory(cache_dir)) return found;
  GW_TRY(std::vector<std::string> names, detail::list_dir(cache_dir));
  for (const std::string& name : names) {
    if (name.empty() || name.front() == '.') continue;
    auto id = PackageId::parse(name);
    if (!id) continue;  // not a package folder
    InstalledPackage p;
    p.id = std::move(*id);
    p.path = cache_dir + "/" + name;
    std::string pkg = p.path + "/package/";
    if (!detail::is_regular_file(pkg + "package.json")) continue;
    std::string index = pkg + std::string(detail::kIndexFile);
    if (detail::is_regular_file(index)) {
      GW_TRY(std::vector<detail::IndexEntry> entries, detail::read_index(index));
      p.indexed = true;
      p.resource_count = entries.size();
    }
    found.push_back(std::move(p));
  }
  std::sort(found.begin(), found.end(), [](const InstalledPackage& a, const InstalledPackage& b) {
    if (a.id.name != b.id.name) return a.id.name < b.id.name;
    return compare_versions(a.id.version, b.id.version) < 0;
  });
  return found;
}

}  // namespace gw::packages
