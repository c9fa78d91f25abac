// Signed handoff documents (issue #12): the canonical form against a golden
// file written by hand, signatures made and checked, every way a document
// or its certificate can be wrong, key rotation and the JWKS, the
// configuration, the sign/verify commands, the push and pull use cases with
// signing wired in, and an independent check of the gateway's signatures
// with the `openssl` command-line tool alone.
//
// Keys and certificates are made with the openssl CLI in a temporary
// folder when the suite starts; nothing secret is in the tree.
#include "gateway/signing/signing.hpp"

#include "gateway/consent/consent.hpp"
#include "gateway/exchange/exchange.hpp"
#include "gateway/fhir/fhir.hpp"
#include "gateway/json/json.hpp"
#include "gateway/validation/validation.hpp"
#include "tests/exchange/fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <map>
#include <fstream>
#include <future>
#include <sstream>

#include <unistd.h>

namespace gw::signing {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;

std::string read_text(const std::string& path) { return gw::testing::read_file(path); }

void write_text(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string data_dir() { return gw::testing::source_dir() + "/tests/data/signing"; }

// Runs a program to completion; its exit code (stderr goes to `log`).
int run(std::vector<std::string> argv, const std::string& log) {
  gw::testing::ProcessOptions o;
  o.argv = std::move(argv);
  o.stderr_path = log;
  auto p = gw::testing::ChildProcess::spawn(o);
  if (!p) return -1000;
  return (*p)->wait();
}

// Key pairs and self-signed certificates from the openssl CLI, once per
// process: gw1, gw2 (the gateway's current and previous keys), other (a
// stranger's), hosp (a hospital's document-signing key), all EC P-256, and
// rsa (RSA 2048) for the RS256 path.
struct KeyFiles {
  std::string dir;
  std::string error;
  std::string key(const std::string& name) const { return dir + "/" + name + ".key"; }
  std::string cert(const std::string& name) const { return dir + "/" + name + ".crt"; }
};

const KeyFiles& key_files() {
  static const KeyFiles files = [] {
    KeyFiles k;
    char tmpl[] = "/tmp/gw-signing-keys-XXXXXX";
    if (!::mkdtemp(tmpl)) {
      k.error = "mkdtemp failed";
      return k;
    }
    k.dir = tmpl;
    for (std::string name : {"gw1", "gw2", "other", "hosp", "rsa"}) {
      std::vector<std::string> argv{"/usr/bin/openssl", "req", "-x509", "-nodes", "-days", "30", "-subj",
                                    "/O=fhir-gateway test/CN=" + name, "-keyout", k.key(name), "-out", k.cert(name)};
      if (name == "rsa") {
        argv.insert(argv.begin() + 4, {"-newkey", "rsa:2048"});
      } else {
        argv.insert(argv.begin() + 4, {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"});
      }
      if (run(argv, k.dir + "/openssl.log") != 0) {
        k.error = "openssl req failed: " + read_text(k.dir + "/openssl.log");
        return k;
      }
    }
    return k;
  }();
  return files;
}

class Signing : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(key_files().error.empty()) << key_files().error; }

  static const KeyFiles& files() { return key_files(); }

  static SigningKey key(const std::string& name, std::string kid = {}) {
    auto k = load_signing_key(files().key(name), files().cert(name), kid.empty() ? name : kid);
    EXPECT_TRUE(k) << k.error().to_string();
    return k ? std::move(*k) : SigningKey{};
  }

  static std::shared_ptr<const Signer> signer(std::vector<std::string> names,
                                              std::map<std::string, SenderConfig, std::less<>> senders = {}) {
    std::vector<SigningKey> keys;
    for (const auto& n : names) keys.push_back(key(n));
    auto s = Signer::create(std::move(keys), 0, Organization{"Test gateway", "https://gw.test/fhir"}, std::move(senders));
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? *s : nullptr;
  }

  // A moment inside every test certificate's validity.
  static std::chrono::system_clock::time_point valid_time() {
    auto c = load_certificate(files().cert("gw1"), "gw1");
    return c ? *c->not_before + hours(1) : std::chrono::system_clock::time_point{};
  }

  static Verification verify(const std::string& text, std::span<const TrustedKey> trusted,
                             std::chrono::system_clock::time_point at = valid_time()) {
    auto doc = json::Document::parse(text);
    if (!doc) return Verification{VerifyStatus::kMalformed, "not JSON: " + doc.error().to_string(), "", ""};
    return verify_document(doc->root(), trusted, at);
  }

  static std::string fixture() { return read_text(data_dir() + "/canonical-input.json"); }

  static std::string sign(const Signer& s, const std::string& text) {
    auto out = s.sign(text, valid_time());
    EXPECT_TRUE(out) << out.error().to_string();
    return out ? *out : std::string();
  }

  static std::string replaced(std::string text, std::string_view from, std::string_view to) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
  }
};

// ---- canonical form -----------------------------------------------------------

TEST_F(Signing, CanonicalFormMatchesTheHandWrittenGoldenFile) {
  auto doc = json::Document::parse(fixture());
  ASSERT_TRUE(doc) << doc.error().to_string();
  auto c = canonical_json(doc->root(), Canonicalization::kDocument);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(*c, read_text(data_dir() + "/canonical-document.txt"));
}

TEST_F(Signing, CanonicalFormKeepsRootIdMetaAndSignatureOnlyInThePlainMethod) {
  auto doc = json::Document::parse(fixture());
  ASSERT_TRUE(doc);
  auto plain = canonical_json(doc->root(), Canonicalization::kJson);
  ASSERT_TRUE(plain);
  EXPECT_NE(plain->find(R"("id":"copy-on-server-b")"), std::string::npos);
  EXPECT_NE(plain->find(R"("meta":{"lastUpdated")"), std::string::npos);
  EXPECT_NE(plain->find(R"("signature":{"data")"), std::string::npos);
  // Layout and member order of the input do not matter; values do.
  auto a = json::Document::parse(R"({ "b" : [1, {"y":2.50,"x":"\u00e9"}], "a" : true })");
  auto b = json::Document::parse(R"({"a":true,"b":[1,{"x":"é","y":2.50}]})");
  auto c = json::Document::parse(R"({"a":true,"b":[1,{"x":"é","y":2.5}]})");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*canonical_json(a->root()), *canonical_json(b->root()));
  EXPECT_NE(*canonical_json(b->root()), *canonical_json(c->root()));
  EXPECT_FALSE(canonical_json(json::Document::parse("[1]")->root()));
  // Deeper than the walk's bound (a document parsed with a larger limit).
  std::string deep = std::string(300, '[') + std::string(300, ']');
  json::ParseOptions lenient;
  lenient.max_depth = 400;
  auto d = json::Document::parse(R"({"a":)" + deep + "}", lenient);
  ASSERT_TRUE(d);
  auto limited = canonical_json(d->root());
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().code(), ErrorCode::kLimit);
}

