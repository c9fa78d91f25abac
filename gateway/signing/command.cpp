// `fhir-gateway sign` and `fhir-gateway verify`, for integrators who want
// to sign what they push or check what they received (signing.hpp).
#include "gateway/signing/signing.hpp"

#include "gateway/signing/detail/signing_internal.hpp"


namespace gw::signing {

using detail::read_file;

namespace {

constexpr int kOk = 0;
constexpr int kProblem = 1;
constexpr int kUsage = 2;

constexpr std::string_view kSignHelp =
    "Usage: fhir-gateway sign FILE --key PEM --cert PEM [--kid KID] [--who NAME] [--endpoint URL]\n\n"
    "Writes FILE (a FHIR Bundle, JSON) to stdout with Bundle.signature: a detached JWS (ES256 for an\n"
    "EC P-256 key, RS256 for RSA) over the document's canonical form\n"
    "(http://hl7.org/fhir/canonicalization/json#document).\n"
    "  --key PEM       the private key (unencrypted PEM)\n"
    "  --cert PEM      its certificate (sent in the JWS header as x5c)\n"
    "  --kid KID       key id in the header (default: base64url SHA-256 of the certificate)\n"
    "  --who NAME      Signature.who.display (default: the gateway's name)\n"
    "  --endpoint URL  Signature.who.identifier.value (default: the gateway's FHIR base)\n"
    "Exit: 0 signed, 1 FILE is not a JSON object, 2 usage error or unusable key files.\n";

constexpr std::string_view kVerifyHelp =
    "Usage: fhir-gateway verify FILE (--cert PEM [--kid KID] | --jwks FILE)\n\n"
    "Checks Bundle.signature of FILE against a certificate or a JWK Set (e.g. the gateway's\n"
    "/.well-known/jwks.json). A certificate must have been valid at Signature.when. Without --kid,\n"
    "--cert is trusted under the kid the signature names.\n"
    "Exit: 0 valid, 1 unsigned / invalid / altered (the reason on stderr), 2 usage error or\n"
    "unreadable key files.\n";

// FILE and --name value pairs; false (after a message) on a usage error.
bool parse_args(std::span<const std::string_view> args, std::initializer_list<std::string_view> names,
                std::string& file, std::map<std::string, std::string, std::less<>>& opts, std::string_view cmd,
                std::ostream& err) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a.starts_with("--")) {
      if (std::find(names.begin(), names.end(), a) == names.end()) {
        err << cmd << ": unknown option " << a.substr(0, 40) << "\n";
        return false;
      }
      if (i + 1 >= args.size()) {
        err << cmd << ": " << a << " needs a value\n";
        return false;
      }
      opts[std::string(a)] = std::string(args[++i]);
    } else if (file.empty()) {
      file = std::string(a);
    } else {
      err << cmd << ": one FILE only\n";
      return false;
    }
  }
  if (file.empty()) {
    err << cmd << ": FILE is required\n";
    return false;
  }
  return true;
}

bool wants_help(std::span<const std::string_view> args) {
  return std::find(args.begin(), args.end(), "--help") != args.end() ||
         std::find(args.begin(), args.end(), "-h") != args.end();
}

}  // namespace

int run_sign_command(std::span<const std::string_view> args, std::chrono::system_clock::time_point now,
                     std::ostream& out, std::ostream& err) {
  if (wants_help(args)) {
    out << kSignHelp;
    return kOk;
  }
  std::string file;
  std::map<std::string, std::string, std::less<>> o;
  if (!parse_args(args, {"--key", "--cert", "--kid", "--who", "--endpoint"}, file, o, "sign", err)) {
    err << kSignHelp;
    return kUsage;
  }
  if (!o.contains("--key") || !o.contains("--cert")) {
    err << "sign: --key and --cert are required\n" << kSignHelp;
    return kUsage;
  }
  std::string kid = o.contains("--kid") ? o["--kid"] : std::string();
  if (kid.empty()) {
    auto cert = load_certificate(o["--cert"], "");
    if (!cert) {
      err << "sign: " << cert.error().to_string() << "\n";
      return kUsage;
    }
    kid = base64url_encode(sha256(cert->cert_der));
  }
  auto key = load_signing_key(o["--key"], o["--cert"], kid);
  if (!key) {
    err << "sign: " << key.error().to_string() << "\n";
    return kUsage;
  }
  Organization who;
  if (o.contains("--who")) who.name = o["--who"];
  if (o.contains("--endpoint")) who.endpoint = o["--endpoint"];
  std::vector<SigningKey> keys;
  keys.push_back(std::move(*key));
  auto signer = Signer::create(std::move(keys), 0, std::move(who));
  if (!signer) {
    err << "sign: " << signer.error().to_string() << "\n";
    return kUsage;
  }
  auto text = read_file(file);
  if (!text) {
    err << "sign: " << text.error().to_string() << "\n";
    return kUsage;
  }
  auto signed_doc = (*signer)->sign(*text, now);
  if (!signed_doc) {
    err << "sign: " << signed_doc.error().with_context(file).to_string() << "\n";
    return kProblem;
  }
  out << *signed_doc << "\n";
  return kOk;
}

int run_verify_command(std::span<const std::string_view> args, std::chrono::system_clock::time_point now,
                       std::ostream& out, std::ostream& err) {
  if (wants_help(args)) {
    out << kVerifyHelp;
    return kOk;
  }
  std::string file;
  std::map<std::string, std::string, std::less<>> o;
  if (!parse_args(args, {"--cert", "--jwks", "--kid"}, file, o, "verify", err)) {
    err << kVerifyHelp;
    return kUsage;
  }
  if (o.contains("--cert") == o.contains("--jwks")) {
    err << "verify: give either --cert or --jwks\n" << kVerifyHelp;
    return kUsage;
  }
  auto doc = json::Document::parse_file(file);
  if (!doc) {
    err << "verify: " << doc.error().to_string() << "\n";
    return kProblem;
  }
  std::vector<TrustedKey> trusted;
  if (o.contains("--cert")) {
    const std::string kid =
        o.contains("--kid") ? o["--kid"] : detail::signature_kid(doc->root().find("signature"));
    auto cert = load_certificate(o["--cert"], kid);
    if (!cert) {
      err << "verify: " << cert.error().to_string() << "\n";
      return kUsage;
    }
    trusted.push_back(std::move(*cert));
  } else {
    auto text = read_file(o["--jwks"]);
    auto keys = text ? trusted_keys_from_jwks(*text) : Result<std::vector<TrustedKey>>(text.error());
    if (!keys) {
      err << "verify: " << keys.error().with_context(o["--jwks"]).to_string() << "\n";
      return kUsage;
    }
    trusted = std::move(*keys);
  }
  // A patient-held copy is checked long after it was signed: the
  // certificate must have been valid when the signature was made.
  const auto at = signature_time(doc->root()).value_or(now);
  const Verification v = verify_document(doc->root(), trusted, at);
  if (v.status != VerifyStatus::kValid) {
    err << "verify: " << file << ": " << to_string(v.status) << ": " << v.message << " (" << v.expression << ")\n";
    return kProblem;
  }
  out << file << ": " << v.message << ", signed " << doc->root().find("signature").find("when").str() << "\n";
  return kOk;
}

}  // namespace gw::signing
