// The FHIRPath parser: tokens to an abstract syntax tree.
//
// Recursive descent with one function per precedence level (see the table
// in detail/syntax.hpp). Two limits protect the stack: the nesting of
// parentheses, arguments and unary operators, and the depth of the finished
// tree (a chain `1+1+1+...` is parsed by a loop but builds a deep tree that
// the evaluator would walk recursively).
#include "gateway/fhirpath/detail/syntax.hpp"

#include <algorithm>
#include <array>

namespace gw::fhirpath::detail {

namespace {

constexpr int kLevelImplies = 1;
constexpr int kLevelTypeOp = 8;
constexpr int kLevelMultiplicative = 10;

constexpr std::array<std::string_view, 16> kCalendarUnits = {
    "year", "years", "month", "months", "week", "weeks", "day", "days",
    "hour", "hours", "minute", "minutes", "second", "seconds", "millisecond", "milliseconds"};

bool is_calendar_unit(std::string_view s) {
  return std::find(kCalendarUnits.begin(), kCalendarUnits.end(), s) != kCalendarUnits.end();
}

// Plain identifiers that are operators or literals and so cannot name a
// member or function. (`is`, `as`, `in`, `contains` can.)
bool is_reserved(std::string_view s) {
  return s == "and" || s == "or" || s == "xor" || s == "implies" || s == "div" || s == "mod" ||
         s == "true" || s == "false";
}

std::string_view describe(Tok t) {
  switch (t) {
    case Tok::kEnd: return "end of expression";
    case Tok::kIdentifier: return "identifier";
    case Tok::kDelimitedIdentifier: return "delimited identifier";
    case Tok::kString: return "string literal";
    case Tok::kNumber: return "number";
    case Tok::kDate: case Tok::kDateTime: case Tok::kTime: return "date/time literal";
    case Tok::kSpecial: return "special variable";
    case Tok::kPercent: return "'%'";
    case Tok::kDot: return "'.'";
    case Tok::kComma: return "','";
    case Tok::kLParen: return "'('";
    case Tok::kRParen: return "')'";
    case Tok::kLBracket: return "'['";
    case Tok::kRBracket: return "']'";
    case Tok::kLBrace: return "'{'";
    case Tok::kRBrace: return "'}'";
    default: return "operator";
  }
}

using AstPtr = std::unique_ptr<Ast>;

class Parser {
 public:
  Parser(std::string_view src, std::vector<Token> tokens, const ParseLimits& limits)
      : src_(src), tokens_(std::move(tokens)), limits_(limits) {}

  Result<AstPtr> run() {
    GW_TRY(AstPtr e, expression(kLevelImplies));
    if (cur().kind != Tok::kEnd) return unexpected();
    return e;
  }

 private:
  const Token& cur() const { return tokens_[pos_]; }
  const Token& ahead(std::size_t n) const {
    return tokens_[std::min(pos_ + n, tokens_.size() - 1)];
  }
  void advance() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  bool at_word(std::string_view w) const {
    return cur().kind == Tok::kIdentifier && cur().text == w;
  }

  Error error_at(std::uint32_t offset, std::string message) const {
    return Error(ErrorCode::kParse, std::move(message), location_at(src_, offset));
  }
  Error unexpected() const {
    return error_at(cur().offset, "unexpected " + std::string(describe(cur().kind)));
  }
  Status expect(Tok kind, std::string_view what) {
    if (cur().kind != kind) {
      return error_at(cur().offset, "expected " + std::string(what) + ", found " +
                                        std::string(describe(cur().kind)));
    }
    advance();
    return {};
  }

  AstPtr node(AstKind kind, std::uint32_t offset, std::string text = {}) {
    auto a = std::make_unique<Ast>();
    a->kind = kind;
    a->offset = offset;
    a->text = std::move(text);
    return a;
  }

  // Sets the subtree height from the children and enforces the limit. The
  // evaluator recurses once per tree level, so the height, not the number
  // of nodes, is what could exhaust a stack.
  Result<AstPtr> finish(AstPtr a) {
    std::uint32_t d = 0;
    if (a->source) d = std::max(d, a->source->depth);
    for (const auto& c : a->args) d = std::max(d, c->depth);
    a->depth = d + 1;
    if (a->depth > limits_.max_depth) {
      return Error(ErrorCode::kLimit, "expression nested too deeply",
                   location_at(src_, a->offset));
    }
    return a;
  }

