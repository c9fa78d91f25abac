// Private: tokens, the abstract syntax tree and the parser of FHIRPath N1.
//
// The grammar is HL7's (FHIRPath 2.0.0, "Grammar" appendix). Precedence,
// from loosest to tightest binding:
//
//    1  implies
//    2  or xor
//    3  and
//    4  in contains
//    5  = ~ != !~
//    6  < > <= >=
//    7  |
//    8  is as            (postfix: expression 'is' typeSpecifier)
//    9  + - &
//   10  * / div mod
//   11  unary + -
//   12  . invocation, [ index ]
//
// All binary operators associate to the left. `is`, `as`, `in` and
// `contains` are also valid identifiers (`use.contains('i')`).
#pragma once

#include "gateway/core/core.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gw::fhirpath::detail {

enum class Tok : std::uint8_t {
  kEnd,
  kIdentifier,           // plain identifier (keywords are identifiers here too)
  kDelimitedIdentifier,  // `...` (never a keyword)
  kString,               // '...', text holds the decoded content
  kNumber,               // 123 or 1.5, text holds the literal
  kDate,                 // @2015-02-04 (text without '@')
  kDateTime,             // @2015-02-04T14:34 (text without '@')
  kTime,                 // @T14:34 (text without "@T")
  kSpecial,              // $this, $index, $total (text without '$')
  kPercent,
  kDot,
  kComma,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPipe,
  kAmp,
  kEq,
  kTilde,
  kNotEq,
  kNotTilde,
  kLt,
  kGt,
  kLe,
  kGe,
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;
  std::uint32_t offset = 0;  // byte offset of the first character
};

/// Splits `src` into tokens (comments and whitespace dropped), ending with
/// a kEnd token. Errors: kParse with location "offset N" (N in characters).
Result<std::vector<Token>> tokenize(std::string_view src);

/// Converts a byte offset in `src` to a character (code point) offset.
std::uint32_t char_offset(std::string_view src, std::uint32_t byte_offset);
/// "offset N" with N = char_offset(): the location of compile errors.
std::string location_at(std::string_view src, std::uint32_t byte_offset);

enum class AstKind : std::uint8_t {
  kEmpty,       // {}
  kBoolean,     // true / false (text "true"/"false")
  kString,      // text = decoded string
  kNumber,      // text = literal ("1", "1.50")
  kDate,        // text = "2015-02-04"
  kDateTime,    // text = "2015-02-04T14:34:28Z"
  kTime,        // text = "14:34"
  kQuantity,    // text = number literal, unit = unit, calendar = keyword unit
  kIdentifier,  // a member or type name at the start of a path (source is null)
  kMember,      // source.name
  kFunction,    // [source.]name(args)
  kThis,
  kIndex,
  kTotal,
  kVariable,    // %name (text = name)
  kIndexer,     // source[args[0]]
  kUnary,       // op applied to args[0]
  kBinary,      // args[0] op args[1]
  kTypeOp,      // args[0] is/as type_name
};

enum class BinaryOp : std::uint8_t {
  kMul, kDiv, kIntDiv, kMod,
  kAdd, kSub, kConcat,
  kUnion,
  kLt, kGt, kLe, kGe,
  kEq, kEquiv, kNe, kNotEquiv,
  kIn, kContains,
  kAnd, kOr, kXor, kImplies,
};

std::string_view to_string(BinaryOp op);

struct Ast {
  AstKind kind = AstKind::kEmpty;
  std::uint32_t offset = 0;  // byte offset where the construct starts
  std::uint32_t depth = 1;   // height of this subtree (1 for a leaf)
  std::string text;          // name, literal text, or operator spelling
  std::string unit;          // kQuantity
  bool calendar = false;     // kQuantity: unit is a calendar keyword (week, days, ...)
  BinaryOp op = BinaryOp::kAdd;  // kBinary
  bool minus = false;            // kUnary: '-' (else '+')
  bool is_as = false;            // kTypeOp: 'as' (else 'is')
  std::vector<std::string> type_name;  // kTypeOp: qualified name segments
  std::unique_ptr<Ast> source;         // kMember, kFunction (null = implicit $this), kIndexer
  std::vector<std::unique_ptr<Ast>> args;
};

struct ParseLimits {
  std::uint32_t max_length = 64 * 1024;  ///< bytes of expression text
  std::uint32_t max_depth = 200;         ///< nesting of the syntax tree
};

/// Parses a whole expression. Errors: kParse (syntax) or kLimit, with
/// location "offset N".
Result<std::unique_ptr<Ast>> parse(std::string_view src, const ParseLimits& limits = {});

}  // namespace gw::fhirpath::detail