TEST_F(Signing, Base64HasOneSpellingPerByteString) {
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode(std::string_view("\xfb\xff", 2)), "+/8=");
  EXPECT_EQ(base64_decode("+/8="), std::string("\xfb\xff", 2));
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_FALSE(base64_decode("Zg"));     // padding is required
  EXPECT_FALSE(base64_decode("Zh=="));   // trailing bits set
  EXPECT_FALSE(base64_decode("-_8="));   // the URL alphabet is another encoding
  EXPECT_FALSE(base64_decode("Zm9v\n")); // no whitespace
}

// ---- signing and verifying ------------------------------------------------------

TEST_F(Signing, ASignedDocumentVerifiesAndCarriesTheSignatureElement) {
  auto s = signer({"gw1"});
  ASSERT_TRUE(s);
  const std::string demo = gw::exchange::testing::demo_bundle();
  const std::string signed_doc = sign(*s, demo);
  // The text before the appended member is untouched.
  const auto close = demo.rfind('}');
  EXPECT_EQ(signed_doc.substr(0, close), demo.substr(0, close));
  Verification v = verify(signed_doc, s->own_keys());
  EXPECT_EQ(v.status, VerifyStatus::kValid) << v.message;
  EXPECT_EQ(v.kid, "gw1");

  auto doc = json::Document::parse(signed_doc);
  ASSERT_TRUE(doc);
  json::Value sig = doc->root().find("signature");
  EXPECT_EQ(sig.find("type")[0].find("system").str(), "urn:iso-astm:E1762-95:2013");
  EXPECT_EQ(sig.find("type")[0].find("code").str(), "1.2.840.10065.1.12.1.1");
  EXPECT_EQ(sig.find("who").find("identifier").find("value").str(), "https://gw.test/fhir");
  EXPECT_EQ(sig.find("sigFormat").str(), "application/jose");
  EXPECT_EQ(sig.find("targetFormat").str(), kDocumentTargetFormat);
  EXPECT_EQ(signature_time(doc->root()), std::chrono::floor<std::chrono::seconds>(valid_time()));
  // Detached JWS: header..signature, ES256 with the certificate.
  auto compact = base64_decode(sig.find("data").str());
  ASSERT_TRUE(compact);
  auto jws = split_jws(*compact);
  ASSERT_TRUE(jws);
  EXPECT_EQ(jws->payload_json, "");
  EXPECT_EQ(jws->signature.size(), 64u);
  auto header = json::Document::parse(jws->header_json);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->root().find("alg").str(), "ES256");
  EXPECT_EQ(header->root().find("kid").str(), "gw1");
  EXPECT_EQ(base64_decode(header->root().find("x5c")[0].str()), s->own_keys()[0].cert_der);

  // Signing again replaces the signature; the document still verifies.
  const std::string twice = sign(*s, signed_doc);
  EXPECT_EQ(verify(twice, s->own_keys()).status, VerifyStatus::kValid);
  EXPECT_EQ(twice.find("\"signature\""), twice.rfind("\"signature\""));
}

TEST_F(Signing, ChangingAnyElementOrTheEntryOrderBreaksTheSignature) {
  auto s = signer({"gw1"});
  ASSERT_TRUE(s);
  const std::string signed_doc = sign(*s, fixture());
  ASSERT_EQ(verify(signed_doc, s->own_keys()).status, VerifyStatus::kValid);
  // Each of these changes what the document says.
  const std::vector<std::pair<std::string, std::string>> changes = {
      {R"("value":1.50)", R"("value":1.5)"},            // a decimal's precision
      {"Ana  Ruiz", "Ana Ruiz"},                         // whitespace inside a value
      {R"("active":false)", R"("active":true)"},
      {R"("status":"final")", R"("status":"amended")"},
      {R"("given":["Ana","María"])", R"("given":["María","Ana"])"},
      {R"("type":"document")", R"("type":"collection")"},
      {R"("extension":[],)", ""},                        // an element removed
      {R"("Zeta":true})", R"("Zeta":true,"added":1})"},  // an element added
  };
  for (const auto& [from, to] : changes) {
    Verification v = verify(replaced(signed_doc, from, to), s->own_keys());
    EXPECT_EQ(v.status, VerifyStatus::kAltered) << from;
    EXPECT_NE(v.message.find("altered after it was signed"), std::string::npos) << v.message;
  }
  // The two entries swapped.
  const auto first = signed_doc.find(R"({"fullUrl":"urn:uuid:b")");
  const auto second = signed_doc.find(R"({"fullUrl":"urn:uuid:a")");
  const auto end = signed_doc.find("]", signed_doc.find(R"("x":1.0e2)"));
  ASSERT_TRUE(first != std::string::npos && second != std::string::npos && end != std::string::npos);
  const std::string a = signed_doc.substr(first, second - 1 - first);  // up to the comma
  const std::string b = signed_doc.substr(second, end - second);
  std::string swapped = signed_doc;
  swapped.replace(first, end - first, b + "," + a);
  EXPECT_EQ(verify(swapped, s->own_keys()).status, VerifyStatus::kAltered);

  // What the #document method leaves out may change (a copy on another
  // server), and so may layout and member order.
  EXPECT_EQ(verify(replaced(signed_doc, "copy-on-server-b", "copy-on-server-c"), s->own_keys()).status,
            VerifyStatus::kValid);
  EXPECT_EQ(verify(replaced(signed_doc, R"("versionId":"7")", R"("versionId":"8")"), s->own_keys()).status,
            VerifyStatus::kValid);
  auto doc = json::Document::parse(signed_doc);
  json::Writer pretty(true);
  pretty.value(doc->root());
  EXPECT_EQ(verify(pretty.str(), s->own_keys()).status, VerifyStatus::kValid);
}

