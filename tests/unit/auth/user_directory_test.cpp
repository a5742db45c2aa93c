#include "switchboard/auth/user_directory.hpp"

#include <gtest/gtest.h>

#include <string>

namespace switchboard::auth {
namespace {

const std::string kConfig = std::string(SWITCHBOARD_SOURCE_DIR) + "/config/";

TEST(UserDirectory, TheBuiltInCopiesAreTheShippedFiles) {
  const auto built_in = UserDirectory::load("", "");
  const auto files = UserDirectory::load(kConfig + "users.json", kConfig + "personas.json");
  ASSERT_EQ(built_in.humans().size(), files.humans().size());
  ASSERT_EQ(built_in.bots().size(), files.bots().size());
  ASSERT_GE(built_in.humans().size(), 20u);
  for (std::size_t i = 0; i < files.humans().size(); ++i)
    EXPECT_EQ(built_in.humans()[i].display_name, files.humans()[i].display_name);
  for (std::size_t i = 0; i < files.bots().size(); ++i)
    EXPECT_EQ(built_in.bots()[i].persona_id, files.bots()[i].persona_id);
}

TEST(UserDirectory, AMissingFileIsNamedInTheError) {
  try {
    UserDirectory::load("/nonexistent/users.json", "");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/users.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace switchboard::auth
