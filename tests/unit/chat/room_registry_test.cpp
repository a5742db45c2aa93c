#include "switchboard/chat/room_registry.hpp"

#include <gtest/gtest.h>

#include "switchboard/api/api_service.hpp"

namespace switchboard::chat {
namespace {

using Status = RoomRegistry::Status;

Status check(const std::string& id, std::vector<std::string>* dm = nullptr) {
  std::vector<std::string> ids;
  std::string message;
  const std::vector<config::GroupRoom> groups = {{"general", "General Chat"}};
  const auto s = RoomRegistry::check_room_id(id, groups, ids, message);
  if (s != Status::kOk) EXPECT_FALSE(message.empty());
  if (dm) *dm = ids;
  return s;
}

TEST(RoomIds, GroupRooms) {
  EXPECT_EQ(check("general"), Status::kOk);
  EXPECT_EQ(check("music"), Status::kNotFound);
  EXPECT_EQ(check("bad id!"), Status::kInvalid);
  EXPECT_EQ(check(std::string(65, 'a')), Status::kInvalid);
  EXPECT_EQ(check(""), Status::kInvalid);
}

TEST(RoomIds, DirectRooms) {
  std::vector<std::string> ids;
  EXPECT_EQ(check("dm_user_1__user_2", &ids), Status::kOk);
  EXPECT_EQ(ids, (std::vector<std::string>{"user_1", "user_2"}));
  EXPECT_EQ(check("dm_user_2__user_1"), Status::kInvalid);  // not sorted
  EXPECT_EQ(check("dm_user_1__user_1"), Status::kInvalid);  // same user twice
  EXPECT_EQ(check("dm_user_1"), Status::kInvalid);
  EXPECT_EQ(check("dm___user_1"), Status::kInvalid);
  EXPECT_EQ(check("dm_user_1__"), Status::kInvalid);
  EXPECT_EQ(RoomRegistry::dm_room_id("user_2", "user_10"), "dm_user_10__user_2");  // byte order
}

TEST(GuestNames, FollowTheProtocolRule) {
  for (const char* ok : {"abc", "Guest_One", "a-b_c", "x1234567890123456789"})
    EXPECT_TRUE(api::ApiService::valid_guest_name(ok)) << ok;
  for (const char* bad : {"ab", "_abc", "abc_", "a__b", "-abc", "has space", "x12345678901234567890", "añb"})
    EXPECT_FALSE(api::ApiService::valid_guest_name(bad)) << bad;
}

}  // namespace
}  // namespace switchboard::chat
