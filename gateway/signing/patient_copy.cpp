// The patient-held copy (signing.hpp): one printable HTML page and the QR
// token that ties the paper to the document the gateway holds.
#include "gateway/signing/signing.hpp"
#include "gateway/core/html.hpp"

#include "gateway/signing/detail/signing_internal.hpp"

#include <array>

namespace gw::signing {

namespace {

// The page's own words. Only these are translated; clinical content is as
// the document narrates it.
struct Labels {
  std::string_view lang;
  std::string_view title;
  std::string_view born;
  std::string_view document;
  std::string_view signed_by;
  std::string_view signed_at;
  std::string_view key;
  std::string_view check;
  std::string_view not_signed;
};

constexpr std::array<Labels, 5> kLabels = {{
    {"en", "Health summary \xE2\x80\x94 patient copy", "Born", "Document", "Signed by", "Signature date", "Key",
     "A clinic can check this copy: scan the code and compare it with the document the gateway holds.",
     "This copy is not signed."},
    {"es", "Resumen de salud \xE2\x80\x94 copia del paciente", "Fecha de nacimiento", "Documento", "Firmado por",
     "Fecha de la firma", "Clave",
     "Una cl\xC3\xADnica puede comprobar esta copia: escanee el c\xC3\xB3" "digo y comp\xC3\xA1relo con el documento "
     "que guarda la pasarela.",
     "Esta copia no est\xC3\xA1 firmada."},
    {"fr", "R\xC3\xA9sum\xC3\xA9 de sant\xC3\xA9 \xE2\x80\x94 copie du patient", "Date de naissance", "Document",
     "Sign\xC3\xA9 par", "Date de la signature", "Cl\xC3\xA9",
     "Une clinique peut v\xC3\xA9rifier cette copie\xC2\xA0: scannez le code et comparez-le au document conserv\xC3\xA9 "
     "par la passerelle.",
     "Cette copie n\xE2\x80\x99" "est pas sign\xC3\xA9" "e."},
    {"ar", "\xD9\x85\xD9\x84\xD8\xAE\xD8\xB5 \xD8\xB5\xD8\xAD\xD9\x8A \xE2\x80\x94 \xD9\x86\xD8\xB3\xD8\xAE\xD8\xA9 "
           "\xD8\xA7\xD9\x84\xD9\x85\xD8\xB1\xD9\x8A\xD8\xB6",
     "\xD8\xAA\xD8\xA7\xD8\xB1\xD9\x8A\xD8\xAE \xD8\xA7\xD9\x84\xD9\x85\xD9\x8A\xD9\x84\xD8\xA7\xD8\xAF",
     "\xD8\xA7\xD9\x84\xD9\x85\xD8\xB3\xD8\xAA\xD9\x86\xD8\xAF",
     "\xD9\x85\xD9\x88\xD9\x82\xD9\x91\xD8\xB9 \xD9\x85\xD9\x86",
     "\xD8\xAA\xD8\xA7\xD8\xB1\xD9\x8A\xD8\xAE \xD8\xA7\xD9\x84\xD8\xAA\xD9\x88\xD9\x82\xD9\x8A\xD8\xB9",
     "\xD8\xA7\xD9\x84\xD9\x85\xD9\x81\xD8\xAA\xD8\xA7\xD8\xAD",
     "\xD9\x8A\xD9\x85\xD9\x83\xD9\x86 \xD9\x84\xD9\x84\xD8\xB9\xD9\x8A\xD8\xA7\xD8\xAF\xD8\xA9 "
     "\xD8\xA7\xD9\x84\xD8\xAA\xD8\xAD\xD9\x82\xD9\x82 \xD9\x85\xD9\x86 \xD9\x87\xD8\xB0\xD9\x87 "
     "\xD8\xA7\xD9\x84\xD9\x86\xD8\xB3\xD8\xAE\xD8\xA9.",
     "\xD9\x87\xD8\xB0\xD9\x87 \xD8\xA7\xD9\x84\xD9\x86\xD8\xB3\xD8\xAE\xD8\xA9 \xD8\xBA\xD9\x8A\xD8\xB1 "
     "\xD9\x85\xD9\x88\xD9\x82\xD9\x91\xD8\xB9\xD8\xA9."},
    {"uk", "\xD0\x9C\xD0\xB5\xD0\xB4\xD0\xB8\xD1\x87\xD0\xBD\xD0\xB8\xD0\xB9 \xD0\xBF\xD1\x96\xD0\xB4\xD1\x81\xD1\x83"
           "\xD0\xBC\xD0\xBE\xD0\xBA \xE2\x80\x94 \xD0\xBA\xD0\xBE\xD0\xBF\xD1\x96\xD1\x8F \xD0\xBF\xD0\xB0\xD1\x86\xD1"
           "\x96\xD1\x94\xD0\xBD\xD1\x82\xD0\xB0",
     "\xD0\x94\xD0\xB0\xD1\x82\xD0\xB0 \xD0\xBD\xD0\xB0\xD1\x80\xD0\xBE\xD0\xB4\xD0\xB6\xD0\xB5\xD0\xBD\xD0\xBD\xD1\x8F",
     "\xD0\x94\xD0\xBE\xD0\xBA\xD1\x83\xD0\xBC\xD0\xB5\xD0\xBD\xD1\x82",
     "\xD0\x9F\xD1\x96\xD0\xB4\xD0\xBF\xD0\xB8\xD1\x81\xD0\xB0\xD0\xBD\xD0\xBE",
     "\xD0\x94\xD0\xB0\xD1\x82\xD0\xB0 \xD0\xBF\xD1\x96\xD0\xB4\xD0\xBF\xD0\xB8\xD1\x81\xD1\x83",
     "\xD0\x9A\xD0\xBB\xD1\x8E\xD1\x87",
     "\xD0\x9A\xD0\xBB\xD1\x96\xD0\xBD\xD1\x96\xD0\xBA\xD0\xB0 \xD0\xBC\xD0\xBE\xD0\xB6\xD0\xB5 \xD0\xBF\xD0\xB5\xD1"
     "\x80\xD0\xB5\xD0\xB2\xD1\x96\xD1\x80\xD0\xB8\xD1\x82\xD0\xB8 \xD1\x86\xD1\x8E \xD0\xBA\xD0\xBE\xD0\xBF\xD1\x96"
     "\xD1\x8E.",
     "\xD0\xA6\xD1\x8F \xD0\xBA\xD0\xBE\xD0\xBF\xD1\x96\xD1\x8F \xD0\xBD\xD0\xB5 \xD0\xBF\xD1\x96\xD0\xB4\xD0\xBF\xD0"
     "\xB8\xD1\x81\xD0\xB0\xD0\xBD\xD0\xB0."},
}};

// The entry whose fullUrl a reference names (documents use urn:uuid: fullUrls).
json::Value resolve(json::Value bundle, std::string_view reference) {
  json::Value entries = bundle.find("entry");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].find("fullUrl").str() == reference) return entries[i].find("resource");
  }
  return {};
}

