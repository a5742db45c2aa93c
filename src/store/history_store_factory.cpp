#include "switchboard/store/history_store_factory.hpp"

#include <filesystem>
#include <system_error>

#include "switchboard/store/memory_history_store.hpp"
#include "switchboard/store/sqlite_history_store.hpp"

namespace switchboard::store {

std::string effective_history_backend(const config::Config& config) {
  if (config.history.backend != "auto") return config.history.backend;
  return config.redis.url.empty() ? "sqlite" : "redis";
}

std::shared_ptr<HistoryStore> make_history_store(const config::Config& config) {
  const auto& h = config.history;
  if (h.backend == "memory") return std::make_shared<MemoryHistoryStore>(h.memory_max_messages_per_room);

  namespace fs = std::filesystem;
  const fs::path data_dir(config.data.dir);
  fs::path file(h.sqlite_file);
  if (file.is_relative()) file = data_dir / file;
  std::error_code ec;
  fs::create_directories(file.parent_path().empty() ? data_dir : file.parent_path(), ec);
  if (ec)
    throw HistoryOpenError("history database '" + file.string() + "': cannot create directory '" +
                           file.parent_path().string() + "': " + ec.message());

  SqliteHistoryStore::Options options;
  options.file = file;
  options.max_pending_writes = h.max_pending_writes;
  options.max_batch = h.max_batch;
  options.max_pending_reads = h.max_pending_reads;
  options.reader_threads = h.reader_threads;
  options.retention_group_days = h.retention_group_days;
  options.retention_direct_days = h.retention_direct_days;
  options.retention_sweep_seconds = h.retention_sweep_seconds;
  options.quick_check_on_open = h.quick_check_on_open;
  options.max_page_count = h.max_page_count;
  return SqliteHistoryStore::open(std::move(options));
}

}  // namespace switchboard::store
