// The audit chain's two primitives: canonical JSON and the chained hash.
//
// Canonical form: compact, object members sorted bytewise by key, arrays in
// order, strings re-escaped by gw::json::Writer, numbers as their literal
// text. Two producers that emit the same event with members in another order
// or other whitespace get the same record and the same hash. The stored
// record IS the canonical text, so verification hashes exactly what is
// stored; any edit to a stored record breaks its hash.
//
// SHA-256 comes from OpenSSL's EVP interface: store is an adapter module,
// allowed I/O libraries (consent, a domain module, carries its own).
#include "gateway/store/detail/engine.hpp"

#include "gateway/json/json.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace gw::store::detail {

namespace {

// Depth is bounded by the parser's max_depth (256).
void write_canonical(json::Writer& w, json::Value v) {
  switch (v.kind()) {
    case json::Kind::kObject: {
      std::vector<std::size_t> order(v.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v.key(a) < v.key(b); });
      w.begin_object();
      for (std::size_t i : order) {
        w.key(v.key(i));
        write_canonical(w, v[i]);
      }
      w.end_object();
      break;
    }
    case json::Kind::kArray:
      w.begin_array();
      for (json::Value item : v.items()) write_canonical(w, item);
      w.end_array();
      break;
    case json::Kind::kString: w.string(v.str()); break;
    case json::Kind::kNumber: w.number_text(v.str()); break;
    case json::Kind::kTrue: w.boolean(true); break;
    case json::Kind::kFalse: w.boolean(false); break;
    case json::Kind::kNull: w.null(); break;
  }
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const int ok = EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  GW_ASSERT(ok == 1 && len == 32, "EVP_Digest(sha256) failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

}  // namespace

Result<std::string> canonical_json(std::string_view text) {
  auto doc = json::Document::parse(std::string(text));
  if (!doc) return doc.error();
  if (!doc->root().is_object()) return fail(ErrorCode::kParse, "audit event is not a JSON object");
  json::Writer w;
  write_canonical(w, doc->root());
  return std::move(w).take();
}

std::string chain_hash(std::string_view prev_hash, std::int64_t seq, std::string_view canonical_event) {
  std::string input;
  input.reserve(prev_hash.size() + canonical_event.size() + 24);
  input += prev_hash;
  input += '\n';
  input += std::to_string(seq);
  input += '\n';
  input += canonical_event;
  return sha256_hex(input);
}

}  // namespace gw::store::detail
