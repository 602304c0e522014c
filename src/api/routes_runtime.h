// Routes of the environment catalogue and of entity secrets (private to api/):
//   GET    /api/v1/environments                       every user
//   GET    /api/v1/entities/{name}/secrets            names, sizes, times (never values)
//   POST   /api/v1/entities/{name}/secrets            {"name", "value"} -> 201, no value back
//   DELETE /api/v1/entities/{name}/secrets/{secret}   204
// Secrets: platform-admin or an entity-admin of the entity (docs/api.md).
#pragma once

#include "net/router.h"
#include "state/platform.h"

namespace gpuaas::api {

void RegisterRuntimeRoutes(net::Router& r, Platform& p);

}  // namespace gpuaas::api
