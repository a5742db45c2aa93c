#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "switchboard/store/history_store.hpp"

namespace switchboard::store {

// Thrown by SqliteHistoryStore::open when the database cannot be used; what() names the file and the reason.
class HistoryOpenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The durable HistoryStore: one SQLite file in WAL mode with synchronous=FULL, so a message whose append
// completed without error survives a crash or power loss (on a disk that honours fsync).
//
// Threads: one writer thread owns the read-write connection that writes. append, update_status,
// delete_by_sender and the retention sweep are queued to it; it drains up to `max_batch` pending operations
// into one transaction (group commit), commits, then runs the completion handlers of that batch in submission
// order. Reads run on `reader_threads` threads with read-only connections, never on the caller's thread. A
// checkpoint thread with a connection of its own copies the WAL into the database in the background (see
// checkpoint_pages).
//
// Thread-safety: every public method may be called from any thread. Completion handlers run on the writer
// thread (writes) or a reader thread (reads), except that a call rejected up front (queue full, store closed)
// completes inline on the caller's thread. Handlers must not block for long: the writer waits for them. A
// handler may call back into the store.
//
// Errors (std::error_code of category store_category(), see StoreErrc): kQueueFull when `max_pending_writes`
// (or `max_pending_reads`) operations are already waiting; kDiskFull, kIoError, kCorrupt or kReadOnly when
// the batch's transaction failed, in which case every append of that batch fails and none of them was stored;
// kDuplicate when the room already holds the message id, or the seq does not exceed the room's highest stored
// seq; kClosed after close().
class SqliteHistoryStore final : public HistoryStore {
 public:
  struct Options {
    std::filesystem::path file;  // the database; its directory must exist
    std::size_t max_pending_writes = 10000;
    std::size_t max_batch = 2048;  // operations per transaction
    std::size_t max_pending_reads = 1024;
    std::size_t reader_threads = 2;
    int retention_group_days = 0;        // 0 keeps group-room messages forever
    int retention_direct_days = 0;       // 0 keeps direct-message rooms' messages forever ("dm_" ids)
    int retention_sweep_seconds = 3600;  // how often the retention sweep runs (when a retention is set)
    bool quick_check_on_open = true;     // PRAGMA quick_check at open: a damaged file stops start-up
    std::uint32_t max_page_count = 0;  // 0: no cap. Caps the file size; tests use it to simulate a full disk
    // WAL size in pages at which a background thread copies the WAL into the database. SQLite's automatic
    // checkpoint (1000 pages) would run inside a commit and make its appends wait; this one does not.
    int checkpoint_pages = 4000;
    std::function<std::int64_t()> now_ms;  // wall clock for retention; empty: the system clock
  };

  // Opens (creating if needed) and migrates the database, then starts the threads. Throws HistoryOpenError
  // naming the file when it cannot be created or written, is not a database, is damaged, or was written by a
  // newer schema version.
  static std::shared_ptr<SqliteHistoryStore> open(Options options);

  // The schema version this build writes (PRAGMA user_version after open).
  static int schema_version();

  ~SqliteHistoryStore() override;  // close()s
  SqliteHistoryStore(const SqliteHistoryStore&) = delete;
  SqliteHistoryStore& operator=(const SqliteHistoryStore&) = delete;

  void append(const chat::Message& message, Done done) override;
  // Only ever raises the status (max(stored, status)). Dropped silently when the write queue is full.
  void update_status(const std::string& room_id, const std::string& message_id,
                     chat::DeliveryStatus status) override;
  void load_room(const std::string& room_id, std::size_t limit, RoomStateDone done) override;
  // An unknown since_id (in that room) gives an empty page with anchor_found=false.
  void after(const std::string& room_id, const std::string& since_id, std::size_t limit,
             PageDone done) override;
  // An unknown non-empty before_id (in that room) gives an empty page with anchor_found=false.
  void before(const std::string& room_id, const std::string& before_id, std::size_t limit,
              PageDone done) override;
  void find(const std::string& room_id, const std::string& id, MessageDone done) override;
  // Blanks content and sets `deleted`, commits, then VACUUMs and truncates the WAL so that the text is gone
  // from the files (secure_delete alone leaves stale copies in b-tree pages) before `done` runs. The VACUUM
  // blocks the writer for a time proportional to the database size. If it fails, `done` gets the error
  // although the placeholders are already committed; a retry is harmless.
  void delete_by_sender(const std::string& user_id, Done done) override;
  // Drains both queues, commits, checkpoints and truncates the WAL, closes the connections and joins the
  // threads. Must not run on a store thread: neither call it from a completion handler nor let a handler drop
  // the last reference to the store.
  void close() override;

  // Runs a retention sweep now, through the whole backlog (the periodic sweep, every retention_sweep_seconds,
  // deletes in chunks between batches of appends). When it removed rows it also VACUUMs, as deletion does.
  void sweep_retention(Done done);

  // Transactions committed so far (tests check group commit with it).
  std::uint64_t commit_count() const;

 private:
  struct Impl;
  explicit SqliteHistoryStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchboard::store
