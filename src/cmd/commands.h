// The subcommands of the `gpuaas` binary. main.cc dispatches on the first word; every command
// parses its own flags and returns the process exit code (0 ok, 1 error, 2 usage).
#pragma once

namespace gpuaas {

// `gpuaas server ...`: the control plane (server_cmd.cc).
int RunServerCommand(int argc, char** argv);
// `gpuaas agent ...`: a standalone node agent (agent_cmd.cc).
int RunAgentCommand(int argc, char** argv);
// `gpuaas db copy ...`: moves the platform's database offline (db_cmd.cc).
int RunDbCommand(int argc, char** argv);
// Every client verb (`submit`, `jobs`, ...) with the global flags (cli_*.cc). argv[0] is the
// program name; global flags come before the verb.
int RunClientCommand(int argc, char** argv);

}  // namespace gpuaas
