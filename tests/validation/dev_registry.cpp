#include "tests/validation/dev_registry.hpp"

#include <filesystem>
#include <unordered_map>

namespace gw::testing {
namespace {

class DevEntry final : public packages::Entry {
 public:
  DevEntry(json::Value v, std::string source) : v_(v), source_(std::move(source)) {}
  std::string_view resource_type() const override { return v_.find("resourceType").str(); }
  std::string_view id() const override { return v_.find("id").str(); }
  std::string_view url() const override { return v_.find("url").str(); }
  std::string_view version() const override { return v_.find("version").str(); }
  std::string_view sd_type() const override { return v_.find("type").str(); }
  std::string_view source() const override { return source_; }
  Result<json::Value> json() const override { return v_; }

 private:
  json::Value v_;
  std::string source_;
};

class DevRegistry final : public packages::Registry {
 public:
  std::vector<json::Document> docs;
  std::vector<std::unique_ptr<DevEntry>> entries;
  std::unordered_map<std::string, const DevEntry*> by_url;
  std::vector<packages::LoadWarning> warnings_;

  void add(json::Value r, const std::string& source) {
    if (!r.is_object()) return;
    if (r.find("resourceType").str() == "Bundle" && r.find("type").str() == "collection") {
      for (json::Value e : r.find("entry").items()) add(e.find("resource"), source);
      return;
    }
    entries.push_back(std::make_unique<DevEntry>(r, source));
    const DevEntry* e = entries.back().get();
    if (e->url().empty()) return;
    by_url.emplace(std::string(e->url()), e);
    if (!e->version().empty()) {
      by_url.emplace(std::string(e->url()) + "|" + std::string(e->version()), e);
    }
  }

  const packages::Entry* find(std::string_view canonical) const override {
    auto it = by_url.find(std::string(canonical));
    if (it != by_url.end()) return it->second;
    auto bar = canonical.find('|');
    if (bar != std::string_view::npos) return find(canonical.substr(0, bar));
    return nullptr;
  }
  const packages::Entry* find(std::string_view type, std::string_view canonical) const override {
    const packages::Entry* e = find(canonical);
    return e && e->resource_type() == type ? e : nullptr;
  }
  std::vector<const packages::Entry*> all(std::string_view type) const override {
    std::vector<const packages::Entry*> out;
    for (const auto& e : entries) {
      if (e->resource_type() == type) out.push_back(e.get());
    }
    return out;
  }
  std::vector<packages::PackageId> loaded_packages() const override { return {}; }
  const std::vector<packages::LoadWarning>& warnings() const override { return warnings_; }
};

}  // namespace

std::shared_ptr<const packages::Registry> load_dev_registry(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  auto reg = std::make_shared<DevRegistry>();
  auto load = [&](const fs::path& p) {
    auto doc = json::Document::parse_file(p.string());
    if (!doc) return false;
    reg->docs.push_back(std::move(*doc));
    return true;
  };
  for (const std::string& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(path)) {
        if (e.path().extension() == ".json" && e.path().filename() != "package.json") {
          files.push_back(e.path());
        }
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        if (!load(f)) return nullptr;
        reg->add(reg->docs.back().root(), path);
      }
    } else {
      if (!load(path)) return nullptr;
      reg->add(reg->docs.back().root(), path);
    }
  }
  return reg;
}

}  // namespace gw::testing
