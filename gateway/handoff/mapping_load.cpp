// Loading and checking mapping files. Everything that can be wrong with a
// mapping is found here, at start-up, with the file, line and column (and
// the FHIRPath offset inside an expression): unknown keys (a typo such as
// "selct" must not silently produce an empty section), wrong JSON types,
// FHIRPath that does not compile against the Bundle type, unknown section
// codes, a required section missing, duplicate names. build() then runs only
// checked, compiled mappings.
#include "gateway/handoff/detail/mapping.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace gw::handoff {

namespace detail {

namespace {

// The HandoffDocument's sections (LOINC), in document order. Required ones
// are always written (IPS style: empty -> emptyReason).
constexpr std::array<SectionKind, 8> kSections = {{
    {"10160-0", "History of Medication use Narrative", true, false},
    {"11450-4", "Problem list - Reported", true, false},
    {"48765-2", "Allergies and adverse reactions Document", true, false},
    {"11369-6", "History of Immunization Narrative", false, false},
    {"47519-4", "History of Procedures Document", false, false},
    {"18776-5", "Plan of care note", false, false},
    {"29762-2", "Social history Narrative", false, true},
    {"30954-2", "Relevant diagnostic tests/laboratory data Narrative", false, false},
}};

}  // namespace

std::span<const SectionKind> section_kinds() { return kSections; }

const SectionKind* find_section_kind(std::string_view code) {
  for (const SectionKind& k : kSections) {
    if (k.code == code) return &k;
  }
  return nullptr;
}

}  // namespace detail

namespace {

using detail::Mapping;
using detail::Section;
using detail::Template;

std::string where(json::Value v) {
  json::Position p = v.position();
  return "line " + std::to_string(p.line) + ", column " + std::to_string(p.column);
}

Error at(json::Value v, ErrorCode code, std::string message) {
  return Error(code, std::move(message), where(v));
}

class Loader {
 public:
  explicit Loader(std::shared_ptr<const fhir::Model> model) : model_(std::move(model)) {}

