// The engine against FHIR R4 itself: every invariant in the core
// StructureDefinitions must compile with its element as context type (the
// static checks must not reject real FHIRPath), and evaluating them on
// HL7's R4 example resources must never fail with an error (a `false` is
// the examples' business; an error would be ours).
#include "gateway/fhirpath/fhirpath.hpp"

#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <unordered_map>

namespace gw::fhirpath {
namespace {

struct Invariant {
  std::string key;
  std::string context;  // for messages
  std::optional<Expression> expr;
};

// Context type of an element's constraints: the type itself for a root
// element, the backbone for inline structures, the single type otherwise.
std::string context_of(const fhir::Model& model, std::string_view path) {
  auto dot = path.find('.');
  if (dot == std::string_view::npos) return std::string(path);
  const fhir::TypeDef* owner = model.type(path.substr(0, path.rfind('.')));
  if (!owner) return {};
  std::string_view name = path.substr(path.rfind('.') + 1);
  if (name.size() > 3 && name.substr(name.size() - 3) == "[x]") return {};
  const fhir::ElementDef* e = owner->element(name);
  if (!e) return {};
  if (e->backbone) return e->backbone->name;
  if (e->types.size() == 1) return e->types[0];
  return {};
}

class Invariants {
 public:
  explicit Invariants(const std::shared_ptr<const fhir::Model>& model) : model_(model) {}

  // Compiles the constraints of every element of every type; returns the
  // failures as "type/key: error".
  std::vector<std::string> compile_all() {
    std::vector<std::string> failures;
    for (const auto& t : model_->types()) {
      json::Value sd = t->structure_definition;
      if (!sd) continue;
      for (json::Value el : sd.find("snapshot").find("element").items()) {
        std::string_view path = el.find("path").str();
        for (json::Value c : el.find("constraint").items()) {
          std::string_view text = c.find("expression").str();
          if (text.empty()) continue;
          CompileOptions o;
          o.model = model_;
          o.context_type = context_of(*model_, path);
          auto e = Expression::compile(text, o);
          ++compiled_;
          if (!e) {
            failures.push_back(std::string(path) + "/" + std::string(c.find("key").str()) + ": " +
                               e.error().to_string());
            continue;
          }
          Invariant inv{std::string(c.find("key").str()), std::string(path), std::move(*e)};
          if (path.find('.') == std::string_view::npos) {
            by_type_[t.get()].push_back(std::move(inv));
          } else {
            by_path_[std::string(path)].push_back(std::move(inv));
          }
        }
      }
    }
    return failures;
  }

  // Evaluates, on every node of `root`, the invariants of its type and of
  // the element it came from, with %resource and %rootResource as FHIR
  // defines them: a Bundle entry's resource is its own root; a contained
  // resource is %resource while its container stays %rootResource.
  void check(const fhir::Node& root, std::vector<std::string>& errors, std::size_t& evaluated,
             std::size_t& violated) {
    struct Work {
      fhir::Node node;
      fhir::Node resource;
      fhir::Node root;
    };
    std::vector<Work> work{{root, root, root}};
    std::vector<fhir::Node> kids;
    for (std::size_t head = 0; head < work.size(); ++head) {
      const Work w = work[head];
      const fhir::Node& n = w.node;
      EvaluationContext ctx;
      ctx.resource = w.resource;
      ctx.root_resource = w.root;
      auto run = [&](const std::vector<Invariant>& list) {
        for (const Invariant& inv : list) {
          auto r = inv.expr->evaluate_boolean(n, ctx);
          ++evaluated;
          if (!r) {
            errors.push_back(inv.key + "@" + inv.context + ": " + r.error().to_string());
          } else if (*r == false) {
            ++violated;
            ++false_by_key_[inv.key + "@" + inv.context];
          }
        }
      };
      // A snapshot's root element lists the inherited constraints too.
      if (auto it = by_type_.find(n.type); it != by_type_.end()) run(it->second);
      if (n.element) {
        if (auto it = by_path_.find(n.element->path); it != by_path_.end()) run(it->second);
      }
      kids.clear();
      model_->children(n, kids);
      for (const fhir::Node& k : kids) {
        if (!k.is_resource()) {
          work.push_back({k, w.resource, w.root});
        } else if (k.name == "contained") {
          work.push_back({k, k, w.root});
        } else {
          work.push_back({k, k, k});
        }
      }
    }
  }

  std::size_t compiled() const { return compiled_; }
  const std::map<std::string, int>& false_by_key() const { return false_by_key_; }

