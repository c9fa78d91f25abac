// The FHIRPath lexer: text to tokens.
//
// Hand-written rather than generated so that errors carry an exact offset
// and so that the awkward corners of the grammar are explicit:
//  - a number followed by '.' and a non-digit is an integer and a dot
//    (`1.convertsToInteger()`), while `1.0.x` is a decimal and a dot;
//  - date/time literals stop before a '.' that is not followed by a digit
//    (`@2015-02-04T14:34:28.is(DateTime)`), and a timezone is only taken
//    when a whole `Z` or `+hh:mm` is present;
//  - string escapes are decoded here (`\u0065` becomes UTF-8), so later
//    stages see the real text.
#include "gateway/fhirpath/detail/syntax.hpp"

#include <cctype>

namespace gw::fhirpath::detail {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> out;
    for (;;) {
      GW_CHECK_OK(skip_space_and_comments());
      if (pos_ >= src_.size()) break;
      GW_TRY(Token t, next());
      out.push_back(std::move(t));
    }
    Token end;
    end.kind = Tok::kEnd;
    end.offset = static_cast<std::uint32_t>(src_.size());
    out.push_back(std::move(end));
    return out;
  }

 private:
  Error error(std::size_t at, std::string message) const {
    return Error(ErrorCode::kParse, std::move(message),
                 location_at(src_, static_cast<std::uint32_t>(at)));
  }

  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }

  Status skip_space_and_comments() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f') {
        ++pos_;
      } else if (c == '/' && peek(1) == '/') {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else if (c == '/' && peek(1) == '*') {
        std::size_t start = pos_;
        std::size_t close = src_.find("*/", pos_ + 2);
        if (close == std::string_view::npos) return error(start, "unterminated comment");
        pos_ = close + 2;
      } else {
        break;
      }
    }
    return {};
  }

  Token make(Tok kind, std::size_t start, std::string text = {}) const {
    Token t;
    t.kind = kind;
    t.offset = static_cast<std::uint32_t>(start);
    t.text = std::move(text);
    return t;
  }

  Result<Token> next() {
    std::size_t start = pos_;
    char c = src_[pos_];
    if (is_ident_start(c)) {
      while (pos_ < src_.size() && is_ident_char(src_[pos_])) ++pos_;
      return make(Tok::kIdentifier, start, std::string(src_.substr(start, pos_ - start)));
    }
    if (is_digit(c)) return number(start);
    switch (c) {
      case '\'': {
        GW_TRY(std::string s, quoted('\''));
        return make(Tok::kString, start, std::move(s));
      }
      case '`': {
        GW_TRY(std::string s, quoted('`'));
        return make(Tok::kDelimitedIdentifier, start, std::move(s));
      }
      case '@':
        return temporal(start);
      case '$': {
        ++pos_;
        std::size_t name_start = pos_;
        while (pos_ < src_.size() && is_ident_char(src_[pos_])) ++pos_;
        std::string_view name = src_.substr(name_start, pos_ - name_start);
        if (name != "this" && name != "index" && name != "total") {
          return error(start, "unknown special variable (expected $this, $index or $total)");
        }
        return make(Tok::kSpecial, start, std::string(name));
      }
      case '%': ++pos_; return make(Tok::kPercent, start);
      case '.': ++pos_; return make(Tok::kDot, start);
      case ',': ++pos_; return make(Tok::kComma, start);
      case '(': ++pos_; return make(Tok::kLParen, start);
      case ')': ++pos_; return make(Tok::kRParen, start);
      case '[': ++pos_; return make(Tok::kLBracket, start);
      case ']': ++pos_; return make(Tok::kRBracket, start);
      case '{': ++pos_; return make(Tok::kLBrace, start);
      case '}': ++pos_; return make(Tok::kRBrace, start);
      case '+': ++pos_; return make(Tok::kPlus, start);
      case '-': ++pos_; return make(Tok::kMinus, start);
      case '*': ++pos_; return make(Tok::kStar, start);
      case '/': ++pos_; return make(Tok::kSlash, start);
      case '|': ++pos_; return make(Tok::kPipe, start);
      case '&': ++pos_; return make(Tok::kAmp, start);
      case '=': ++pos_; return make(Tok::kEq, start);
      case '~': ++pos_; return make(Tok::kTilde, start);
      case '!':
        if (peek(1) == '=') { pos_ += 2; return make(Tok::kNotEq, start); }
        if (peek(1) == '~') { pos_ += 2; return make(Tok::kNotTilde, start); }
        return error(start, "unexpected '!' (expected != or !~)");
      case '<':
        if (peek(1) == '=') { pos_ += 2; return make(Tok::kLe, start); }
        ++pos_;
        return make(Tok::kLt, start);
      case '>':
        if (peek(1) == '=') { pos_ += 2; return make(Tok::kGe, start); }
        ++pos_;
        return make(Tok::kGt, start);
      default:
        break;
    }
    return error(start, "unexpected character");
  }

  Result<Token> number(std::size_t start) {
    while (pos_ < src_.size() && is_digit(src_[pos_])) ++pos_;
    if (peek() == '.' && is_digit(peek(1))) {
      ++pos_;
      while (pos_ < src_.size() && is_digit(src_[pos_])) ++pos_;
    }
    return make(Tok::kNumber, start, std::string(src_.substr(start, pos_ - start)));
  }

  // Quoted string or delimited identifier; decodes escapes. Unknown escapes
  // are errors rather than literal characters, as in the grammar's ESC
  // rule, so that a typo such as '\d' in a regex is caught.
  Result<std::string> quoted(char quote) {
    std::size_t start = pos_;
    ++pos_;
    std::string out;
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == quote) {
        ++pos_;
        return out;
      }
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      std::size_t esc = pos_;
      if (pos_ + 1 >= src_.size()) break;
      char e = src_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case '\'': case '"': case '`': case '\\': case '/': out.push_back(e); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          GW_TRY(std::uint32_t cp, hex4(esc));
          // A UTF-16 surrogate pair written as two escapes.
          if (cp >= 0xD800 && cp <= 0xDBFF && peek() == '\\' && peek(1) == 'u') {
            std::size_t low_at = pos_;
            pos_ += 2;
            GW_TRY(std::uint32_t low, hex4(low_at));
            if (low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              return error(esc, "invalid UTF-16 surrogate pair in escape");
            }
          } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            return error(esc, "lone UTF-16 surrogate in escape");
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return error(esc, "invalid escape sequence");
      }
    }
    return error(start, quote == '`' ? "unterminated delimited identifier" : "unterminated string");
  }

  Result<std::uint32_t> hex4(std::size_t esc) {
    std::uint32_t cp = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex_value(peek());
      if (h < 0) return error(esc, "invalid \\u escape (expected four hex digits)");
      cp = cp * 16 + static_cast<std::uint32_t>(h);
      ++pos_;
    }
    return cp;
  }

  bool take_digits(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      if (!is_digit(peek(i))) return false;
    }
    pos_ += n;
    return true;
  }

  // TIMEFORMAT: hh (':' mm (':' ss ('.' f+)?)?)?
  bool time_format() {
    if (!take_digits(2)) return false;
    if (peek() == ':' && is_digit(peek(1))) {
      ++pos_;
      if (!take_digits(2)) return false;
      if (peek() == ':' && is_digit(peek(1))) {
        ++pos_;
        if (!take_digits(2)) return false;
        if (peek() == '.' && is_digit(peek(1))) {
          ++pos_;
          while (is_digit(peek())) ++pos_;
        }
      }
    }
    return true;
  }

  void timezone() {
    if (peek() == 'Z') {
      ++pos_;
      return;
    }
    if ((peek() == '+' || peek() == '-') && is_digit(peek(1)) && is_digit(peek(2)) &&
        peek(3) == ':' && is_digit(peek(4)) && is_digit(peek(5))) {
      pos_ += 6;
    }
  }

  // @-literals. The shape is checked here (digits and separators); whether
  // the fields are in range (month 13) is checked by the compiler through
  // gw::primitives, which turns it into a semantic error with an offset.
  Result<Token> temporal(std::size_t start) {
    ++pos_;  // '@'
    if (peek() == 'T') {
      ++pos_;
      std::size_t body = pos_;
      if (!time_format()) return error(start, "malformed time literal");
      return make(Tok::kTime, start, std::string(src_.substr(body, pos_ - body)));
    }
    std::size_t body = pos_;
    if (!take_digits(4)) return error(start, "malformed date literal");
    if (peek() == '-' && is_digit(peek(1))) {
      ++pos_;
      if (!take_digits(2)) return error(start, "malformed date literal");
      if (peek() == '-' && is_digit(peek(1))) {
        ++pos_;
        if (!take_digits(2)) return error(start, "malformed date literal");
      }
    }
    if (peek() != 'T') return make(Tok::kDate, start, std::string(src_.substr(body, pos_ - body)));
    ++pos_;
    if (is_digit(peek())) {
      if (!time_format()) return error(start, "malformed date/time literal");
      timezone();
    }
    return make(Tok::kDateTime, start, std::string(src_.substr(body, pos_ - body)));
  }

  std::string_view src_;
  std::size_t pos_ = 0;
};

}  // namespace

std::uint32_t char_offset(std::string_view src, std::uint32_t byte_offset) {
  std::uint32_t chars = 0;
  for (std::uint32_t i = 0; i < byte_offset && i < src.size(); ++i) {
    if ((static_cast<unsigned char>(src[i]) & 0xC0) != 0x80) ++chars;
  }
  return chars;
}

std::string location_at(std::string_view src, std::uint32_t byte_offset) {
  return "offset " + std::to_string(char_offset(src, byte_offset));
}

Result<std::vector<Token>> tokenize(std::string_view src) { return Lexer(src).run(); }

}  // namespace gw::fhirpath::detail
