#include "switchboard/util/json_text.hpp"

#include <nlohmann/json.hpp>

namespace switchboard::util {

std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace switchboard::util