// The patient's preferred language (communication.preferred first, else the
// first listed), as a primary subtag ("es" from "es-MX").
std::string preferred_language(json::Value patient) {
  json::Value comms = patient.find("communication");
  std::string first;
  for (std::size_t i = 0; i < comms.size(); ++i) {
    std::string_view code = comms[i].find("language").find("coding")[0].find("code").str();
    std::string tag(code.substr(0, code.find('-')));
    if (comms[i].find("preferred").boolean()) return tag;
    if (first.empty()) first = tag;
  }
  return first;
}

const Labels& labels_for(std::string_view lang) {
  for (const Labels& l : kLabels) {
    if (l.lang == lang) return l;
  }
  return kLabels[0];
}

std::string patient_name(json::Value patient) {
  json::Value name = patient.find("name")[0];
  if (name.find("text").is_string()) return std::string(name.find("text").str());
  std::string out;
  json::Value given = name.find("given");
  for (std::size_t i = 0; i < given.size(); ++i) out += std::string(given[i].str()) + " ";
  out += name.find("family").str();
  return out;
}

}  // namespace

Result<std::string> patient_copy_token(json::Value document, std::string_view document_id) {
  GW_TRY(std::string canonical, canonical_json(document, Canonicalization::kDocument));
  return "Bundle/" + std::string(document_id) + "#c14n-sha256=" + base64url_encode(sha256(canonical));
}

