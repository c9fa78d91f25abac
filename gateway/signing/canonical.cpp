// FHIR canonical JSON (signing.hpp, "Canonical form"). One recursive walk
// over the parsed tree, writing into one string: members are sorted per
// object by an index vector (no copies of the values), strings and keys
// are re-escaped by json::append_quoted (RFC 8785's minimal escaping, which
// tests/signing pins with a golden file), numbers are copied as written.
#include "gateway/signing/signing.hpp"

#include <algorithm>

namespace gw::signing {

namespace {

// The parser refuses deeper input (json::ParseOptions::max_depth); the walk
// checks again because a Value may come from a Document parsed with a
// larger limit, and an explicit bound on every recursive walk is the rule
// (STYLE.md §9).
constexpr int kMaxDepth = 256;

bool excluded_at_root(std::string_view key, Canonicalization method) {
  return method == Canonicalization::kDocument && (key == "id" || key == "meta" || key == "signature");
}

Status write(json::Value v, std::string& out, int depth, Canonicalization method) {
  if (depth > kMaxDepth) return fail(ErrorCode::kLimit, "the document nests deeper than 256 levels");
  switch (v.kind()) {
    case json::Kind::kString:
      json::append_quoted(out, v.str());
      return {};
    case json::Kind::kNumber:
    case json::Kind::kNull:
    case json::Kind::kTrue:
    case json::Kind::kFalse:
      out += v.str();  // the literal text, digits as written
      return {};
    case json::Kind::kArray: {
      out += '[';
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        GW_CHECK_OK(write(v[i], out, depth + 1, method));
      }
      out += ']';
      return {};
    }
    case json::Kind::kObject: {
      std::vector<std::uint32_t> order;
      order.reserve(v.size());
      for (std::uint32_t i = 0; i < v.size(); ++i) {
        if (depth == 0 && excluded_at_root(v.key(i), method)) continue;
        order.push_back(i);
      }
      // Byte order of the UTF-8 keys (string_view's operator< compares
      // as unsigned char, per char_traits<char>::lt). Keys are unique
      // (the parser rejects duplicates), so the order is total.
      std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return v.key(a) < v.key(b); });
      out += '{';
      bool first = true;
      for (std::uint32_t i : order) {
        if (!first) out += ',';
        first = false;
        json::append_quoted(out, v.key(i));
        out += ':';
        GW_CHECK_OK(write(v[i], out, depth + 1, method));
      }
      out += '}';
      return {};
    }
  }
  return {};
}

}  // namespace

Result<std::string> canonical_json(json::Value resource, Canonicalization method) {
  if (!resource.is_object()) return fail(ErrorCode::kInvalidArgument, "only a JSON object (a resource) can be canonicalized");
  std::string out;
  // The canonical form is about as long as the compact input.
  out.reserve(resource.size() * 64);
  GW_CHECK_OK(write(resource, out, 0, method));
  return out;
}

}  // namespace gw::signing
