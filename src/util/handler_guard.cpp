#include "switchboard/util/handler_guard.hpp"

#include <array>
#include <atomic>
#include <stdexcept>

#include "switchboard/util/log.hpp"

namespace switchboard::util {
namespace {

std::array<std::atomic<std::uint64_t>, std::size(kHandlerSites)> counts{};

}  // namespace

const char* to_string(HandlerSite site) {
  switch (site) {
    case HandlerSite::kWebSocket:
      return "websocket";
    case HandlerSite::kHttp:
      return "http";
    case HandlerSite::kActor:
      return "actor";
    case HandlerSite::kIoLoop:
      return "io_loop";
  }
  return "io_loop";
}

void report_handler_exception(HandlerSite site, std::string_view context, std::string_view what) {
  counts[static_cast<std::size_t>(site)].fetch_add(1, std::memory_order_relaxed);
  const auto logger = util::logger("app");
  try {
    logger->error("{} handler for {} threw: {}; that one {} is lost, the server goes on", to_string(site),
                  context, what,
                  site == HandlerSite::kWebSocket ? "connection"
                  : site == HandlerSite::kHttp    ? "request"
                                                  : "task");
  } catch (...) {
    // Logging must not turn a contained fault into a fatal one.
  }
}

std::uint64_t handler_exception_count(HandlerSite site) {
  return counts[static_cast<std::size_t>(site)].load(std::memory_order_relaxed);
}

std::string_view current_exception_message() noexcept {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

}  // namespace switchboard::util
