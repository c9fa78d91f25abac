// Signing and verifying documents (signing.hpp: the Signature element, the
// detached JWS, the checks in order). Per document: one parse (when given
// text), one canonicalization, one SHA-256 for the header digest and one
// private-key operation; the signed text is the input with one member
// appended, so what was stored or released stays byte for byte.
#include "gateway/signing/signing.hpp"

#include "gateway/signing/detail/ossl.hpp"
#include "gateway/signing/detail/signing_internal.hpp"

#include <charconv>
#include <ctime>

namespace gw::signing {

using namespace detail;

namespace {

constexpr std::string_view kDigestHeader = "c14n#S256";
constexpr std::size_t kMaxKidEcho = 64;

// A kid is an operator-chosen label, safe to show, but it comes from the
// document: bounded and restricted to printable ASCII before it is echoed.
std::string shown_kid(std::string_view kid) {
  std::string out;
  for (char c : kid.substr(0, kMaxKidEcho)) out += (c >= 0x20 && c < 0x7f && c != '\'') ? c : '?';
  return out;
}

Verification result(VerifyStatus s, std::string message, std::string expression, std::string kid = {}) {
  return Verification{s, std::move(message), std::move(expression), std::move(kid)};
}

// The private-key operation: DER ECDSA converted to the JWS r||s form.
Result<std::string> raw_signature(const SigningKey& k, std::string_view input) {
  MdCtxPtr md(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, k.key.get()) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &len, bytes_of(input), input.size()) != 1) {
    ERR_clear_error();
    return fail(ErrorCode::kInternal, "the signing key refused to sign");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes_of(input), input.size()) != 1) {
    ERR_clear_error();
    return fail(ErrorCode::kInternal, "the signing key refused to sign");
  }
  sig.resize(len);
  if (k.alg != JwsAlg::kEs256) return sig;
  auto raw = ecdsa_der_to_raw(sig, 32);
  if (!raw) return fail(ErrorCode::kInternal, "ECDSA signature in an unexpected form");
  return std::move(*raw);
}

void write_signature(json::Writer& w, std::string_view when, const Organization& who, std::string_view jws) {
  w.begin_object();
  w.key("type");
  w.begin_array();
  w.begin_object();
  w.key("system");
  w.string("urn:iso-astm:E1762-95:2013");
  w.key("code");
  w.string("1.2.840.10065.1.12.1.1");
  w.key("display");
  w.string("Author's Signature");
  w.end_object();
  w.end_array();
  w.key("when");
  w.string(when);
  w.key("who");
  w.begin_object();
  w.key("type");
  w.string("Organization");
  w.key("identifier");
  w.begin_object();
  w.key("system");
  w.string("urn:ietf:rfc:3986");
  w.key("value");
  w.string(who.endpoint);
  w.end_object();
  w.key("display");
  w.string(who.name);
  w.end_object();
  w.key("targetFormat");
  w.string(kDocumentTargetFormat);
  w.key("sigFormat");
  w.string("application/jose");
  w.key("data");
  w.string(base64_encode(jws));
  w.end_object();
}

int two(std::string_view s, std::size_t at) {
  if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9') return -1;
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

}  // namespace

// --- instants ----------------------------------------------------------------------

namespace detail {

std::string signature_kid(json::Value signature) {
  auto compact = base64_decode(signature.find("data").str());
  if (!compact) return {};
  auto jws = split_jws(*compact);
  if (!jws) return {};
  auto h = json::Document::parse(jws->header_json);
  return h ? std::string(h->root().find("kid").str()) : std::string();
}

std::optional<std::chrono::system_clock::time_point> parse_instant(std::string_view s) {
  // YYYY-MM-DDThh:mm:ss then optional .fraction then Z or ±hh:mm.
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return std::nullopt;
  int year = 0;
  if (std::from_chars(s.data(), s.data() + 4, year).ptr != s.data() + 4) return std::nullopt;
  const int mon = two(s, 5), day = two(s, 8), hour = two(s, 11), min = two(s, 14), sec = two(s, 17);
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60) {
    return std::nullopt;
  }
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const std::size_t digits = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == digits) return std::nullopt;
  }
  int offset_min = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    const int oh = two(s, i + 1), om = two(s, i + 4);
    if (oh < 0 || om < 0) return std::nullopt;
    offset_min = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return std::chrono::system_clock::from_time_t(timegm(&tm)) - std::chrono::minutes(offset_min);
}

}  // namespace detail

