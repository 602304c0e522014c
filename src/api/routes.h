// Route groups of the API (private to api/). Each registers its paths on the router.
#pragma once

#include <memory>

#include "api/artifactory_cache.h"
#include "net/router.h"
#include "state/platform.h"

namespace gpuaas::api {

void RegisterHealthRoutes(net::Router& r, Platform& p);  // /healthz /readyz /metrics
void RegisterAdminRoutes(net::Router& r, Platform& p);   // entities, users, tokens, whoami
void RegisterJobRoutes(net::Router& r, Platform& p);     // jobs
void RegisterNodeRoutes(net::Router& r, Platform& p);    // nodes, agent heartbeat
// usage (with storage beside compute)
void RegisterUsageRoutes(net::Router& r, Platform& p,
                         std::shared_ptr<ArtifactoryCache> artifactory);
// prices, invoices, budgets, storage
void RegisterBillingRoutes(net::Router& r, Platform& p,
                           std::shared_ptr<ArtifactoryCache> artifactory);
void RegisterPortalRoutes(net::Router& r, Platform& p);     // session cookie, GPU classes
void RegisterNotebookRoutes(net::Router& r, Platform& p);   // /notebooks/{id}/... proxy
void RegisterForecastRoutes(net::Router& r, Platform& p);   // demand forecast (off the loop)
void RegisterFairShareRoutes(net::Router& r, Platform& p);  // fair-share standing
void RegisterSizingRoutes(net::Router& r, Platform& p);     // sizing a training run
void RegisterSsoRoutes(net::Router& r, Platform& p);        // single sign-on (OpenID Connect)
void RegisterDeviceRoutes(net::Router& r, Platform& p);     // device login (gpuaas login)
void RegisterGroupRoutes(net::Router& r, Platform& p);      // directory group mappings (SSO)

}  // namespace gpuaas::api
