// HttpRequest helpers.
#include "net/http_types.h"

namespace gpuaas::net {

const std::string& HttpRequest::Header(const std::string& lower_name) const {
  static const std::string kEmpty;
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return kEmpty;
}

}  // namespace gpuaas::net
