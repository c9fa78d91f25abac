// Test helpers: a scratch directory tree that cleans up after itself, and
// small FHIR packages written into it.
#pragma once

#include <string>
#include <string_view>

namespace gw::packages::test {

class TempTree {
 public:
  TempTree();
  ~TempTree();
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& root() const { return root_; }
  /// Absolute path of `relative` inside the tree.
  std::string path(std::string_view relative) const;
  /// Writes a file (creating parent folders) and returns its path.
  std::string write(std::string_view relative, std::string_view content) const;
  bool exists(std::string_view relative) const;

 private:
  std::string root_;
};

/// `{"resourceType": type, "id": id, "url": url, "version": version}` plus
/// `"type": sd_type` for StructureDefinitions.
std::string resource_json(std::string_view type, std::string_view id, std::string_view url,
                          std::string_view version = "1.0.0", std::string_view sd_type = "");

/// package.json text of `name`/`version` with the given dependencies, as
/// JSON members, e.g. R"("a.b": "1.0.0")".
std::string package_json(std::string_view name, std::string_view version,
                         std::string_view dependency_members = "");

/// Runs a shell command line (test set-up only); returns its exit status.
int shell(const std::string& command);

}  // namespace gw::packages::test
