// `fhir-gateway audit verify|export`: the audit trail from the command line.
//
// The store is found, in order: --store PATH (SQLite file), --postgres
// CONNINFO, or the config file's "store" object ({"sqlite": PATH} or
// {"postgres": CONNINFO}; default config/demo.json). A missing SQLite file
// is an error rather than a fresh empty store: verifying an empty chain that
// we just created would say "ok" about nothing.
#include "gateway/store/store.hpp"

#include "gateway/json/json.hpp"

#include <filesystem>

namespace gw::store {

namespace {

constexpr std::string_view kHelp =
    "Usage: fhir-gateway audit verify [--store PATH | --postgres CONNINFO] [--config FILE]\n"
    "       fhir-gateway audit export [--store PATH | --postgres CONNINFO] [--config FILE] [--after SEQ]\n"
    "\n"
    "  verify   recompute the audit hash chain; exit 1 and name the first damaged record\n"
    "  export   print the audit trail as a FHIR Bundle (collection) of AuditEvents\n"
    "\n"
    "  --store PATH         SQLite store file\n"
    "  --postgres CONNINFO  PostgreSQL store (libpq connection string)\n"
    "  --config FILE        gateway configuration with a \"store\" object (default config/demo.json)\n"
    "  --after SEQ          export only records after sequence number SEQ\n";

struct Target {
  std::string sqlite;
  std::string postgres;
};

Result<Target> target_from_config(const std::string& path) {
  GW_TRY(auto doc, json::Document::parse_file(path));
  json::Value store = doc.root().find("store");
  Target t;
  if (json::Value s = store.find("sqlite"); s.is_string()) t.sqlite = std::string(s.str());
  if (json::Value p = store.find("postgres"); p.is_string()) t.postgres = std::string(p.str());
  if (t.sqlite.empty() && t.postgres.empty()) {
    return fail(ErrorCode::kNotFound, "no \"store\" object with \"sqlite\" or \"postgres\"", path);
  }
  return t;
}

}  // namespace

int run_audit_command(std::span<const std::string_view> args, std::shared_ptr<const Clock> clock,
                      std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? err : out) << kHelp;
    return args.empty() ? 2 : 0;
  }
  const std::string_view verb = args[0];
  if (verb != "verify" && verb != "export") {
    err << "audit: unknown subcommand (verify or export)\n" << kHelp;
    return 2;
  }
  Target target;
  std::string config = "config/demo.json";
  std::int64_t after = 0;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string_view a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--help" || a == "-h") {
      out << kHelp;
      return 0;
    } else if (a == "--store" && has_value) {
      target.sqlite = std::string(args[++i]);
    } else if (a == "--postgres" && has_value) {
      target.postgres = std::string(args[++i]);
    } else if (a == "--config" && has_value) {
      config = std::string(args[++i]);
    } else if (a == "--after" && has_value && verb == "export") {
      try {
        after = std::stoll(std::string(args[++i]));
      } catch (const std::exception&) {
        err << "audit: --after needs a sequence number\n";
        return 2;
      }
    } else {
      err << "audit: unknown or incomplete option '" << std::string(a.substr(0, 40)) << "'\n" << kHelp;
      return 2;
    }
  }
  if (target.sqlite.empty() && target.postgres.empty()) {
    auto t = target_from_config(config);
    if (!t) {
      err << "audit: " << t.error().to_string() << " (or pass --store PATH)\n";
      return 2;
    }
    target = *t;
  }
  Result<std::shared_ptr<Store>> st = fail(ErrorCode::kInternal, "unset");
  if (!target.sqlite.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(target.sqlite, ec)) {
      err << "audit: " << target.sqlite << ": no such store\n";
      return 2;
    }
    SqliteOptions o;
    o.path = target.sqlite;
    o.clock = clock;
    st = open_sqlite(o);
  } else {
    PostgresOptions o;
    o.conninfo = target.postgres;
    o.clock = clock;
    st = open_postgres(o);
  }
  if (!st) {
    err << "audit: " << st.error().to_string() << "\n";
    return 2;
  }
  if (verb == "export") {
    auto bundle = (*st)->export_audit(after);
    if (!bundle) {
      err << "audit: " << bundle.error().to_string() << "\n";
      return 2;
    }
    out << *bundle << "\n";
    return 0;
  }
  auto v = (*st)->verify_audit();
  if (!v) {
    err << "audit: " << v.error().to_string() << "\n";
    return 2;
  }
  if (v->ok) {
    out << "audit chain: ok (" << v->records << " records)\n";
    return 0;
  }
  out << "audit chain: BROKEN at record " << v->first_bad_seq << ": " << v->problem << " (" << v->records
      << " records verified before it)\n";
  return 1;
}

}  // namespace gw::store
