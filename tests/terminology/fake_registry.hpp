// A test double of packages::Registry over in-memory JSON resources, so the
// terminology unit tests state their ValueSets and CodeSystems inline.
#pragma once

#include "gateway/json/json.hpp"
#include "gateway/packages/packages.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gw::terminology::testing {

class FakeEntry final : public packages::Entry {
 public:
  explicit FakeEntry(json::Document doc) : doc_(std::move(doc)) {
    json::Value r = doc_.root();
    type_ = std::string(r.find("resourceType").str());
    id_ = std::string(r.find("id").str());
    url_ = std::string(r.find("url").str());
    version_ = std::string(r.find("version").str());
  }
  std::string_view resource_type() const override { return type_; }
  std::string_view id() const override { return id_; }
  std::string_view url() const override { return url_; }
  std::string_view version() const override { return version_; }
  std::string_view sd_type() const override { return {}; }
  std::string_view source() const override { return "test"; }
  std::string_view path() const override { return "memory"; }
  Result<json::Value> json() const override { return doc_.root(); }

 private:
  json::Document doc_;
  std::string type_, id_, url_, version_;
};

/// Resources are added before the registry is shared; lookups follow the
/// contract: "url" gives the first added entry with that url (as the first
/// loaded package wins), "url|version" the exact version.
class FakeRegistry final : public packages::Registry {
 public:
  /// Parses and adds one resource; aborts the test binary on bad JSON (a
  /// test bug, not a case under test).
  FakeRegistry& add(std::string_view resource_json) {
    auto doc = json::Document::parse(std::string(resource_json));
    GW_ASSERT(doc.has_value(), "FakeRegistry::add: test resource is not valid JSON");
    entries_.push_back(std::make_unique<FakeEntry>(std::move(*doc)));
    return *this;
  }

  const packages::Entry* find(std::string_view canonical) const override {
    return find_impl({}, canonical);
  }
  const packages::Entry* find(std::string_view type, std::string_view canonical) const override {
    return find_impl(type, canonical);
  }
  std::vector<const packages::Entry*> candidates(std::string_view url) const override {
    std::vector<const packages::Entry*> out;
    for (const auto& e : entries_) {
      if (e->url() == url) out.push_back(e.get());
    }
    return out;
  }
  std::size_t size() const override { return entries_.size(); }
  const std::vector<packages::LoadedPackage>& packages() const override { return loaded_; }
  std::vector<const packages::Entry*> all(std::string_view type) const override {
    std::vector<const packages::Entry*> out;
    for (const auto& e : entries_) {
      if (e->resource_type() == type) out.push_back(e.get());
    }
    return out;
  }
  std::vector<packages::PackageId> loaded_packages() const override { return {}; }
  const std::vector<packages::LoadWarning>& warnings() const override { return warnings_; }

 private:
  const packages::Entry* find_impl(std::string_view type, std::string_view canonical) const {
    std::string_view url = canonical;
    std::string_view version;
    if (auto bar = canonical.find('|'); bar != std::string_view::npos) {
      url = canonical.substr(0, bar);
      version = canonical.substr(bar + 1);
    }
    for (const auto& e : entries_) {
      if (!type.empty() && e->resource_type() != type) continue;
      if (e->url() != url) continue;
      if (!version.empty() && e->version() != version) continue;
      return e.get();
    }
    return nullptr;
  }

  std::vector<std::unique_ptr<FakeEntry>> entries_;
  std::vector<packages::LoadWarning> warnings_;
  std::vector<packages::LoadedPackage> loaded_;
};

}  // namespace gw::terminology::testing
