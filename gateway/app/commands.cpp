// Commands whose behaviour lives in a module but that need things only the
// app may assemble: the R4 model from the package cache, a clock, the
// validator behind the server's $validate routes.
#include "gateway/app/app.hpp"
#include "gateway/app/detail/commands.hpp"
#include "gateway/consent/consent.hpp"
#include "gateway/exchange/exchange.hpp"
#include "gateway/fhir/fhir.hpp"
#include "gateway/fhirpath/fhirpath.hpp"
#include "gateway/forward/forward.hpp"
#include "gateway/handoff/handoff.hpp"
#include "gateway/http/http.hpp"
#include "gateway/packages/packages.hpp"
#include "gateway/signing/signing.hpp"
#include "gateway/store/store.hpp"
#include "gateway/terminology/terminology.hpp"
#include "gateway/validation/validation.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <boost/asio/io_context.hpp>

namespace gw::app::detail {

namespace {

// The project's own package (profiles the gateway checks handoffs against);
// the set-up builds it into the cache.
constexpr std::string_view kMigrantCarePackage = "migrantcare.fhir.gateway#0.1.0";

}  // namespace

// (detail/commands.hpp) R4 core + IPS from the package cache ($FHIR_PACKAGE_CACHE or
// ~/.fhir/packages), with our package when asked, and the element model of
// the base types.
Result<Definitions> load_definitions(bool with_migrant_care) {
  packages::LoadOptions load;
  load.cache_dir = packages::resolve_cache_dir("");
  for (std::string_view id : packages::kDefaultPackages) load.packages.emplace_back(id);
  if (with_migrant_care) load.packages.emplace_back(kMigrantCarePackage);
  GW_TRY(auto registry, packages::Registry::load(load));
  GW_TRY(auto model, fhir::Model::from_registry(*registry));
  return Definitions{std::move(registry), std::move(model)};
}

namespace {

bool wants_help(std::span<const std::string_view> args) {
  for (std::string_view a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

}  // namespace

int run_fhirpath(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  auto defs = load_definitions();
  if (!defs) {
    err << "fhirpath: " << defs.error().to_string() << "\n";
    return kExitUsage;
  }
  return fhirpath::run_fhirpath_command(args, *defs->model, out, err);
}

int run_packages(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  if (!args.empty() && args[0] == "build") return validation::run_package_build_command(args.subspan(1), out, err);
  int rc = packages::run_packages_command(args, out, err);
  if (wants_help(args) || (!args.empty() && args[0] == "help")) {
    out << "\n  build SOURCE_DIR [--out DIR] [--fhir-cache DIR] [--no-install]\n"
        << "      builds our own package (fhir-profiles/): generates snapshots, checks them,\n"
        << "      installs it into the cache as name#version\n";
  }
  return rc;
}

int run_handoff(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  SystemClock clock;
  handoff::RandomIdGenerator ids;
  // Usage errors need no definitions: the command checks its arguments
  // before it needs the model.
  if (wants_help(args) || args.empty()) return handoff::run_handoff_command(args, nullptr, clock, ids, out, err);
  auto defs = load_definitions();
  if (!defs) {
    err << "handoff: " << defs.error().to_string() << "\n";
    return kExitUsage;
  }
  return handoff::run_handoff_command(args, defs->model, clock, ids, out, err);
}

int run_redact(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  if (wants_help(args)) return consent::run_redact_command(args, nullptr, SystemClock(), out, err);
  auto defs = load_definitions();
  if (!defs) {
    err << "redact: " << defs.error().to_string() << "\n";
    return kExitUsage;
  }
  SystemClock clock;
  return consent::run_redact_command(args, defs->model, clock, out, err);
}

namespace {

// `--config FILE` among the serve arguments (the http module parses them
// again; the app needs the file for the parts other modules own).
std::string config_path_of(std::span<const std::string_view> args) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--config") return std::string(args[i + 1]);
  }
  return "config/demo.json";
}

// The store named by the configuration's "store" object: {"sqlite": PATH}
// (the embedded default, PATH relative to the working directory) or
// {"postgres": CONNINFO}.
Result<std::shared_ptr<store::Store>> open_configured_store(const std::string& config_path,
                                                             std::shared_ptr<const Clock> clock) {
  GW_TRY(auto doc, json::Document::parse_file(config_path));
  json::Value st = doc.root().find("store");
  if (std::string_view pg = st.find("postgres").str(); !pg.empty()) {
    store::PostgresOptions o;
    o.conninfo = std::string(pg);
    o.clock = std::move(clock);
    return store::open_postgres(o);
  }
  store::SqliteOptions o;
  o.path = std::string(st.find("sqlite").str());
  if (o.path.empty()) o.path = "var/gateway.db";
  std::error_code ec;
  if (auto parent = std::filesystem::path(o.path).parent_path(); !parent.empty()) {
    std::filesystem::create_directories(parent, ec);
  }
  o.clock = std::move(clock);
  return store::open_sqlite(o);
}

// The configuration's "warm_up": sample documents (paths relative to the
// working directory) run through the push path before the server listens
// (Exchange::warm_up), so that the first pushes after a start or a rolling
// restart are not the ones that load definitions. A sample that the push
// would refuse fails the start: it is a configuration error.
Status warm_up(const std::string& config_path, const exchange::Exchange& ex) {
  GW_TRY(auto doc, json::Document::parse_file(config_path));
  json::Value samples = doc.root().find("warm_up");
  if (!samples || samples.is_null()) return {};
  if (!samples.is_array()) return fail(ErrorCode::kInvalidArgument, "warm_up must be a list of file paths");
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const std::string at = "warm_up[" + std::to_string(i) + "]";
    const std::string path(samples[i].str());
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (path.empty() || !in) return fail(ErrorCode::kInvalidArgument, at + ": cannot read the file '" + path + "'");
    if (Status s = ex.warm_up(std::move(bytes)); !s) {
      return fail(ErrorCode::kInvalidArgument, at + " (" + path + "): " + s.error().message());
    }
  }
  return {};
}

// Everything behind the push and pull routes.
struct Wiring {
  std::shared_ptr<const exchange::Exchange> exchange;
  std::shared_ptr<store::Store> store;
  std::shared_ptr<const signing::Signer> signer;  ///< null without a "signing" section
};
Result<Wiring> build_exchange(const Definitions& defs, std::shared_ptr<const validation::Validator> validator,
                              const std::string& config_path, std::shared_ptr<const Clock> clock,
                              std::shared_ptr<http::ExchangeMetrics> metrics) {
  GW_TRY(auto config, consent::load_gateway_config(config_path));
  GW_TRY(auto policy, consent::Policy::load_file(config.policy_path, defs.model));
  GW_TRY(auto mappings, handoff::MappingSet::load("mappings", defs.model));
  GW_TRY(auto st, open_configured_store(config_path, clock));
  exchange::Deps deps;
  deps.validator = std::move(validator);
  deps.mappings = std::move(mappings);
  deps.consent = std::make_shared<const consent::Engine>(std::move(policy), defs.model, config.recipients);
  deps.store = st;
  deps.clock = clock;
  deps.ids = std::make_shared<handoff::RandomIdGenerator>();
  if (metrics) {
    deps.on_redactions = [metrics](const std::map<std::string, std::uint64_t>& by_category) {
      metrics->record_redactions(by_category);
    };
  }
  std::shared_ptr<const signing::Signer> signer;
  GW_TRY(auto signing_config, signing::load_signing_config(config_path));
  if (signing_config) {
    GW_TRY(signer, signing::Signer::create(*signing_config, signing::Organization{deps.gateway_name,
                                                                                   deps.gateway_endpoint}));
    deps.signer = std::make_shared<const signing::DocumentSigning>(signer);
  }
  GW_TRY(auto ex, exchange::Exchange::create(std::move(deps)));
  GW_CHECK_OK(warm_up(config_path, *ex));
  return Wiring{std::move(ex), std::move(st), std::move(signer)};
}

// Delivery runs in the serve process on its own io_context thread: the
// store's work listener wakes it after each committed push. (`fhir-gateway
// forward` runs the same Forwarder as a process of its own; both may run,
// the outbox leases keep them from sending a row twice.)
class Delivery {
 public:
  static Result<std::unique_ptr<Delivery>> start(const std::string& config_path, store::Store& st,
                                                 std::shared_ptr<const Clock> clock) {
    GW_TRY(auto config, forward::load_forward_config(config_path));
    auto d = std::unique_ptr<Delivery>(new Delivery);
    GW_TRY(d->forwarder_, forward::Forwarder::create(d->ioc_, st, std::move(config),
                                                     forward::ForwarderDeps{std::move(clock), nullptr}));
    d->forwarder_->start();
    d->thread_ = std::thread([io = &d->ioc_] { io->run(); });
    return d;
  }
  forward::Forwarder& forwarder() { return *forwarder_; }
  ~Delivery() {
    forwarder_->stop();
    forwarder_->wait_stopped();
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  Delivery() = default;
  boost::asio::io_context ioc_;
  std::unique_ptr<forward::Forwarder> forwarder_;
  std::thread thread_;
};

}  // namespace

int run_serve(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  http::ServeOptions options;
  // Declared before the server runs and destroyed after it returns: the
  // destructor stops delivery once no more pushes can arrive.
  std::unique_ptr<Delivery> delivery;
  if (!wants_help(args)) {
    auto defs = load_definitions(/*with_migrant_care=*/true);
    if (!defs) {
      err << "serve: " << defs.error().to_string() << "\n";
      return kExitUsage;
    }
    validation::ValidatorOptions vopt;
    vopt.terminology = std::make_shared<const terminology::Service>(defs->registry);
    auto validator = validation::Validator::create(defs->registry, defs->model, vopt);
    if (!validator) {
      err << "serve: " << validator.error().to_string() << "\n";
      return kExitUsage;
    }
    auto clock = std::make_shared<SystemClock>();
    options.exchange_metrics = std::make_shared<http::ExchangeMetrics>();
    auto ops_config = http::load_ops_config(config_path_of(args));
    if (!ops_config) {
      err << "serve: " << ops_config.error().to_string() << "\n";
      return kExitUsage;
    }
    auto wiring = build_exchange(*defs, *validator, config_path_of(args), clock, options.exchange_metrics);
    if (!wiring) {
      err << "serve: " << wiring.error().to_string() << "\n";
      return kExitUsage;
    }
    auto started = Delivery::start(config_path_of(args), *wiring->store, clock);
    if (!started) {
      err << "serve: " << started.error().to_string() << "\n";
      return kExitUsage;
    }
    delivery = std::move(*started);
    // /metrics: push outcomes, validation issues by rule, redactions by
    // category, the outbox depth per recipient and the de-identified
    // continuity figures read from the store at scrape time (cached 5 s;
    // the scrape runs on the server's CPU pool), delivery latency from the
    // forwarder's counters.
    options.metric_sources.push_back(std::make_shared<http::OutboxMetrics>(
        [st = wiring->store]() -> Result<std::vector<http::OutboxDepth>> {
          GW_TRY(auto stats, st->queue_stats());
          std::vector<http::OutboxDepth> out;
          for (const store::QueueStats& q : stats) {
            out.push_back({q.recipient, q.pending, q.in_flight, q.dead, q.oldest_pending});
          }
          return out;
        },
        clock));
    const std::int64_t k = ops_config->min_cell_size;
    options.metric_sources.push_back(
        std::make_shared<http::ContinuityMetrics>(http::continuity_from_store(wiring->store, k), k));
    // The forwarder outlives the server (see `delivery` above), so the
    // dashboard's routes may hold it by reference.
    forward::Forwarder* forwarder = &delivery->forwarder();
    http::LatencyFn latency = [forwarder] {
      std::vector<http::DeliveryLatency> out;
      for (const forward::RecipientStats& s : forwarder->stats()) {
        out.push_back(http::DeliveryLatency{
            s.recipient_id,
            {forward::kDeliveryLatencyBounds.begin(), forward::kDeliveryLatencyBounds.end()},
            {s.latency_buckets.begin(), s.latency_buckets.end()},
            s.latency_sum_seconds,
            {s.attempts, s.delivered, s.retried, s.dead_lettered, s.store_errors, s.worker_failures}});
      }
      return out;
    };
    options.metric_sources.push_back(std::make_shared<http::DeliveryLatencyMetrics>(latency));
    http::OpsDeps ops;
    ops.config = *ops_config;
    ops.store = wiring->store;
    ops.replay = [forwarder](std::int64_t id, std::string_view requested_by) {
      return forwarder->replay_one(id, requested_by);
    };
    ops.exchange_metrics = options.exchange_metrics;
    ops.latency = latency;
    ops.clock = clock;
    if (!wiring->signer) {
      err << "serve: WARNING no \"signing\" configuration: handoff documents are not signed and "
             "signed pushes are not verified\n";
    }
    options.add_routes = [ex = wiring->exchange, m = options.exchange_metrics, signer = wiring->signer,
                          ops = std::move(ops)](http::Router& router) -> Status {
      GW_CHECK_OK(http::add_exchange_routes(router, ex, m));
      GW_CHECK_OK(http::add_ops_routes(router, ops));
      if (signer) GW_CHECK_OK(http::add_jwks_route(router, signer->jwks_json()));
      return {};
    };
    // The $validate routes: parse gate first (its issues carry line and
    // column), then the full validator. Runs on the server's CPU pool; the
    // Validator is immutable and thread-safe.
    options.validate = [v = *validator](std::string_view body, std::string_view resource_type,
                                        std::string_view profile) -> Result<http::ValidateOutcome> {
      if (!resource_type.empty()) {
        const fhir::TypeDef* t = v->model().type(resource_type);
        if (!t || t->kind != fhir::TypeKind::kResource) {
          return fail(ErrorCode::kUnsupported, "the path names no FHIR R4 resource type");
        }
      }
      fhir::ParsedResource parsed = fhir::parse_resource(std::string(body));
      std::vector<fhir::Issue> issues = parsed.issues;
      if (parsed.ok()) {
        json::Value root = parsed.document.root();
        if (!resource_type.empty() && root.find("resourceType").str() != resource_type) {
          fhir::Issue i;
          i.severity = fhir::Issue::Severity::kError;
          i.code = "invalid";
          i.diagnostics = "resourceType does not match the type in the URL";
          issues.push_back(std::move(i));
        } else {
          validation::ValidateOptions vo;
          vo.max_errors = fhir::kMaxListedIssues;  // what the answer lists at most
          if (!profile.empty()) vo.profiles.emplace_back(profile);
          GW_TRY(issues, v->validate(root, vo));
        }
      }
      http::ValidateOutcome outcome;
      for (const fhir::Issue& i : issues) {
        outcome.has_errors = outcome.has_errors || i.severity == fhir::Issue::Severity::kError ||
                             i.severity == fhir::Issue::Severity::kFatal;
      }
      outcome.operation_outcome = fhir::operation_outcome_json(issues);
      return outcome;
    };
  }
  return http::run_serve_command(args, options, out, err);
}

int run_sign(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  return signing::run_sign_command(args, SystemClock().now(), out, err);
}

int run_verify(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  return signing::run_verify_command(args, SystemClock().now(), out, err);
}

int run_audit(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  return store::run_audit_command(args, std::make_shared<SystemClock>(), out, err);
}

}  // namespace gw::app::detail