TEST_F(Signing, TheWrongKeyOrCertificateIsRefusedWithItsReason) {
  auto s = signer({"gw1"});
  auto other = signer({"other"});
  ASSERT_TRUE(s && other);
  const std::string signed_doc = sign(*s, fixture());

  // Another certificate registered under the signer's kid.
  auto swapped = load_certificate(files().cert("other"), "gw1");
  ASSERT_TRUE(swapped);
  Verification v = verify(signed_doc, std::span(&*swapped, 1));
  EXPECT_EQ(v.status, VerifyStatus::kUnknownKey);
  EXPECT_NE(v.message.find("x5c"), std::string::npos) << v.message;
  // The same key without its certificate (a JWK): the signature itself fails.
  auto jwk = trusted_keys_from_jwks(replaced(other->jwks_json(), R"("kid":"other")", R"("kid":"gw1")"));
  ASSERT_TRUE(jwk) << jwk.error().to_string();
  v = verify(signed_doc, *jwk);
  EXPECT_EQ(v.status, VerifyStatus::kBadSignature) << v.message;
  EXPECT_NE(v.message.find("content is as signed"), std::string::npos) << v.message;
  // Unknown kid.
  v = verify(signed_doc, other->own_keys());
  EXPECT_EQ(v.status, VerifyStatus::kUnknownKey);
  EXPECT_NE(v.message.find("'gw1'"), std::string::npos) << v.message;
  // A damaged signature value.
  auto doc = json::Document::parse(signed_doc);
  const std::string data(doc->root().find("signature").find("data").str());
  std::string jws = *base64_decode(data);
  jws[jws.size() - 5] = jws[jws.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify(replaced(signed_doc, data, base64_encode(jws)), s->own_keys()).status, VerifyStatus::kBadSignature);
  // Expired, and not yet valid.
  const auto& cert = s->own_keys()[0];
  v = verify(signed_doc, s->own_keys(), *cert.not_after + hours(1));
  EXPECT_EQ(v.status, VerifyStatus::kExpired);
  EXPECT_NE(v.message.find("has expired"), std::string::npos) << v.message;
  EXPECT_EQ(verify(signed_doc, s->own_keys(), *cert.not_before - hours(48)).status, VerifyStatus::kExpired);
  // Not signed, or not a signature we read.
  EXPECT_EQ(verify(gw::exchange::testing::demo_bundle(), s->own_keys()).status, VerifyStatus::kUnsigned);
  EXPECT_EQ(verify(replaced(signed_doc, data, "bm90IGEgandz"), s->own_keys()).status, VerifyStatus::kMalformed);
  EXPECT_EQ(verify(replaced(signed_doc, "application/jose", "image/png"), s->own_keys()).status,
            VerifyStatus::kMalformed);
  EXPECT_EQ(verify(replaced(signed_doc, "json#document", "json#static"), s->own_keys()).status,
            VerifyStatus::kMalformed);
}

TEST_F(Signing, RotationKeepsOldSignaturesVerifiableAndPublishesBothKeys) {
  auto before = signer({"gw1"});
  ASSERT_TRUE(before);
  const std::string old_doc = sign(*before, fixture());
  // Rotate: gw2 signs, gw1 stays listed. Through the configuration, as an
  // operator does it.
  const std::string config = R"({"signing": {"keys": [
      {"kid": "gw1", "key": ")" + files().key("gw1") + R"(", "cert": ")" + files().cert("gw1") + R"("},
      {"kid": "gw2", "key": ")" + files().key("gw2") + R"(", "cert": ")" + files().cert("gw2") + R"(", "sign": true}]}})";
  auto parsed = parse_signing_config(json::Document::parse(config)->root());
  ASSERT_TRUE(parsed && *parsed) << (parsed ? "absent" : parsed.error().to_string());
  auto after = Signer::create(**parsed, Organization{});
  ASSERT_TRUE(after) << after.error().to_string();
  const std::string new_doc = sign(**after, fixture());

  EXPECT_EQ(verify(old_doc, (*after)->own_keys()).status, VerifyStatus::kValid);
  Verification v = verify(new_doc, (*after)->own_keys());
  EXPECT_EQ(v.status, VerifyStatus::kValid);
  EXPECT_EQ(v.kid, "gw2");
  // The JWKS lists both, current first, and is enough to verify either.
  auto jwks = json::Document::parse((*after)->jwks_json());
  ASSERT_TRUE(jwks);
  json::Value keys = jwks->root().find("keys");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].find("kid").str(), "gw2");
  EXPECT_EQ(keys[1].find("kid").str(), "gw1");
  EXPECT_EQ(keys[0].find("alg").str(), "ES256");
  EXPECT_EQ(keys[0].find("crv").str(), "P-256");
  EXPECT_FALSE(keys[0].find("d"));  // public halves only
  auto published = trusted_keys_from_jwks((*after)->jwks_json());
  ASSERT_TRUE(published) << published.error().to_string();
  EXPECT_EQ(verify(old_doc, *published).status, VerifyStatus::kValid);
  EXPECT_EQ(verify(new_doc, *published).status, VerifyStatus::kValid);
  // Once gw1 is dropped, its documents no longer verify: rotation must
  // keep it listed as long as its documents are in use.
  EXPECT_EQ(verify(old_doc, signer({"gw2"})->own_keys()).status, VerifyStatus::kUnknownKey);
}

TEST_F(Signing, ConfigurationIsCheckedStrictly) {
  auto parse = [](const std::string& text) {
    return parse_signing_config(json::Document::parse(text)->root());
  };
  auto ok = parse(R"({"signing": {"keys": [{"kid": "a", "key": "k", "cert": "c"}],
                      "senders": {"demo-hospital": {"require_signature": true, "certs": [{"kid": "h", "cert": "h.crt"}]}}}})");
  ASSERT_TRUE(ok && *ok) << (ok ? "absent" : ok.error().to_string());
  EXPECT_TRUE((*ok)->keys[0].sign);  // the only key signs
  EXPECT_TRUE((*ok)->senders.at("demo-hospital").require_signature);
  auto demo = load_signing_config(gw::testing::source_dir() + "/config/demo.json");
  ASSERT_TRUE(demo && *demo) << (demo ? "absent" : demo.error().to_string());
  EXPECT_EQ((*demo)->keys.size(), 1u);
  auto none = parse(R"({"server": {}})");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto where = [&](const std::string& text) {
    auto r = parse(text);
    return r ? std::string("ok") : r.error().location();
  };
  EXPECT_EQ(where(R"({"signing": {"keys": []}})"), "signing.keys");
  EXPECT_EQ(where(R"({"signing": {"keys": [{"kid": "a", "key": "k", "cert": "c", "active": true}]}})"), "signing.keys[0]");
  EXPECT_EQ(where(R"({"signing": {"keys": [{"kid": "a", "key": "k", "cert": "c"}, {"kid": "b", "key": "k", "cert": "c"}]}})"),
            "signing.keys");
  EXPECT_EQ(where(R"({"signing": {"keys": [{"kid": "a", "key": "k", "cert": "c", "sign": true}, {"kid": "a", "key": "k", "cert": "c"}]}})"),
            "signing.keys[1].kid");
  EXPECT_EQ(where(R"({"signing": {"keys": [{"kid": "a", "key": "k", "cert": "c"}], "senders": {"h": {"require_signature": true}}}})"),
            "signing.senders.h.certs");
  // Files that do not fit: a certificate of another key, a missing file.
  EXPECT_EQ(load_signing_key(files().key("gw1"), files().cert("gw2"), "x").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(load_signing_key(files().dir + "/absent.key", files().cert("gw1"), "x").error().code(), ErrorCode::kIo);
  EXPECT_EQ(load_certificate(files().key("gw1"), "x").error().code(), ErrorCode::kParse);
}

