#include "switchboard/util/handler_guard.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace switchboard::util {
namespace {

TEST(HandlerGuard, SwallowsAndCountsWhatATaskThrows) {
  const auto before = handler_exception_count(HandlerSite::kActor);
  const auto other = handler_exception_count(HandlerSite::kHttp);
  EXPECT_FALSE(run_guarded(HandlerSite::kActor, "room test", [] { throw std::runtime_error("boom"); }));
  EXPECT_FALSE(run_guarded(HandlerSite::kActor, "room test", [] { throw 42; }));  // not a std::exception
  EXPECT_EQ(handler_exception_count(HandlerSite::kActor), before + 2);
  EXPECT_EQ(handler_exception_count(HandlerSite::kHttp), other) << "counted under its own site only";
}

TEST(HandlerGuard, RunsATaskThatDoesNotThrowOnce) {
  const auto before = handler_exception_count(HandlerSite::kActor);
  int runs = 0;
  EXPECT_TRUE(run_guarded(HandlerSite::kActor, "room test", [&] { ++runs; }));
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(handler_exception_count(HandlerSite::kActor), before);
}

TEST(HandlerGuard, NamesTheMessageOfTheCurrentException) {
  try {
    throw std::out_of_range("index 7");
  } catch (...) {
    EXPECT_EQ(current_exception_message(), "index 7");
  }
}

}  // namespace
}  // namespace switchboard::util
