// HTML escaping for the pages the platform writes itself (printable invoices, simulation
// reports): text and attribute values.
#pragma once

#include <string>
#include <string_view>

namespace gpuaas {

// `s` with & < > " ' replaced by their character references: safe in element text and in
// quoted attribute values.
std::string HtmlEscape(std::string_view s);

}  // namespace gpuaas
