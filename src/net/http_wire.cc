// Request-target parsing and response-head formatting for the HTTP server.
#include "net/http_wire.h"

#include <boost/beast/http/status.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <string_view>

namespace gpuaas::net {
namespace {

bool EqualsLower(std::string_view name, std::string_view lower) {
  if (name.size() != lower.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

bool HasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

void AppendInt(std::string& out, size_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

Status ParseTarget(HttpRequest& req) {
  auto parsed = boost::urls::parse_origin_form(req.target);
  if (!parsed) return InvalidArgument("bad request target");
  const boost::urls::url_view& url = *parsed;
  req.path = url.path();
  if (url.has_query()) {
    for (const auto& param : url.params(boost::urls::encoding_opts(/*space_as_plus=*/true))) {
      req.query.insert_or_assign(param.key, param.value);
    }
  }
  return Status::Ok();
}

bool StatusHasNoBody(int status) { return status < 200 || status == 204 || status == 304; }

void AppendResponseHead(std::string& out, const HttpResponse& res, bool close,
                        bool keep_alive_http10) {
  out += "HTTP/1.1 ";
  AppendInt(out, static_cast<size_t>(res.status));
  out += ' ';
  auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(res.status));
  out.append(reason.data(), reason.size());
  out += "\r\nServer: gpuaas\r\n";
  if (!StatusHasNoBody(res.status)) {
    if (!res.content_type.empty() && !HasCrLf(res.content_type)) {
      out += "Content-Type: ";
      out += res.content_type;
      out += "\r\n";
    }
    out += "Content-Length: ";
    AppendInt(out, res.body.size());
    out += "\r\n";
  }
  if (close) {
    out += "Connection: close\r\n";
  } else if (keep_alive_http10) {
    out += "Connection: keep-alive\r\n";
  }
  for (const auto& [name, value] : res.headers) {
    if (name.empty() || HasCrLf(name) || HasCrLf(value)) continue;
    if (EqualsLower(name, "content-length") || EqualsLower(name, "transfer-encoding") ||
        EqualsLower(name, "connection")) {
      continue;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace gpuaas::net
