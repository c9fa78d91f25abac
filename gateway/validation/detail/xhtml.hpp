// The narrative check: a FHIR `xhtml` value must be one well-formed XHTML
// `div` in the XHTML namespace, using only the elements and attributes the
// FHIR specification allows (HTML 4 formatting, tables, lists, links and
// images; no scripts, forms, objects or event handlers), and it must have
// some non-whitespace content (txt-1, txt-2).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gw::validation::detail {

struct XhtmlProblem {
  enum class Rule : unsigned char {
    kWellFormed,  ///< not well-formed XML (structure)
    kNamespace,   ///< root not <div xmlns="http://www.w3.org/1999/xhtml">
    kElement,     ///< element not allowed (txt-1)
    kAttribute,   ///< attribute not allowed or active content (txt-1)
    kEmpty,       ///< no non-whitespace content (txt-2)
  };
  Rule rule = Rule::kWellFormed;
  std::string message;  ///< names elements/attributes, never text content
};

/// Checks one narrative. Appends problems (empty when the narrative is fine).
/// Never recurses: depth is bounded by an explicit stack.
void check_xhtml(std::string_view text, std::vector<XhtmlProblem>& out);

}  // namespace gw::validation::detail
