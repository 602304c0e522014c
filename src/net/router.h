// Router: maps METHOD + path pattern to a Handler. Patterns are literal segments and {name}
// captures ("/api/v1/jobs/{id}/logs"). Unknown path -> 404, known path with another method ->
// 405; both in the contract's error shape. Matching is by segments, in registration order.
// Thread-safety: register before serving; Dispatch is const and re-entrant.
#pragma once

#include <string>
#include <vector>

#include "net/http_types.h"

namespace gpuaas::net {

class Router {
 public:
  void Add(const std::string& method, const std::string& pattern, Handler handler);
  void Dispatch(HttpRequest&& req, Respond respond) const;
  // As a Handler for HttpServer (the router must outlive the server).
  Handler AsHandler() const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

// {"error": {"code": CODE, "message": MSG}} with the given HTTP status.
HttpResponse ErrorResponse(int status, const std::string& code, const std::string& message);

}  // namespace gpuaas::net