// ---- incoming pushes ------------------------------------------------------------

TEST_F(Signing, PushesAreCheckedAgainstTheSendersRegistration) {
  std::map<std::string, SenderConfig, std::less<>> senders;
  senders["strict"] = SenderConfig{{{"hosp-1", files().cert("hosp")}}, true};
  senders["lenient"] = SenderConfig{{{"hosp-1", files().cert("hosp")}}, false};
  auto gateway = signer({"gw1"}, senders);
  ASSERT_TRUE(gateway);
  std::vector<SigningKey> hk;
  hk.push_back(key("hosp", "hosp-1"));
  auto hospital = *Signer::create(std::move(hk), 0, Organization{"Hospital", "https://hosp.test/fhir"});
  const std::string unsigned_doc = replaced(fixture(), R"(,
  "signature" : { "sigFormat" : "application/jose", "data" : "bm90IGEgc2lnbmF0dXJl" })", "");
  const std::string signed_doc = sign(*hospital, unsigned_doc);
  auto check = [&](std::string_view sender, const std::string& text) {
    auto doc = json::Document::parse(text);
    return check_push(*gateway, sender, doc->root(), valid_time());
  };
  EXPECT_TRUE(check("strict", signed_doc).accepted);
  EXPECT_TRUE(check("lenient", signed_doc).accepted);
  EXPECT_TRUE(check("lenient", unsigned_doc).accepted);
  EXPECT_TRUE(check("unregistered", unsigned_doc).accepted);  // default: unsigned accepted
  PushCheck refused = check("strict", unsigned_doc);
  EXPECT_FALSE(refused.accepted);
  EXPECT_NE(refused.verification.message.find("requires signed documents"), std::string::npos);
  // A signature the gateway cannot check is refused, also where unsigned
  // documents are fine.
  PushCheck unknown = check("unregistered", signed_doc);
  EXPECT_FALSE(unknown.accepted);
  EXPECT_NE(unknown.verification.message.find("no signing certificate is registered"), std::string::npos);
  EXPECT_FALSE(check("lenient", replaced(signed_doc, R"("active" : false)", R"("active" : true)")).accepted);
  // The fixture's own "signature" is no JWS: malformed, refused for everyone.
  PushCheck malformed = check("lenient", fixture());
  EXPECT_FALSE(malformed.accepted);
  EXPECT_EQ(malformed.verification.status, VerifyStatus::kMalformed);
}

// ---- command line ---------------------------------------------------------------

TEST_F(Signing, SignAndVerifyCommands) {
  const std::string dir = files().dir;
  const std::string input = data_dir() + "/canonical-input.json";
  std::ostringstream out, err;
  auto sign_cmd = [&](std::vector<std::string_view> args) {
    out.str("");
    err.str("");
    return run_sign_command(args, valid_time(), out, err);
  };
  auto verify_cmd = [&](std::vector<std::string_view> args) {
    out.str("");
    err.str("");
    return run_verify_command(args, valid_time(), out, err);
  };
  const std::string k = files().key("rsa"), c = files().cert("rsa");
  ASSERT_EQ(sign_cmd({input, "--key", k, "--cert", c, "--kid", "cli-1"}), 0) << err.str();
  const std::string signed_path = dir + "/cli-signed.json";
  write_text(signed_path, out.str());
  EXPECT_EQ(verify_cmd({signed_path, "--cert", c}), 0) << err.str();
  EXPECT_NE(out.str().find("valid"), std::string::npos);
  auto s = signer({"gw1"});
  write_text(dir + "/jwks-other.json", s->jwks_json());
  EXPECT_EQ(verify_cmd({signed_path, "--jwks", dir + "/jwks-other.json"}), 1);
  EXPECT_NE(err.str().find("unknown-key"), std::string::npos) << err.str();
  EXPECT_EQ(verify_cmd({signed_path, "--cert", files().cert("gw2")}), 1);
  write_text(dir + "/cli-altered.json", replaced(read_text(signed_path), R"("active":false)", R"("active":true)"));
  EXPECT_EQ(verify_cmd({dir + "/cli-altered.json", "--cert", c}), 1);
  EXPECT_NE(err.str().find("altered"), std::string::npos) << err.str();
  EXPECT_EQ(verify_cmd({input, "--cert", c}), 1);  // the fixture's signature is not a JWS
  // Default kid: the certificate's SHA-256 thumbprint.
  ASSERT_EQ(sign_cmd({input, "--key", files().key("gw1"), "--cert", files().cert("gw1")}), 0) << err.str();
  write_text(dir + "/cli-thumb.json", out.str());
  EXPECT_EQ(verify_cmd({dir + "/cli-thumb.json", "--cert", files().cert("gw1")}), 0) << err.str();
  // Usage errors.
  EXPECT_EQ(sign_cmd({input, "--key", k}), 2);
  EXPECT_EQ(sign_cmd({input, "--key", k, "--cert", files().cert("gw1")}), 2);  // not its certificate
  EXPECT_EQ(verify_cmd({signed_path}), 2);
  EXPECT_EQ(verify_cmd({signed_path, "--cert", c, "--jwks", "x"}), 2);
  EXPECT_EQ(verify_cmd({signed_path, "--bogus", "x"}), 2);
  EXPECT_EQ(sign_cmd({"--help"}), 0);
}

