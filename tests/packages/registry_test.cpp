#include "gateway/packages/packages.hpp"

#include "test_files.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <latch>
#include <thread>

namespace gw::packages {
namespace {

using test::package_json;
using test::resource_json;
using test::TempTree;

constexpr std::string_view kSdUrl = "http://example.org/StructureDefinition/thing";

bool mentions(const std::vector<LoadWarning>& warnings, std::string_view a, std::string_view b = "") {
  return std::any_of(warnings.begin(), warnings.end(), [&](const LoadWarning& w) {
    return w.message.find(a) != std::string::npos &&
           (b.empty() || w.message.find(b) != std::string::npos);
  });
}

std::string dump(const std::vector<LoadWarning>& warnings) {
  std::string s;
  for (const LoadWarning& w : warnings) s += w.message + "\n";
  return s;
}

class RegistryTest : public ::testing::Test {
 protected:
  std::string cache() const { return tree_.path("cache"); }

  // Writes <cache>/<id>/package/ with package.json and `files` (name,
  // content); indexes it with write_index() when `indexed`.
  void add_package(std::string_view id, std::string_view deps,
                   std::vector<std::pair<std::string, std::string>> files, bool indexed = true) {
    auto pid = PackageId::parse(id);
    ASSERT_TRUE(pid);
    std::string dir = "cache/" + std::string(id) + "/package/";
    tree_.write(dir + "package.json", package_json(pid->name, pid->version, deps));
    for (const auto& [name, content] : files) tree_.write(dir + name, content);
    if (indexed) {
      auto n = write_index(tree_.path(dir));
      ASSERT_TRUE(n) << n.error().to_string();
    }
  }

  Result<std::shared_ptr<const Registry>> load(std::vector<std::string> packages,
                                               std::vector<std::string> extra = {}) const {
    LoadOptions opt;
    opt.cache_dir = cache();
    opt.packages = std::move(packages);
    opt.extra_paths = std::move(extra);
    return Registry::load(opt);
  }

  std::shared_ptr<const Registry> must_load(std::vector<std::string> packages,
                                            std::vector<std::string> extra = {}) const {
    auto r = load(std::move(packages), std::move(extra));
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : nullptr;
  }

  TempTree tree_;
};

TEST(PackageIdTest, ParsesAndRefusesUnsafeIds) {
  auto id = PackageId::parse("hl7.fhir.r4.core#4.0.1");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->name, "hl7.fhir.r4.core");
  EXPECT_EQ(id->version, "4.0.1");
  EXPECT_EQ(id->to_string(), "hl7.fhir.r4.core#4.0.1");
  for (std::string_view bad : {"", "a", "#1", "a#", "a#1#2", "../x#1", "a#../1", "a/b#1", ".a#1",
                               "-a#1", "a b#1"}) {
    auto r = PackageId::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(PackageIdTest, VersionsCompareByNumber) {
  EXPECT_LT(compare_versions("6.5.0", "7.0.1"), 0);
  EXPECT_GT(compare_versions("10.0.0", "9.1.0"), 0);
  EXPECT_EQ(compare_versions("1.0.0", "1.0.0"), 0);
  EXPECT_LT(compare_versions("1.0", "1.0.1"), 0);
  EXPECT_GT(compare_versions("1.0.10", "1.0.9"), 0);
}

TEST(CacheDirTest, FlagThenEnvironmentThenHome) {
  ::setenv("FHIR_PACKAGE_CACHE", "/from/env", 1);
  EXPECT_EQ(resolve_cache_dir("/from/flag"), "/from/flag");
  EXPECT_EQ(resolve_cache_dir(""), "/from/env");
  ::unsetenv("FHIR_PACKAGE_CACHE");
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(resolve_cache_dir(""), "/home/someone/.fhir/packages");
}

TEST_F(RegistryTest, IndexedPackageIsLoadedFromItsIndexAlone) {
  // The index is written by hand and the file it names is broken: load must
  // not read it, json() must report it with path, line and column.
  tree_.write("cache/a#1.0.0/package/package.json", package_json("a", "1.0.0"));
  tree_.write("cache/a#1.0.0/package/StructureDefinition-thing.json",
              "{\n  \"resourceType\": \"StructureDefinition\",\n  \"id\": thing\n}");
  tree_.write("cache/a#1.0.0/package/.index.json",
              R"({"index-version": 2, "files": [{"filename": "StructureDefinition-thing.json",
                  "resourceType": "StructureDefinition", "id": "thing",
                  "url": "http://example.org/StructureDefinition/thing", "version": "2.1",
                  "kind": "resource", "type": "Thing"}]})");
  auto reg = must_load({"a#1.0.0"});
  ASSERT_TRUE(reg);
  EXPECT_TRUE(reg->warnings().empty()) << dump(reg->warnings());
  const Entry* e = reg->find(kSdUrl);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->resource_type(), "StructureDefinition");
  EXPECT_EQ(e->id(), "thing");
  EXPECT_EQ(e->version(), "2.1");
  EXPECT_EQ(e->sd_type(), "Thing");
  EXPECT_EQ(e->source(), "a#1.0.0");
  auto j = e->json();
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code(), ErrorCode::kParse);
  EXPECT_NE(j.error().location().find("StructureDefinition-thing.json"), std::string::npos);
  EXPECT_NE(j.error().location().find("line 3, column"), std::string::npos)
      << j.error().to_string();
  // The error is remembered, not re-parsed into something else.
  EXPECT_EQ(e->json().error(), j.error());
}

