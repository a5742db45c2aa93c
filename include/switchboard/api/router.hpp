#pragma once
#include <string>
#include <vector>

#include "switchboard/api/http_types.hpp"

namespace switchboard::api {

// Matches method + path against registered patterns ("/api/rooms/:id/messages"). Unknown /api paths are 404
// and a known path with another method is 405 with Allow; anything outside /api goes to the fallback (the web
// UI). Thread-safety: build it at start-up, then route() is const and safe from any thread.
class Router final {
 public:
  void add(std::string method, std::string pattern, Handler handler);
  void set_fallback(Handler handler) { fallback_ = std::move(handler); }

  // Dispatches `req` (filling req.params and req.route) and answers through `respond`.
  void route(HttpRequest& req, Respond respond) const;

  // req.route for requests no pattern matched: the fallback (web UI files) and unknown /api paths.
  static constexpr const char* kFallbackRoute = "static";
  static constexpr const char* kUnmatchedRoute = "unmatched";
  // Every value route() can put in req.route: the patterns and the two names above (bounded, for metrics).
  std::vector<std::string> route_names() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool match(const Route& route, const std::vector<std::string>& path,
                    std::map<std::string, std::string>& out);

  std::vector<Route> routes_;
  Handler fallback_;
};

}  // namespace switchboard::api