// ---- an independent check with the openssl CLI ------------------------------------

// r||s (JWS) to a DER ECDSA-Sig-Value, written out here rather than taken
// from the module, so a bug there cannot cancel itself out.
std::string der_integer(std::string_view be) {
  std::size_t i = 0;
  while (i + 1 < be.size() && be[i] == 0) ++i;
  std::string v(be.substr(i));
  if (static_cast<unsigned char>(v[0]) & 0x80) v.insert(v.begin(), '\0');
  return std::string{'\x02', static_cast<char>(v.size())} + v;
}

// Verifies a gateway signature with nothing but the openssl command line:
// base64-decode Signature.data, take the JWS header and signature, build
// the signing input from the HAND-WRITTEN canonical bytes of the fixture
// (tests/data/signing/canonical-document.txt), and run `openssl dgst
// -verify` with the public key taken from the certificate by openssl.
void check_with_openssl_cli(const Signer& s, const std::string& cert, bool ecdsa) {
  const std::string dir = key_files().dir + (ecdsa ? "/cli-es" : "/cli-rs");
  fs::create_directories(dir);
  auto out = s.sign(read_text(data_dir() + "/canonical-input.json"), std::chrono::system_clock::time_point{});
  ASSERT_TRUE(out);
  auto doc = json::Document::parse(*out);
  ASSERT_TRUE(doc);
  write_text(dir + "/data.b64", doc->root().find("signature").find("data").str());
  const std::string log = dir + "/openssl.log";
  ASSERT_EQ(run({"/usr/bin/openssl", "base64", "-d", "-A", "-in", dir + "/data.b64", "-out", dir + "/jws.txt"}, log), 0);
  const std::string jws = read_text(dir + "/jws.txt");
  const auto dot1 = jws.find('.'), dot2 = jws.rfind('.');
  ASSERT_EQ(dot2, dot1 + 1) << "a detached JWS has an empty payload";
  // base64url -> base64 with padding, for openssl.
  auto to_b64 = [](std::string s) {
    for (char& ch : s) ch = ch == '-' ? '+' : ch == '_' ? '/' : ch;
    while (s.size() % 4) s += '=';
    return s;
  };
  write_text(dir + "/sig.b64", to_b64(jws.substr(dot2 + 1)));
  ASSERT_EQ(run({"/usr/bin/openssl", "base64", "-d", "-A", "-in", dir + "/sig.b64", "-out", dir + "/sig.raw"}, log), 0);
  // The payload: the golden canonical bytes, base64url-encoded by openssl.
  ASSERT_EQ(run({"/usr/bin/openssl", "base64", "-A", "-in", data_dir() + "/canonical-document.txt", "-out",
                 dir + "/payload.b64"},
                log),
            0);
  std::string payload = read_text(dir + "/payload.b64");
  while (!payload.empty() && (payload.back() == '=' || payload.back() == '\n')) payload.pop_back();
  for (char& ch : payload) ch = ch == '+' ? '-' : ch == '/' ? '_' : ch;
  write_text(dir + "/input.txt", jws.substr(0, dot1) + "." + payload);
  std::string sig = read_text(dir + "/sig.raw");
  if (ecdsa) {
    ASSERT_EQ(sig.size(), 64u);
    const std::string body = der_integer(sig.substr(0, 32)) + der_integer(sig.substr(32));
    sig = std::string{'\x30', static_cast<char>(body.size())} + body;
  }
  write_text(dir + "/sig.der", sig);
  ASSERT_EQ(run({"/usr/bin/openssl", "x509", "-in", cert, "-pubkey", "-noout", "-out", dir + "/pub.pem"}, log), 0);
  EXPECT_EQ(run({"/usr/bin/openssl", "dgst", "-sha256", "-verify", dir + "/pub.pem", "-signature", dir + "/sig.der",
                 dir + "/input.txt"},
                log),
            0)
      << read_text(log);
  // And the check is not vacuous: one changed byte of the input fails it.
  write_text(dir + "/input.txt", jws.substr(0, dot1) + "." + payload.substr(0, payload.size() - 2) + "AA");
  EXPECT_NE(run({"/usr/bin/openssl", "dgst", "-sha256", "-verify", dir + "/pub.pem", "-signature", dir + "/sig.der",
                 dir + "/input.txt"},
                log),
            0);
}

TEST_F(Signing, OpensslCommandLineVerifiesAnRs256Signature) {
  auto s = signer({"rsa"});
  ASSERT_TRUE(s);
  check_with_openssl_cli(*s, files().cert("rsa"), false);
}

TEST_F(Signing, OpensslCommandLineVerifiesAnEs256Signature) {
  auto s = signer({"gw1"});
  ASSERT_TRUE(s);
  check_with_openssl_cli(*s, files().cert("gw1"), true);
}

// ---- QR code ----------------------------------------------------------------------

// A reader written from ISO/IEC 18004 for the test, sharing no code with
// the encoder: function modules from the standard's layout (alignment
// centres from its Annex E table), format and version information checked
// against BCH and Annex D, codewords read back in placement order,
// de-interleaved, every block's Reed-Solomon syndromes zero, then the byte
// segment decoded.
struct QrDecoded {
  std::string error;
  std::string payload;
  int mask = -1;
};

