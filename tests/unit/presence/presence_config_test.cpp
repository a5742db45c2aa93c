// presence.heartbeat_seconds: the shipped default, and the bounds that keep a crashed instance's users from
// showing online for more than a minute.
#include <gtest/gtest.h>

#include "switchboard/config/config.hpp"

namespace switchboard::config {
namespace {

std::string error_of(const std::string& value) {
  try {
    load("/nonexistent", false, {{"SWITCHBOARD_PRESENCE_HEARTBEAT_SECONDS", value}}, {});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return {};
}

TEST(PresenceConfig, HeartbeatDefaultsToTenSecondsAndIsBounded) {
  EXPECT_EQ(load("/nonexistent", false, {}, {}).presence.heartbeat_seconds, 10);
  EXPECT_EQ(load("/nonexistent", false, {{"SWITCHBOARD_PRESENCE_HEARTBEAT_SECONDS", "1"}}, {})
                .presence.heartbeat_seconds,
            1);
  EXPECT_EQ(load("/nonexistent", false, {{"SWITCHBOARD_PRESENCE_HEARTBEAT_SECONDS", "15"}}, {})
                .presence.heartbeat_seconds,
            15);
  for (const char* bad : {"0", "-1", "16", "soon"}) {
    const auto error = error_of(bad);
    EXPECT_NE(error.find("presence.heartbeat_seconds"), std::string::npos) << bad << ": " << error;
  }
  EXPECT_NE(error_of("16").find("60 s"), std::string::npos);  // says why
}

}  // namespace
}  // namespace switchboard::config
