// gw::signing — signed handoff documents (issue #12): the FHIR canonical
// JSON form, detached JWS signatures in Bundle.signature, the gateway's
// signing keys and the certificates of the organisations that send it
// signed documents. An adapter module: it uses OpenSSL, so the domain
// (exchange) sees it only through its own port exchange::DocumentSigner,
// which DocumentSigning below implements and app wires (an adapter depends
// on the domain's port, never the other way round).
//
// What a signed document looks like (R4 Bundle.signature, one Signature):
//
//   "signature": {
//     "type": [{"system": "urn:iso-astm:E1762-95:2013",
//               "code": "1.2.840.10065.1.12.1.1", "display": "Author's Signature"}],
//     "when": "2026-09-21T12:00:00Z",
//     "who": {"type": "Organization", "identifier": {"system": "urn:ietf:rfc:3986",
//             "value": "<gateway FHIR base>"}, "display": "<gateway name>"},
//     "targetFormat": "application/fhir+json;canonicalization=http://hl7.org/fhir/canonicalization/json#document",
//     "sigFormat": "application/jose",
//     "data": base64( "<b64url(header)>..<b64url(signature)>" )   // detached JWS
//   }
//
// The JWS is RFC 7515 compact serialization with detached content
// (Appendix F): the payload part is empty, and the payload that was signed
// is the document's canonical form (below). A verifier computes the
// canonical bytes itself and checks the signature over
//   b64url(header) "." b64url(canonical bytes)
// with nothing but a JWS library. The protected header is
//   {"alg": "ES256"|"RS256", "kid": K, "x5c": [certificate, base64 DER],
//    "c14n#S256": b64url(SHA-256(canonical bytes))}
// "c14n#S256" is a private header parameter (RFC 7515 §4.3): it lets a
// verifier tell "the document was altered after signing" (digest differs)
// from "the signature itself is wrong" (digest equal, signature fails). It
// is covered by the signature like the rest of the header; security never
// rests on it.
//
// Canonical form (what is signed). FHIR R4 §2.6.2.6 "Canonical JSON"
// (http://hl7.org/fhir/canonicalization/json) says: no whitespace other
// than single spaces in property values and in the xhtml of the narrative,
// and properties in alphabetical order. The "#document" variant signs
// everything in the Bundle except Bundle.id and Bundle.meta of the root
// Bundle (so a document can be copied between servers); Bundle.signature is
// left out too, as it cannot sign itself. Exactly, we write:
//   1. No whitespace between tokens. String contents are kept byte for
//      byte (their spaces are the "spaces in property values"; the xhtml of
//      a narrative is such a string): changing a value must change the bytes.
//   2. Object members sorted by the bytes of their UTF-8 key (FHIR keys are
//      ASCII, so this is plain alphabetical order, with `_given` after every
//      upper-case and before every lower-case letter; equal to RFC 8785's
//      UTF-16 order for ASCII). Array order is kept: it is meaning in FHIR
//      (entries, sections), so reordering entries breaks a signature.
//   3. Strings re-escaped minimally, as RFC 8785 (JCS) does: `\"`, `\\`,
//      `\b \f \n \r \t`, other controls as `\u00xx` (lower-case hex),
//      every other character as its UTF-8 bytes (no `\/`, no `\uXXXX` for
//      non-ASCII). Input escapes are decoded first, so `"\u0041"` and `"A"`
//      canonicalize alike.
//   4. Numbers exactly as written in the input (FHIR decimals keep their
//      digits: `1.50` stays `1.50`, as FHIR requires precision to be kept;
//      RFC 8785 would rewrite it to `1.5`, which is why we are not JCS).
//      true, false and null as themselves.
// Canonicalization::kJson is the same without the root exclusions (the
// plain http://hl7.org/fhir/canonicalization/json method).
//
// Trust. The gateway's own keys come from PEM files (config "signing.keys");
// exactly one signs, the others stay published and verifiable (rotation:
// add a new key as the signer, keep the old one listed until every document
// it signed has expired from use). Incoming documents are verified against
// the certificates registered for their sender ("signing.senders"): pinned
// certificates, not a CA chain, because the registration is the trust
// decision (the same one mutual TLS makes with the client CA). A
// certificate must be valid at the time of the check (a push: now; the
// `verify` command: Signature.when, so a patient-held copy signed with a
// since-rotated key stays checkable).
//
// Errors never quote document content: messages name the rule, the kid
// (an operator-chosen label) and the element path.
//
// Thread-safety: KeyRing, Signer and TrustedKey are immutable after
// creation and may be shared between threads (OpenSSL key objects are
// read-only once built; signing creates a fresh EVP_MD_CTX per call).
//
// Usage:
//   GW_TRY(auto cfg, gw::signing::load_signing_config("config/demo.json"));   // optional section
//   GW_TRY(auto signer, gw::signing::Signer::create(std::move(*cfg), {"Gateway", "https://gw/fhir"}));
//   GW_TRY(std::string signed_doc, signer->sign(document_json, clock.now()));
//   auto v = gw::signing::verify_document(doc.root(), signer->own_keys(), clock.now());
//   if (v.status != gw::signing::VerifyStatus::kValid) report(v.message);
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/exchange/exchange.hpp"
#include "gateway/json/json.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;

