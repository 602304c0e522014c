// The REST API (docs/api.md): registers every route on a Router. Handlers decode and validate
// JSON, authenticate, call the Platform, and encode its answers; they hold no business logic.
// Thread-safety: handlers run on the Platform's executor (the server's event loop).
#pragma once

#include "net/router.h"
#include "state/platform.h"

namespace gpuaas::api {

void RegisterApi(net::Router& router, Platform& platform);

}  // namespace gpuaas::api