TEST_F(RegistryTest, JsonIsParsedLazilyAndCached) {
  add_package("a#1.0.0", "",
              {{"StructureDefinition-thing.json",
                resource_json("StructureDefinition", "thing", kSdUrl, "1.0.0", "Thing")}});
  auto reg = must_load({"a#1.0.0"});
  ASSERT_TRUE(reg);
  const Entry* e = reg->find("StructureDefinition", kSdUrl);
  ASSERT_NE(e, nullptr);
  auto first = e->json();
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->find("type").str(), "Thing");
  auto second = e->json();
  ASSERT_TRUE(second);
  EXPECT_TRUE(*first == *second);  // the same node of the same cached document
}

TEST_F(RegistryTest, FileHoldingAnotherResourceThanIndexedIsAParseError) {
  tree_.write("cache/a#1.0.0/package/package.json", package_json("a", "1.0.0"));
  tree_.write("cache/a#1.0.0/package/ValueSet-x.json", resource_json("CodeSystem", "x", "http://x"));
  tree_.write("cache/a#1.0.0/package/.index.json",
              R"({"files": [{"filename": "ValueSet-x.json", "resourceType": "ValueSet",
                  "url": "http://x"}]})");
  auto reg = must_load({"a#1.0.0"});
  ASSERT_TRUE(reg);
  auto j = reg->find("http://x")->json();
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code(), ErrorCode::kParse);
}

TEST_F(RegistryTest, ConcurrentFirstAccessParsesOnce) {
  add_package("a#1.0.0", "",
              {{"StructureDefinition-thing.json",
                resource_json("StructureDefinition", "thing", kSdUrl, "1.0.0", "Thing")}});
  auto reg = must_load({"a#1.0.0"});
  ASSERT_TRUE(reg);
  const Entry* e = reg->find(kSdUrl);
  ASSERT_NE(e, nullptr);
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::vector<json::Value> seen(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto j = e->json();
      if (j) seen[static_cast<std::size_t>(i)] = *j;
    });
  }
  for (auto& t : threads) t.join();
  for (const json::Value& v : seen) {
    ASSERT_TRUE(v);
    EXPECT_TRUE(v == seen[0]);  // every thread got the one cached document
    EXPECT_EQ(v.find("id").str(), "thing");
  }
}

