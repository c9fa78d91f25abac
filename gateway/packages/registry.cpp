// The registry: load order, dependency resolution and the canonical index.
//
// Load (Registry::load), in this order, which is also the precedence order
// for `find(url)`:
//   1. extra paths, as given (folders: .index.json if present, else scanned;
//      single files: parsed);
//   2. the requested packages, as given;
//   3. dependencies, breadth first, each package's in package.json order.
// A breadth-first walk makes "closer wins": a package's own dependencies
// outrank the dependencies of those dependencies.
//
// Invariants once load() returns:
//   1. entries_ never changes again (a deque: entry addresses are stable,
//      the maps below hold pointers and string_views into it);
//   2. by_url_[u] lists every entry with url u in load order; the first is
//      find(u)'s answer;
//   3. by_canonical_["u|v"] is the first entry with url u and version v;
//   4. by_type_[t] holds the entries of type t not shadowed by an earlier
//      entry of the same type and url;
//   5. the only mutable state is each entry's lazily parsed document,
//      guarded by its once_flag.
#include "gateway/packages/packages.hpp"

#include "gateway/packages/detail/files.hpp"
#include "gateway/packages/detail/index.hpp"

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>

namespace gw::packages {
namespace {

using detail::IndexEntry;

class EntryImpl final : public Entry {
 public:
  EntryImpl(IndexEntry e, std::string path, std::string_view source)
      : type_(std::move(e.resource_type)),
        id_(std::move(e.id)),
        url_(std::move(e.url)),
        version_(std::move(e.version)),
        sd_type_(std::move(e.type)),
        canonical_(url_.empty() || version_.empty() ? std::string() : url_ + "|" + version_),
        path_(std::move(path)),
        source_(source) {}

  std::string_view resource_type() const override { return type_; }
  std::string_view id() const override { return id_; }
  std::string_view url() const override { return url_; }
  std::string_view version() const override { return version_; }
  std::string_view sd_type() const override { return sd_type_; }
  std::string_view source() const override { return source_; }
  std::string_view path() const override { return path_; }
  const std::string& canonical() const { return canonical_; }

  Result<json::Value> json() const override {
    std::call_once(once_, [this] { parse(); });
    if (error_) return *error_;
    return doc_->root();
  }

 private:
  // Runs once. Its outcome, document or error, is kept for the registry's
  // lifetime: the files of an installed package do not change under us.
  void parse() const {
    auto doc = json::Document::parse_file(path_);
    if (!doc) {
      error_ = doc.error();
      return;
    }
    json::Value rt = doc->root().find("resourceType");
    if (!rt.is_string() || rt.str() != type_) {
      error_ = Error(ErrorCode::kParse, "file does not hold the " + type_ + " its index names",
                     path_);
      return;
    }
    doc_.emplace(std::move(*doc));
  }

  std::string type_;
  std::string id_;
  std::string url_;
  std::string version_;
  std::string sd_type_;
  std::string canonical_;
  std::string path_;
  std::string_view source_;
  mutable std::once_flag once_;
  mutable std::optional<json::Document> doc_;
  mutable std::optional<Error> error_;
};

// Transparent hashing so that find(string_view) does not allocate.
struct Hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
template <class V>
using ViewMap = std::unordered_map<std::string_view, V, Hash, std::equal_to<>>;

class RegistryImpl final : public Registry {
 public:
  const Entry* find(std::string_view canonical) const override {
    std::size_t bar = canonical.find('|');
    if (bar != std::string_view::npos && bar + 1 < canonical.size()) {
      auto it = by_canonical_.find(canonical);
      return it == by_canonical_.end() ? nullptr : it->second;
    }
    auto it = by_url_.find(canonical.substr(0, bar));
    return it == by_url_.end() ? nullptr : it->second.front();
  }

  const Entry* find(std::string_view resource_type, std::string_view canonical) const override {
    std::size_t bar = canonical.find('|');
    std::string_view url = canonical.substr(0, bar);
    std::string_view version =
        bar == std::string_view::npos ? std::string_view() : canonical.substr(bar + 1);
    auto it = by_url_.find(url);
    if (it == by_url_.end()) return nullptr;
    for (const EntryImpl* e : it->second) {
      if (e->resource_type() == resource_type && (version.empty() || e->version() == version)) {
        return e;
      }
    }
    return nullptr;
  }

  std::vector<const Entry*> candidates(std::string_view url) const override {
    auto it = by_url_.find(url);
    if (it == by_url_.end()) return {};
    return {it->second.begin(), it->second.end()};
  }

  std::vector<const Entry*> all(std::string_view resource_type) const override {
    auto it = by_type_.find(resource_type);
    if (it == by_type_.end()) return {};
    return {it->second.begin(), it->second.end()};
  }

  std::size_t size() const override { return entries_.size(); }