// --- Signer ------------------------------------------------------------------------

Signer::~Signer() = default;

Result<std::shared_ptr<const Signer>> Signer::create(std::vector<SigningKey> keys, std::size_t active, Organization who,
                                                     std::map<std::string, SenderConfig, std::less<>> senders) {
  if (keys.empty() || active >= keys.size()) return fail(ErrorCode::kInvalidArgument, "a signer needs its signing key");
  std::shared_ptr<Signer> s(new Signer);
  s->keys_ = std::move(keys);
  s->active_ = active;
  s->who_ = std::move(who);
  // The JWKS lists the signing key first: a verifier that tries keys in
  // order finds the current one at once.
  s->own_.push_back(s->keys_[active].public_key);
  for (std::size_t i = 0; i < s->keys_.size(); ++i) {
    if (i != active) s->own_.push_back(s->keys_[i].public_key);
  }
  s->jwks_ = R"({"keys":[)";
  for (std::size_t i = 0; i < s->own_.size(); ++i) {
    if (i) s->jwks_ += ',';
    s->jwks_ += jwk_json(s->own_[i]);
  }
  s->jwks_ += "]}";
  for (auto& [id, cfg] : senders) {
    std::vector<TrustedKey> loaded;
    for (const SenderCert& c : cfg.certs) {
      auto k = load_certificate(c.cert_file, c.kid);
      if (!k) return k.error().with_context("signing.senders." + id);
      loaded.push_back(std::move(*k));
    }
    s->sender_keys_.emplace(id, std::move(loaded));
  }
  s->senders_ = std::move(senders);
  return std::shared_ptr<const Signer>(std::move(s));
}

Result<std::shared_ptr<const Signer>> Signer::create(const SigningConfig& config, Organization who) {
  std::vector<SigningKey> keys;
  std::size_t active = 0;
  for (std::size_t i = 0; i < config.keys.size(); ++i) {
    const KeyConfig& k = config.keys[i];
    auto loaded = load_signing_key(k.key_file, k.cert_file, k.kid);
    if (!loaded) return loaded.error().with_context("signing.keys[" + std::to_string(i) + "]");
    if (k.sign) active = i;
    keys.push_back(std::move(*loaded));
  }
  return create(std::move(keys), active, std::move(who), config.senders);
}

const SenderConfig* Signer::sender(std::string_view id) const {
  auto it = senders_.find(id);
  return it == senders_.end() ? nullptr : &it->second;
}

std::span<const TrustedKey> Signer::sender_keys(std::string_view id) const {
  auto it = sender_keys_.find(id);
  if (it == sender_keys_.end()) return {};
  return it->second;
}

Result<std::string> Signer::sign(std::string_view document, std::chrono::system_clock::time_point when) const {
  GW_TRY(auto doc, json::Document::parse(std::string(document)));
  return sign(doc.root(), doc.source(), when);
}

Result<std::string> Signer::sign(json::Value document, std::string_view source,
                                 std::chrono::system_clock::time_point when) const {
  if (!document.is_object() || document.size() == 0) {
    return fail(ErrorCode::kParse, "only a non-empty JSON object (a Bundle) can be signed");
  }
  const SigningKey& key = keys_[active_];
  GW_TRY(std::string canonical, canonical_json(document, Canonicalization::kDocument));

  json::Writer h;
  h.begin_object();
  h.key("alg");
  h.string(to_string(key.alg));
  h.key("kid");
  h.string(key.kid);
  h.key("x5c");
  h.begin_array();
  h.string(base64_encode(key.public_key.cert_der));
  h.end_array();
  h.key(kDigestHeader);
  h.string(base64url_encode(sha256(canonical)));
  h.end_object();
  const std::string header = base64url_encode(h.str());
  GW_TRY(std::string sig, raw_signature(key, header + "." + base64url_encode(canonical)));
  const std::string jws = header + ".." + base64url_encode(sig);  // detached: empty payload part

  json::Writer w;
  const std::string when_text = gw::format_instant(when);
  if (!document.find("signature")) {
    // Append the member: everything before it stays as it was.
    write_signature(w, when_text, who_, jws);
    const std::size_t close = source.rfind('}');
    GW_ASSERT(close != std::string_view::npos, "a parsed object ends with '}'");
    std::string out;
    out.reserve(source.size() + w.str().size() + 16);
    out.append(source.substr(0, close));
    out += ",\"signature\":";
    out += w.str();
    out.append(source.substr(close));
    return out;
  }
  // Re-signing: the old signature is replaced, the rest copied in order.
  w.begin_object();
  for (std::size_t i = 0; i < document.size(); ++i) {
    if (document.key(i) == "signature") continue;
    w.key(document.key(i));
    w.value(document[i]);
  }
  w.key("signature");
  write_signature(w, when_text, who_, jws);
  w.end_object();
  return std::move(w).take();
}

