// Narrative generated from structured data (never from an input's text.div).
// Private to gw::handoff.
#pragma once

#include "gateway/json/json.hpp"

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gw::handoff::detail {

/// Resolves a reference string of the input to the referenced resource
/// (absent Value when it cannot).
using Resolver = std::function<json::Value(std::string_view reference)>;

/// Human text of a CodeableConcept: its text, else the first coding display,
/// else the first code. "" when none.
std::string concept_text(json::Value cc);

/// One line describing a resource: what (code, medication, vaccine, ...),
/// status, when, and for observations the value. Plain text, unescaped.
std::string summarize(json::Value resource, const Resolver& resolve);

/// The patient's language and interpreter needs, one plain-text line each
/// (empty when the input states neither).
std::vector<std::string> care_needs(json::Value patient);

/// `<div xmlns="http://www.w3.org/1999/xhtml"><p>TEXT</p></div>`, escaped.
std::string div_paragraph(std::string_view text);

/// A div with an optional heading paragraph and a bulleted list.
std::string div_list(std::string_view heading, std::span<const std::string> items);

}  // namespace gw::handoff::detail