  // Guards the recursion of the parser itself.
  struct Nest {
    Parser& p;
    explicit Nest(Parser& parser) : p(parser) { ++p.nesting_; }
    ~Nest() { --p.nesting_; }
  };
  Status check_nesting() const {
    if (nesting_ > limits_.max_depth) {
      return Error(ErrorCode::kLimit, "expression nested too deeply",
                   location_at(src_, cur().offset));
    }
    return {};
  }

  // The binary operator at the current token for a precedence level.
  bool binary_op(int level, BinaryOp& op) const {
    const Token& t = cur();
    auto word = [&](std::string_view w) { return t.kind == Tok::kIdentifier && t.text == w; };
    switch (level) {
      case 1:
        if (word("implies")) { op = BinaryOp::kImplies; return true; }
        return false;
      case 2:
        if (word("or")) { op = BinaryOp::kOr; return true; }
        if (word("xor")) { op = BinaryOp::kXor; return true; }
        return false;
      case 3:
        if (word("and")) { op = BinaryOp::kAnd; return true; }
        return false;
      case 4:
        if (word("in")) { op = BinaryOp::kIn; return true; }
        if (word("contains")) { op = BinaryOp::kContains; return true; }
        return false;
      case 5:
        if (t.kind == Tok::kEq) { op = BinaryOp::kEq; return true; }
        if (t.kind == Tok::kTilde) { op = BinaryOp::kEquiv; return true; }
        if (t.kind == Tok::kNotEq) { op = BinaryOp::kNe; return true; }
        if (t.kind == Tok::kNotTilde) { op = BinaryOp::kNotEquiv; return true; }
        return false;
      case 6:
        if (t.kind == Tok::kLt) { op = BinaryOp::kLt; return true; }
        if (t.kind == Tok::kGt) { op = BinaryOp::kGt; return true; }
        if (t.kind == Tok::kLe) { op = BinaryOp::kLe; return true; }
        if (t.kind == Tok::kGe) { op = BinaryOp::kGe; return true; }
        return false;
      case 7:
        if (t.kind == Tok::kPipe) { op = BinaryOp::kUnion; return true; }
        return false;
      case 9:
        if (t.kind == Tok::kPlus) { op = BinaryOp::kAdd; return true; }
        if (t.kind == Tok::kMinus) { op = BinaryOp::kSub; return true; }
        if (t.kind == Tok::kAmp) { op = BinaryOp::kConcat; return true; }
        return false;
      case 10:
        if (t.kind == Tok::kStar) { op = BinaryOp::kMul; return true; }
        if (t.kind == Tok::kSlash) { op = BinaryOp::kDiv; return true; }
        if (word("div")) { op = BinaryOp::kIntDiv; return true; }
        if (word("mod")) { op = BinaryOp::kMod; return true; }
        return false;
      default:
        return false;
    }
  }

  Result<AstPtr> expression(int level) {
    if (level > kLevelMultiplicative) return unary();
    GW_TRY(AstPtr lhs, expression(level + 1));
    for (;;) {
      if (level == kLevelTypeOp) {
        if (!at_word("is") && !at_word("as")) break;
        auto t = node(AstKind::kTypeOp, cur().offset, cur().text);
        t->is_as = cur().text == "as";
        advance();
        GW_TRY(t->type_name, qualified_identifier());
        t->args.push_back(std::move(lhs));
        GW_TRY(lhs, finish(std::move(t)));
        continue;
      }
      BinaryOp op;
      if (!binary_op(level, op)) break;
      auto b = node(AstKind::kBinary, cur().offset);
      b->op = op;
      advance();
      GW_TRY(AstPtr rhs, expression(level + 1));
      b->args.push_back(std::move(lhs));
      b->args.push_back(std::move(rhs));
      GW_TRY(lhs, finish(std::move(b)));
    }
    return lhs;
  }

