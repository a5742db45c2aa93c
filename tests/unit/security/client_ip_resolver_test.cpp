#include "switchboard/security/client_ip_resolver.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace switchboard::security {
namespace {

TEST(IpAddress, ParsesBothFamiliesAndCanonicalises) {
  EXPECT_EQ(IpAddress::parse("10.1.2.3")->to_string(), "10.1.2.3");
  EXPECT_EQ(IpAddress::parse("2001:DB8:0:0::1")->to_string(), "2001:db8::1");
  EXPECT_EQ(IpAddress::parse("[::1]")->to_string(), "::1");
  EXPECT_EQ(IpAddress::parse("fe80::1%eth0")->to_string(), "fe80::1");
  // A dual-stack socket's spelling of an IPv4 peer is the IPv4 address.
  const auto mapped = IpAddress::parse("::ffff:192.0.2.7");
  ASSERT_TRUE(mapped);
  EXPECT_TRUE(mapped->is_v4());
  EXPECT_EQ(mapped->to_string(), "192.0.2.7");
  EXPECT_EQ(*mapped, *IpAddress::parse("192.0.2.7"));
}

TEST(IpAddress, RefusesWhatIsNotAnAddress) {
  for (const char* bad : {"", "localhost", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:80", "::g", "unknown",
                          " 1.2.3.4", "1.2.3.4/8"})
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
}

TEST(IpNetwork, ContainsByPrefix) {
  const auto net = IpNetwork::parse("10.0.0.0/8");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->contains(*IpAddress::parse("10.255.0.1")));
  EXPECT_FALSE(net->contains(*IpAddress::parse("11.0.0.1")));
  EXPECT_FALSE(net->contains(*IpAddress::parse("::ffff:b00:1")));  // 11.0.0.1, mapped
  EXPECT_TRUE(net->contains(*IpAddress::parse("::ffff:10.0.0.9")));
  EXPECT_FALSE(net->contains(*IpAddress::parse("::1")));

  const auto v6 = IpNetwork::parse("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*IpAddress::parse("2001:db8:ffff::1")));
  EXPECT_FALSE(v6->contains(*IpAddress::parse("2001:db9::1")));
  EXPECT_FALSE(v6->contains(*IpAddress::parse("10.0.0.1")));

  const auto odd = IpNetwork::parse("172.16.0.0/12");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(*IpAddress::parse("172.31.255.255")));
  EXPECT_FALSE(odd->contains(*IpAddress::parse("172.32.0.0")));

  const auto all = IpNetwork::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains(*IpAddress::parse("203.0.113.9")));

  const auto single = IpNetwork::parse("127.0.0.1");  // a bare address is a /32
  ASSERT_TRUE(single);
  EXPECT_EQ(single->to_string(), "127.0.0.1/32");
  EXPECT_TRUE(single->contains(*IpAddress::parse("127.0.0.1")));
  EXPECT_FALSE(single->contains(*IpAddress::parse("127.0.0.2")));
  EXPECT_EQ(IpNetwork::parse("::1")->to_string(), "::1/128");
}

TEST(IpNetwork, RefusesBadBlocksWithAReason) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1", "2001:db8::/129",
                          "nonsense/8", "10.0.0.1/8", "2001:db8::1/32", "10.0.0.0/8/8"}) {
    std::string why;
    EXPECT_FALSE(IpNetwork::parse(bad, &why)) << bad;
    EXPECT_NE(why.find(std::string(bad).substr(0, 6)), std::string::npos) << why;
  }
  std::string why;
  IpNetwork::parse("10.0.0.1/8", &why);
  EXPECT_NE(why.find("network address"), std::string::npos) << why;
}

TEST(ClientIpResolver, ConstructionNamesTheBadEntry) {
  EXPECT_NO_THROW(ClientIpResolver({"10.0.0.0/8", " 192.168.0.0/16 ", "::1", "fd00::/8"}));
  try {
    ClientIpResolver({"10.0.0.0/8", "10.0.0.0/40"});
    FAIL() << "expected an exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("10.0.0.0/40"), std::string::npos) << e.what();
  }
  EXPECT_EQ(check_trusted_proxies({"10.0.0.0/8"}), "");
  EXPECT_NE(check_trusted_proxies({"example.com"}).find("example.com"), std::string::npos);
}

TEST(ClientIpResolver, UntrustedPeerIsTheClientWhateverTheHeadersSay) {
  const ClientIpResolver resolver({"10.0.0.0/8"});
  EXPECT_EQ(resolver.resolve("203.0.113.5", {"198.51.100.1"}, "198.51.100.2"), "203.0.113.5");
  const ClientIpResolver none({});
  EXPECT_EQ(none.resolve("127.0.0.1", {"198.51.100.1"}, "198.51.100.2"), "127.0.0.1");
  EXPECT_EQ(none.resolve("::ffff:127.0.0.1", {}, std::nullopt), "127.0.0.1");
}

TEST(ClientIpResolver, ForwardedForIsReadRightToLeftSkippingTrustedHops) {
  const ClientIpResolver resolver({"10.0.0.0/8", "2001:db8::/32"});
  // The client wrote "1.1.1.1" itself; the proxies appended what they saw.
  EXPECT_EQ(resolver.resolve("10.0.0.1", {"1.1.1.1, 203.0.113.7, 10.0.0.2"}, std::nullopt), "203.0.113.7");
  // Several headers are one list, in order.
  EXPECT_EQ(resolver.resolve("10.0.0.1", {"1.1.1.1", "203.0.113.7, 10.9.9.9"}, std::nullopt), "203.0.113.7");
  EXPECT_EQ(resolver.resolve("10.0.0.1", {" 2001:db8::5 ,  2a00:1450::1 "}, std::nullopt), "2a00:1450::1");
  // Ports some proxies add are dropped.
  EXPECT_EQ(resolver.resolve("10.0.0.1", {"203.0.113.7:51234"}, std::nullopt), "203.0.113.7");
  EXPECT_EQ(resolver.resolve("10.0.0.1", {"[2a00:1450::1]:443"}, std::nullopt), "2a00:1450::1");
  // Garbage stops the walk: nothing left of it is believed, the last trusted hop is all that is known.
  EXPECT_EQ(resolver.resolve("10.0.0.1", {"203.0.113.7, unknown, 10.0.0.3"}, std::nullopt), "10.0.0.3");
  EXPECT_EQ(resolver.resolve("10.0.0.1", {""}, std::nullopt), "10.0.0.1");
}

TEST(ClientIpResolver, CfConnectingIpOnlyWhenForwardedForNamesNoUntrustedHop) {
  const ClientIpResolver resolver({"10.0.0.0/8"});
  EXPECT_EQ(resolver.resolve("10.0.0.1", {}, "198.51.100.9"), "198.51.100.9");
  EXPECT_EQ(resolver.resolve("10.0.0.1", {"10.0.0.2"}, "198.51.100.9"), "198.51.100.9");
  // A forged CF-Connecting-IP cannot beat the hop a trusted proxy appended.
  EXPECT_EQ(resolver.resolve("10.0.0.1", {"203.0.113.7"}, "198.51.100.9"), "203.0.113.7");
  EXPECT_EQ(resolver.resolve("10.0.0.1", {}, "not an ip"), "10.0.0.1");
  // Every hop trusted and no CF header: the farthest trusted hop.
  EXPECT_EQ(resolver.resolve("10.0.0.1", {"10.0.0.7, 10.0.0.2"}, std::nullopt), "10.0.0.7");
}

}  // namespace
}  // namespace switchboard::security
