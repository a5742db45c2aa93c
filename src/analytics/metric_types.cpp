#include "switchboard/analytics/metric_types.hpp"

#include <cmath>
#include <stdexcept>

namespace switchboard::analytics {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(bounds_.size() + 1) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i])) throw std::invalid_argument("histogram bounds must be finite");
    if (i > 0 && bounds_[i] <= bounds_[i - 1])
      throw std::invalid_argument("histogram bounds must be strictly increasing");
  }
}

void Histogram::observe(double value) {
  // A dozen bounds: a linear scan beats a binary search and keeps the code obvious.
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  double seen = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(seen, seen + value, std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = bounds_;
  s.cumulative.reserve(buckets_.size());
  std::uint64_t running = 0;
  for (const auto& b : buckets_) {
    running += b.load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  // The count is derived from the buckets so that it always equals the +Inf bucket, as the format requires.
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace switchboard::analytics