  std::vector<PackageId> loaded_packages() const override {
    std::vector<PackageId> ids;
    ids.reserve(packages_.size());
    for (const LoadedPackage& p : packages_) ids.push_back(p.id);
    return ids;
  }
  const std::vector<LoadedPackage>& packages() const override { return packages_; }
  const std::vector<LoadWarning>& warnings() const override { return warnings_; }

  // ---- building (only during load) ----

  // A stable string for Entry::source().
  std::string_view intern_source(std::string s) { return sources_.emplace_back(std::move(s)); }

  void add(IndexEntry e, std::string path, std::string_view source, bool from_extra) {
    const EntryImpl& entry = entries_.emplace_back(std::move(e), std::move(path), source);
    const EntryImpl* shadowing = nullptr;
    if (!entry.url().empty()) {
      std::vector<const EntryImpl*>& same_url = by_url_[entry.url()];
      for (const EntryImpl* earlier : same_url) {
        if (earlier->resource_type() == entry.resource_type()) {
          shadowing = earlier;
          break;
        }
      }
      same_url.push_back(&entry);
      if (!entry.canonical().empty()) by_canonical_.try_emplace(entry.canonical(), &entry);
    }
    if (!shadowing) {
      by_type_[entry.resource_type()].push_back(&entry);
    } else if (!from_extra && extra_sources_.count(shadowing->source()) != 0) {
      warnings_.push_back({std::string(shadowing->source()) + " overrides " +
                           std::string(entry.resource_type()) + " " + std::string(entry.url()) +
                           " of " + std::string(source)});
    }
  }

  std::deque<EntryImpl> entries_;
  std::deque<std::string> sources_;
  std::set<std::string_view> extra_sources_;
  ViewMap<std::vector<const EntryImpl*>> by_url_;
  ViewMap<const EntryImpl*> by_canonical_;
  ViewMap<std::vector<const EntryImpl*>> by_type_;
  std::vector<LoadedPackage> packages_;
  std::vector<LoadWarning> warnings_;
};

Status load_index_or_scan(RegistryImpl& reg, const std::string& dir, std::string_view source,
                          bool from_extra, std::size_t* count) {
  std::string index = dir + "/" + std::string(detail::kIndexFile);
  std::vector<IndexEntry> entries;
  if (detail::is_regular_file(index)) {
    GW_TRY(entries, detail::read_index(index));
  } else {
    GW_TRY(detail::ScanResult scan, detail::scan_folder(dir, /*strict=*/true));
    entries = std::move(scan.entries);
    if (!from_extra) {
      reg.warnings_.push_back({std::string(source) + " has no " + std::string(detail::kIndexFile) +
                               "; its files were parsed to index them"});
    }
  }
  if (count) *count = entries.size();
  for (IndexEntry& e : entries) {
    std::string path = dir + "/" + e.filename;
    reg.add(std::move(e), std::move(path), source, from_extra);
  }
  return {};
}

Status load_extra_path(RegistryImpl& reg, const std::string& path) {
  std::string_view source = reg.intern_source(path);
  reg.extra_sources_.insert(source);
  if (detail::is_directory(path)) return load_index_or_scan(reg, path, source, true, nullptr);
  if (!detail::is_regular_file(path)) {
    return fail(ErrorCode::kNotFound, "conformance resource path does not exist", path);
  }
  GW_TRY(json::Document doc, json::Document::parse_file(path));
  auto entry = detail::index_entry_of(doc.root(), path);
  if (!entry) return fail(ErrorCode::kParse, "file does not hold a FHIR resource", path);
  reg.add(std::move(*entry), path, source, true);
  return {};
}

// Installed versions per package name, read from the cache folder once.
class CacheListing {
 public:
  explicit CacheListing(const std::string& cache_dir) {
    auto names = detail::list_dir(cache_dir);
    if (!names) return;  // an unreadable cache simply has no substitutes
    for (const std::string& n : *names) {
      auto id = PackageId::parse(n);
      if (id && detail::is_regular_file(cache_dir + "/" + n + "/package/package.json")) {
        versions_[id->name].push_back(id->version);
      }
    }
  }
  // Highest installed version, restricted to `prefix` when not empty.
  std::optional<std::string> best(const std::string& name, std::string_view prefix) const {
    auto it = versions_.find(name);
    if (it == versions_.end()) return std::nullopt;
    std::optional<std::string> best;
    for (const std::string& v : it->second) {
      if (!prefix.empty() && v.rfind(prefix, 0) != 0) continue;
      if (!best || compare_versions(v, *best) > 0) best = v;
    }
    return best;
  }
  std::vector<std::string> versions(const std::string& name) const {
    auto it = versions_.find(name);
    return it == versions_.end() ? std::vector<std::string>{} : it->second;
  }

