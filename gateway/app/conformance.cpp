// `fhir-gateway conformance ...`: the conformance module's CLI with what only
// the app may assemble — the definitions (R4 core, IPS and our package, for
// FHIRPath and validateProfileId) and a Transport over the forward module's
// Beast HTTPS client (mutual TLS per TestScript origin, bearer token).
#include "gateway/app/detail/commands.hpp"

#include "gateway/conformance/conformance.hpp"
#include "gateway/forward/forward.hpp"
#include "gateway/terminology/terminology.hpp"
#include "gateway/validation/validation.hpp"

#include <map>

namespace gw::app::detail {

namespace {

class HttpsTransport final : public conformance::Transport {
 public:
  explicit HttpsTransport(conformance::TransportSettings settings)
      : settings_(std::move(settings)) {}

  Result<conformance::HttpResponse> send(const conformance::HttpRequest& request) override {
    GW_TRY(forward::BlockingClient * client, client_for(request.origin));
    forward::ClientRequest req;
    req.method = request.method;
    req.url = request.url;
    req.headers = request.headers;
    req.body = request.body;
    if (!settings_.token.empty() && request.header("Authorization").empty()) {
      req.headers.emplace_back("Authorization", "Bearer " + settings_.token);
    }
    GW_TRY(forward::ClientResponse res, client->send(req));
    return conformance::HttpResponse{res.status, std::move(res.headers), std::move(res.body)};
  }

 private:
  // One client (one identity, kept-alive connections) per origin; origin 1
  // may be anonymous (token-only clients), others must have an identity.
  Result<forward::BlockingClient*> client_for(int origin) {
    auto& slot = clients_[origin];
    if (slot) return slot.get();
    forward::ClientTls tls;
    tls.ca_file = settings_.ca_file;
    auto id = settings_.identities.find(origin);
    if (id != settings_.identities.end()) {
      tls.cert_file = id->second.first;
      tls.key_file = id->second.second;
    } else if (origin != 1) {
      return fail(ErrorCode::kInvalidArgument, "origin " + std::to_string(origin) +
                                                   " has no client identity (--origin N=CERT,KEY)");
    }
    forward::Deadlines deadlines;  // connect/handshake 5 s, write 10 s, read 30 s
    GW_TRY(slot, forward::BlockingClient::create(tls, deadlines));
    return slot.get();
  }

  conformance::TransportSettings settings_;
  std::map<int, std::unique_ptr<forward::BlockingClient>> clients_;
};

}  // namespace

int run_conformance(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  auto load = []() -> Result<conformance::Definitions> {
    GW_TRY(auto defs, load_definitions(/*with_migrant_care=*/true));
    validation::ValidatorOptions vopt;
    vopt.terminology = std::make_shared<const terminology::Service>(defs.registry);
    GW_TRY(auto validator, validation::Validator::create(defs.registry, defs.model, vopt));
    return conformance::Definitions{defs.model, validator};
  };
  auto transport = [](const conformance::TransportSettings& s)
      -> Result<std::unique_ptr<conformance::Transport>> {
    return std::unique_ptr<conformance::Transport>(new HttpsTransport(s));
  };
  SystemClock clock;
  return conformance::run_conformance_command(args, load, transport, clock, out, err);
}

}  // namespace gw::app::detail
