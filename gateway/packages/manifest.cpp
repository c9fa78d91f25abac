// The pinned package set: npm's package.json + package-lock.json pair, so
// that `npm` itself can read, update and audit the same files. We read only
// what pinning needs: the dependency names, their exact versions, and each
// tarball's sha512 integrity.
#include "gateway/packages/packages.hpp"

#include "gateway/packages/detail/files.hpp"
#include "gateway/packages/detail/names.hpp"

#include <cctype>
#include <filesystem>

namespace gw::packages {
namespace {

bool npm_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

}  // namespace

namespace detail {

bool valid_npm_name(std::string_view name) {
  if (name.empty() || name.size() > 214) return false;
  std::string_view rest = name;
  if (rest.front() == '@') {
    std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash < 2) return false;
    std::string_view scope = rest.substr(1, slash - 1);
    for (char c : scope) {
      if (!npm_name_char(c)) return false;
    }
    if (scope.front() == '.' || scope.front() == '-') return false;
    rest = rest.substr(slash + 1);
  }
  if (rest.empty() || rest.front() == '.' || rest.front() == '-' || rest.front() == '_') return false;
  for (char c : rest) {
    if (!npm_name_char(c)) return false;
  }
  return true;
}

bool exact_version(std::string_view v) {
  if (v.empty() || v.size() > 64 || !std::isdigit(static_cast<unsigned char>(v.front()))) {
    return false;
  }
  for (char c : v) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+') {
      return false;
    }
  }
  return true;
}

}  // namespace detail

namespace {

using detail::exact_version;
using detail::valid_npm_name;

// The sha512 member of an SRI string (which may list several hashes).
std::string sha512_of_sri(std::string_view sri) {
  std::size_t pos = 0;
  while (pos < sri.size()) {
    std::size_t end = sri.find(' ', pos);
    if (end == std::string_view::npos) end = sri.size();
    std::string_view token = sri.substr(pos, end - pos);
    if (token.rfind("sha512-", 0) == 0 && token.size() > 7) return std::string(token);
    pos = end + 1;
  }
  return {};
}

Error at(const json::Value& v, const std::string& file, std::string message, ErrorCode code) {
  json::Position p = v.position();
  return Error(code, std::move(message),
               file + ": line " + std::to_string(p.line) + ", column " + std::to_string(p.column));
}

}  // namespace

Result<Manifest> Manifest::load(const std::string& manifest_path) {
  // Either file of the pair, or the folder holding them, names the manifest.
  std::filesystem::path given(manifest_path);
  std::filesystem::path folder = detail::is_directory(manifest_path) ? given : given.parent_path();
  std::string package_json_path =
      given.filename() == "package-lock.json" || detail::is_directory(manifest_path)
          ? (folder / "package.json").string()
          : manifest_path;
  std::string lock_path = (folder / "package-lock.json").string();
  if (!detail::is_regular_file(package_json_path)) {
    return fail(ErrorCode::kNotFound, "package manifest not found", package_json_path);
  }
  if (!detail::is_regular_file(lock_path)) {
    return fail(ErrorCode::kNotFound, "lockfile not found beside the manifest", lock_path);
  }
  GW_TRY(json::Document manifest, json::Document::parse_file(package_json_path));
  GW_TRY(json::Document lock, json::Document::parse_file(lock_path));

  json::Value deps = manifest.root().find("dependencies");
  if (!deps.is_object()) {
    return fail(ErrorCode::kParse, "manifest has no \"dependencies\" object", package_json_path);
  }
  json::Value lock_version = lock.root().find("lockfileVersion");
  if (!lock_version.is_number() || (lock_version.str() != "2" && lock_version.str() != "3")) {
    return fail(ErrorCode::kUnsupported, "lockfile must have lockfileVersion 2 or 3", lock_path);
  }
  json::Value locked = lock.root().find("packages");
  if (!locked.is_object()) {
    return fail(ErrorCode::kParse, "lockfile has no \"packages\" object", lock_path);
  }

  Manifest result;
  for (std::size_t i = 0; i < deps.size(); ++i) {
    std::string_view name = deps.key(i);
    json::Value version = deps[i];
    if (!valid_npm_name(name)) {
      return at(version, package_json_path, "dependency name is not a valid npm package name",
                ErrorCode::kInvalidArgument);
    }
    if (!version.is_string() || !exact_version(version.str())) {
      return at(version, package_json_path,
                "dependency '" + std::string(name) + "' must be pinned to an exact version",
                ErrorCode::kInvalidArgument);
    }
    json::Value entry = locked.find("node_modules/" + std::string(name));
    if (!entry.is_object()) {
      return fail(ErrorCode::kParse, "lockfile has no entry for '" + std::string(name) + "'",
                  lock_path);
    }
    json::Value lv = entry.find("version");
    if (!lv.is_string() || lv.str() != version.str()) {
      return at(entry, lock_path,
                "lockfile version of '" + std::string(name) + "' differs from the manifest",
                ErrorCode::kParse);
    }
    json::Value integrity = entry.find("integrity");
    std::string sha512 = integrity.is_string() ? sha512_of_sri(integrity.str()) : std::string();
    if (sha512.empty()) {
      return at(entry, lock_path,
                "lockfile entry of '" + std::string(name) + "' has no sha512 integrity",
                ErrorCode::kUnsupported);
    }
    result.packages.push_back(
        PinnedPackage{std::string(name), std::string(version.str()), std::move(sha512)});
  }
  return result;
}

}  // namespace gw::packages
