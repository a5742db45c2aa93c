#include "switchboard/security/connection_limiter.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace switchboard::security {
namespace {

TEST(ConnectionLimiter, CapsTheTotalAndReleasesOnDestruction) {
  auto limiter = std::make_shared<ConnectionLimiter>(2, 10);
  auto a = limiter->admit();
  auto b = limiter->admit();
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->admitted());
  EXPECT_TRUE(b->admitted());
  EXPECT_EQ(limiter->total(), 2u);
  {
    auto refused = limiter->admit();
    ASSERT_TRUE(refused);
    EXPECT_FALSE(refused->admitted());
    EXPECT_FALSE(refused->assign_ip("192.0.2.1"));  // a refusal never counts against an IP
    EXPECT_EQ(limiter->total(), 2u);
  }
  a.reset();
  EXPECT_EQ(limiter->total(), 1u);
  auto c = limiter->admit();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->admitted());
}

TEST(ConnectionLimiter, CapsEachIpSeparately) {
  auto limiter = std::make_shared<ConnectionLimiter>(100, 2);
  std::vector<ConnectionLimiter::Lease> leases;
  for (int i = 0; i < 4; ++i) leases.push_back(std::move(*limiter->admit()));
  EXPECT_TRUE(leases[0].assign_ip("192.0.2.1"));
  EXPECT_TRUE(leases[1].assign_ip("192.0.2.1"));
  EXPECT_FALSE(leases[2].assign_ip("192.0.2.1"));
  EXPECT_EQ(leases[2].ip(), "");
  EXPECT_TRUE(leases[2].assign_ip("192.0.2.2"));
  EXPECT_EQ(limiter->count_for("192.0.2.1"), 2u);
  EXPECT_EQ(limiter->count_for("192.0.2.2"), 1u);
  // Assigning the same IP again is free.
  EXPECT_TRUE(leases[0].assign_ip("192.0.2.1"));
  EXPECT_EQ(limiter->count_for("192.0.2.1"), 2u);
  // Moving a connection to another IP frees its old slot.
  EXPECT_TRUE(leases[1].assign_ip("192.0.2.3"));
  EXPECT_EQ(limiter->count_for("192.0.2.1"), 1u);
  EXPECT_TRUE(leases[3].assign_ip("192.0.2.1"));
  leases.clear();
  EXPECT_EQ(limiter->total(), 0u);
  EXPECT_EQ(limiter->count_for("192.0.2.1"), 0u);
  EXPECT_EQ(limiter->count_for("192.0.2.3"), 0u);
}

TEST(ConnectionLimiter, MovedLeasesReleaseOnce) {
  auto limiter = std::make_shared<ConnectionLimiter>(1, 1);
  auto first = std::move(*limiter->admit());
  ASSERT_TRUE(first.assign_ip("192.0.2.1"));
  ConnectionLimiter::Lease moved(std::move(first));
  EXPECT_EQ(limiter->total(), 1u);
  ConnectionLimiter::Lease assigned;
  assigned = std::move(moved);
  EXPECT_EQ(limiter->total(), 1u);
  EXPECT_EQ(limiter->count_for("192.0.2.1"), 1u);
  assigned = ConnectionLimiter::Lease();
  EXPECT_EQ(limiter->total(), 0u);
  EXPECT_EQ(limiter->count_for("192.0.2.1"), 0u);
}

TEST(ConnectionLimiter, RefusalsInFlightAreBoundedToo) {
  auto limiter = std::make_shared<ConnectionLimiter>(1, 1);
  auto admitted = limiter->admit();
  std::vector<ConnectionLimiter::Lease> refusals;
  for (std::size_t i = 0; i < ConnectionLimiter::kMaxRefusalsInFlight; ++i) {
    auto r = limiter->admit();
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->admitted());
    refusals.push_back(std::move(*r));
  }
  EXPECT_FALSE(limiter->admit());  // drop at once
  refusals.pop_back();
  EXPECT_TRUE(limiter->admit());
}

}  // namespace
}  // namespace switchboard::security
