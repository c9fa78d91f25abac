// The HL7 .index.json: reading, writing, and building one by scanning a
// folder. The format is the FHIR package spec's index-version 2:
//   {"index-version": 2, "files": [{"filename": "StructureDefinition-x.json",
//     "resourceType": "StructureDefinition", "id": "x", "url": "...",
//     "version": "...", "kind": "...", "type": "...", ...}]}
// Absent fields are left out, as HL7's tools do.
#include "gateway/packages/detail/index.hpp"

#include "gateway/packages/detail/files.hpp"
#include "gateway/packages/packages.hpp"

namespace gw::packages::detail {
namespace {

std::string string_member(json::Value obj, std::string_view key) {
  json::Value v = obj.find(key);
  return v.is_string() ? std::string(v.str()) : std::string();
}

bool is_plain_file_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find('/') == std::string_view::npos && name.find('\\') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

bool ends_with_json(std::string_view name) {
  return name.size() > 5 && name.substr(name.size() - 5) == ".json";
}

}  // namespace

std::optional<IndexEntry> index_entry_of(json::Value root, std::string filename) {
  if (!root.is_object()) return std::nullopt;
  json::Value rt = root.find("resourceType");
  if (!rt.is_string() || rt.str().empty()) return std::nullopt;
  IndexEntry e;
  e.filename = std::move(filename);
  e.resource_type = std::string(rt.str());
  e.id = string_member(root, "id");
  e.url = string_member(root, "url");
  e.version = string_member(root, "version");
  if (e.resource_type == "StructureDefinition") {
    e.kind = string_member(root, "kind");
    e.type = string_member(root, "type");
  } else if (e.resource_type == "CodeSystem") {
    e.supplements = string_member(root, "supplements");
    e.content = string_member(root, "content");
  }
  return e;
}

std::string render_index(const std::vector<IndexEntry>& entries) {
  json::Writer w(/*pretty=*/true);
  w.begin_object();
  w.key("index-version");
  w.integer(2);
  w.key("files");
  w.begin_array();
  auto field = [&w](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    w.key(key);
    w.string(value);
  };
  for (const IndexEntry& e : entries) {
    w.begin_object();
    field("filename", e.filename);
    field("resourceType", e.resource_type);
    field("id", e.id);
    field("url", e.url);
    field("version", e.version);
    field("kind", e.kind);
    field("type", e.type);
    field("supplements", e.supplements);
    field("content", e.content);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  std::string out = std::move(w).take();
  out.push_back('\n');
  return out;
}

Result<std::vector<IndexEntry>> read_index(const std::string& index_path) {
  GW_TRY(json::Document doc, json::Document::parse_file(index_path));
  json::Value files = doc.root().find("files");
  if (!files.is_array()) {
    return fail(ErrorCode::kParse, "package index has no \"files\" array", index_path);
  }
  std::vector<IndexEntry> entries;
  entries.reserve(files.size());
  for (json::Value f : files.items()) {
    json::Value name = f.find("filename");
    json::Value rt = f.find("resourceType");
    if (!name.is_string() || !rt.is_string() || !is_plain_file_name(name.str())) {
      json::Position p = f.position();
      return fail(ErrorCode::kParse,
                  "index entry needs a plain \"filename\" and a \"resourceType\"",
                  index_path + ": line " + std::to_string(p.line) + ", column " +
                      std::to_string(p.column));
    }
    IndexEntry e;
    e.filename = std::string(name.str());
    e.resource_type = std::string(rt.str());
    e.id = string_member(f, "id");
    e.url = string_member(f, "url");
    e.version = string_member(f, "version");
    e.kind = string_member(f, "kind");
    e.type = string_member(f, "type");
    e.supplements = string_member(f, "supplements");
    e.content = string_member(f, "content");
    entries.push_back(std::move(e));
  }
  return entries;
}

Result<ScanResult> scan_folder(const std::string& dir, bool strict) {
  GW_TRY(std::vector<std::string> names, list_dir(dir));
  ScanResult result;
  for (const std::string& name : names) {
    if (!ends_with_json(name) || name == "package.json" || name == kIndexFile) continue;
    std::string path = dir + "/" + name;
    if (!is_regular_file(path)) continue;
    auto doc = json::Document::parse_file(path);
    if (!doc) {
      if (strict) return doc.error();
      result.skipped.push_back(name + " (" + doc.error().to_string() + ")");
      continue;
    }
    auto entry = index_entry_of(doc->root(), name);
    if (!entry) {
      result.skipped.push_back(name + " (not a FHIR resource)");
      continue;
    }
    result.entries.push_back(std::move(*entry));
  }
  return result;
}

}  // namespace gw::packages::detail

namespace gw::packages {

Result<std::size_t> write_index(const std::string& package_dir) {
  GW_TRY(detail::ScanResult scan, detail::scan_folder(package_dir, /*strict=*/false));
  GW_CHECK_OK(detail::write_file(package_dir + "/" + std::string(detail::kIndexFile),
                                 detail::render_index(scan.entries)));
  return scan.entries.size();
}

}  // namespace gw::packages