// --- verification ------------------------------------------------------------------

std::string_view to_string(VerifyStatus s) noexcept {
  switch (s) {
    case VerifyStatus::kValid: return "valid";
    case VerifyStatus::kUnsigned: return "unsigned";
    case VerifyStatus::kMalformed: return "malformed";
    case VerifyStatus::kUnknownKey: return "unknown-key";
    case VerifyStatus::kExpired: return "expired-certificate";
    case VerifyStatus::kAltered: return "altered";
    case VerifyStatus::kBadSignature: return "bad-signature";
  }
  return "?";
}

PushCheck check_push(const Signer& signer, std::string_view sender, json::Value bundle,
                     std::chrono::system_clock::time_point at) {
  PushCheck out;
  out.verification = verify_document(bundle, signer.sender_keys(sender), at);
  const SenderConfig* cfg = signer.sender(sender);
  switch (out.verification.status) {
    case VerifyStatus::kValid:
      out.accepted = true;
      break;
    case VerifyStatus::kUnsigned:
      out.accepted = !cfg || !cfg->require_signature;
      if (!out.accepted) out.verification.message = "this sender's registration requires signed documents; the document carries no signature";
      break;
    case VerifyStatus::kUnknownKey:
      if (signer.sender_keys(sender).empty()) {
        out.verification.message = "the document is signed, but no signing certificate is registered for this sender (" +
                                   out.verification.message + ")";
      }
      break;
    default:
      break;
  }
  return out;
}

Result<std::string> DocumentSigning::sign(std::string_view document, std::chrono::system_clock::time_point when) const {
  return signer_->sign(document, when);
}

exchange::SignatureCheck DocumentSigning::check_incoming(std::string_view sender, json::Value bundle,
                                                         std::chrono::system_clock::time_point now) const {
  PushCheck c = check_push(*signer_, sender, bundle, now);
  exchange::SignatureCheck out;
  out.accepted = c.accepted;
  out.diagnostics = std::move(c.verification.message);
  out.expression = std::move(c.verification.expression);
  if (c.verification.status == VerifyStatus::kUnsigned) out.code = "required";
  if (c.verification.status == VerifyStatus::kMalformed) out.code = "invalid";
  return out;
}

std::optional<std::chrono::system_clock::time_point> signature_time(json::Value document) {
  json::Value when = document.find("signature").find("when");
  if (!when.is_string()) return std::nullopt;
  return parse_instant(when.str());
}