TEST_F(RegistryTest, WriteIndexListsOnlyJsonResources) {
  tree_.write("pkg/package.json", package_json("p", "1.0.0"));
  tree_.write("pkg/ValueSet-v.json", resource_json("ValueSet", "v", "http://v"));
  tree_.write("pkg/Patient-example.json", resource_json("Patient", "example", ""));
  tree_.write("pkg/broken.json", "{ not json");
  tree_.write("pkg/settings.json", R"({"setting": true})");
  tree_.write("pkg/notes.txt", "hello");
  tree_.write("pkg/sub/CodeSystem-c.json", resource_json("CodeSystem", "c", "http://c"));
  auto n = write_index(tree_.path("pkg"));
  ASSERT_TRUE(n) << n.error().to_string();
  EXPECT_EQ(*n, 2u);
  auto idx = json::Document::parse_file(tree_.path("pkg/.index.json"));
  ASSERT_TRUE(idx);
  EXPECT_EQ(idx->root().find("index-version").str(), "2");
  json::Value files = idx->root().find("files");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].find("filename").str(), "Patient-example.json");
  EXPECT_FALSE(files[0].find("url"));  // absent fields are left out
  EXPECT_EQ(files[1].find("resourceType").str(), "ValueSet");
  EXPECT_EQ(files[1].find("url").str(), "http://v");
}

TEST_F(RegistryTest, PackageWithoutIndexIsScannedWithAWarning) {
  add_package("a#1.0.0", "", {{"ValueSet-v.json", resource_json("ValueSet", "v", "http://v")}},
              /*indexed=*/false);
  auto reg = must_load({"a#1.0.0"});
  ASSERT_TRUE(reg);
  EXPECT_NE(reg->find("ValueSet", "http://v"), nullptr);
  EXPECT_TRUE(mentions(reg->warnings(), "a#1.0.0", ".index.json")) << dump(reg->warnings());
}

