// Model objects as the API's JSON (docs/api.md) and JSON bodies as Platform requests.
// Thread-safety: the encoders read the Platform: call them on its executor.
#pragma once

#include "api/json_io.h"
#include "state/platform.h"

namespace gpuaas::api {

// A token's expiry: an RFC 3339 time, or null for a token that never expires.
json::value ExpiryJson(Millis expires_at);
json::object EntityJson(const Entity& e);
// {"rx_bytes", "tx_bytes"}: the traffic totals of usage and invoices (docs/billing.md).
json::object TrafficJson(int64_t rx_bytes, int64_t tx_bytes);
json::object UserJson(const User& u, const Platform& p);
json::object GroupMappingJson(const GroupMapping& m, const Platform& p);
json::object NodeJson(const Node& n, const Platform& p);
json::object JobJson(const Job& j, const Platform& p);

Result<EntityRequest> EntityRequestOf(const json::object& o);
Result<EntityUpdate> EntityUpdateOf(const json::object& o);
Result<UserRequest> UserRequestOf(const json::object& o);
Result<UserUpdate> UserUpdateOf(const json::object& o);
Result<GroupMappingRequest> GroupMappingRequestOf(const json::object& o);
Result<JobRequest> JobRequestOf(const json::object& o);
Result<NodeReport> NodeReportOf(const json::object& o);
json::object DesiredJson(const DesiredWorkloads& d);
json::object EstimateJson(const JobEstimate& e, const Platform& p);

}  // namespace gpuaas::api
