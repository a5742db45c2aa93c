#pragma once
#include <atomic>
#include <cstdint>
#include <vector>

namespace switchboard::analytics {

// The cells behind every Prometheus metric: plain atomics with relaxed ordering, so recording a value on a
// hot path costs one uncontended atomic add and never takes a lock. A scrape reads them without stopping
// writers; values read together may be a few increments apart, which Prometheus tolerates.
//
// Thread-safety: every method may be called from any thread.

// A monotonically increasing count.
class Counter final {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down (open connections, a link's state).
class Gauge final {
 public:
  void inc(std::int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  void dec(std::int64_t n = 1) { value_.fetch_sub(n, std::memory_order_relaxed); }
  void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Observations counted into fixed buckets (upper bounds chosen at construction), plus their sum and count.
class Histogram final {
 public:
  // `upper_bounds` must be finite and strictly increasing (checked; throws std::invalid_argument). The +Inf
  // bucket is implicit.
  explicit Histogram(std::vector<double> upper_bounds);

  void observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;       // without +Inf
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf; each counts observations <= bound
    double sum = 0;
    std::uint64_t count = 0;  // equals cumulative.back()
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> bounds_;
  std::vector<std::atomic<std::uint64_t>> buckets_;  // not cumulative; the last one is +Inf
  std::atomic<double> sum_{0};
};

}  // namespace switchboard::analytics