 private:
  std::map<std::string, std::vector<std::string>> versions_;
};

struct Wanted {
  PackageId id;
  std::string required_by;  // empty: requested directly
};

// The `dependencies` of a package.json. One we cannot read as an exact or
// ".x" version (a range, a tag) is reported and left out.
Result<std::vector<Wanted>> dependencies_of(const std::string& package_json, const PackageId& self,
                                            std::vector<LoadWarning>& warnings) {
  GW_TRY(json::Document doc, json::Document::parse_file(package_json));
  if (!doc.root().is_object()) {
    return fail(ErrorCode::kParse, "package.json is not an object", package_json);
  }
  std::vector<Wanted> deps;
  json::Value d = doc.root().find("dependencies");
  for (std::size_t i = 0; d.is_object() && i < d.size(); ++i) {
    auto id = PackageId::parse(std::string(d.key(i)) + "#" + std::string(d[i].str()));
    if (!id || !d[i].is_string()) {
      warnings.push_back({self.to_string() + " has a dependency '" +
                          std::string(gw::utf8_prefix(d.key(i), 100)) +
                          "' whose version is not a plain version; it is not loaded"});
      continue;
    }
    deps.push_back({std::move(*id), self.to_string()});
  }
  return deps;
}

std::string install_hint(const std::string& cache_dir) {
  return "run `fhir-gateway packages install` (cache: " + cache_dir + ")";
}

}  // namespace

Result<std::shared_ptr<const Registry>> Registry::load(const LoadOptions& options) {
  auto reg = std::make_shared<RegistryImpl>();
  for (const std::string& path : options.extra_paths) GW_CHECK_OK(load_extra_path(*reg, path));

  std::deque<Wanted> queue;
  for (const std::string& text : options.packages) {
    GW_TRY(PackageId id, PackageId::parse(text));
    queue.push_back({std::move(id), {}});
  }
  CacheListing listing(options.cache_dir);
  std::map<std::string, std::string> loaded;  // name -> version
  std::set<std::string> missing_reported;   // names of packages reported absent
  std::set<std::string> conflict_reported;  // ids reported as version conflicts

  while (!queue.empty()) {
    Wanted want = std::move(queue.front());
    queue.pop_front();
    const bool direct = want.required_by.empty();
    if (auto it = loaded.find(want.id.name); it != loaded.end()) {
      if (it->second != want.id.version && !want.id.version.ends_with(".x") &&
          conflict_reported.insert(want.id.to_string()).second) {
        reg->warnings_.push_back({(direct ? std::string("requested") : want.required_by + " wants") +
                                  " " + want.id.to_string() + " but " + want.id.name + "#" +
                                  it->second + " is already loaded; using that"});
      }
      continue;
    }
    PackageId use = want.id;
    std::string substituted_for;
    if (!detail::is_regular_file(options.cache_dir + "/" + use.to_string() + "/package/package.json")) {
      if (direct) {
        std::string msg = "package " + use.to_string() + " is not in the cache; " +
                          install_hint(options.cache_dir);
        if (auto others = listing.versions(use.name); !others.empty()) {
          msg += " (installed versions:";
          for (const std::string& v : others) msg += " " + v;
          msg += ")";
        }
        return fail(ErrorCode::kNotFound, std::move(msg));
      }
      // "4.0.x" means any 4.0 patch release: take the best match quietly.
      std::string_view v = use.version;
      std::string prefix = v.ends_with(".x") ? std::string(v.substr(0, v.size() - 1)) : std::string();
      std::optional<std::string> other = listing.best(use.name, prefix);
      if (!other && !prefix.empty()) other = listing.best(use.name, {});
      if (!other) {
        if (missing_reported.insert(use.name).second) {
          reg->warnings_.push_back({want.required_by + " depends on " + use.to_string() +
                                    ", which is not in the cache and cannot be loaded; "
                                    "its definitions are unavailable"});
        }
        continue;
      }
      if (prefix.empty() || other->rfind(prefix, 0) != 0) {
        substituted_for = use.version;
        reg->warnings_.push_back({want.required_by + " depends on " + use.to_string() +
                                  ", which is not in the cache; using " + use.name + "#" + *other +
                                  " instead"});
      }
      use.version = *other;
    }
    std::string dir = options.cache_dir + "/" + use.to_string() + "/package";
    GW_TRY(std::vector<Wanted> deps, dependencies_of(dir + "/package.json", use, reg->warnings_));
    std::string_view source = reg->intern_source(use.to_string());
    LoadedPackage info;
    info.id = use;
    info.path = dir;
    info.required_by = want.required_by;
    info.substituted_for = std::move(substituted_for);
    GW_CHECK_OK(load_index_or_scan(*reg, dir, source, false, &info.resource_count));
    reg->packages_.push_back(std::move(info));
    loaded.emplace(use.name, use.version);
    for (Wanted& d : deps) queue.push_back(std::move(d));
  }
  return std::shared_ptr<const Registry>(std::move(reg));
}

}  // namespace gw::packages