TEST_F(RegistryTest, MissingRequestedPackageSaysHowToInstall) {
  add_package("a#2.0.0", "", {});
  auto r = load({"a#1.0.0"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.error().message().find("fhir-gateway packages install"), std::string::npos);
  EXPECT_NE(r.error().message().find("2.0.0"), std::string::npos);  // names what is there
  auto bad = load({"not-an-id"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(RegistryTest, MissingDependencyIsAWarningAndLoadingCarriesOn) {
  add_package("a#1.0.0", R"("absent.pkg": "1.1.0")",
              {{"ValueSet-v.json", resource_json("ValueSet", "v", "http://v")}});
  auto reg = must_load({"a#1.0.0"});
  ASSERT_TRUE(reg);
  ASSERT_EQ(reg->warnings().size(), 1u) << dump(reg->warnings());
  EXPECT_TRUE(mentions(reg->warnings(), "absent.pkg#1.1.0", "a#1.0.0"));
  EXPECT_EQ(reg->loaded_packages(), (std::vector<PackageId>{{"a", "1.0.0"}}));
  EXPECT_NE(reg->find("http://v"), nullptr);
}

TEST_F(RegistryTest, MissingDependencyVersionIsSubstitutedByTheHighestInstalled) {
  add_package("a#1.0.0", R"("b": "1.0.0")", {});
  add_package("b#1.5.0", "", {});
  add_package("b#2.0.0", "", {{"CodeSystem-c.json", resource_json("CodeSystem", "c", "http://c")}});
  auto reg = must_load({"a#1.0.0"});
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg->loaded_packages(), (std::vector<PackageId>{{"a", "1.0.0"}, {"b", "2.0.0"}}));
  EXPECT_TRUE(mentions(reg->warnings(), "b#1.0.0", "b#2.0.0")) << dump(reg->warnings());
  const LoadedPackage& b = reg->packages()[1];
  EXPECT_EQ(b.required_by, "a#1.0.0");
  EXPECT_EQ(b.substituted_for, "1.0.0");
  EXPECT_EQ(b.resource_count, 1u);
  ASSERT_NE(reg->find("http://c"), nullptr);
  EXPECT_EQ(reg->find("http://c")->source(), "b#2.0.0");
}

TEST_F(RegistryTest, PatchWildcardTakesTheBestMatchQuietly) {
  add_package("a#1.0.0", R"("b": "1.0.x")", {});
  add_package("b#1.0.3", "", {});
  add_package("b#1.1.0", "", {});
  auto reg = must_load({"a#1.0.0"});
  ASSERT_TRUE(reg);
  EXPECT_TRUE(reg->warnings().empty()) << dump(reg->warnings());
  EXPECT_EQ(reg->loaded_packages()[1], (PackageId{"b", "1.0.3"}));
}

TEST_F(RegistryTest, DependenciesLoadBreadthFirstOnceEachEvenInCycles) {
  add_package("a#1.0.0", R"("b": "1.0.0", "c": "1.0.0")", {});
  add_package("b#1.0.0", R"("d": "1.0.0", "a": "1.0.0")", {});
  add_package("c#1.0.0", R"("d": "1.0.0")", {});
  add_package("d#1.0.0", R"("b": "1.0.0")", {});
  auto reg = must_load({"a#1.0.0"});
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg->loaded_packages(),
            (std::vector<PackageId>{{"a", "1.0.0"}, {"b", "1.0.0"}, {"c", "1.0.0"}, {"d", "1.0.0"}}));
  EXPECT_TRUE(reg->warnings().empty()) << dump(reg->warnings());
  EXPECT_EQ(reg->packages()[3].required_by, "b#1.0.0");
}

TEST_F(RegistryTest, FirstLoadedWinsTheUrlAndUrlVersionIsExact) {
  const std::string url = "http://example.org/CodeSystem/shared";
  add_package("top#1.0.0", R"("dep": "1.0.0")",
              {{"CodeSystem-shared.json", resource_json("CodeSystem", "shared", url, "1")}});
  add_package("dep#1.0.0", "",
              {{"CodeSystem-shared.json", resource_json("CodeSystem", "shared", url, "2")},
               {"ValueSet-shared.json", resource_json("ValueSet", "shared", url, "3")}});
  auto reg = must_load({"top#1.0.0"});
  ASSERT_TRUE(reg);
  ASSERT_NE(reg->find(url), nullptr);
  EXPECT_EQ(reg->find(url)->source(), "top#1.0.0");
  EXPECT_EQ(reg->find(url + "|")->source(), "top#1.0.0");
  ASSERT_NE(reg->find(url + "|2"), nullptr);
  EXPECT_EQ(reg->find(url + "|2")->source(), "dep#1.0.0");
  EXPECT_EQ(reg->find(url + "|1")->source(), "top#1.0.0");
  EXPECT_EQ(reg->find(url + "|9"), nullptr);
  EXPECT_EQ(reg->find("CodeSystem", url + "|2")->version(), "2");
  EXPECT_EQ(reg->find("ValueSet", url)->version(), "3");
  EXPECT_EQ(reg->find("ValueSet", url + "|1"), nullptr);
  EXPECT_EQ(reg->find("http://example.org/unknown"), nullptr);
  EXPECT_EQ(reg->candidates(url).size(), 3u);
  // all() hides the shadowed CodeSystem of dep, keeps the ValueSet.
  ASSERT_EQ(reg->all("CodeSystem").size(), 1u);
  EXPECT_EQ(reg->all("CodeSystem")[0]->source(), "top#1.0.0");
  EXPECT_EQ(reg->all("ValueSet").size(), 1u);
  EXPECT_EQ(reg->size(), 3u);
  // Among direct packages, the earlier one wins.
  auto reversed = must_load({"dep#1.0.0", "top#1.0.0"});
  ASSERT_TRUE(reversed);
  EXPECT_EQ(reversed->find(url)->source(), "dep#1.0.0");
}

TEST_F(RegistryTest, ExtraPathsComeFirstAndMayBeFoldersOrFiles) {
  add_package("a#1.0.0", "",
              {{"StructureDefinition-thing.json",
                resource_json("StructureDefinition", "thing", kSdUrl, "1.0.0", "Thing")}});
  std::string folder = tree_.path("profiles");
  tree_.write("profiles/thing.json",
              resource_json("StructureDefinition", "thing", kSdUrl, "9.0.0", "Thing"));
  tree_.write("profiles/README.json", R"({"note": "not a resource"})");
  std::string file = tree_.write("one/vs.json", resource_json("ValueSet", "one", "http://one"));
  auto reg = must_load({"a#1.0.0"}, {folder, file});
  ASSERT_TRUE(reg);
  const Entry* e = reg->find(kSdUrl);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->version(), "9.0.0");
  EXPECT_EQ(e->source(), folder);
  ASSERT_TRUE(e->json());
  EXPECT_EQ(reg->find(std::string(kSdUrl) + "|1.0.0")->source(), "a#1.0.0");
  EXPECT_TRUE(mentions(reg->warnings(), "overrides", kSdUrl)) << dump(reg->warnings());
  ASSERT_NE(reg->find("http://one"), nullptr);
  EXPECT_EQ(reg->find("http://one")->source(), file);
}

TEST_F(RegistryTest, BadExtraPathsAreErrors) {
  auto missing = load({}, {tree_.path("nowhere")});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);

  tree_.write("bad/x.json", "{\n  \"resourceType\": \"ValueSet\",,\n}");
  auto bad = load({}, {tree_.path("bad")});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kParse);
  EXPECT_NE(bad.error().location().find("x.json: line 2, column"), std::string::npos)
      << bad.error().to_string();
}