 private:
  std::shared_ptr<const fhir::Model> model_;
  std::unordered_map<const fhir::TypeDef*, std::vector<Invariant>> by_type_;
  std::unordered_map<std::string, std::vector<Invariant>> by_path_;
  std::size_t compiled_ = 0;
  std::map<std::string, int> false_by_key_;
};

TEST(CoreInvariants, CompileAndRunOnTheR4Examples) {
  const testing::CoreDefinitions* core = testing::core_definitions();
  ASSERT_NE(core, nullptr);
  Invariants inv(core->model);
  std::vector<std::string> compile_failures = inv.compile_all();
  for (const std::string& f : compile_failures) std::cout << "compile: " << f << "\n";
  EXPECT_GT(inv.compiled(), 9000u);
  // Two invariants in the definitions are themselves wrong, and the static
  // checks rightly reject them (a validator reports such an invariant
  // instead of evaluating it):
  //  - cid-0 tests `name`, which ChargeItemDefinition does not have (copied
  //    from the canonical-resource pattern in R4);
  //  - dom-r4b on SubscriptionStatus.contained names R4B types (Citation,
  //    Evidence, ...) that R4 does not define.
  const std::vector<std::string> kKnownBad = {
      "ChargeItemDefinition/cid-0: offset 0: 'name' is not an element of ChargeItemDefinition",
      "SubscriptionStatus.contained/dom-r4b: offset 7: unknown type 'Citation'"};
  EXPECT_EQ(compile_failures, kKnownBad);

  std::string dir = testing::package_dir("hl7.fhir.r4.examples#4.0.1");
  ASSERT_FALSE(dir.empty()) << "hl7.fhir.r4.examples#4.0.1 is not in the package cache";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".json" && e.path().filename().string()[0] != '.' &&
        e.path().filename() != "package.json") {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  // Every 8th example by default (about 660 resources, a few seconds in a
  // release build); GW_EXAMPLES_ALL=1 runs all 5,306 (6.5 million
  // evaluations, no errors when last run).
  std::size_t stride = std::getenv("GW_EXAMPLES_ALL") ? 1 : 8;
  std::vector<std::string> errors;
  std::size_t evaluated = 0, violated = 0, resources = 0;
  for (std::size_t i = 0; i < files.size(); i += stride) {
    auto doc = json::Document::parse_file(files[i].string());
    if (!doc) continue;
    auto root = core->model->resource(doc->root());
    if (!root) continue;
    ++resources;
    std::vector<std::string> errs;
    inv.check(*root, errs, evaluated, violated);
    for (const std::string& e : errs) errors.push_back(files[i].filename().string() + ": " + e);
  }
  std::map<std::string, int> by_kind;
  for (const std::string& e : errors) {
    if (by_kind[e.substr(e.find(": ") + 2, 60)]++ < 3) std::cout << "error: " << e << "\n";
  }
  std::vector<std::pair<int, std::string>> top;
  for (const auto& [k, n] : inv.false_by_key()) top.emplace_back(n, k);
  std::sort(top.rbegin(), top.rend());
  for (std::size_t i = 0; i < top.size() && i < 25; ++i) {
    std::cout << "false: " << top[i].second << " x" << top[i].first << "\n";
  }
  std::cout << "core invariants: " << inv.compiled() << " compiled; " << evaluated << " evaluations on "
            << resources << " examples, " << violated << " false, " << errors.size() << " errors\n";
  EXPECT_GT(resources, 0u);
  EXPECT_TRUE(errors.empty());
}

// The IPS profiles' own invariants (constraints added by the IG, on element
// paths of the base types) must compile too: the gateway validates IPS
// documents.
TEST(ProfileInvariants, IpsConstraintsCompile) {
  const testing::CoreDefinitions* core = testing::core_definitions();
  ASSERT_NE(core, nullptr);
  std::string dir = testing::package_dir("hl7.fhir.uv.ips#2.0.0");
  ASSERT_FALSE(dir.empty()) << "hl7.fhir.uv.ips#2.0.0 is not in the package cache";
  std::size_t compiled = 0;
  std::vector<std::string> failures;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("StructureDefinition-", 0) != 0) continue;
    auto doc = json::Document::parse_file(entry.path().string());
    ASSERT_TRUE(doc);
    for (json::Value el : doc->root().find("snapshot").find("element").items()) {
      for (json::Value c : el.find("constraint").items()) {
        std::string_view text = c.find("expression").str();
        if (text.empty()) continue;
        CompileOptions o;
        o.model = core->model;
        o.context_type = context_of(*core->model, el.find("path").str());
        auto e = Expression::compile(text, o);
        ++compiled;
        if (!e) {
          failures.push_back(entry.path().filename().string() + " " + std::string(c.find("key").str()) + ": " +
                             e.error().to_string());
        }
      }
    }
  }
  for (const std::string& f : failures) std::cout << "compile: " << f << "\n";
  std::cout << "IPS invariants: " << compiled << " compiled, " << failures.size() << " rejected\n";
  EXPECT_GT(compiled, 100u);
  EXPECT_TRUE(failures.empty());
}

}  // namespace
}  // namespace gw::fhirpath
