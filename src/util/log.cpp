#include "switchboard/util/log.hpp"

namespace switchboard::util {

std::shared_ptr<spdlog::logger> logger(const char* area) {
  if (auto named = spdlog::get(area)) return named;
  return spdlog::default_logger();
}

}  // namespace switchboard::util
