#include "switchboard/security/connection_limiter.hpp"

namespace switchboard::security {

std::optional<ConnectionLimiter::Lease> ConnectionLimiter::admit() {
  std::lock_guard lock(mutex_);
  if (total_ < max_total_) {
    ++total_;
    return Lease(shared_from_this(), true);
  }
  if (refusals_ >= kMaxRefusalsInFlight) return std::nullopt;
  ++refusals_;
  return Lease(shared_from_this(), false);
}

std::size_t ConnectionLimiter::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

std::size_t ConnectionLimiter::count_for(const std::string& ip) const {
  std::lock_guard lock(mutex_);
  const auto it = per_ip_.find(ip);
  return it == per_ip_.end() ? 0 : it->second;
}

ConnectionLimiter::Lease::Lease(Lease&& other) noexcept
    : owner_(std::move(other.owner_)), admitted_(other.admitted_), ip_(std::move(other.ip_)) {
  other.owner_.reset();
  other.ip_.clear();
}

ConnectionLimiter::Lease& ConnectionLimiter::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::move(other.owner_);
    admitted_ = other.admitted_;
    ip_ = std::move(other.ip_);
    other.owner_.reset();
    other.ip_.clear();
  }
  return *this;
}

ConnectionLimiter::Lease::~Lease() {
  release();
}

bool ConnectionLimiter::Lease::assign_ip(const std::string& ip) {
  if (!owner_ || !admitted_) return false;
  if (!ip_.empty() && ip_ == ip) return true;
  std::lock_guard lock(owner_->mutex_);
  if (!ip_.empty()) {
    if (const auto it = owner_->per_ip_.find(ip_); it != owner_->per_ip_.end() && --it->second == 0)
      owner_->per_ip_.erase(it);
    ip_.clear();
  }
  auto& count = owner_->per_ip_[ip];
  if (count >= owner_->max_per_ip_) {
    if (count == 0) owner_->per_ip_.erase(ip);
    return false;
  }
  ++count;
  ip_ = ip;
  return true;
}

void ConnectionLimiter::Lease::release() {
  if (!owner_) return;
  {
    std::lock_guard lock(owner_->mutex_);
    if (admitted_) {
      --owner_->total_;
    } else {
      --owner_->refusals_;
    }
    if (!ip_.empty())
      if (const auto it = owner_->per_ip_.find(ip_); it != owner_->per_ip_.end() && --it->second == 0)
        owner_->per_ip_.erase(it);
  }
  owner_.reset();
  ip_.clear();
}

}  // namespace switchboard::security