  Result<Mapping> load(json::Value root) {
    Mapping m;
    if (!root.is_object())
      return at(root, ErrorCode::kInvalidArgument, "a mapping file holds one JSON object");
    for (std::size_t i = 0; i < root.size(); ++i) {
      std::string_view k = root.key(i);
      json::Value v = root[i];
      if (k == "name") {
        GW_TRY(m.name, string(v, k));
      } else if (k == "description") {
        GW_TRY(m.description, string(v, k));
      } else if (k == "accepts") {
        GW_TRY(m.accepts, expression(v, k));
      } else if (k == "patient") {
        GW_TRY(m.patient, expression(v, k));
      } else if (k == "author") {
        GW_TRY(m.author, expression(v, k));
      } else if (k == "title") {
        GW_TRY(m.title, templ(v, k));
      } else if (k == "follow") {
        GW_CHECK_OK(follow(v, m));
      } else if (k == "profiles") {
        GW_CHECK_OK(profiles(v, m.profiles));
      } else if (k == "checks") {
        GW_CHECK_OK(checks(v, m));
      } else if (k == "omit") {
        GW_CHECK_OK(omit(v, m));
      } else if (k == "sections") {
        GW_CHECK_OK(sections(v, m));
      } else {
        return at(v, ErrorCode::kInvalidArgument, "unknown key '" + std::string(k) + "'");
      }
    }
    if (m.name.empty()) return at(root, ErrorCode::kInvalidArgument, "'name' is required");
    for (char c : m.name) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok)
        return at(root.find("name"), ErrorCode::kInvalidArgument,
                  "'name' must be lower-case letters, digits and '-'");
    }
    if (!m.accepts) return at(root, ErrorCode::kInvalidArgument, "'accepts' is required");
    if (!m.patient) return at(root, ErrorCode::kInvalidArgument, "'patient' is required");
    if (!root.find("sections"))
      return at(root, ErrorCode::kInvalidArgument, "'sections' is required");
    for (const detail::SectionKind& kind : detail::section_kinds()) {
      if (!kind.required) continue;
      bool present = std::any_of(m.sections.begin(), m.sections.end(),
                                 [&](const Section& s) { return s.kind == &kind; });
      if (!present) {
        return at(root.find("sections"), ErrorCode::kInvalidArgument,
                  "required section " + std::string(kind.code) + " is missing");
      }
    }
    return m;
  }

 private:
  Result<std::string> string(json::Value v, std::string_view key) {
    if (!v.is_string())
      return at(v, ErrorCode::kInvalidArgument, "'" + std::string(key) + "' must be a string");
    return std::string(v.str());
  }

  Result<fhirpath::Expression> compile(std::string_view text, json::Value v, std::string_view key,
                                       std::string_view context = "Bundle") {
    fhirpath::CompileOptions opt;
    opt.model = model_;
    opt.context_type = std::string(context);
    auto e = fhirpath::Expression::compile(text, opt);
    if (!e) {
      // "offset N" from the compiler, behind the JSON position of the string.
      return Error(e.error().code(), "'" + std::string(key) + "': " + e.error().message(),
                   where(v) + " (FHIRPath " + e.error().location() + ")");
    }
    return std::move(*e);
  }

  Result<fhirpath::Expression> expression(json::Value v, std::string_view key) {
    if (!v.is_string() || v.str().empty()) {
      return at(v, ErrorCode::kInvalidArgument,
                "'" + std::string(key) + "' must be a FHIRPath expression string");
    }
    return compile(v.str(), v, key);
  }

  // "Summary of {{Bundle.entry.resource.ofType(Composition).title}}". The
  // offset in an error is relative to the expression inside the braces.
  Result<Template> templ(json::Value v, std::string_view key) {
    if (!v.is_string())
      return at(v, ErrorCode::kInvalidArgument, "'" + std::string(key) + "' must be a string");
    Template t;
    std::string_view s = v.str();
    std::string literal;
    std::size_t i = 0;
    while (i < s.size()) {
      std::size_t open = s.find("{{", i);
      if (open == std::string_view::npos) {
        literal += s.substr(i);
        break;
      }
      literal += s.substr(i, open - i);
      std::size_t close = s.find("}}", open + 2);
      if (close == std::string_view::npos) {
        return at(v, ErrorCode::kParse, "'" + std::string(key) + "': '{{' without '}}'");
      }
      GW_TRY(auto e, compile(s.substr(open + 2, close - open - 2), v, key));
      t.literals.push_back(std::move(literal));
      literal.clear();
      t.holes.push_back(std::move(e));
      i = close + 2;
    }
    t.literals.push_back(std::move(literal));
    return t;
  }

  Status follow(json::Value v, Mapping& m) {
    if (!v.is_array())
      return at(v, ErrorCode::kInvalidArgument, "'follow' must be an array of resource type names");
    for (json::Value t : v.items()) {
      GW_CHECK_OK(resource_type(t, "follow"));
      m.follow.emplace_back(t.str());
    }
    return {};
  }

  Status resource_type(json::Value t, std::string_view key) {
    const fhir::TypeDef* def = t.is_string() ? model_->type(t.str()) : nullptr;
    if (!def || def->kind != fhir::TypeKind::kResource || def->is_abstract) {
      return at(t, ErrorCode::kInvalidArgument,
                "'" + std::string(key) + "': not a concrete resource type");
    }
    return {};
  }

  Status profiles(json::Value v, detail::ProfileMap& out) {
    if (!v.is_object())
      return at(v, ErrorCode::kInvalidArgument,
                "'profiles' must map resource types to profile URLs");
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string_view type = v.key(i);
      json::Value url = v[i];
      const fhir::TypeDef* def = model_->type(type);
      if (!def || def->kind != fhir::TypeKind::kResource || def->is_abstract) {
        return at(url, ErrorCode::kInvalidArgument,
                  "'profiles': key is not a concrete resource type");
      }
      if (!url.is_string() || url.str().find("://") == std::string_view::npos) {
        return at(url, ErrorCode::kInvalidArgument,
                  "'profiles': value must be an absolute profile URL");
      }
      out.emplace(std::string(type), std::string(url.str()));
    }
    return {};
  }

  Status checks(json::Value v, Mapping& m) {
    if (!v.is_array()) return at(v, ErrorCode::kInvalidArgument, "'checks' must be an array");
    for (json::Value c : v.items()) {
      if (!c.is_object()) return at(c, ErrorCode::kInvalidArgument, "a check is an object");
      detail::Check check;
      json::Value expr;
      for (std::size_t i = 0; i < c.size(); ++i) {
        std::string_view k = c.key(i);
        json::Value f = c[i];
        if (k == "resource") {
          GW_CHECK_OK(resource_type(f, "resource"));
          check.type = std::string(f.str());
        } else if (k == "expression") {
          if (!f.is_string() || f.str().empty()) {
            return at(f, ErrorCode::kInvalidArgument,
                      "check 'expression' must be a FHIRPath expression string");
          }
          expr = f;
        } else if (k == "location") {
          GW_TRY(check.location, string(f, "location"));
        } else if (k == "message") {
          GW_TRY(check.message, string(f, "message"));
        } else if (k == "absent") {
          // One operation, or a list of them.
          if (f.is_array()) {
            for (json::Value op : f.items()) {
              GW_TRY(auto a, absent(op));
              check.absent.push_back(std::move(a));
            }
          } else {
            GW_TRY(auto a, absent(f));
            check.absent.push_back(std::move(a));
          }
        } else {
          return at(f, ErrorCode::kInvalidArgument,
                    "unknown key '" + std::string(k) + "' in a check");
        }
      }
      if (check.type.empty() || !expr || check.message.empty()) {
        return at(c, ErrorCode::kInvalidArgument,
                  "a check needs 'resource', 'expression' and 'message'");
      }
      // Compiled against the resource type it runs on, so a misspelt
      // element is a load error.
      GW_TRY(check.expression, compile(expr.str(), expr, "expression", check.type));
      m.checks.push_back(std::move(check));
    }
    return {};
  }

  // {"append": ARRAY, "value": {...}}, {"fill": MEMBER, "member": NAME,
  // "value": ...} or {"set": NAME, "value": ...}: see detail::Absent. The
  // value is kept as its own small document, written verbatim into each
  // output resource that needs it.
  Result<detail::Absent> absent(json::Value v) {
    if (!v.is_object()) return at(v, ErrorCode::kInvalidArgument, "'absent' must be an object or a list of them");
    detail::Absent a;
    json::Value value;
    int ops = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string_view k = v.key(i);
      json::Value f = v[i];
      if (k == "append" || k == "fill" || k == "set") {
        GW_TRY(a.target, string(f, k));
        a.kind = k == "append" ? detail::Absent::Kind::kAppend
                 : k == "fill" ? detail::Absent::Kind::kFill
                               : detail::Absent::Kind::kSet;
        ++ops;
      } else if (k == "member") {
        GW_TRY(a.member, string(f, "member"));
      } else if (k == "value") {
        value = f;
      } else {
        return at(f, ErrorCode::kInvalidArgument, "unknown key '" + std::string(k) + "' in 'absent'");
      }
    }
    if (ops != 1) return at(v, ErrorCode::kInvalidArgument, "'absent' needs one of 'append', 'fill' or 'set'");
    if (!value) return at(v, ErrorCode::kInvalidArgument, "'absent' needs a 'value'");
    const bool fill = a.kind == detail::Absent::Kind::kFill;
    if (fill && a.member.empty()) return at(v, ErrorCode::kInvalidArgument, "'absent' with 'fill' needs a 'member'");
    if (!fill && !a.member.empty()) return at(v, ErrorCode::kInvalidArgument, "'member' goes with 'fill' only");
    if (a.kind == detail::Absent::Kind::kAppend && !value.is_object()) {
      return at(value, ErrorCode::kInvalidArgument, "an appended 'value' must be an object (an array item)");
    }
    json::Writer w;
    w.value(value);
    auto doc = json::Document::parse(std::move(w).take());
    if (!doc) return at(value, ErrorCode::kInvalidArgument, "'absent' value cannot be re-read");
    a.value = std::make_shared<const json::Document>(std::move(*doc));
    return a;
  }

  Status omit(json::Value v, Mapping& m) {
    if (!v.is_array())
      return at(v, ErrorCode::kInvalidArgument, "'omit' must be an array of element paths");
    for (json::Value p : v.items()) {
      std::string_view path = p.is_string() ? p.str() : std::string_view();
      auto dot = path.find('.');
      const fhir::TypeDef* def =
          dot == std::string_view::npos ? nullptr : model_->type(path.substr(0, dot));
      if (!def || def->kind != fhir::TypeKind::kResource || dot + 1 >= path.size()) {
        return at(p, ErrorCode::kInvalidArgument,
                  "'omit': expected 'ResourceType.element[.child...]'");
      }
      m.omit.emplace(path);
    }
    return {};
  }

  Status sections(json::Value v, Mapping& m) {
    if (!v.is_array()) return at(v, ErrorCode::kInvalidArgument, "'sections' must be an array");
    for (json::Value s : v.items()) {
      if (!s.is_object()) return at(s, ErrorCode::kInvalidArgument, "a section is an object");
      Section sec;
      for (std::size_t i = 0; i < s.size(); ++i) {
        std::string_view k = s.key(i);
        json::Value f = s[i];
        if (k == "code") {
          if (!f.is_string())
            return at(f, ErrorCode::kInvalidArgument, "section 'code' must be a string");
          sec.kind = detail::find_section_kind(f.str());
          if (!sec.kind) {
            return at(
                f, ErrorCode::kInvalidArgument,
                "unknown section code '" + std::string(gw::utf8_prefix(f.str(), 20)) +
                    "' (known: 10160-0 11450-4 48765-2 11369-6 47519-4 18776-5 29762-2 30954-2)");
          }
        } else if (k == "title") {
          GW_TRY(sec.title, string(f, "title"));
        } else if (k == "select") {
          GW_TRY(sec.select, expression(f, "select"));
        } else if (k == "profiles") {
          GW_CHECK_OK(profiles(f, sec.profiles));
        } else {
          return at(f, ErrorCode::kInvalidArgument,
                    "unknown key '" + std::string(k) + "' in a section");
        }
      }
      if (!sec.kind) return at(s, ErrorCode::kInvalidArgument, "a section needs a 'code'");
      for (const Section& other : m.sections) {
        if (other.kind == sec.kind)
          return at(s, ErrorCode::kInvalidArgument, "section code appears twice");
      }
      if (!sec.select && !sec.kind->care_needs) {
        return at(s, ErrorCode::kInvalidArgument, "a section needs a 'select' expression");
      }
      if (sec.title.empty()) sec.title = std::string(sec.kind->display);
      m.sections.push_back(std::move(sec));
    }
    return {};
  }

  std::shared_ptr<const fhir::Model> model_;
};

}  // namespace

