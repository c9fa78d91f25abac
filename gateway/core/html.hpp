// HTML/XHTML text escaping, shared by everything that writes markup: the
// consent and handoff narratives, the conformance report, the patient-held
// copy. A second small public header of core (beside core.hpp) so that the
// few writers of markup include it without every module rebuilding.
#pragma once

#include <string>
#include <string_view>

namespace gw {

/// Appends `s` with the five characters that can end a text node or an
/// attribute value (& < > " ') replaced by entities; all other bytes,
/// UTF-8 included, as they are.
inline void append_html_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}

}  // namespace gw
