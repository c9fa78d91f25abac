// Small file-system helpers of the packages module. Everything returns
// Result (std::filesystem is used through its error_code overloads only).
#pragma once

#include "gateway/core/core.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace gw::packages::detail {

/// Whole file as bytes. Errors: kNotFound, kIo (location: the path).
Result<std::string> read_file(const std::string& path);

/// Writes `bytes` to `path` through "<path>.tmp" and a rename, so readers
/// never see a half-written file. Errors: kIo.
Status write_file(const std::string& path, std::string_view bytes);

bool is_regular_file(const std::string& path);
bool is_directory(const std::string& path);

/// Names (not paths) of the entries of `dir`, sorted. Errors: kNotFound, kIo.
Result<std::vector<std::string>> list_dir(const std::string& dir);

/// A uniquely named directory (mkdtemp) removed with its content when the
/// object dies, unless release() was called. Move-only.
class TempDir {
 public:
  /// Creates "<parent>/<prefix>XXXXXX". Errors: kIo.
  static Result<TempDir> create(const std::string& parent, std::string_view prefix);
  TempDir() = default;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Removes a file or a directory tree; quiet when it does not exist.
void remove_all_quietly(const std::string& path);

}  // namespace gw::packages::detail
