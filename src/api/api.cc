#include "api/api.h"

#include "api/routes.h"
#include "api/routes_runtime.h"

namespace gpuaas::api {

void RegisterApi(net::Router& router, Platform& platform) {
  RegisterHealthRoutes(router, platform);
  RegisterAdminRoutes(router, platform);
  RegisterJobRoutes(router, platform);
  RegisterNodeRoutes(router, platform);
  // One cache for the server's life: its thread polls Artifactory off the event loop.
  const BillingConfig& b = platform.config().billing;
  auto artifactory = std::make_shared<ArtifactoryCache>(
      ArtifactoryCache::Options{.base_url = b.artifactory_url,
                                .token = b.artifactory_token,
                                .interval_ms = b.storage_check_interval_ms,
                                .ca_file = b.artifactory_ca_file});
  RegisterUsageRoutes(router, platform, artifactory);
  RegisterBillingRoutes(router, platform, artifactory);
  RegisterPortalRoutes(router, platform);
  RegisterNotebookRoutes(router, platform);
  RegisterForecastRoutes(router, platform);
  RegisterFairShareRoutes(router, platform);
  RegisterSizingRoutes(router, platform);
  RegisterSsoRoutes(router, platform);
  RegisterDeviceRoutes(router, platform);
  RegisterGroupRoutes(router, platform);
  RegisterRuntimeRoutes(router, platform);  // environments, secrets
}

}  // namespace gpuaas::api
