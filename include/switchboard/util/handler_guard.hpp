#pragma once
#include <cstdint>
#include <exception>
#include <string_view>
#include <utility>

namespace switchboard::util {

// Where an exception was stopped on its way out of a handler. Each place turns it into the smallest loss it
// can: a WebSocket closes with 1011, an HTTP request gets a 500 envelope, an actor drops the one task, and
// the I/O loop (the last line, for anything the others do not wrap) drops the one completion handler. None of
// them ends the process: only start-up may.
enum class HandlerSite : std::uint8_t { kWebSocket, kHttp, kActor, kIoLoop };
inline constexpr HandlerSite kHandlerSites[] = {HandlerSite::kWebSocket, HandlerSite::kHttp,
                                                HandlerSite::kActor, HandlerSite::kIoLoop};

const char* to_string(HandlerSite site);

// Logs the exception (with `context`: a connection, request or room id) and counts it under `site`; the
// counts are process-wide and exported by /metrics as switchboard_handler_exceptions_total.
void report_handler_exception(HandlerSite site, std::string_view context, std::string_view what);
std::uint64_t handler_exception_count(HandlerSite site);

// The message of the exception being handled (call inside a catch block).
std::string_view current_exception_message() noexcept;

// Runs `task`; an exception escaping it is reported and swallowed. Returns false when it threw.
template <class F>
bool run_guarded(HandlerSite site, std::string_view context, F&& task) noexcept {
  try {
    std::forward<F>(task)();
    return true;
  } catch (...) {
    report_handler_exception(site, context, current_exception_message());
    return false;
  }
}

}  // namespace switchboard::util