namespace gw::signing {

// ---------------------------------------------------------------------------
// JOSE primitives (also used by the http module's SMART tokens)
// ---------------------------------------------------------------------------

/// RFC 4648 §5 without padding (what JOSE uses). decode refuses '=' and
/// any byte outside the alphabet, and non-zero trailing bits, so that one
/// token has exactly one spelling.
std::string base64url_encode(std::span<const std::uint8_t> bytes);
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

/// RFC 4648 §4 with padding (FHIR base64Binary, PEM bodies, x5c). decode
/// accepts only the canonical padded spelling; whitespace is refused.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

/// SHA-256 of `bytes` (32 raw bytes).
std::string sha256(std::string_view bytes);

/// JWS algorithms (RFC 7518 §3.3, §3.4). The gateway signs with ES256 (EC
/// P-256 keys) or RS256 (RSA keys); SMART client assertions use the *384
/// pair (the http module restricts them).
enum class JwsAlg : std::uint8_t { kRs256, kEs256, kRs384, kEs384 };
std::optional<JwsAlg> parse_jws_alg(std::string_view name) noexcept;
std::string_view to_string(JwsAlg alg) noexcept;

/// A public key and the algorithm it verifies. Immutable; shareable
/// between threads.
struct PublicKey {
  std::string kid;
  JwsAlg alg = JwsAlg::kRs384;
  std::shared_ptr<EVP_PKEY> key;
};

/// One JWK object: kty RSA (n, e; at least 2048 bits) or EC (crv P-256 or
/// P-384, x and y on the curve). The algorithm is `alg` when present (it
/// must fit the key), else ES256/ES384 by curve, else `rsa_default` for
/// RSA. `use`, when present, must be "sig"; `key_ops`, when present, must
/// contain "verify"; kid is required (keys are selected by kid). Errors:
/// kParse for a malformed member, kUnsupported for another key type,
/// curve or algorithm.
Result<PublicKey> parse_jwk(json::Value jwk, JwsAlg rsa_default = JwsAlg::kRs384);

/// A JWK Set ({"keys": [...]}). Keys of types we do not use (kty "oct",
/// other curves) are skipped, as RFC 7517 §5 allows; a malformed key of a
/// supported type is an error, as is a repeated kid. Errors name the
/// index, never the material.
Result<std::vector<PublicKey>> parse_jwks(json::Value jwks, JwsAlg rsa_default = JwsAlg::kRs384);

/// ECDSA signatures in JWS are r||s, `half` bytes each (32 for P-256, 48
/// for P-384; RFC 7518 §3.4); OpenSSL reads and writes DER
/// ECDSA-Sig-Value. nullopt for a wrong length or an invalid DER.
std::optional<std::string> ecdsa_raw_to_der(std::string_view raw, std::size_t half = 48);
std::optional<std::string> ecdsa_der_to_raw(std::string_view der, std::size_t half = 48);

/// A compact JWS split into its parts (no signature check yet). A detached
/// JWS ("h..s") has an empty payload.
struct Jws {
  std::string signing_input;  ///< "header.payload" as received
  std::string header_json;
  std::string payload_json;
  std::string signature;      ///< decoded bytes
};
/// Splits "h.p.s" and decodes each part. Errors: kParse.
Result<Jws> split_jws(std::string_view compact);

/// True if `signature` (JWS form: r||s for ECDSA) over `input` verifies
/// with `key` under key.alg. Never throws; clears OpenSSL's error queue.
bool verify_signature(const PublicKey& key, std::string_view input, std::string_view signature);

// ---------------------------------------------------------------------------
// Canonical form
// ---------------------------------------------------------------------------

enum class Canonicalization : std::uint8_t {
  kJson,      ///< http://hl7.org/fhir/canonicalization/json
  kDocument,  ///< ...json#document: root Bundle.id, .meta, .signature left out
};

/// The FHIR canonicalization URI, for Signature.targetFormat.
inline constexpr std::string_view kDocumentTargetFormat =
    "application/fhir+json;canonicalization=http://hl7.org/fhir/canonicalization/json#document";

/// The canonical bytes of `resource` (rules at the top of this file).
/// Errors: kLimit when nesting exceeds 256 (the parser's own bound; the
/// walk is recursive and checks it), kInvalidArgument when `resource` is
/// not an object.
Result<std::string> canonical_json(json::Value resource, Canonicalization method = Canonicalization::kDocument);

// ---------------------------------------------------------------------------
// Keys, certificates, configuration
// ---------------------------------------------------------------------------

/// A key a document may be verified with: a public key (kid, alg) and, when
/// it came from a certificate, that certificate's validity window and DER.
struct TrustedKey {
  PublicKey key;
  std::string cert_der;  ///< empty for a bare JWK
  std::optional<std::chrono::system_clock::time_point> not_before;
  std::optional<std::chrono::system_clock::time_point> not_after;
};

/// Reads an X.509 certificate (PEM) as a TrustedKey with kid `kid`. The
/// algorithm follows the key: ES256 for EC P-256, RS256 for RSA (>= 2048
/// bits). Errors: kIo (unreadable file), kParse (not a PEM certificate),
/// kUnsupported (another key type or curve). Location: the path.
Result<TrustedKey> load_certificate(const std::string& path, std::string kid);
/// The same from PEM text already in memory.
Result<TrustedKey> parse_certificate_pem(std::string_view pem, std::string kid);

/// JWKS text as a list of TrustedKeys (no validity windows). RSA keys
/// without "alg" are taken as RS256.
Result<std::vector<TrustedKey>> trusted_keys_from_jwks(std::string_view jwks_json);

/// One configured signing key of the gateway ("signing.keys[i]").
struct KeyConfig {
  std::string kid;        ///< published in the JWS header and the JWKS
  std::string key_file;   ///< PEM private key (EC P-256 or RSA >= 2048)
  std::string cert_file;  ///< PEM certificate of that key
  bool sign = false;      ///< the one key that signs new documents
  friend bool operator==(const KeyConfig&, const KeyConfig&) = default;
};

/// A certificate registered for a sender ("signing.senders.<id>.certs[i]").
struct SenderCert {
  std::string kid;        ///< the kid its JWS headers carry
  std::string cert_file;  ///< PEM certificate
  friend bool operator==(const SenderCert&, const SenderCert&) = default;
};

/// What the gateway demands of one sender's pushes.
struct SenderConfig {
  std::vector<SenderCert> certs;
  /// false (default): an unsigned push is accepted (a signed one is always
  /// verified); true: an unsigned push is refused.
  bool require_signature = false;
  friend bool operator==(const SenderConfig&, const SenderConfig&) = default;
};

/// The "signing" section of the gateway configuration:
///   "signing": {
///     "keys": [{"kid": "gw-2026-1", "key": "keys/gw.key", "cert": "keys/gw.crt", "sign": true},
///              {"kid": "gw-2025-1", "key": "keys/old.key", "cert": "keys/old.crt"}],
///     "senders": {"demo-hospital": {"require_signature": true,
///                                   "certs": [{"kid": "hosp-1", "cert": "keys/hosp.crt"}]}}
///   }
/// Paths are used as written (relative to the working directory, like tls.*).
/// With one key, it signs; with several, exactly one has "sign": true.
struct SigningConfig {
  std::vector<KeyConfig> keys;
  std::map<std::string, SenderConfig, std::less<>> senders;
  friend bool operator==(const SigningConfig&, const SigningConfig&) = default;
};

/// Parses the "signing" member of a configuration document; nullopt when
/// it is absent. Errors: kParse with the JSON path ("signing.keys[1].kid")
/// for an unknown key, a wrong type, a missing member, duplicate kids, no
/// or several signing keys.
Result<std::optional<SigningConfig>> parse_signing_config(json::Value config_root);
/// Reads a configuration file and parses its "signing" member.
Result<std::optional<SigningConfig>> load_signing_config(const std::string& path);

// ---------------------------------------------------------------------------
// Signing and verifying documents
// ---------------------------------------------------------------------------

/// Who signs: written into Signature.who.
struct Organization {
  std::string name = "Migrant-care FHIR gateway";
  std::string endpoint = "https://gateway.migrant-care.example.org/fhir";  ///< identifier (urn:ietf:rfc:3986)
};

/// A private key that signs, with its certificate.
struct SigningKey {
  std::string kid;
  JwsAlg alg = JwsAlg::kEs256;
  std::shared_ptr<EVP_PKEY> key;  ///< private
  TrustedKey public_key;          ///< from the certificate
};

/// Reads a PEM private key and its PEM certificate and checks that they
/// belong together. Errors: kIo, kParse, kUnsupported (key type, curve, RSA
/// under 2048 bits), kInvalidArgument (the certificate is of another key).
Result<SigningKey> load_signing_key(const std::string& key_file, const std::string& cert_file, std::string kid);

/// The gateway's signer: the active key, every configured key's public
/// half (for JWKS and for checking documents it signed earlier), and the
/// senders' registered certificates. Immutable and thread-safe.
class Signer {
 public:
  /// Loads every file named by `config`. Errors as load_signing_key and
  /// load_certificate, with the config path as location.
  static Result<std::shared_ptr<const Signer>> create(const SigningConfig& config, Organization who);
  /// From keys already loaded (tests, the `sign` command). `keys[active]` signs.
  static Result<std::shared_ptr<const Signer>> create(std::vector<SigningKey> keys, std::size_t active,
                                                      Organization who,
                                                      std::map<std::string, SenderConfig, std::less<>> senders = {});