Verification verify_document(json::Value document, std::span<const TrustedKey> trusted,
                             std::chrono::system_clock::time_point at) {
  json::Value sig = document.find("signature");
  if (!sig) return result(VerifyStatus::kUnsigned, "the document carries no signature", "Bundle.signature");
  if (!sig.is_object()) {
    return result(VerifyStatus::kMalformed, "Bundle.signature must be one Signature object", "Bundle.signature");
  }
  if (sig.find("sigFormat").str() != "application/jose") {
    return result(VerifyStatus::kMalformed, "only JWS signatures (sigFormat application/jose) are verified",
                  "Bundle.signature.sigFormat");
  }
  if (json::Value tf = sig.find("targetFormat"); tf && tf.str() != kDocumentTargetFormat) {
    return result(VerifyStatus::kMalformed,
                  "only the FHIR document canonicalization (" + std::string(kDocumentTargetFormat) + ") is verified",
                  "Bundle.signature.targetFormat");
  }
  auto compact = base64_decode(sig.find("data").str());
  if (!compact || compact->empty()) {
    return result(VerifyStatus::kMalformed, "Bundle.signature.data is not base64", "Bundle.signature.data");
  }
  auto jws = split_jws(*compact);
  if (!jws) return result(VerifyStatus::kMalformed, "Bundle.signature.data is not a compact JWS", "Bundle.signature.data");
  if (!jws->payload_json.empty()) {
    return result(VerifyStatus::kMalformed, "the JWS must have detached content (RFC 7515 Appendix F)",
                  "Bundle.signature.data");
  }
  auto header = json::Document::parse(jws->header_json);
  if (!header || !header->root().is_object()) {
    return result(VerifyStatus::kMalformed, "the JWS header is not a JSON object", "Bundle.signature.data");
  }
  const json::Value h = header->root();
  const auto alg = parse_jws_alg(h.find("alg").str());
  if (!alg) {
    return result(VerifyStatus::kMalformed, "the JWS alg must be ES256, RS256, ES384 or RS384", "Bundle.signature.data");
  }
  const json::Value kid_v = h.find("kid");
  if (!kid_v.is_string() || kid_v.str().empty()) {
    return result(VerifyStatus::kMalformed, "the JWS header needs a kid", "Bundle.signature.data");
  }
  const std::string kid = shown_kid(kid_v.str());
  const TrustedKey* key = nullptr;
  for (const TrustedKey& k : trusted) {
    if (k.key.kid == kid_v.str()) key = &k;
  }
  if (!key) {
    return result(VerifyStatus::kUnknownKey, "no trusted certificate or key has kid '" + kid + "'",
                  "Bundle.signature.data", kid);
  }
  if (key->key.alg != *alg) {
    return result(VerifyStatus::kUnknownKey,
                  "kid '" + kid + "' names a " + std::string(to_string(key->key.alg)) + " key, the JWS says " +
                      std::string(to_string(*alg)),
                  "Bundle.signature.data", kid);
  }
  if (json::Value x5c = h.find("x5c"); x5c.is_array() && x5c.size() > 0 && !key->cert_der.empty()) {
    if (base64_decode(x5c[0].str()) != key->cert_der) {
      return result(VerifyStatus::kUnknownKey,
                    "the certificate in the JWS header (x5c) is not the one registered under kid '" + kid + "'",
                    "Bundle.signature.data", kid);
    }
  }
  if (key->not_before && at < *key->not_before) {
    return result(VerifyStatus::kExpired, "the certificate with kid '" + kid + "' is not yet valid (notBefore " +
                                              gw::format_instant(*key->not_before) + ")",
                  "Bundle.signature", kid);
  }
  if (key->not_after && at > *key->not_after) {
    return result(VerifyStatus::kExpired, "the certificate with kid '" + kid + "' has expired (notAfter " +
                                              gw::format_instant(*key->not_after) + ")",
                  "Bundle.signature", kid);
  }
  auto canonical = canonical_json(document, Canonicalization::kDocument);
  if (!canonical) return result(VerifyStatus::kMalformed, canonical.error().message(), "Bundle", kid);
  const json::Value digest = h.find(kDigestHeader);
  if (digest && digest.str() != base64url_encode(sha256(*canonical))) {
    return result(VerifyStatus::kAltered,
                  "the document was altered after it was signed (its canonical form no longer has the signed digest)",
                  "Bundle", kid);
  }
  const std::string_view header_part = std::string_view(jws->signing_input).substr(0, jws->signing_input.size() - 1);
  std::string input;
  input.reserve(header_part.size() + 1 + canonical->size() * 4 / 3 + 4);
  input.append(header_part);
  input += '.';
  input += base64url_encode(*canonical);
  if (!verify_signature(key->key, input, jws->signature)) {
    if (digest) {
      return result(VerifyStatus::kBadSignature,
                    "the signature does not verify with the certificate with kid '" + kid +
                        "' (the content is as signed: the signature was damaged or made with another key)",
                    "Bundle.signature.data", kid);
    }
    return result(VerifyStatus::kBadSignature,
                  "the signature does not verify with the certificate with kid '" + kid +
                      "': the document was altered after signing, or it was signed with another key",
                  "Bundle.signature.data", kid);
  }
  return result(VerifyStatus::kValid, "the signature is valid (kid '" + kid + "')", "Bundle.signature", kid);
}

}  // namespace gw::signing
