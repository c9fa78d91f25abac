// The gateway configuration file, as far as consent is concerned: the
// registered recipients and the policy file. Kept small and separate so the
// HTTP server can read the same file for its own members later.
#include "gateway/consent/consent.hpp"
#include "gateway/consent/detail/json_read.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gw::consent {

using detail::index_path;
using detail::ObjectReader;

namespace {

constexpr std::pair<std::string_view, RecipientKind> kKinds[] = {
    {"hospital", RecipientKind::kHospital},
    {"community-clinic", RecipientKind::kCommunityClinic},
    {"ngo", RecipientKind::kNgo},
    {"settlement-service", RecipientKind::kSettlementService},
    {"health-assessment-centre", RecipientKind::kHealthAssessmentCentre},
    {"operator", RecipientKind::kOperator},
};

constexpr std::string_view kOperations[] = {"submit", "receive", "pull"};

bool is_recipient_id(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

bool is_http_url(std::string_view s) {
  std::string_view rest;
  if (s.rfind("http://", 0) == 0) {
    rest = s.substr(7);
  } else if (s.rfind("https://", 0) == 0) {
    rest = s.substr(8);
  } else {
    return false;
  }
  if (rest.empty() || rest[0] == '/' || rest[0] == ':') return false;
  return std::none_of(s.begin(), s.end(), [](char c) { return c == ' ' || c < 0x21 || c == 0x7f; });
}

Result<Recipient> read_recipient(json::Value v, const std::string& path) {
  ObjectReader r(v, path);
  GW_CHECK_OK(r.check_object());
  Recipient rec;
  GW_TRY(rec.id, r.string("id"));
  if (!is_recipient_id(rec.id)) {
    return fail(ErrorCode::kParse, "recipient ids use letters, digits, '-' and '.' (at most 64)",
                r.child("id"));
  }
  GW_TRY(rec.organization, r.string("organization"));
  GW_TRY(std::string kind, r.string("kind"));
  auto k = std::find_if(std::begin(kKinds), std::end(kKinds),
                        [&](const auto& e) { return e.first == kind; });
  if (k == std::end(kKinds)) {
    return fail(ErrorCode::kParse,
                "kind must be hospital, community-clinic, ngo, settlement-service, "
                "health-assessment-centre or operator",
                r.child("kind"));
  }
  rec.kind = k->second;
  const bool op = rec.kind == RecipientKind::kOperator;
  if (op) {
    GW_TRY(rec.endpoint, r.optional_string("endpoint", ""));
  } else {
    GW_TRY(rec.endpoint, r.string("endpoint"));
  }
  if (!(op && rec.endpoint.empty()) && !is_http_url(rec.endpoint))
    return fail(ErrorCode::kParse, "endpoint must be an http(s) URL", r.child("endpoint"));
  GW_TRY(rec.operations, r.string_array("operations", true));
  // An operator sees the dashboard and nothing else: no pushes, no
  // deliveries, no pulls of patient data.
  if (op && !rec.operations.empty()) {
    return fail(ErrorCode::kParse, "an operator lists no operations", r.child("operations"));
  }
  for (std::size_t i = 0; i < rec.operations.size(); ++i) {
    if (std::find(std::begin(kOperations), std::end(kOperations), rec.operations[i]) ==
        std::end(kOperations)) {
      return fail(ErrorCode::kParse, "operations are submit, receive and pull",
                  index_path(r.child("operations"), i));
    }
  }
  GW_TRY(rec.withdrawal_notice, r.optional_string("withdrawal_notice", "task"));
  if (rec.withdrawal_notice != "task" && rec.withdrawal_notice != "message") {
    return fail(ErrorCode::kParse, "withdrawal_notice is task or message", r.child("withdrawal_notice"));
  }
  GW_TRY(rec.delivery_format, r.optional_string("delivery_format", "bundle"));
  if (rec.delivery_format != "bundle" && rec.delivery_format != "mhd") {
    return fail(ErrorCode::kParse, "delivery_format is bundle or mhd", r.child("delivery_format"));
  }
  GW_CHECK_OK(r.finish());
  return rec;
}

}  // namespace

std::string_view to_string(RecipientKind kind) {
  for (const auto& [name, k] : kKinds) {
    if (k == kind) return name;
  }
  return "hospital";
}

const Recipient* GatewayConfig::recipient(std::string_view id) const {
  for (const Recipient& r : recipients) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

// Top-level members other than ours are ignored on purpose: the same file
// configures the HTTP server and storage, which check their own members.
// Inside "recipients" everything is ours and is checked strictly.
Result<GatewayConfig> parse_gateway_config(std::string_view json_text, std::string_view base_dir) {
  GW_TRY(json::Document doc, json::Document::parse(std::string(json_text)));
  json::Value root = doc.root();
  if (!root.is_object()) return fail(ErrorCode::kParse, "expected a JSON object");
  GatewayConfig config;
  json::Value policy = root.find("consentPolicy");
  if (!policy || !policy.is_string() || policy.str().empty()) {
    return fail(ErrorCode::kParse, "missing consentPolicy (path of the consent policy file)",
                "consentPolicy");
  }
  std::filesystem::path p(std::string(policy.str()));
  if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(std::string(base_dir)) / p;
  config.policy_path = p.lexically_normal().string();

  json::Value recipients = root.find("recipients");
  if (!recipients || !recipients.is_array()) {
    return fail(ErrorCode::kParse, "expected an array of recipients", "recipients");
  }
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    GW_TRY(Recipient r, read_recipient(recipients[i], index_path("recipients", i)));
    if (config.recipient(r.id)) {
      return fail(ErrorCode::kParse, "duplicate recipient id", index_path("recipients", i) + ".id");
    }
    config.recipients.push_back(std::move(r));
  }
  return config;
}

Result<GatewayConfig> load_gateway_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::kNotFound, "cannot open configuration file", path);
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string dir = std::filesystem::path(path).parent_path().string();
  auto c = parse_gateway_config(std::move(buf).str(), dir);
  if (!c) return c.error().with_context(path);
  return c;
}

}  // namespace gw::consent
