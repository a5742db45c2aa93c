#include "switchboard/analytics/file_event_sink.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "switchboard/util/json_text.hpp"
#include "switchboard/util/log.hpp"

namespace switchboard::analytics {
namespace {

constexpr util::AreaLogger log{"analytics"};

}  // namespace

FileEventSink::FileEventSink(Options options) : options_(std::move(options)) {}

FileEventSink::~FileEventSink() {
  if (file_) std::fclose(file_);
}

std::filesystem::path FileEventSink::rotated(std::size_t n) const {
  return options_.path.string() + "." + std::to_string(n);
}

bool FileEventSink::open() {
  if (file_) return true;
  std::error_code ec;
  if (options_.path.has_parent_path()) std::filesystem::create_directories(options_.path.parent_path(), ec);
  file_ = std::fopen(options_.path.c_str(), "ab");
  if (!file_) {
    log()->error("cannot open the analytics file {}: {}", options_.path.string(), std::strerror(errno));
    return false;
  }
  const auto size = std::filesystem::file_size(options_.path, ec);
  size_ = ec ? 0 : size;
  return true;
}

void FileEventSink::rotate() {
  if (file_) {
    std::fclose(file_);
    file_ = nullptr;
  }
  std::error_code ec;
  if (options_.keep == 0) {
    std::filesystem::remove(options_.path, ec);
  } else {
    // Oldest first, so nothing is overwritten before it has moved; rename replaces the one beyond `keep`.
    for (std::size_t n = options_.keep; n > 1; --n)
      if (std::filesystem::exists(rotated(n - 1), ec))
        std::filesystem::rename(rotated(n - 1), rotated(n), ec);
    std::filesystem::rename(options_.path, rotated(1), ec);
    if (ec) log()->warn("rotating {} failed: {}", options_.path.string(), ec.message());
  }
  size_ = 0;
}

bool FileEventSink::append(const std::string& lines) {
  if (lines.empty()) return true;
  const bool ok =
      std::fwrite(lines.data(), 1, lines.size(), file_) == lines.size() && std::fflush(file_) == 0;
  if (!ok) {
    log()->error("writing the analytics file {} failed: {}", options_.path.string(), std::strerror(errno));
    // Reopen next time: the file may have been removed or the disk freed up.
    std::fclose(file_);
    file_ = nullptr;
    return false;
  }
  size_ += lines.size();
  return true;
}

void FileEventSink::write(std::vector<Event> batch, Done done) {
  if (!open()) return done(false);
  // Line by line, so that a large batch rotates in the middle and no file grows past max_bytes (unless one
  // line alone is larger). Lines go out in one write per file.
  std::string lines;
  for (const auto& e : batch) {
    std::string line = util::json_text(to_json(e));
    line += '\n';
    if (size_ + lines.size() > 0 && size_ + lines.size() + line.size() > options_.max_bytes) {
      if (!append(lines)) return done(false);
      lines.clear();
      rotate();
      if (!open()) return done(false);
    }
    lines += line;
  }
  done(append(lines));
}

}  // namespace switchboard::analytics
