// File helpers. std::filesystem is used only through its error_code
// overloads: the packages module returns errors as values (STYLE.md §3).
#include "gateway/packages/detail/files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace gw::packages::detail {

namespace fs = std::filesystem;

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::kNotFound, "cannot open file", path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return fail(ErrorCode::kIo, "cannot read file", path);
  return std::move(buf).str();
}

Status write_file(const std::string& path, std::string_view bytes) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return fail(ErrorCode::kIo, "cannot create file", tmp);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      out.close();
      remove_all_quietly(tmp);
      return fail(ErrorCode::kIo, "cannot write file", tmp);
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    remove_all_quietly(tmp);
    return fail(ErrorCode::kIo, "cannot rename file into place: " + ec.message(), path);
  }
  return {};
}

bool is_regular_file(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

Result<std::vector<std::string>> list_dir(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    return fail(ec == std::errc::no_such_file_or_directory ? ErrorCode::kNotFound : ErrorCode::kIo,
                "cannot list directory: " + ec.message(), dir);
  }
  std::vector<std::string> names;
  for (fs::directory_iterator end; it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) return fail(ErrorCode::kIo, "cannot list directory: " + ec.message(), dir);
  std::sort(names.begin(), names.end());
  return names;
}

void remove_all_quietly(const std::string& path) {
  if (path.empty()) return;
  std::error_code ec;
  fs::remove_all(path, ec);
}

Result<TempDir> TempDir::create(const std::string& parent, std::string_view prefix) {
  std::string pattern = parent + "/" + std::string(prefix) + "XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return fail(ErrorCode::kIo, std::string("cannot create work directory: ") + std::strerror(errno),
                parent);
  }
  TempDir t;
  t.path_ = buf.data();
  return t;
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    remove_all_quietly(path_);
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() { remove_all_quietly(path_); }

}  // namespace gw::packages::detail
