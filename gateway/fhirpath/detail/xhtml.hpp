// Private: the narrative check behind FHIR's htmlChecks().
#pragma once

#include <string>
#include <string_view>

namespace gw::fhirpath::detail {

/// Checks a Narrative.div the way FHIR R4's txt-1 and txt-2 invariants
/// require: well-formed XML; the root is a `div` in the XHTML namespace;
/// only the basic HTML formatting elements and their attributes (no script,
/// forms, frames, objects, style sheets or links to them, no event-handler
/// attributes, no `javascript:` URLs); and some non-whitespace content (text
/// or an image). Returns an empty string when the fragment passes, else a
/// short reason (describing structure, never quoting content).
std::string check_narrative_xhtml(std::string_view xhtml);

}  // namespace gw::fhirpath::detail
