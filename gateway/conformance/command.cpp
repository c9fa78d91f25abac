// `fhir-gateway conformance list|run|receiver`: finds the suites, runs
// their scripts through the Transport the app builds, writes the reports.
#include "gateway/conformance/conformance.hpp"

#include "gateway/json/json.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace gw::conformance {

namespace {

namespace fs = std::filesystem;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

constexpr std::string_view kUsage =
    "usage: fhir-gateway conformance list [--suites DIR]\n"
    "       fhir-gateway conformance run --suite NAME|FILE [--suite ...] --target URL [options]\n"
    "       fhir-gateway conformance receiver --target URL [options]   (the receiver suite)\n"
    "options:\n"
    "  --client-cert PEM --client-key PEM   client identity (TestScript origin 1)\n"
    "  --origin N=CERT,KEY                  client identity of origin N (repeatable)\n"
    "  --ca PEM                             trusted server CA (default: the system store)\n"
    "  --token T                            bearer token on every request\n"
    "  --destination N=URL                  base URL of destination N (repeatable; 1 = --target)\n"
    "  --output DIR                         write <script>.testreport.json and report.html there\n"
    "  --suites DIR                         where suites live (default conformance/suites)\n"
    "exit: 0 all passed, 1 a test failed or errored, 2 usage or set-up error\n";

bool is_test_script(const fs::path& p) {
  auto doc = json::Document::parse_file(p.string());
  return doc && doc->root().find("resourceType").str() == "TestScript";
}

// The scripts of a suite folder (its top level; fixtures live below).
std::vector<std::string> scripts_in(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".json" && is_test_script(e.path())) {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<int> index_of(std::string_view s) {
  int n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size() || n < 1) return std::nullopt;
  return n;
}

std::string file_stem(const ScriptReport& r) {
  std::string s = r.script_id.empty() ? fs::path(r.file).stem().string() : r.script_id;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  return s;
}

bool write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

int run_conformance_command(std::span<const std::string_view> args,
                            const DefinitionsLoader& load_definitions,
                            const TransportFactory& make_transport, const Clock& clock,
                            std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? err : out) << kUsage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string_view command = args[0];
  if (command != "list" && command != "run" && command != "receiver") {
    err << "conformance: unknown command '" << command << "'\n" << kUsage;
    return kExitUsage;
  }
  std::vector<std::string> suites;
  std::string suites_dir = "conformance/suites";
  std::string output;
  RunOptions options;
  TransportSettings transport;
  std::string cert, key;
  if (command == "receiver") suites.emplace_back("receiver");
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "--help" || a == "-h") {
      out << kUsage;
      return kExitOk;
    }
    if (i + 1 >= args.size()) {
      err << "conformance: " << a << " needs a value (or is unknown)\n" << kUsage;
      return kExitUsage;
    }
    const std::string v(args[++i]);
    if (a == "--suite" && command == "run") {
      suites.push_back(v);
    } else if (a == "--suites") {
      suites_dir = v;
    } else if (a == "--target") {
      options.base_url = v;
    } else if (a == "--client-cert") {
      cert = v;
    } else if (a == "--client-key") {
      key = v;
    } else if (a == "--ca") {
      transport.ca_file = v;
    } else if (a == "--token") {
      transport.token = v;
    } else if (a == "--output") {
      output = v;
    } else if (a == "--origin" || a == "--destination") {
      const std::size_t eq = v.find('=');
      auto n = eq == std::string::npos ? std::nullopt : index_of(std::string_view(v).substr(0, eq));
      if (!n) {
        err << "conformance: " << a << " expects N=...\n";
        return kExitUsage;
      }
      const std::string rest = v.substr(eq + 1);
      if (a == "--destination") {
        options.destinations[*n] = rest;
      } else {
        const std::size_t comma = rest.find(',');
        if (comma == std::string::npos) {
          err << "conformance: --origin expects N=CERT,KEY\n";
          return kExitUsage;
        }
        transport.identities[*n] = {rest.substr(0, comma), rest.substr(comma + 1)};
      }
    } else {
      err << "conformance: unknown option '" << a << "'\n" << kUsage;
      return kExitUsage;
    }
  }
  if (cert.empty() != key.empty()) {
    err << "conformance: --client-cert and --client-key go together\n";
    return kExitUsage;
  }
  if (!cert.empty()) transport.identities[1] = {cert, key};

  if (command == "list") {
    std::error_code ec;
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(suites_dir, ec)) {
      if (e.is_directory()) dirs.push_back(e.path());
    }
    if (ec) {
      err << "conformance: cannot read " << suites_dir << "\n";
      return kExitUsage;
    }
    std::sort(dirs.begin(), dirs.end());
    for (const fs::path& d : dirs) {
      out << d.filename().string() << "\n";
      for (const std::string& s : scripts_in(d)) {
        auto doc = json::Document::parse_file(s);
        std::string title(doc ? doc->root().find("title").str() : "");
        out << "  " << fs::path(s).filename().string() << (title.empty() ? "" : "  " + title)
            << "\n";
      }
    }
    return kExitOk;
  }

  if (suites.empty() || options.base_url.empty()) {
    err << "conformance: --suite and --target are required\n" << kUsage;
    return kExitUsage;
  }
  std::vector<std::string> scripts;
  for (const std::string& s : suites) {
    std::error_code ec;
    if (fs::is_regular_file(s, ec)) {
      scripts.push_back(s);
      continue;
    }
    const fs::path dir = fs::path(suites_dir) / s;
    auto found = scripts_in(dir);
    if (found.empty()) {
      err << "conformance: no suite '" << s << "' (no TestScript in " << dir.string() << ")\n";
      return kExitUsage;
    }
    scripts.insert(scripts.end(), found.begin(), found.end());
  }

  auto defs = load_definitions();
  if (!defs) {
    err << "conformance: " << defs.error().to_string() << "\n";
    return kExitUsage;
  }
  auto t = make_transport(transport);
  if (!t) {
    err << "conformance: " << t.error().to_string() << "\n";
    return kExitUsage;
  }
  options.issued = gw::format_instant(clock.now());

  std::vector<ScriptReport> reports;
  for (const std::string& s : scripts) {
    auto r = run_script(s, **t, *defs, options);
    if (!r) {
      err << "conformance: " << r.error().to_string() << "\n";
      return kExitUsage;
    }
    reports.push_back(std::move(*r));
  }
  out << console_summary(reports);
  if (!output.empty()) {
    std::error_code ec;
    fs::create_directories(output, ec);
    bool ok = !ec;
    for (const ScriptReport& r : reports) {
      ok = ok &&
           write_file(fs::path(output) / (file_stem(r) + ".testreport.json"), test_report_json(r));
    }
    ok = ok && write_file(fs::path(output) / "report.html", html_report(reports));
    if (!ok) {
      err << "conformance: cannot write the reports to " << output << "\n";
      return kExitUsage;
    }
    out << "reports: " << (fs::path(output) / "report.html").string() << "\n";
  }
  const bool all_pass = std::all_of(reports.begin(), reports.end(), [](const ScriptReport& r) {
    return r.result() == Outcome::kPass;
  });
  return all_pass ? kExitOk : kExitFailed;
}

}  // namespace gw::conformance
