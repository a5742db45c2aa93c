#pragma once
#include <spdlog/spdlog.h>

#include <memory>

namespace switchboard::ai {

// The "ai" logger: the one the composition root registered, or a clone of the default logger so that the AI
// area logs under its own name even when nobody set logging up (unit tests). Never log prompt or reply text
// at info.
inline std::shared_ptr<spdlog::logger> ai_logger() {
  if (auto existing = spdlog::get("ai")) return existing;
  auto created = spdlog::default_logger()->clone("ai");
  try {
    spdlog::register_logger(created);
  } catch (const spdlog::spdlog_ex&) {
    if (auto existing = spdlog::get("ai")) return existing;
  }
  return created;
}

}  // namespace switchboard::ai
