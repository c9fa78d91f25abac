// Loads every file of hl7.fhir.r4.examples#4.0.1 into the element model and
// walks it completely. They are valid JSON and valid R4 structure, so any
// failure here is ours: a parse error, an unknown resourceType, or a JSON
// member the model does not recognise.
#include "gateway/fhir/fhir.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/test_support.hpp"

namespace gw::fhir {
namespace {

namespace fs = std::filesystem;

std::string joined(const std::vector<std::string_view>& path) {
  std::string s;
  for (auto p : path) {
    if (!s.empty()) s += '.';
    s += p;
  }
  return s;
}

// Walks every node; records members of JSON objects that no element
// explains. The path is a stack of names, joined only when reporting.
void walk(const Model& model, const Node& node, std::size_t depth, std::size_t& nodes,
          std::vector<std::string>& unknown, std::vector<std::string_view>& path) {
  ASSERT_LT(depth, 64u) << joined(path);
  ++nodes;
  json::Value obj = node.is_primitive() ? node.extension_part : node.value;
  if (obj.is_object() && node.type) {
    for (std::size_t i = 0; i < obj.size(); ++i) {
      std::string_view k = obj.key(i);
      if (k == "resourceType" && node.is_resource()) continue;
      std::string_view base = !k.empty() && k[0] == '_' ? k.substr(1) : k;
      if (!node.type->match_key(base).element) unknown.push_back(joined(path) + "." + std::string(k));
    }
  }
  std::vector<Node> kids;
  model.children(node, kids);
  for (const Node& k : kids) {
    path.push_back(k.name);
    if (!k.type) {
      unknown.push_back(joined(path) + " (untyped)");
    } else {
      walk(model, k, depth + 1, nodes, unknown, path);
    }
    path.pop_back();
  }
}

TEST(R4Examples, EveryExampleLoadsIntoTheElementModel) {
  const auto* defs = gw::testing::core_definitions();
  ASSERT_NE(defs, nullptr);
  std::string dir = gw::testing::package_dir("hl7.fhir.r4.examples#4.0.1");
  ASSERT_FALSE(dir.empty()) << "hl7.fhir.r4.examples#4.0.1 is not in the package cache "
                            << gw::testing::package_cache_dir()
                            << "; the README's test command installs it";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (e.path().extension() == ".json" && name != "package.json" && name[0] != '.') {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files.size(), 5306u);
  std::size_t loaded = 0, nodes = 0;
  std::vector<std::string> failures;
  for (const fs::path& f : files) {
    ParsedResource parsed = parse_resource(gw::testing::read_file(f.string()));
    if (!parsed.ok()) {
      failures.push_back(f.filename().string() + ": " + parsed.issues[0].diagnostics);
      continue;
    }
    auto root = defs->model->resource(parsed.document.root());
    if (!root) {
      failures.push_back(f.filename().string() + ": " + root.error().message());
      continue;
    }
    std::vector<std::string> unknown;
    std::vector<std::string_view> path{root->type->name};
    walk(*defs->model, *root, 0, nodes, unknown, path);
    if (!unknown.empty()) {
      failures.push_back(f.filename().string() + ": unknown member " + unknown[0] +
                         (unknown.size() > 1 ? " (+" + std::to_string(unknown.size() - 1) + ")" : ""));
      continue;
    }
    ++loaded;
  }
  for (std::size_t i = 0; i < failures.size() && i < 30; ++i) ADD_FAILURE() << failures[i];
  EXPECT_EQ(loaded, files.size());
  EXPECT_GT(nodes, 1000000u);  // the corpus is large; a walk that stops early shows here
  std::printf("r4 examples: %zu of %zu loaded, %zu element nodes\n", loaded, files.size(), nodes);
}

}  // namespace
}  // namespace gw::fhir