std::uint8_t gf_exp(int i) {
  static const std::array<std::uint8_t, 255> table = [] {
    std::array<std::uint8_t, 255> t{};
    int x = 1;
    for (int k = 0; k < 255; ++k) {
      t[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(x);
      x <<= 1;
      if (x & 0x100) x ^= 0x11D;
    }
    return t;
  }();
  return table[static_cast<std::size_t>(((i % 255) + 255) % 255)];
}

int gf_log(std::uint8_t v) {
  for (int i = 0; i < 255; ++i) {
    if (gf_exp(i) == v) return i;
  }
  return -1;
}

QrDecoded qr_read(const QrCode& q) {
  QrDecoded out;
  const int v = q.version, n = 17 + 4 * v;
  if (q.size != n || static_cast<int>(q.modules.size()) != n * n) return {"bad size"};
  // Annex E: alignment pattern centres, versions 1-10.
  static const std::vector<std::vector<int>> kAlign = {
      {}, {}, {6, 18}, {6, 22}, {6, 26}, {6, 30}, {6, 34}, {6, 22, 38}, {6, 24, 42}, {6, 26, 46}, {6, 28, 50}};
  // Table 9, level M: (blocks, EC codewords per block); Table 1: total codewords.
  static const std::vector<std::pair<int, int>> kBlocksM = {
      {0, 0}, {1, 10}, {1, 16}, {1, 26}, {2, 18}, {2, 24}, {4, 16}, {4, 18}, {4, 22}, {5, 22}, {5, 26}};
  static const std::vector<int> kTotal = {0, 26, 44, 70, 100, 134, 172, 196, 242, 292, 346};
  // Annex D: version information, versions 7-10.
  static const std::map<int, int> kVersionInfo = {{7, 0x07C94}, {8, 0x085BC}, {9, 0x09A99}, {10, 0x0A4D3}};

  std::vector<bool> fn(static_cast<std::size_t>(n * n), false);
  auto mark = [&](int x0, int y0, int w, int h) {
    for (int y = y0; y < y0 + h; ++y)
      for (int x = x0; x < x0 + w; ++x) fn[static_cast<std::size_t>(y * n + x)] = true;
  };
  mark(0, 0, 9, 9);          // finder, separator, format (top left)
  mark(n - 8, 0, 8, 9);      // top right + format row
  mark(0, n - 8, 9, 8);      // bottom left + format column + dark module
  mark(0, 6, n, 1);          // timing
  mark(6, 0, 1, n);
  const auto& al = kAlign[static_cast<std::size_t>(v)];
  for (int r : al)
    for (int c : al) {
      if ((r == 6 && c == 6) || (r == 6 && c == al.back()) || (r == al.back() && c == 6)) continue;
      mark(c - 2, r - 2, 5, 5);
    }
  if (v >= 7) {
    mark(n - 11, 0, 3, 6);
    mark(0, n - 11, 6, 3);
    int bits = 0;
    for (int i = 0; i < 18; ++i) bits |= (q.dark(n - 11 + i % 3, i / 3) ? 1 : 0) << i;
    if (bits != kVersionInfo.at(v)) return {"version information is not Annex D's"};
    int mirror = 0;
    for (int i = 0; i < 18; ++i) mirror |= (q.dark(i / 3, n - 11 + i % 3) ? 1 : 0) << i;
    if (mirror != bits) return {"the two version information copies differ"};
  }
  // Format information, first copy, and its BCH check.
  int f = 0;
  for (int i = 0; i <= 5; ++i) f |= (q.dark(8, i) ? 1 : 0) << i;
  f |= (q.dark(8, 7) ? 1 : 0) << 6;
  f |= (q.dark(8, 8) ? 1 : 0) << 7;
  f |= (q.dark(7, 8) ? 1 : 0) << 8;
  for (int i = 9; i < 15; ++i) f |= (q.dark(14 - i, 8) ? 1 : 0) << i;
  f ^= 0x5412;
  int rem = f >> 10;
  for (int i = 0; i < 10; ++i) rem = (rem << 1) ^ ((rem >> 9) * 0x537);
  if ((((f >> 10) << 10) | (rem & 0x3FF)) != f) return {"format information fails its BCH check"};
  if ((f >> 13) != 0) return {"error correction level is not M"};
  out.mask = (f >> 10) & 7;
  if (!q.dark(8, n - 8)) return {"no dark module"};
  // Finder pattern centres.
  for (auto [x, y] : {std::pair{3, 3}, std::pair{n - 4, 3}, std::pair{3, n - 4}}) {
    if (!q.dark(x, y) || q.dark(x + 2, y) || !q.dark(x + 3, y)) return {"finder pattern missing"};
  }
  // Data modules, unmasked, in placement order.
  std::vector<std::uint8_t> cw;
  int bit = 0, acc = 0, count = 0;
  for (int right = n - 1; right >= 1; right -= 2) {
    if (right == 6) right = 5;
    for (int vert = 0; vert < n; ++vert) {
      for (int j = 0; j < 2; ++j) {
        const int x = right - j;
        const int y = ((right + 1) & 2) == 0 ? n - 1 - vert : vert;
        if (fn[static_cast<std::size_t>(y * n + x)]) continue;
        bool m = false;
        switch (out.mask) {
          case 0: m = (y + x) % 2 == 0; break;
          case 1: m = y % 2 == 0; break;
          case 2: m = x % 3 == 0; break;
          case 3: m = (y + x) % 3 == 0; break;
          case 4: m = (y / 2 + x / 3) % 2 == 0; break;
          case 5: m = (y * x) % 2 + (y * x) % 3 == 0; break;
          case 6: m = ((y * x) % 2 + (y * x) % 3) % 2 == 0; break;
          default: m = ((y + x) % 2 + (y * x) % 3) % 2 == 0; break;
        }
        acc = (acc << 1) | ((q.dark(x, y) != m) ? 1 : 0);
        ++count;
        if (++bit == 8) {
          cw.push_back(static_cast<std::uint8_t>(acc));
          bit = 0;
          acc = 0;
        }
      }
    }
  }
  if (static_cast<int>(cw.size()) != kTotal[static_cast<std::size_t>(v)]) return {"wrong number of codewords"};
  // De-interleave: short blocks first, data then EC.
  const auto [blocks, ecc] = kBlocksM[static_cast<std::size_t>(v)];
  const int data_total = kTotal[static_cast<std::size_t>(v)] - blocks * ecc;
  std::vector<std::vector<std::uint8_t>> blk(static_cast<std::size_t>(blocks));
  std::vector<int> len(static_cast<std::size_t>(blocks), data_total / blocks);
  for (int i = 0; i < data_total % blocks; ++i) ++len[static_cast<std::size_t>(blocks - 1 - i)];
  std::size_t k = 0;
  for (int i = 0; i < len.back(); ++i)
    for (int b = 0; b < blocks; ++b)
      if (i < len[static_cast<std::size_t>(b)]) blk[static_cast<std::size_t>(b)].push_back(cw[k++]);
  std::string data;
  for (const auto& b : blk) data.append(b.begin(), b.end());
  for (int i = 0; i < ecc; ++i)
    for (int b = 0; b < blocks; ++b) blk[static_cast<std::size_t>(b)].push_back(cw[k++]);
  for (const auto& b : blk) {
    for (int j = 0; j < ecc; ++j) {  // S_j = c(a^j) must be 0
      std::uint8_t s = 0;
      for (std::size_t i = 0; i < b.size(); ++i) {
        if (b[i] == 0) continue;
        s ^= gf_exp(gf_log(b[i]) + j * static_cast<int>(b.size() - 1 - i));
      }
      if (s != 0) return {"a Reed-Solomon syndrome is not zero"};
    }
  }
  // The segment: mode 0100, count, bytes.
  auto bits_at = [&](std::size_t pos, int w) {
    int r = 0;
    for (int i = 0; i < w; ++i, ++pos) r = (r << 1) | ((static_cast<std::uint8_t>(data[pos / 8]) >> (7 - pos % 8)) & 1);
    return r;
  };
  if (bits_at(0, 4) != 4) return {"not a byte-mode segment"};
  const int cbits = v < 10 ? 8 : 16;
  const int length = bits_at(4, cbits);
  for (int i = 0; i < length; ++i) out.payload += static_cast<char>(bits_at(4 + cbits + 8 * i, 8));
  (void)count;
  return out;
}

TEST(Qr, EncodesBytesAsTheStandardReadsThem) {
  const std::vector<std::pair<std::size_t, int>> cases = {
      {1, 1}, {14, 1}, {15, 2}, {84, 5}, {106, 6}, {107, 7}, {122, 7}, {150, 8}, {180, 9}, {213, 10}};
  for (auto [length, version] : cases) {
    std::string payload;
    for (std::size_t i = 0; i < length; ++i) payload += static_cast<char>("Bundle/#c14n-sha256=0123456789\x00\xff"[i % 32]);
    auto q = qr_encode(payload);
    ASSERT_TRUE(q) << length;
    EXPECT_EQ(q->version, version) << length;
    QrDecoded d = qr_read(*q);
    EXPECT_EQ(d.error, "") << length;
    EXPECT_EQ(d.payload, payload) << length;
    EXPECT_EQ(d.mask, q->mask);
  }
  auto too_long = qr_encode(std::string(214, 'x'));
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code(), ErrorCode::kLimit);
  // Deterministic, and drawn with the quiet zone.
  const std::string token = "Bundle/9b2f6a1e-0c51-4d0e-9d47-8f7b2a3c4d5e#c14n-sha256=Jx3nT0PKw4vQm8iH2yR5sZ1aB6cD7eF8gH9iJ0kL1mN";
  EXPECT_EQ(*qr_encode(token), *qr_encode(token));
  const std::string svg = qr_svg(*qr_encode(token), 3);
  EXPECT_TRUE(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_NE(svg.find("viewBox=\"0 0 49 49\""), std::string::npos);  // version 6: 41 + 2 * 4
}

// ---- the patient-held copy ------------------------------------------------------

std::string copy_document(std::string_view language, std::string_view family) {
  return R"({"resourceType":"Bundle","id":"doc-1","type":"document",
    "identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:1"},"timestamp":"2026-09-21T12:00:00Z",
    "entry":[{"fullUrl":"urn:uuid:c","resource":{"resourceType":"Composition","status":"final",
      "type":{"coding":[{"system":"http://loinc.org","code":"60591-5"}]},"subject":{"reference":"urn:uuid:p"},
      "date":"2026-09-21","author":[{"display":"Gateway"}],"title":"Patient summary",
      "section":[{"title":"Allergies","text":{"status":"generated",
        "div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>No known allergies</p></div>"}}]}},
     {"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient","name":[{"family":")" +
         std::string(family) + R"(","given":["Ana"]}],"birthDate":"1990-02-03",
      "communication":[{"language":{"coding":[{"code":"en"}]}},
                       {"language":{"coding":[{"code":")" + std::string(language) + R"("}]},"preferred":true}]}}]})";
}

