// `gpuaas simulate` and `gpuaas trace ...`: the simulator's command line (sim_cmd.cc). Each
// receives an argv whose argv[0] names the command and returns the exit code (0 ok, 1 error,
// 2 usage). Called from main.cc.
#pragma once

namespace gpuaas {

// gpuaas simulate --trace FILE --cluster SPEC --policy P[,P...] [--json] [--seed N] ...
int RunSimulateCommand(int argc, char** argv);
// gpuaas trace generate --jobs N --seed S [--entities K] [--load L] [--cluster SPEC] [--out F]
// gpuaas trace import|export ...
int RunTraceCommand(int argc, char** argv);
// gpuaas plan --trace FILE --cluster SPEC [--try SPEC]... [--scale-load X] [--target-p95-wait D]
int RunPlanCommand(int argc, char** argv);
// gpuaas forecast --trace FILE --cluster SPEC [--lead-time D] [--horizon-weeks N] [--json]
int RunForecastCommand(int argc, char** argv);

}  // namespace gpuaas