  Result<AstPtr> unary() {
    if (cur().kind == Tok::kPlus || cur().kind == Tok::kMinus) {
      Nest n(*this);
      GW_CHECK_OK(check_nesting());
      auto u = node(AstKind::kUnary, cur().offset);
      u->minus = cur().kind == Tok::kMinus;
      advance();
      GW_TRY(AstPtr operand, unary());
      u->args.push_back(std::move(operand));
      return finish(std::move(u));
    }
    return postfix();
  }

  Result<AstPtr> postfix() {
    GW_TRY(AstPtr e, term());
    for (;;) {
      if (cur().kind == Tok::kDot) {
        advance();
        GW_TRY(e, invocation(std::move(e)));
      } else if (cur().kind == Tok::kLBracket) {
        Nest n(*this);
        GW_CHECK_OK(check_nesting());
        auto ix = node(AstKind::kIndexer, cur().offset);
        advance();
        GW_TRY(AstPtr index, expression(kLevelImplies));
        GW_CHECK_OK(expect(Tok::kRBracket, "']'"));
        ix->source = std::move(e);
        ix->args.push_back(std::move(index));
        GW_TRY(e, finish(std::move(ix)));
      } else {
        return e;
      }
    }
  }

  // An identifier in member, function or type position: plain identifiers
  // other than the reserved words, delimited identifiers.
  bool at_identifier() const {
    if (cur().kind == Tok::kDelimitedIdentifier) return true;
    return cur().kind == Tok::kIdentifier && !is_reserved(cur().text);
  }

  // After '.': member, function or special variable.
  Result<AstPtr> invocation(AstPtr source) {
    if (cur().kind == Tok::kSpecial) {
      // `x.$this` is x; `x.$index` / `x.$total` ignore x (the grammar
      // allows them; nobody writes them).
      std::string which = cur().text;
      std::uint32_t at = cur().offset;
      advance();
      if (which == "this") return source;
      return node(which == "index" ? AstKind::kIndex : AstKind::kTotal, at);
    }
    // After '.', an operator cannot follow, so reserved words are read as
    // names: `text.div` is common in the wild (the grammar wants `div`).
    if (cur().kind != Tok::kIdentifier && cur().kind != Tok::kDelimitedIdentifier) {
      return error_at(cur().offset, "expected a member or function name after '.', found " +
                                        std::string(describe(cur().kind)));
    }
    std::uint32_t at = cur().offset;
    std::string name = cur().text;
    advance();
    if (cur().kind == Tok::kLParen) {
      auto f = node(AstKind::kFunction, at, std::move(name));
      f->source = std::move(source);
      GW_CHECK_OK(arguments(*f));
      return finish(std::move(f));
    }
    auto m = node(AstKind::kMember, at, std::move(name));
    m->source = std::move(source);
    return finish(std::move(m));
  }

  Status arguments(Ast& f) {
    Nest n(*this);
    GW_CHECK_OK(check_nesting());
    advance();  // '('
    if (cur().kind == Tok::kRParen) {
      advance();
      return {};
    }
    for (;;) {
      GW_TRY(AstPtr a, expression(kLevelImplies));
      f.args.push_back(std::move(a));
      if (cur().kind == Tok::kComma) {
        advance();
        continue;
      }
      return expect(Tok::kRParen, "',' or ')'");
    }
  }

  Result<std::vector<std::string>> qualified_identifier() {
    std::vector<std::string> parts;
    for (;;) {
      if (!at_identifier()) {
        return error_at(cur().offset, "expected a type name, found " +
                                          std::string(describe(cur().kind)));
      }
      parts.push_back(cur().text);
      advance();
      if (cur().kind == Tok::kDot && (ahead(1).kind == Tok::kIdentifier ||
                                      ahead(1).kind == Tok::kDelimitedIdentifier)) {
        advance();
        continue;
      }
      return parts;
    }
  }

