// Lexer, parser and compiler: what is accepted, what is rejected, and where
// errors point.
#include "gateway/fhirpath/fhirpath.hpp"

#include "gateway/fhirpath/detail/syntax.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gw::fhirpath {
namespace {

using detail::Ast;
using detail::AstKind;
using detail::BinaryOp;

Error compile_error(std::string_view text) {
  auto e = Expression::compile(text);
  EXPECT_FALSE(e) << text;
  return e ? Error() : e.error();
}

// Renders a syntax tree with explicit parentheses, to check precedence.
std::string show(const Ast& a) {
  switch (a.kind) {
    case AstKind::kBinary:
      return "(" + show(*a.args[0]) + " " + std::string(detail::to_string(a.op)) + " " + show(*a.args[1]) + ")";
    case AstKind::kUnary:
      return std::string(a.minus ? "-" : "+") + show(*a.args[0]);
    case AstKind::kTypeOp: {
      std::string t;
      for (const auto& p : a.type_name) t += (t.empty() ? "" : ".") + p;
      return "(" + show(*a.args[0]) + (a.is_as ? " as " : " is ") + t + ")";
    }
    case AstKind::kMember:
      return show(*a.source) + "." + a.text;
    case AstKind::kFunction: {
      std::string s = (a.source ? show(*a.source) + "." : "") + a.text + "(";
      for (std::size_t i = 0; i < a.args.size(); ++i) s += (i ? ", " : "") + show(*a.args[i]);
      return s + ")";
    }
    case AstKind::kIndexer:
      return show(*a.source) + "[" + show(*a.args[0]) + "]";
    case AstKind::kQuantity:
      return a.text + " '" + a.unit + "'";
    case AstKind::kString:
      return "'" + a.text + "'";
    case AstKind::kEmpty:
      return "{}";
    case AstKind::kThis:
      return "$this";
    case AstKind::kVariable:
      return "%" + a.text;
    default:
      return a.text;
  }
}

std::string parsed(std::string_view text) {
  auto a = detail::parse(text);
  if (!a) return "error: " + a.error().to_string();
  return show(**a);
}

TEST(Parser, OperatorPrecedenceFollowsTheGrammar) {
  EXPECT_EQ(parsed("1+2*3+4"), "((1 + (2 * 3)) + 4)");
  EXPECT_EQ(parsed("1 > 2 is Boolean"), "(1 > (2 is Boolean))");
  EXPECT_EQ(parsed("1 | 1 is Integer"), "(1 | (1 is Integer))");
  EXPECT_EQ(parsed("true and '0215' in ('0215' | '0216')"), "(true and ('0215' in ('0215' | '0216')))");
  EXPECT_EQ(parsed("a implies b or c and d = e"), "(a implies (b or (c and (d = e))))");
  EXPECT_EQ(parsed("a xor b or c"), "((a xor b) or c)");
  EXPECT_EQ(parsed("-1.convertsToInteger()"), "-1.convertsToInteger()");
  EXPECT_EQ(parsed("a.b[0].c"), "a.b[0].c");
  EXPECT_EQ(parsed("x as FHIR.Quantity"), "(x as FHIR.Quantity)");
  EXPECT_EQ(parsed("5 div 2 mod 3"), "((5 div 2) mod 3)");
  EXPECT_EQ(parsed("'a' & 'b' + 'c'"), "(('a' & 'b') + 'c')");
}

TEST(Parser, LiteralsAndSpecialForms) {
  EXPECT_EQ(parsed("4 days"), "4 'days'");
  EXPECT_EQ(parsed("10.1 'mg'"), "10.1 'mg'");
  EXPECT_EQ(parsed("{}"), "{}");
  EXPECT_EQ(parsed("%`vs-administrative-gender`"), "%vs-administrative-gender");
  EXPECT_EQ(parsed("%'quoted name'"), "%quoted name");
  EXPECT_EQ(parsed("`given`"), "given");
  EXPECT_EQ(parsed("use.contains('i')"), "use.contains('i')");
  EXPECT_EQ(parsed("'P\\u0065ter'"), "'Peter'");
  EXPECT_EQ(parsed("'\\'\\\"\\`\\\\\\/\\t'"), "'\'\"`\\/\t'");
  EXPECT_EQ(parsed("@2015-02-04T14:34:28.is(DateTime)"), "2015-02-04T14:34:28.is(DateTime)");
  EXPECT_EQ(parsed("@2014-01-01T08.lowBoundary(17)"), "2014-01-01T08.lowBoundary(17)");
  EXPECT_EQ(parsed("@T10:30.precision()"), "10:30.precision()");
  EXPECT_EQ(parsed("@2015T"), "2015T");
  EXPECT_EQ(parsed("@2015-02-04T14:34:28+10:00"), "2015-02-04T14:34:28+10:00");
  EXPECT_EQ(parsed("1.0.toString()"), "1.0.toString()");
  EXPECT_EQ(parsed("2 + 2 // comment\n/ 2"), "(2 + (2 / 2))");
  EXPECT_EQ(parsed("2 + /* inline $@%^+ * */ 2"), "(2 + 2)");
  EXPECT_EQ(parsed("name.$this"), "name");
  EXPECT_EQ(parsed("text.div"), "text.div");  // reserved words are names after '.'
  EXPECT_EQ(parsed("text.`div`"), "text.div");
}

TEST(Parser, SyntaxErrorsCarryTheCharacterOffset) {
  struct Case {
    std::string_view text;
    std::string location;
  };
  for (const Case& c : {Case{"2 + 2 /", "offset 7"}, Case{"2 + 2 /* not finished", "offset 6"},
                        Case{"name.where(", "offset 11"}, Case{"'abc", "offset 0"},
                        Case{"1 + * 2", "offset 4"}, Case{"a.", "offset 2"}, Case{"(1 + 2", "offset 6"},
                        Case{"{1}", "offset 1"}, Case{"$that", "offset 0"}, Case{"'\\q'", "offset 1"},
                        Case{"1 2", "offset 2"}, Case{"a and", "offset 5"},
                        // Offsets count characters, not bytes: 'é' is one.
                        Case{"'é' + )", "offset 6"}}) {
    Error e = compile_error(c.text);
    EXPECT_EQ(e.code(), ErrorCode::kParse) << c.text;
    EXPECT_EQ(e.location(), c.location) << c.text << ": " << e.message();
  }
}

TEST(Parser, SemanticErrorsWithoutAModel) {
  EXPECT_EQ(compile_error("name.foo()").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(compile_error("name.foo()").location(), "offset 5");
  EXPECT_EQ(compile_error("substring()").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(compile_error("count(1)").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(compile_error("@1974-12-25 + 7").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(compile_error("iif('x', 1, 2)").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(compile_error("'a'.matches('(')").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(compile_error("@2015-13-01").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(compile_error("99999999999999999999").code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Expression::compile("iif({} | true, 1, 2)"));
  EXPECT_TRUE(Expression::compile("'a' + 'b'"));
  EXPECT_TRUE(Expression::compile("@1974-12-25 + 7 days"));
}

TEST(Parser, DeepNestingIsALimitNotACrash) {
  std::string open(5000, '(');
  std::string text = open + "1" + std::string(5000, ')');
  EXPECT_EQ(compile_error(text).code(), ErrorCode::kLimit);

  std::string chain = "1";
  for (int i = 0; i < 5000; ++i) chain += "+1";
  EXPECT_EQ(compile_error(chain).code(), ErrorCode::kLimit);

  std::string minus(5000, '-');
  EXPECT_EQ(compile_error(minus + "1").code(), ErrorCode::kLimit);

  std::string path = "a";
  for (int i = 0; i < 5000; ++i) path += ".a";
  EXPECT_EQ(compile_error(path).code(), ErrorCode::kLimit);

  // Within the limits, nesting works.
  EXPECT_TRUE(Expression::compile(std::string(50, '(') + "1" + std::string(50, ')')));
}

TEST(Parser, OverlongTextIsRejected) {
  CompileOptions o;
  o.max_length = 16;
  auto e = Expression::compile("name.given.first().length()", o);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), ErrorCode::kLimit);
}

}  // namespace
}  // namespace gw::fhirpath