TEST_F(Signing, PatientCopyIsOnePageInThePatientsLanguageWithEveryValueEscaped) {
  auto s = signer({"gw1"});
  ASSERT_TRUE(s);
  const std::string signed_doc = sign(*s, copy_document("es-MX", "Ruiz <script>alert(1)</script>"));
  auto doc = json::Document::parse(signed_doc);
  ASSERT_TRUE(doc);
  auto html = patient_copy_html(doc->root(), "doc-1");
  ASSERT_TRUE(html) << html.error().to_string();
  EXPECT_NE(html->find("<html lang=\"es\">"), std::string::npos);
  EXPECT_NE(html->find("Resumen de salud"), std::string::npos);
  EXPECT_NE(html->find("Firmado por"), std::string::npos);
  EXPECT_NE(html->find("1990-02-03"), std::string::npos);
  EXPECT_NE(html->find("<p>No known allergies</p>"), std::string::npos);  // the gateway's own narrative
  EXPECT_EQ(html->find("<script>"), std::string::npos);
  EXPECT_NE(html->find("Ruiz &lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html->find("gw1"), std::string::npos);  // the signing key
  auto token = patient_copy_token(doc->root(), "doc-1");
  ASSERT_TRUE(token);
  EXPECT_TRUE(token->starts_with("Bundle/doc-1#c14n-sha256="));
  EXPECT_NE(html->find(*token), std::string::npos);
  // The QR code on the page carries the token.
  auto qr = qr_encode(*token);
  ASSERT_TRUE(qr);
  EXPECT_NE(html->find(qr_svg(*qr, 3)), std::string::npos);

  // A language the page does not have: English; Arabic is right to left.
  auto de = json::Document::parse(copy_document("de", "Ruiz"));
  EXPECT_NE(patient_copy_html(de->root(), "doc-1")->find("<html lang=\"en\">"), std::string::npos);
  auto ar = json::Document::parse(copy_document("ar", "Ruiz"));
  const std::string ar_html = *patient_copy_html(ar->root(), "doc-1");
  EXPECT_NE(ar_html.find("<html lang=\"ar\" dir=\"rtl\">"), std::string::npos);
  // Not a document: refused.
  EXPECT_FALSE(patient_copy_html(json::Document::parse(fixture())->root(), "x"));
}

// ---- the use cases with signing wired in ------------------------------------------

class FixedAt final : public Clock {
 public:
  explicit FixedAt(std::chrono::system_clock::time_point t) : t_(t) {}
  std::chrono::system_clock::time_point now() const override { return t_; }

 private:
  std::chrono::system_clock::time_point t_;
};

class SignedExchange : public Signing {
 protected:
  void SetUp() override {
    Signing::SetUp();
    dir_ = fs::temp_directory_path() / ("gw-signing-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    std::map<std::string, SenderConfig, std::less<>> senders;
    senders["demo-hospital"] = SenderConfig{{{"hosp-1", files().cert("hosp")}}, require_};
    signer_ = signer({"gw1"}, senders);
    ASSERT_TRUE(signer_);
    auto w = gw::exchange::testing::make_world(
        dir_.string(), clock_,
        [](std::vector<consent::Recipient>& rs) {
          for (auto& r : rs) {
            if (r.id == "demo-ngo") r.delivery_format = "mhd";
          }
        },
        std::make_shared<const DocumentSigning>(signer_));
    ASSERT_TRUE(w.error.empty()) << w.error;
    store_ = w.store;
    ex_ = w.exchange;
    validator_ = w.validator;
  }
  void TearDown() override {
    ex_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  exchange::Reply push(std::string body, std::vector<std::string> recipients) {
    std::promise<exchange::Reply> p;
    auto f = p.get_future();
    ex_->push(exchange::Caller{"demo-hospital"}, exchange::PushRequest{std::move(body), std::move(recipients), "TREAT"},
              [&p](exchange::Reply r) { p.set_value(std::move(r)); });
    return f.get();
  }

  std::string hospital_signed(const std::string& text) {
    std::vector<SigningKey> hk;
    hk.push_back(key("hosp", "hosp-1"));
    auto hospital = Signer::create(std::move(hk), 0, Organization{"Demo General Hospital", "https://hosp.test/fhir"});
    return sign(**hospital, text);
  }

  std::string fhir_errors(const std::string& text) {
    auto doc = json::Document::parse(text);
    if (!doc) return "not JSON";
    auto issues = validator_->validate(doc->root());
    if (!issues) return issues.error().to_string();
    return validation::has_errors(*issues) ? fhir::operation_outcome_json(*issues) : std::string();
  }

  bool require_ = false;
  std::shared_ptr<const Clock> clock_ = std::make_shared<FixedAt>(valid_time());
  fs::path dir_;
  std::shared_ptr<const Signer> signer_;
  std::shared_ptr<store::Store> store_;
  std::shared_ptr<const exchange::Exchange> ex_;
  std::shared_ptr<const validation::Validator> validator_;
};

TEST_F(SignedExchange, DeliveredAndServedDocumentsAreSignedByTheGateway) {
  exchange::Reply r = push(hospital_signed(gw::exchange::testing::demo_bundle()), {"demo-clinic", "demo-ngo"});
  ASSERT_EQ(r.status, 201) << r.body;
  auto queued = store_->claim("demo-clinic", 10, std::chrono::seconds(60));
  ASSERT_TRUE(queued);
  ASSERT_EQ(queued->size(), 1u);
  const std::string& payload = (*queued)[0].payload;
  Verification v = verify(payload, signer_->own_keys());
  EXPECT_EQ(v.status, VerifyStatus::kValid) << v.message;
  // A signed HandoffDocument is still valid FHIR (Signature, targetFormat).
  EXPECT_EQ(fhir_errors(payload), "");
  // The MHD copy carries the signed document in its Binary.
  auto mhd = store_->claim("demo-ngo", 10, std::chrono::seconds(60));
  ASSERT_TRUE(mhd && mhd->size() == 1u);
  auto transaction = json::Document::parse((*mhd)[0].payload);
  ASSERT_TRUE(transaction);
  auto carried = base64_decode(transaction->root().find("entry")[2].find("resource").find("data").str());
  ASSERT_TRUE(carried);
  EXPECT_EQ(verify(*carried, signer_->own_keys()).status, VerifyStatus::kValid);

  // Pulls: $summary and Bundle/{id} answer signed documents.
  const std::string marker = "the patient's gateway key is ";
  const auto at = r.body.find(marker) + marker.size();
  exchange::PatientRef p;
  p.key = r.body.substr(at, r.body.find('"', at) - at);
  exchange::Reply summary = ex_->summary(exchange::Caller{"demo-clinic"}, p, "TREAT");
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_EQ(verify(summary.body, signer_->own_keys()).status, VerifyStatus::kValid);
  std::string id;
  for (const auto& [k, val] : r.headers) {
    if (k == "Location") id = val.substr(std::string("Bundle/").size());
  }
  exchange::Reply read = ex_->read_bundle(exchange::Caller{"demo-clinic"}, id, "TREAT");
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(verify(read.body, signer_->own_keys()).status, VerifyStatus::kValid);
}

TEST_F(SignedExchange, BadOrAlteredSignedPushesAreRefusedWithAnOperationOutcome) {
  const std::string signed_doc = hospital_signed(gw::exchange::testing::demo_bundle());
  // Altered after signing: the patient's birth date changed on the way.
  auto doc = json::Document::parse(signed_doc);
  ASSERT_TRUE(doc);
  const auto birth = signed_doc.find("\"birthDate\"");
  ASSERT_NE(birth, std::string::npos);
  std::string altered = signed_doc;
  const auto digit = altered.find_first_of("0123456789", birth);
  altered[digit] = altered[digit] == '1' ? '2' : '1';
  exchange::Reply r = push(altered, {"demo-clinic"});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos);
  EXPECT_NE(r.body.find("altered after it was signed"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"security\""), std::string::npos) << r.body;
  // Signed by a key the sender never registered.
  r = push(sign(*signer({"other"}), gw::exchange::testing::demo_bundle()), {"demo-clinic"});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("no trusted certificate or key has kid 'other'"), std::string::npos) << r.body;
  // Nothing was queued for either.
  auto queued = store_->claim("demo-clinic", 10, std::chrono::seconds(60));
  ASSERT_TRUE(queued);
  EXPECT_TRUE(queued->empty());
  // Unsigned is fine for this sender (its registration does not require it).
  EXPECT_EQ(push(gw::exchange::testing::demo_bundle(), {"demo-clinic"}).status, 201);
}

class StrictSender : public SignedExchange {
 protected:
  void SetUp() override {
    require_ = true;
    SignedExchange::SetUp();
  }
};

TEST_F(StrictSender, UnsignedPushIsRefusedWhenTheRegistrationRequiresSignatures) {
  exchange::Reply r = push(gw::exchange::testing::demo_bundle(), {"demo-clinic"});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("\"required\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("requires signed documents"), std::string::npos) << r.body;
  EXPECT_EQ(push(hospital_signed(gw::exchange::testing::demo_bundle()), {"demo-clinic"}).status, 201);
}

}  // namespace
}  // namespace gw::signing
