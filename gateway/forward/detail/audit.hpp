// Small shared pieces of gw::forward: the delivery AuditEvent, time and
// digest formatting. Private to the module.
#pragma once

#include "gateway/store/store.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace gw::forward::detail {

/// Lowercase hex SHA-256 of `data`.
std::string hex_sha256(std::string_view data);

/// An AuditEvent (JSON) after IHE BALP's shape for a transmitted document:
/// type DICOM 110106 "Export", subtype `subtype` ("delivered",
/// "dead-letter", "replay"), the gateway as requestor and source, the
/// recipient as destination, the handoff Bundle as entity. `outcome` is the
/// AuditEvent outcome code ("0" success, "4" minor failure); `outcome_desc`
/// describes a failure's shape. `requested_by`, when given, is the
/// registered client (an operator) who asked for the step: it becomes the
/// requestor agent instead of the gateway. Never contains payload content.
std::string delivery_audit(std::string_view outcome, std::string_view outcome_desc, std::string_view subtype,
                           std::string_view recipient, const store::Delivery& d,
                           std::chrono::system_clock::time_point now, std::string_view requested_by = {});

}  // namespace gw::forward::detail
