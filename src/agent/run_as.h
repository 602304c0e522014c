// The Unix user a job runs as when the agent maps entities to users (`gpuaas agent
// --run-as-user gpuaas-{entity}`): the pattern with "{entity}" replaced by the job's entity
// (GPUAAS_ENTITY in its environment), looked up in the node's user database with its groups.
// Thread-safety: free functions (getpwnam_r, getgrouplist).
#pragma once

#include <map>
#include <string>

#include "agent/shim.h"
#include "base/status.h"

namespace gpuaas {

// The user name for `entity` ("{entity}" in `pattern` replaced; entity names are [a-z0-9-]).
std::string EntityUserName(const std::string& pattern, const std::string& entity);

// uid, gid and supplementary groups of the job's entity user. FailedPrecondition, saying which
// user is missing, when there is none; InvalidArgument when the job has no entity.
Result<ShimLaunch::Credentials> EntityCredentials(const std::string& pattern,
                                                  const std::map<std::string, std::string>& env);

// Lets other users pass through (o+x, never o+r) every directory from `dir` up to and including
// `top`, so that a job running as its entity's user can enter its working directory below the
// agent's state directory. Listing them stays the agent's.
Status MakeTraversable(const std::string& dir, const std::string& top);

}  // namespace gpuaas
