// The `gpuaas` binary: dispatches on its first word.
//
// Calling convention: every command receives an argv whose argv[0] names the command itself, so
// that it parses its own arguments from argv[1]:
//   gpuaas server --listen X  -> RunServerCommand(argc - 1, argv + 1)  (argv[0] == "server")
//   gpuaas agent ...          -> RunAgentCommand(argc - 1, argv + 1)   (argv[0] == "agent")
//   gpuaas [GLOBAL] VERB ...  -> RunClientCommand(argc, argv)          (argv[0] == program name,
//                                                                        global flags first)
// Each returns the process exit code: 0 ok, 1 error, 2 usage.
#include <cstring>
#include <iostream>

#include "cmd/cli_parse.h"
#include "cmd/commands.h"
#include "cmd/sim_cmd.h"

#ifndef GPUAAS_VERSION
#define GPUAAS_VERSION "0.1.0"  // keep in step with project(VERSION) in CMakeLists.txt
#endif

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cout << gpuaas::cli::OverviewText();
    return 0;
  }
  const char* first = argv[1];
  if (std::strcmp(first, "--version") == 0 || std::strcmp(first, "version") == 0) {
    std::cout << "gpuaas " << GPUAAS_VERSION << "\n";
    return 0;
  }
  if (std::strcmp(first, "server") == 0) return gpuaas::RunServerCommand(argc - 1, argv + 1);
  if (std::strcmp(first, "agent") == 0) return gpuaas::RunAgentCommand(argc - 1, argv + 1);
  if (std::strcmp(first, "db") == 0) return gpuaas::RunDbCommand(argc - 1, argv + 1);
  if (std::strcmp(first, "simulate") == 0) return gpuaas::RunSimulateCommand(argc - 1, argv + 1);
  if (std::strcmp(first, "trace") == 0) return gpuaas::RunTraceCommand(argc - 1, argv + 1);
  if (std::strcmp(first, "plan") == 0) return gpuaas::RunPlanCommand(argc - 1, argv + 1);
  if (std::strcmp(first, "forecast") == 0) {
    return gpuaas::RunForecastCommand(argc - 1, argv + 1);
  }
  return gpuaas::RunClientCommand(argc, argv);
}
