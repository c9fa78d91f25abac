// Shared pieces of the store module (placeholder until the back ends land).
#include "gateway/store/store.hpp"

namespace gw::store {

std::string_view to_string(DeliveryState s) noexcept {
  switch (s) {
    case DeliveryState::kPending: return "pending";
    case DeliveryState::kInFlight: return "in_flight";
    case DeliveryState::kDelivered: return "delivered";
    case DeliveryState::kDead: return "dead";
  }
  return "pending";
}

int schema_version() noexcept { return 1; }

Result<std::shared_ptr<Store>> open_sqlite(const SqliteOptions&) {
  return fail(ErrorCode::kUnsupported, "store: SQLite back end not built yet");
}

Result<std::shared_ptr<Store>> open_postgres(const PostgresOptions&) {
  return fail(ErrorCode::kUnsupported, "store: PostgreSQL back end not built yet");
}

}  // namespace gw::store
