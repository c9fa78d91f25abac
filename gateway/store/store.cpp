// The two entry points, open_sqlite and open_postgres: connect, migrate (or
// refuse a newer schema), and hand the connection to the shared Engine.
#include "gateway/store/store.hpp"

#include "gateway/store/detail/engine.hpp"

namespace gw::store {

std::string_view to_string(DeliveryState s) noexcept {
  switch (s) {
    case DeliveryState::kPending: return "pending";
    case DeliveryState::kInFlight: return "in_flight";
    case DeliveryState::kDelivered: return "delivered";
    case DeliveryState::kDead: return "dead";
    case DeliveryState::kCancelled: return "cancelled";
  }
  return "pending";
}

Result<std::optional<StoredConsent>> Store::consent(std::string_view) {
  return fail(ErrorCode::kUnsupported, "store: consent lookup is not implemented by this store");
}

Result<WithdrawalResult> Store::withdraw_consent(Withdrawal) {
  return fail(ErrorCode::kUnsupported, "store: consent withdrawal is not implemented by this store");
}

Result<std::vector<ContinuityCount>> Store::continuity_counts() {
  return fail(ErrorCode::kUnsupported, "store: continuity counts are not implemented by this store");
}

Result<std::vector<DeliveredCount>> Store::delivered_handoffs() {
  return fail(ErrorCode::kUnsupported, "store: delivered counts are not implemented by this store");
}

int schema_version() noexcept { return detail::latest_schema_version(); }

Result<std::shared_ptr<Store>> open_sqlite(const SqliteOptions& options) {
  if (options.path.empty()) return fail(ErrorCode::kInvalidArgument, "store: sqlite path is empty");
  if (!options.clock) return fail(ErrorCode::kInvalidArgument, "store: a clock is required");
  detail::SqliteConnectOptions co;
  co.path = options.path;
  co.busy_timeout_ms = static_cast<int>(options.busy_timeout.count());
  co.max_page_count = options.max_page_count;
  auto writer = detail::connect_sqlite(co);
  if (!writer) return writer.error().with_context(options.path);
  GW_CHECK_OK(detail::migrate(**writer));
  co.read_only = true;
  co.max_page_count = 0;
  detail::EngineOptions eo;
  eo.clock = options.clock;
  eo.max_batch = options.max_batch;
  eo.readers = options.readers;
  eo.notify_locally = true;
  return std::shared_ptr<Store>(std::make_shared<detail::Engine>(
      std::move(*writer), [co] { return detail::connect_sqlite(co); }, std::move(eo)));
}

Result<std::shared_ptr<Store>> open_postgres(const PostgresOptions& options) {
  if (!options.clock) return fail(ErrorCode::kInvalidArgument, "store: a clock is required");
  GW_TRY(auto writer, detail::connect_postgres(options.conninfo));
  GW_CHECK_OK(detail::migrate(*writer));
  detail::EngineOptions eo;
  eo.clock = options.clock;
  eo.max_batch = options.max_batch;
  eo.readers = options.readers;
  eo.notify_locally = false;  // NOTIFY inside the transaction; the Listener fans out
  std::string conninfo = options.conninfo;
  auto engine = std::make_shared<detail::Engine>(
      std::move(writer), [conninfo] { return detail::connect_postgres(conninfo); }, std::move(eo));
  // The raw pointer is safe: the engine owns the listener and destroys it
  // (joining its thread) before anything else.
  detail::Engine* raw = engine.get();
  GW_TRY(auto listener, detail::listen_postgres(options.conninfo, "gw_outbox",
                                                [raw](const std::string& r) { raw->notify(r); }));
  engine->hold(std::move(listener));
  return std::shared_ptr<Store>(std::move(engine));
}

}  // namespace gw::store
