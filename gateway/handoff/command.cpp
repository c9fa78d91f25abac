// `fhir-gateway handoff`: builds one HandoffDocument from the command line,
// for demos, operators checking a new mapping, and integration tests. The
// app module owns the command table; this file owns the command's options.
#include "gateway/handoff/handoff.hpp"

#include <fstream>
#include <ostream>
#include <sstream>

namespace gw::handoff {

namespace {

constexpr std::string_view kHelp =
    "Usage: fhir-gateway handoff [--mappings DIR] [--mapping NAME] [--sender NAME] FILE\n\n"
    "Builds the HandoffDocument (a FHIR document Bundle) for the Bundle in FILE and prints it.\n"
    "  --mappings DIR   folder of mapping files (default: mappings)\n"
    "  --mapping NAME   use this mapping (default: the first whose 'accepts' holds)\n"
    "  --sender NAME    organisation written as author when the input names none\n"
    "Warnings (data the handoff needs but the input lacks) go to stderr.\n"
    "Exit: 0 built, 1 no mapping accepts the input or it cannot be mapped, 2 usage error,\n"
    "unreadable file or broken mapping file.\n";

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

}  // namespace

int run_handoff_command(std::span<const std::string_view> args,
                        std::shared_ptr<const fhir::Model> model, const Clock& clock,
                        IdGenerator& ids, std::ostream& out, std::ostream& err) {
  std::string dir = "mappings", file;
  BuildOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--help" || a == "-h") {
      out << kHelp;
      return kOk;
    }
    if (a == "--mappings" || a == "--mapping" || a == "--sender") {
      if (i + 1 >= args.size()) {
        err << "handoff: " << a << " needs a value\n";
        return kUsage;
      }
      std::string v(args[++i]);
      if (a == "--mappings") dir = v;
      if (a == "--mapping") options.mapping = v;
      if (a == "--sender") options.gateway.name = v;
      continue;
    }
    if (a.starts_with("-") || !file.empty()) {
      err << "handoff: unexpected argument (see --help)\n";
      return kUsage;
    }
    file = std::string(a);
  }
  if (file.empty()) {
    err << kHelp;
    return kUsage;
  }
  if (!model) {
    err << "handoff: no FHIR model\n";
    return kUsage;
  }
  auto set = MappingSet::load(dir, model);
  if (!set) {
    err << "handoff: " << set.error().to_string() << "\n";
    return kUsage;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    err << "handoff: " << file << ": cannot open file\n";
    return kUsage;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  auto doc = json::Document::parse(std::move(buf).str());
  if (!doc) {
    err << "handoff: " << doc.error().with_context(file).to_string() << "\n";
    return kUsage;
  }
  options.clock = &clock;
  options.ids = &ids;
  auto h = build(**set, doc->root(), options);
  if (!h) {
    err << "handoff: " << h.error().to_string() << "\n";
    return kFailed;
  }
  for (const fhir::Issue& i : h->warnings) {
    err << "warning: " << i.expression << ": " << i.diagnostics << "\n";
  }
  auto written = json::Document::parse(h->json);
  GW_ASSERT(static_cast<bool>(written), "the handoff builder wrote JSON it cannot parse");
  json::Writer pretty(true);
  pretty.value(written->root());
  out << pretty.str() << "\n";
  return kOk;
}

}  // namespace gw::handoff
