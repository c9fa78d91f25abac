// Lexical analysis behind invariant folding (see detail/fold.hpp).
#include "gateway/validation/detail/fold.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace gw::validation::detail {
namespace {

constexpr std::array<std::string_view, 12> kKeywords = {"and", "or",       "xor", "implies", "div",  "mod",
                                                        "in",  "contains", "is",  "as",      "true", "false"};

bool is_keyword(std::string_view s) {
  return std::find(kKeywords.begin(), kKeywords.end(), s) != kKeywords.end();
}

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

std::optional<std::vector<std::string>> focus_members(std::string_view e) {
  std::vector<std::string> names;
  const std::size_t n = e.size();
  std::size_t i = 0;
  bool after_dot = false;
  while (i < n) {
    char c = e[i];
    if (c == '\'' || c == '"') {  // string literal, with escapes
      ++i;
      while (i < n && e[i] != c) i += e[i] == '\\' ? 2 : 1;
      ++i;
      after_dot = false;
      continue;
    }
    if (e.substr(i, 2) == "//") {
      auto end = e.find('\n', i);
      i = end == std::string_view::npos ? n : end;
      continue;
    }
    if (e.substr(i, 2) == "/*") {
      auto end = e.find("*/", i + 2);
      i = end == std::string_view::npos ? n : end + 2;
      continue;
    }
    if (c == '%' || c == '$') return std::nullopt;
    if (c == '@') {  // date/time literal
      ++i;
      while (i < n && (std::isalnum(static_cast<unsigned char>(e[i])) || std::string_view("-:.+").find(e[i]) !=
                                                                            std::string_view::npos)) {
        ++i;
      }
      after_dot = false;
      continue;
    }
    if (ident_start(c) || c == '`') {
      std::string_view name;
      const bool quoted = c == '`';  // `div` is a name, never the operator
      if (quoted) {
        auto end = e.find('`', i + 1);
        if (end == std::string_view::npos) return std::nullopt;
        name = e.substr(i + 1, end - i - 1);
        i = end + 1;
      } else {
        std::size_t j = i;
        while (j < n && ident_char(e[j])) ++j;
        name = e.substr(i, j - i);
        i = j;
      }
      std::size_t k = i;
      while (k < n && (e[k] == ' ' || e[k] == '\t' || e[k] == '\n' || e[k] == '\r')) ++k;
      bool call = k < n && e[k] == '(';
      if (!after_dot && (quoted || !is_keyword(name))) {
        if (call) {
          if (name != "iif") return std::nullopt;
        } else if (std::find(names.begin(), names.end(), name) == names.end()) {
          names.emplace_back(name);
        }
      }
      after_dot = false;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i < n && std::isdigit(static_cast<unsigned char>(e[i]))) ++i;
      if (i + 1 < n && e[i] == '.' && std::isdigit(static_cast<unsigned char>(e[i + 1]))) {
        ++i;
        while (i < n && std::isdigit(static_cast<unsigned char>(e[i]))) ++i;
      }
      after_dot = false;
      continue;
    }
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') after_dot = c == '.';
    ++i;
  }
  return names;
}

bool key_may_hold(std::string_view key, std::string_view name) {
  if (!key.empty() && key[0] == '_') key.remove_prefix(1);
  if (key.size() < name.size() || key.substr(0, name.size()) != name) return false;
  return key.size() == name.size() || std::isupper(static_cast<unsigned char>(key[name.size()]));
}

}  // namespace gw::validation::detail
