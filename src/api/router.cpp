#include "switchboard/api/router.hpp"

#include <algorithm>

#include "switchboard/api/envelope.hpp"

namespace switchboard::api {
namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string::npos ? path.size() : slash;
    out.push_back(path.substr(start, end - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler) {
  auto segments = split_path(pattern);
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(segments), std::move(handler)});
}

std::vector<std::string> Router::route_names() const {
  std::vector<std::string> out;
  for (const auto& r : routes_)
    if (std::find(out.begin(), out.end(), r.pattern) == out.end()) out.push_back(r.pattern);
  out.emplace_back(kFallbackRoute);
  out.emplace_back(kUnmatchedRoute);
  return out;
}

bool Router::match(const Route& route, const std::vector<std::string>& path,
                   std::map<std::string, std::string>& out) {
  if (route.segments.size() != path.size()) return false;
  std::map<std::string, std::string> params;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto& seg = route.segments[i];
    if (!seg.empty() && seg[0] == ':') {
      params[seg.substr(1)] = path[i];
    } else if (seg != path[i]) {
      return false;
    }
  }
  out = std::move(params);
  return true;
}

void Router::route(HttpRequest& req, Respond respond) const {
  const auto path = split_path(req.path);
  std::string allow;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (!match(r, path, params)) continue;
    req.route = r.pattern;
    // HEAD is answered like GET (the net layer drops the body).
    if (r.method == req.method || (req.method == "HEAD" && r.method == "GET")) {
      req.params = std::move(params);
      return r.handler(req, std::move(respond));
    }
    if (allow.find(r.method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + r.method;
  }
  if (!allow.empty()) {
    auto res = failure(req, ErrorCode::kMethodNotAllowed,
                       req.method + " is not allowed on " + req.path + "; use " + allow + ".");
    res.set_header("Allow", allow);
    return respond(std::move(res));
  }
  if (req.path == "/api" || req.path.rfind("/api/", 0) == 0) {
    req.route = kUnmatchedRoute;
    return respond(failure(req, ErrorCode::kNotFound, "There is no API endpoint " + req.path + "."));
  }
  req.route = kFallbackRoute;
  if (fallback_) return fallback_(req, std::move(respond));
  respond(failure(req, ErrorCode::kNotFound, "Not found."));
}

}  // namespace switchboard::api
