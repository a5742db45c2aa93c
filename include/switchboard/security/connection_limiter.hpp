#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace switchboard::security {

// Caps concurrent connections in total and per client IP (security.max_connections,
// security.max_connections_per_ip). Every accepted connection gets a Lease; a lease over the total cap is a
// refusal, whose holder answers "try again later" (503 on HTTP, close 1013 on a WebSocket) and goes away.
// The client IP of a connection is known only once its request headers are read (and behind a proxy it can
// change between keep-alive requests), so a lease is counted against an IP separately, by assign_ip().
//
// Create it with std::make_shared: leases keep the limiter alive. Thread-safety: all methods, and those of
// Lease, are safe from any thread; one Lease must not be used by two threads at once.
class ConnectionLimiter final : public std::enable_shared_from_this<ConnectionLimiter> {
 public:
  // Refusals being answered at once, at most. Beyond that a new connection is closed without a word, so a
  // flood cannot hold more descriptors than the caps plus this.
  static constexpr std::size_t kMaxRefusalsInFlight = 64;

  class Lease final {
   public:
    Lease() = default;  // holds nothing (not admitted)
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    // False for a refusal: the server is at security.max_connections.
    bool admitted() const { return admitted_; }
    // Counts this connection against `ip` (and no longer against the IP it counted against before). False
    // when `ip` is at its cap; the connection then counts against no IP. Always false for a refusal.
    bool assign_ip(const std::string& ip);
    // The IP this connection counts against; empty when none.
    const std::string& ip() const { return ip_; }

   private:
    friend class ConnectionLimiter;
    Lease(std::shared_ptr<ConnectionLimiter> owner, bool admitted)
        : owner_(std::move(owner)), admitted_(admitted) {}
    void release();

    std::shared_ptr<ConnectionLimiter> owner_;
    bool admitted_ = false;
    std::string ip_;
  };

  ConnectionLimiter(std::size_t max_total, std::size_t max_per_ip)
      : max_total_(max_total), max_per_ip_(max_per_ip) {}

  // A lease for a newly accepted connection: admitted, or a refusal; nullopt when even refusals are at
  // kMaxRefusalsInFlight (close the socket at once).
  std::optional<Lease> admit();

  std::size_t total() const;
  std::size_t count_for(const std::string& ip) const;
  std::size_t max_total() const { return max_total_; }
  std::size_t max_per_ip() const { return max_per_ip_; }

 private:
  const std::size_t max_total_;
  const std::size_t max_per_ip_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::size_t refusals_ = 0;
  std::unordered_map<std::string, std::size_t> per_ip_;  // only IPs with live connections
};

}  // namespace switchboard::security