  /// `document` (a Bundle, JSON text) with Bundle.signature by the active
  /// key at time `when` (replacing a signature it had). The rest of the
  /// text is kept byte for byte when it had no signature: the member is
  /// appended. Errors: kParse (not JSON / not an object), kLimit (nesting),
  /// kInternal (OpenSSL refused to sign).
  Result<std::string> sign(std::string_view document, std::chrono::system_clock::time_point when) const;
  /// The same for a document already parsed (`source` is its text).
  Result<std::string> sign(json::Value document, std::string_view source,
                           std::chrono::system_clock::time_point when) const;

  /// The public keys of every configured gateway key, current first.
  const std::vector<TrustedKey>& own_keys() const noexcept { return own_; }
  /// `{"keys": [JWK...]}` of own_keys(), each with kid, alg, use "sig" and
  /// x5c (what GET /.well-known/jwks.json serves).
  const std::string& jwks_json() const noexcept { return jwks_; }
  /// The registration of a sender, or null (no certificates, unsigned
  /// pushes accepted).
  const SenderConfig* sender(std::string_view id) const;
  /// The loaded certificates of a sender (empty when none).
  std::span<const TrustedKey> sender_keys(std::string_view id) const;

  ~Signer();
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

 private:
  Signer() = default;
  std::vector<SigningKey> keys_;
  std::size_t active_ = 0;
  Organization who_;
  std::vector<TrustedKey> own_;
  std::string jwks_;
  std::map<std::string, SenderConfig, std::less<>> senders_;
  std::map<std::string, std::vector<TrustedKey>, std::less<>> sender_keys_;
};

/// Outcome of checking one document's signature.
enum class VerifyStatus : std::uint8_t {
  kValid,
  kUnsigned,         ///< no Bundle.signature
  kMalformed,        ///< Signature or JWS not in the form above (sigFormat, base64, header, alg)
  kUnknownKey,       ///< no trusted key has the header's kid (or it is of another algorithm)
  kExpired,          ///< the certificate was not valid at the time of the check
  kAltered,          ///< the canonical form differs from what was signed
  kBadSignature,     ///< the signature does not verify (wrong key, damaged signature)
};
std::string_view to_string(VerifyStatus s) noexcept;

struct Verification {
  VerifyStatus status = VerifyStatus::kUnsigned;
  std::string message;     ///< for people; names the rule and the kid, never content
  std::string expression;  ///< FHIRPath of the element concerned ("Bundle.signature.data")
  std::string kid;         ///< the header's kid, when one was read
};

/// Checks Bundle.signature of `document` against `trusted` at time `at`
/// (certificate validity). Never fails as an operation: every problem is a
/// status. Cost: one canonicalization, one SHA-256, one signature check.
Verification verify_document(json::Value document, std::span<const TrustedKey> trusted,
                             std::chrono::system_clock::time_point at);

/// The verdict on a push from a registered sender: verified against the
/// certificates registered for it at time `at`. `accepted` is true for a
/// valid signature, and for an unsigned document when the sender's
/// registration does not require signatures; every other status refuses
/// the push (a signature the gateway cannot check is a configuration
/// problem to surface, not to ignore).
struct PushCheck {
  bool accepted = false;
  Verification verification;
};
PushCheck check_push(const Signer& signer, std::string_view sender, json::Value bundle,
                     std::chrono::system_clock::time_point at);

/// exchange's signing port over a Signer: sign() signs with the active key,
/// check_incoming() is check_push() with the verdict's status as the
/// refusal's FHIR issue type ("required" for a missing signature, "invalid"
/// for a malformed one, "security" otherwise). Immutable and thread-safe.
class DocumentSigning final : public exchange::DocumentSigner {
 public:
  explicit DocumentSigning(std::shared_ptr<const Signer> signer) : signer_(std::move(signer)) {}
  Result<std::string> sign(std::string_view document, std::chrono::system_clock::time_point when) const override;
  exchange::SignatureCheck check_incoming(std::string_view sender, json::Value bundle,
                                          std::chrono::system_clock::time_point now) const override;