  // A term. `true`/`false` are literals unless delimited; a number followed
  // by a string or calendar keyword is a quantity (`4 days`, `10 'mg'`).
  Result<AstPtr> term() {
    const Token& t = cur();
    switch (t.kind) {
      case Tok::kLParen: {
        Nest n(*this);
        GW_CHECK_OK(check_nesting());
        advance();
        GW_TRY(AstPtr e, expression(kLevelImplies));
        GW_CHECK_OK(expect(Tok::kRParen, "')'"));
        return e;
      }
      case Tok::kLBrace: {
        std::uint32_t at = t.offset;
        advance();
        GW_CHECK_OK(expect(Tok::kRBrace, "'}' (only the empty collection {} is a literal)"));
        return node(AstKind::kEmpty, at);
      }
      case Tok::kString: {
        auto s = node(AstKind::kString, t.offset, t.text);
        advance();
        return s;
      }
      case Tok::kNumber: {
        auto num = node(AstKind::kNumber, t.offset, t.text);
        advance();
        if (cur().kind == Tok::kString) {
          num->kind = AstKind::kQuantity;
          num->unit = cur().text;
          advance();
        } else if (cur().kind == Tok::kIdentifier && is_calendar_unit(cur().text)) {
          num->kind = AstKind::kQuantity;
          num->unit = cur().text;
          num->calendar = true;
          advance();
        }
        return num;
      }
      case Tok::kDate: case Tok::kDateTime: case Tok::kTime: {
        AstKind k = t.kind == Tok::kDate ? AstKind::kDate
                    : t.kind == Tok::kDateTime ? AstKind::kDateTime : AstKind::kTime;
        auto d = node(k, t.offset, t.text);
        advance();
        return d;
      }
      case Tok::kSpecial: {
        AstKind k = t.text == "this" ? AstKind::kThis
                    : t.text == "index" ? AstKind::kIndex : AstKind::kTotal;
        auto s = node(k, t.offset);
        advance();
        return s;
      }
      case Tok::kPercent: {
        std::uint32_t at = t.offset;
        advance();
        if (cur().kind != Tok::kIdentifier && cur().kind != Tok::kDelimitedIdentifier &&
            cur().kind != Tok::kString) {
          return error_at(cur().offset, "expected a variable name after '%'");
        }
        auto v = node(AstKind::kVariable, at, cur().text);
        advance();
        return v;
      }
      case Tok::kIdentifier:
        if (t.text == "true" || t.text == "false") {
          auto b = node(AstKind::kBoolean, t.offset, t.text);
          advance();
          return b;
        }
        if (is_reserved(t.text)) return unexpected();
        [[fallthrough]];
      case Tok::kDelimitedIdentifier: {
        std::uint32_t at = t.offset;
        std::string name = t.text;
        advance();
        if (cur().kind == Tok::kLParen) {
          auto f = node(AstKind::kFunction, at, std::move(name));
          GW_CHECK_OK(arguments(*f));
          return finish(std::move(f));
        }
        return node(AstKind::kIdentifier, at, std::move(name));
      }
      default:
        return unexpected();
    }
  }

  std::string_view src_;
  std::vector<Token> tokens_;
  ParseLimits limits_;
  std::size_t pos_ = 0;
  std::uint32_t nesting_ = 0;
};

}  // namespace

std::string_view to_string(BinaryOp op) {
  switch (op) {
    case BinaryOp::kMul: return "*";
    case BinaryOp::kDiv: return "/";
    case BinaryOp::kIntDiv: return "div";
    case BinaryOp::kMod: return "mod";
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kConcat: return "&";
    case BinaryOp::kUnion: return "|";
    case BinaryOp::kLt: return "<";
    case BinaryOp::kGt: return ">";
    case BinaryOp::kLe: return "<=";
    case BinaryOp::kGe: return ">=";
    case BinaryOp::kEq: return "=";
    case BinaryOp::kEquiv: return "~";
    case BinaryOp::kNe: return "!=";
    case BinaryOp::kNotEquiv: return "!~";
    case BinaryOp::kIn: return "in";
    case BinaryOp::kContains: return "contains";
    case BinaryOp::kAnd: return "and";
    case BinaryOp::kOr: return "or";
    case BinaryOp::kXor: return "xor";
    case BinaryOp::kImplies: return "implies";
  }
  return "?";
}

Result<std::unique_ptr<Ast>> parse(std::string_view src, const ParseLimits& limits) {
  if (src.size() > limits.max_length) {
    return Error(ErrorCode::kLimit, "expression text too long", "offset 0");
  }
  GW_TRY(std::vector<Token> tokens, tokenize(src));
  if (tokens.size() == 1) return Error(ErrorCode::kParse, "empty expression", "offset 0");
  return Parser(src, std::move(tokens), limits).run();
}

}  // namespace gw::fhirpath::detail