MappingSet::MappingSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MappingSet::~MappingSet() = default;

std::vector<std::string> MappingSet::names() const {
  std::vector<std::string> out;
  for (const detail::Mapping& m : impl_->mappings) out.push_back(m.name);
  return out;
}

Result<std::shared_ptr<const MappingSet>> MappingSet::parse(
    std::span<const Source> sources, std::shared_ptr<const fhir::Model> model) {
  GW_ASSERT(model != nullptr, "MappingSet needs a model");
  auto impl = std::make_unique<Impl>();
  impl->model = model;
  Loader loader(model);
  std::set<std::string> names;
  for (const Source& src : sources) {
    auto doc = json::Document::parse(src.text);
    if (!doc) return doc.error().with_context(src.name);
    auto m = loader.load(doc->root());
    if (!m) return m.error().with_context(src.name);
    if (!names.insert(m->name).second) {
      return Error(ErrorCode::kInvalidArgument, "mapping name '" + m->name + "' is used twice",
                   src.name);
    }
    m->file = src.name;
    impl->mappings.push_back(std::move(*m));
  }
  if (impl->mappings.empty()) return fail(ErrorCode::kNotFound, "no mapping files");
  return std::shared_ptr<const MappingSet>(new MappingSet(std::move(impl)));
}

Result<std::shared_ptr<const MappingSet>> MappingSet::load(
    const std::string& dir, std::shared_ptr<const fhir::Model> model) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return fail(ErrorCode::kNotFound, "mapping directory does not exist", dir);
  std::vector<std::string> paths;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec) && e.path().extension() == ".json")
      paths.push_back(e.path().string());
  }
  if (ec) return fail(ErrorCode::kIo, "cannot list the mapping directory", dir);
  std::sort(paths.begin(), paths.end());
  if (paths.empty()) return fail(ErrorCode::kNotFound, "no *.json mapping files", dir);
  std::vector<Source> sources;
  for (const std::string& p : paths) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return fail(ErrorCode::kIo, "cannot read mapping file", p);
    std::ostringstream buf;
    buf << in.rdbuf();
    sources.push_back({p, std::move(buf).str()});
  }
  return parse(sources, std::move(model));
}

}  // namespace gw::handoff
