#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>

#include "switchboard/analytics/event_sink.hpp"

namespace switchboard::analytics {

// Appends events as JSON lines to a file (analytics.file in data.dir) and rotates it by size: when a line
// would take the file past max_bytes, events.jsonl becomes events.jsonl.1 (the older ones shift up) and at
// most `keep` rotated files remain. Each batch is flushed to the OS before write() returns.
//
// Thread-safety: none; only the EventRecorder's thread calls it. write() blocks on the disk, which is why it
// runs there and never on an I/O thread.
class FileEventSink final : public EventSink {
 public:
  struct Options {
    std::filesystem::path path;
    std::uint64_t max_bytes = 10 * 1024 * 1024;
    std::size_t keep = 5;
  };
  explicit FileEventSink(Options options);
  ~FileEventSink() override;

  std::string_view name() const override { return "file"; }
  void write(std::vector<Event> batch, Done done) override;

  // The path of rotated file `n` (1 = the newest): "<path>.<n>".
  std::filesystem::path rotated(std::size_t n) const;

 private:
  bool open();
  void rotate();
  // Writes and flushes `lines` to the open file; false (and the file closed) on failure.
  bool append(const std::string& lines);

  Options options_;
  std::FILE* file_ = nullptr;
  std::uint64_t size_ = 0;
};

}  // namespace switchboard::analytics
