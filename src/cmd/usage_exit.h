// The exit status of a command line that CLI11 stopped (help asked, or a parse error): CLI11
// prints the help or the error, then 0 after --help and 2, the contract's usage error, for
// anything else, whatever CLI11's own number for it (106, 114, ...).
#pragma once

#include <CLI/CLI.hpp>

namespace gpuaas {

inline int UsageExit(CLI::App& app, const CLI::ParseError& e) { return app.exit(e) == 0 ? 0 : 2; }

}  // namespace gpuaas