Result<std::string> patient_copy_html(json::Value document, std::string_view document_id) {
  json::Value composition = document.find("entry")[0].find("resource");
  if (document.find("type").str() != "document" || composition.find("resourceType").str() != "Composition") {
    return fail(ErrorCode::kInvalidArgument, "a patient copy is made of a document Bundle that starts with a Composition");
  }
  json::Value patient = resolve(document, composition.find("subject").find("reference").str());
  const Labels& l = labels_for(preferred_language(patient));
  GW_TRY(std::string token, patient_copy_token(document, document_id));
  GW_TRY(QrCode qr, qr_encode(token));

  std::string out;
  out.reserve(16 * 1024);
  out += "<!DOCTYPE html><html lang=\"";
  out += l.lang;
  out += l.lang == "ar" ? "\" dir=\"rtl\">" : "\">";
  out += "<head><meta charset=\"utf-8\"><title>";
  gw::append_html_escaped(out, l.title);
  out += "</title><style>"
         "@page{size:A4;margin:14mm}body{font:10.5pt/1.35 sans-serif;margin:0;color:#000}"
         "h1{font-size:15pt;margin:0 0 4pt}h2{font-size:11.5pt;margin:8pt 0 2pt;border-bottom:1px solid #888}"
         ".who{font-size:12pt;margin:0 0 6pt}.sig{display:flex;gap:12pt;align-items:center;border:1px solid #000;"
         "padding:6pt;margin-top:10pt;break-inside:avoid}.sig p{margin:2pt 0}.token{font:8pt monospace;"
         "word-break:break-all}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:1pt 3pt;"
         "text-align:start}"
         "</style></head><body><h1>";
  gw::append_html_escaped(out, l.title);
  out += "</h1><p class=\"who\"><strong>";
  gw::append_html_escaped(out, patient_name(patient));
  out += "</strong>";
  if (json::Value born = patient.find("birthDate"); born.is_string()) {
    out += " &middot; ";
    gw::append_html_escaped(out, l.born);
    out += ": ";
    gw::append_html_escaped(out, born.str());
  }
  out += "</p><p>";
  gw::append_html_escaped(out, composition.find("title").str());
  out += " &middot; ";
  gw::append_html_escaped(out, composition.find("date").str());
  out += "</p>";
  json::Value sections = composition.find("section");
  for (std::size_t i = 0; i < sections.size(); ++i) {
    json::Value s = sections[i];
    out += "<h2>";
    gw::append_html_escaped(out, s.find("title").str());
    out += "</h2>";
    // The gateway's own narrative, generated from structured data
    // (handoff.hpp, guarantee 4); FHIR XHTML has no scripts or handlers.
    out += s.find("text").find("div").str();
  }
  out += "<div class=\"sig\">";
  out += qr_svg(qr, 3);
  out += "<div>";
  json::Value sig = document.find("signature");
  if (sig.is_object()) {
    out += "<p>";
    gw::append_html_escaped(out, l.signed_by);
    out += ": ";
    gw::append_html_escaped(out, sig.find("who").find("display").str());
    out += "</p><p>";
    gw::append_html_escaped(out, l.signed_at);
    out += ": ";
    gw::append_html_escaped(out, sig.find("when").str());
    out += "</p><p>";
    gw::append_html_escaped(out, l.key);
    out += ": ";
    gw::append_html_escaped(out, detail::signature_kid(sig));
    out += "</p>";
  } else {
    out += "<p>";
    gw::append_html_escaped(out, l.not_signed);
    out += "</p>";
  }
  out += "<p>";
  gw::append_html_escaped(out, l.check);
  out += "</p><p class=\"token\">";
  gw::append_html_escaped(out, l.document);
  out += ": ";
  gw::append_html_escaped(out, token);
  out += "</p></div></div></body></html>";
  return out;
}

}  // namespace gw::signing