TEST_F(RegistryTest, MalformedIndexOrPackageJsonIsAParseError) {
  tree_.write("cache/a#1.0.0/package/package.json", package_json("a", "1.0.0"));
  tree_.write("cache/a#1.0.0/package/.index.json",
              R"({"files": [{"filename": "../../escape.json", "resourceType": "ValueSet"}]})");
  auto escape = load({"a#1.0.0"});
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().code(), ErrorCode::kParse);

  tree_.write("cache/b#1.0.0/package/package.json", "{\"name\": ");
  auto broken = load({"b#1.0.0"});
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code(), ErrorCode::kParse);
}

TEST_F(RegistryTest, ListInstalledShowsPackagesSortedWithCounts) {
  add_package("b#10.0.0", "", {{"ValueSet-v.json", resource_json("ValueSet", "v", "http://v")}});
  add_package("b#9.0.0", "", {});
  add_package("a#1.0.0", "", {}, /*indexed=*/false);
  tree_.write("cache/.install-abc/package/package.json", package_json("z", "1.0.0"));
  tree_.write("cache/stray/package/package.json", package_json("z", "1.0.0"));
  auto list = list_installed(cache());
  ASSERT_TRUE(list) << list.error().to_string();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id, (PackageId{"a", "1.0.0"}));
  EXPECT_FALSE((*list)[0].indexed);
  EXPECT_EQ((*list)[1].id, (PackageId{"b", "9.0.0"}));
  EXPECT_EQ((*list)[2].id, (PackageId{"b", "10.0.0"}));
  EXPECT_TRUE((*list)[2].indexed);
  EXPECT_EQ((*list)[2].resource_count, 1u);
  EXPECT_TRUE(is_installed(cache(), {"b", "9.0.0"}));
  EXPECT_FALSE(is_installed(cache(), {"a", "1.0.0"}));  // no index: not done
  auto none = list_installed(tree_.path("no-cache-here"));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace gw::packages
