#include "switchboard/util/cpus.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

namespace switchboard::util {
namespace {

TEST(UsableCpus, FollowsTheAffinityMask) {
  const unsigned all = usable_cpus();
  EXPECT_GE(all, 1u);
  EXPECT_LE(all, std::max(1u, std::thread::hardware_concurrency()));
  // Pinned to one CPU (as `taskset -c 0` does), one is usable; the mask is the calling thread's.
  std::thread([] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    ASSERT_EQ(::sched_setaffinity(0, sizeof(one), &one), 0);
    EXPECT_EQ(usable_cpus(), 1u);
  }).join();
  EXPECT_EQ(usable_cpus(), all) << "other threads keep their mask";
}

}  // namespace
}  // namespace switchboard::util
