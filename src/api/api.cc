#include "api/api.h"

#include "api/routes.h"

namespace gpuaas::api {

void RegisterApi(net::Router& router, Platform& platform) {
  RegisterHealthRoutes(router, platform);
  RegisterAdminRoutes(router, platform);
  RegisterJobRoutes(router, platform);
  RegisterNodeRoutes(router, platform);
  RegisterUsageRoutes(router, platform);
  RegisterBillingRoutes(router, platform);
  RegisterPortalRoutes(router, platform);
  RegisterNotebookRoutes(router, platform);
}

}  // namespace gpuaas::api
