#pragma once
#include <spdlog/spdlog.h>

#include <memory>

namespace switchboard::redis {

// The "redis" logger: the composition root's, or a clone of the default logger when nobody set logging up
// (unit tests). Never log passwords, session tokens or payloads at info.
inline std::shared_ptr<spdlog::logger> redis_logger() {
  if (auto existing = spdlog::get("redis")) return existing;
  auto created = spdlog::default_logger()->clone("redis");
  try {
    spdlog::register_logger(created);
  } catch (const spdlog::spdlog_ex&) {
    if (auto existing = spdlog::get("redis")) return existing;  // another thread registered it first
  }
  return created;
}

}  // namespace switchboard::redis
