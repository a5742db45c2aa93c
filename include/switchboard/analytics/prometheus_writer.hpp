#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchboard/analytics/metric_types.hpp"

namespace switchboard::analytics {

// Label name/value pairs of one sample, in the order they should appear.
using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

// Writes the Prometheus text exposition format (version 0.0.4): a `# HELP` and `# TYPE` line per family, then
// its samples, label values and help text escaped as the format requires. Callers keep a family's samples
// together (the format demands it). Not thread-safe: one writer per scrape.
class PrometheusWriter final {
 public:
  // The Content-Type of what this writes.
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // Starts a family. `type` is "counter", "gauge" or "histogram"; counters are named with their "_total".
  void family(std::string_view name, std::string_view help, std::string_view type);
  // One sample line: name{labels} value.
  void sample(std::string_view name, const Labels& labels, double value);
  // The lines of one histogram series: name_bucket{labels,le="..."} for every bound and +Inf, then name_sum
  // and name_count.
  void histogram(std::string_view name, const Labels& labels, const Histogram::Snapshot& snapshot);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

  // Label values escape backslash, double quote and line feed.
  static std::string escape_label_value(std::string_view value);
  // HELP text escapes backslash and line feed.
  static std::string escape_help(std::string_view help);
  // Shortest text that reads back as the same double; integers without exponent or point where exact;
  // "+Inf", "-Inf" and "NaN" as the format spells them.
  static std::string format_value(double value);

 private:
  void labels(const Labels& labels, std::string_view extra_name = {}, std::string_view extra_value = {});

  std::string out_;
};

}  // namespace switchboard::analytics
