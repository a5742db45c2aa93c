#include "switchboard/analytics/prometheus_writer.hpp"

#include <charconv>
#include <cmath>

namespace switchboard::analytics {

std::string PrometheusWriter::escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PrometheusWriter::escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PrometheusWriter::format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, r.ptr);
}

void PrometheusWriter::family(std::string_view name, std::string_view help, std::string_view type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += escape_help(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusWriter::labels(const Labels& labels, std::string_view extra_name,
                              std::string_view extra_value) {
  if (labels.empty() && extra_name.empty()) return;
  out_ += '{';
  bool first = true;
  const auto put = [&](std::string_view n, std::string_view v) {
    if (!first) out_ += ',';
    first = false;
    out_ += n;
    out_ += "=\"";
    out_ += escape_label_value(v);
    out_ += '"';
  };
  for (const auto& [n, v] : labels) put(n, v);
  if (!extra_name.empty()) put(extra_name, extra_value);
  out_ += '}';
}

void PrometheusWriter::sample(std::string_view name, const Labels& l, double value) {
  out_ += name;
  labels(l);
  out_ += ' ';
  out_ += format_value(value);
  out_ += '\n';
}

void PrometheusWriter::histogram(std::string_view name, const Labels& l, const Histogram::Snapshot& s) {
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < s.cumulative.size(); ++i) {
    out_ += bucket;
    labels(l, "le", i < s.upper_bounds.size() ? format_value(s.upper_bounds[i]) : "+Inf");
    out_ += ' ';
    out_ += format_value(static_cast<double>(s.cumulative[i]));
    out_ += '\n';
  }
  sample(std::string(name) + "_sum", l, s.sum);
  sample(std::string(name) + "_count", l, static_cast<double>(s.count));
}

}  // namespace switchboard::analytics