 private:
  std::shared_ptr<const Signer> signer_;
};

/// The time of Signature.when, when it is a valid instant (for checks "at
/// the time of signing").
std::optional<std::chrono::system_clock::time_point> signature_time(json::Value document);

// ---------------------------------------------------------------------------
// Patient-held copy
// ---------------------------------------------------------------------------

/// A QR Code symbol: `size` x `size` modules, row-major, true = dark.
struct QrCode {
  int version = 0;  ///< 1..10
  int mask = 0;     ///< 0..7, the pattern with the lowest penalty
  int size = 0;     ///< 4 * version + 17
  std::vector<bool> modules;
  bool dark(int x, int y) const { return modules[static_cast<std::size_t>(y * size + x)]; }
  friend bool operator==(const QrCode&, const QrCode&) = default;
};

/// Encodes `bytes` as a QR Code (ISO/IEC 18004) in byte mode, error
/// correction level M, the smallest version of 1..10 that holds it (up to
/// 213 bytes). Errors: kLimit when longer. Deterministic.
Result<QrCode> qr_encode(std::string_view bytes);
/// An SVG drawing of `code` with the standard 4-module quiet zone.
std::string qr_svg(const QrCode& code, int module_px = 4);

/// What the QR code of a patient-held copy says: "Bundle/<id>" and the
/// SHA-256 of the document's canonical form (base64url), which stays the
/// same however often the gateway re-signs the same content, so a clinic
/// can fetch Bundle/<id> from the gateway and compare:
///   "Bundle/<id>#c14n-sha256=<digest>"
Result<std::string> patient_copy_token(json::Value document, std::string_view document_id);

/// One printable page (HTML, inline CSS and SVG, no script, no external
/// resources) for the patient to carry: the patient, the document's
/// sections as narrated (Composition.section.text, generated by the
/// gateway from structured data), who signed it and when, and a QR code of
/// patient_copy_token(). Headings are in the patient's preferred language
/// (Patient.communication, preferred first) where the page has them (en,
/// es, fr, ar, uk), English otherwise. Every value from the document is
/// HTML-escaped except the narrative XHTML, which FHIR constrains (no
/// scripts, no event attributes; the gateway writes it itself).
/// Errors: kInvalidArgument when `document` is not a document Bundle whose
/// first entry is a Composition.
Result<std::string> patient_copy_html(json::Value document, std::string_view document_id);

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

/// `fhir-gateway sign FILE --key PEM --cert PEM [--kid K] [--who NAME] [--endpoint URL]`:
/// writes FILE signed to `out`. `fhir-gateway verify FILE (--cert PEM | --jwks FILE)`:
/// prints the verdict. Exit codes: 0 signed / valid, 1 the document does
/// not verify (or cannot be read as a Bundle), 2 usage error or unusable
/// key files. `now` is Signature.when for sign; verify checks certificate
/// validity at Signature.when (at `now` when the document has none).
int run_sign_command(std::span<const std::string_view> args, std::chrono::system_clock::time_point now,
                     std::ostream& out, std::ostream& err);
int run_verify_command(std::span<const std::string_view> args, std::chrono::system_clock::time_point now,
                       std::ostream& out, std::ostream& err);

}  // namespace gw::signing
