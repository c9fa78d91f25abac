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

// One left-to-right scan. State is only "was the previous token a dot":
// a name after a dot reads a member of something already read, so only
// path starts matter. Literals are skipped whole so their contents never
// look like names.
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

namespace {

constexpr std::size_t kExistenceStack = 32;  // operands pending at once; compile_existence checks

// Recursive descent over the expression text; each level appends its postfix steps.
class ExistenceParser {
 public:
  explicit ExistenceParser(std::string_view e) : e_(e) {}

  std::optional<ExistenceProgram> run() {
    if (!implies() || (skip_ws(), i_ != e_.size())) return std::nullopt;
    return std::move(out_);
  }

 private:
  using Op = ExistenceProgram::Op;

  void skip_ws() {
    while (i_ < e_.size() && (e_[i_] == ' ' || e_[i_] == '\t' || e_[i_] == '\n' || e_[i_] == '\r')) ++i_;
  }
  std::string_view ident() {
    skip_ws();
    std::size_t j = i_;
    if (j >= e_.size() || !ident_start(e_[j])) return {};
    while (j < e_.size() && ident_char(e_[j])) ++j;
    return e_.substr(i_, j - i_);
  }
  bool keyword(std::string_view k) {
    std::size_t save = i_;
    if (ident() == k) {
      i_ += k.size();
      return true;
    }
    i_ = save;
    return false;
  }
  bool punct(std::string_view p) {
    skip_ws();
    if (e_.substr(i_, p.size()) != p) return false;
    i_ += p.size();
    return true;
  }

  bool implies() {
    if (!or_level()) return false;
    while (keyword("implies")) {
      if (!or_level()) return false;
      out_.steps.push_back({Op::kImplies});
    }
    return true;
  }
  bool or_level() {
    if (!and_level()) return false;
    while (true) {
      Op op;
      if (keyword("or")) {
        op = Op::kOr;
      } else if (keyword("xor")) {
        op = Op::kXor;
      } else {
        return true;
      }
      if (!and_level()) return false;
      out_.steps.push_back({op});
    }
  }
  bool and_level() {
    if (!atom()) return false;
    while (keyword("and")) {
      if (!atom()) return false;
      out_.steps.push_back({Op::kAnd});
    }
    return true;
  }
  bool atom() {
    if (punct("(")) return implies() && punct(")");
    std::string_view name = ident();
    if (name.empty() || is_keyword(name)) return false;
    i_ += name.size();
    if (!punct(".")) return false;
    Op op;
    if (keyword("exists")) {
      op = Op::kPresent;
    } else if (keyword("empty")) {
      op = Op::kAbsent;
    } else {
      return false;
    }
    if (!punct("(") || !punct(")")) return false;
    auto it = std::find(out_.names.begin(), out_.names.end(), name);
    if (it == out_.names.end()) {
      if (out_.names.size() >= 255) return false;
      it = out_.names.emplace(out_.names.end(), name);
    }
    out_.steps.push_back({op, static_cast<std::uint8_t>(it - out_.names.begin())});
    std::size_t save = i_;
    if (punct(".") && keyword("not") && punct("(") && punct(")")) {
      out_.steps.push_back({Op::kNot});
    } else {
      i_ = save;
    }
    return true;
  }

  std::string_view e_;
  std::size_t i_ = 0;
  ExistenceProgram out_;
};

}  // namespace

std::optional<ExistenceProgram> compile_existence(std::string_view expression) {
  auto program = ExistenceParser(expression).run();
  if (!program) return std::nullopt;
  // run_existence takes presence as one bit per name.
  if (program->names.size() > kMaxExistenceNames) return std::nullopt;
  // run_existence keeps a fixed stack: refuse what would not fit.
  std::size_t depth = 0;
  for (const ExistenceProgram::Step& s : program->steps) {
    if (s.op == ExistenceProgram::Op::kPresent || s.op == ExistenceProgram::Op::kAbsent) {
      if (++depth > kExistenceStack) return std::nullopt;
    } else if (s.op != ExistenceProgram::Op::kNot) {
      --depth;
    }
  }
  return program;
}

bool run_existence(const ExistenceProgram& program, std::uint64_t present) {
  bool stack[kExistenceStack];
  std::size_t top = 0;
  for (const ExistenceProgram::Step& s : program.steps) {
    using Op = ExistenceProgram::Op;
    switch (s.op) {
      case Op::kPresent:
      case Op::kAbsent:
        stack[top++] = (((present >> s.name) & 1u) != 0) == (s.op == Op::kPresent);
        break;
      case Op::kNot: stack[top - 1] = !stack[top - 1]; break;
      default: {
        bool b = stack[--top];
        bool a = stack[top - 1];
        stack[top - 1] = s.op == Op::kAnd   ? (a && b)
                         : s.op == Op::kOr  ? (a || b)
                         : s.op == Op::kXor ? (a != b)
                                            : (!a || b);
      }
    }
  }
  return top == 1 ? stack[0] : true;
}

}  // namespace gw::validation::detail
