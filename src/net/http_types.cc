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

HttpResponse TunnelResponse(HttpTunnel tunnel) {
  HttpResponse res;
  res.status = 101;
  res.content_type.clear();
  res.tunnel = std::make_shared<const HttpTunnel>(std::move(tunnel));
  return res;
}

}  // namespace gpuaas::net
