#include "switchboard/store/sqlite_history_store.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "switchboard/store/store_error.hpp"
#include "switchboard/util/clock.hpp"
#include "switchboard/util/log.hpp"

namespace switchboard::store {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Schema migrations: entry i brings a file from user_version i to i + 1. Append only; never edit a shipped
// entry, because files in the field were created by it.
constexpr const char* kMigrations[] = {
    // v1: the initial schema. WITHOUT ROWID clusters a room's messages by seq, which is every query's order.
    "CREATE TABLE messages("
    " room_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, sender_id TEXT NOT NULL,"
    " display_name TEXT NOT NULL DEFAULT '', content TEXT NOT NULL, timestamp INTEGER NOT NULL,"
    " type TEXT NOT NULL DEFAULT 'chat', is_nudge INTEGER NOT NULL DEFAULT 0, is_wink INTEGER NOT NULL "
    "DEFAULT 0,"
    " wink_id TEXT NOT NULL DEFAULT '', status INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(room_id, seq), UNIQUE(room_id, id)) WITHOUT ROWID;",
    // v2: deletion at the sender's request; a per-room high-water mark so that seq never goes back, even when
    // retention empties a room; indexes for deletion by sender and for the retention sweep.
    "ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE rooms(room_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO rooms(room_id, last_seq) SELECT room_id, max(seq) FROM messages GROUP BY room_id;"
    "CREATE INDEX messages_by_sender ON messages(sender_id);"
    "CREATE INDEX messages_by_time ON messages(timestamp);",
    // v3: no index by sender. Every append paid for it with one more b-tree page written per message (a
    // sender's entries sit apart in every room), while its only user, deletion at a sender's request,
    // rewrites
    // the whole file with VACUUM anyway, so the full scan it needs instead costs no more than that.
    "DROP INDEX IF EXISTS messages_by_sender;",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

#define SB_MESSAGE_COLUMNS                                                                            \
  "room_id, seq, id, sender_id, display_name, content, timestamp, type, is_nudge, is_wink, wink_id, " \
  "status, deleted"

// Rows deleted per retention transaction, so that a large first sweep does not stall appends for long.
constexpr int kRetentionChunk = 5000;
constexpr int kBusyTimeoutMs = 5000;
constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;

// A failed SQLite call inside this file; converted to a StoreErrc at the batch or read boundary.
class SqliteError : public std::runtime_error {
 public:
  SqliteError(int rc, const std::string& what) : std::runtime_error(what), rc_(rc) {}
  int rc() const { return rc_; }

 private:
  int rc_;
};

std::error_code to_error(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return StoreErrc::kDiskFull;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StoreErrc::kCorrupt;
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return StoreErrc::kReadOnly;
    default:
      return StoreErrc::kIoError;
  }
}

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

[[noreturn]] void throw_db(sqlite3* db, int rc, const std::string& what) {
  throw SqliteError(rc, what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

void exec(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throw_db(db, rc, std::string("executing ") + sql);
}

StmtPtr prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) throw_db(db, rc, std::string("preparing ") + sql);
  return StmtPtr(s);
}

// Resets a reused statement when the scope ends, so that it never keeps a read snapshot or a lock open.
class ResetGuard {
 public:
  explicit ResetGuard(sqlite3_stmt* s) : s_(s) {}
  ~ResetGuard() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  ResetGuard(const ResetGuard&) = delete;
  ResetGuard& operator=(const ResetGuard&) = delete;

 private:
  sqlite3_stmt* s_;
};

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  // SQLITE_STATIC: every statement is stepped and reset while `v` is alive.
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void bind_int(sqlite3_stmt* s, int i, std::int64_t v) {
  sqlite3_bind_int64(s, i, v);
}

sqlite3_int64 sql_limit(std::size_t limit) {
  return static_cast<sqlite3_int64>(
      std::min<std::size_t>(limit, static_cast<std::size_t>(std::numeric_limits<sqlite3_int64>::max())));
}

// Steps a statement that returns no rows.
void step_done(sqlite3* db, sqlite3_stmt* s, const char* what) {
  const int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) throw_db(db, rc, what);
}

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

// Reads one row selected with SB_MESSAGE_COLUMNS.
chat::Message read_message(sqlite3_stmt* s) {
  chat::Message m;
  m.room_id = column_text(s, 0);
  m.seq = static_cast<std::uint64_t>(sqlite3_column_int64(s, 1));
  m.id = column_text(s, 2);
  m.sender_id = column_text(s, 3);
  m.display_name = column_text(s, 4);
  m.content = column_text(s, 5);
  m.timestamp = sqlite3_column_int64(s, 6);
  m.type = column_text(s, 7);
  m.is_nudge = sqlite3_column_int(s, 8) != 0;
  m.is_wink = sqlite3_column_int(s, 9) != 0;
  m.wink_id = column_text(s, 10);
  m.status = static_cast<chat::DeliveryStatus>(std::clamp(sqlite3_column_int(s, 11), 0, 2));
  m.deleted = sqlite3_column_int(s, 12) != 0;
  return m;
}

// Steps a SELECT of SB_MESSAGE_COLUMNS to the end.
std::vector<chat::Message> read_messages(sqlite3* db, sqlite3_stmt* s) {
  std::vector<chat::Message> out;
  for (;;) {
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return out;
    if (rc != SQLITE_ROW) throw_db(db, rc, "reading messages");
    out.push_back(read_message(s));
  }
}

constexpr util::AreaLogger store_log{"store"};

// The queued write operations.
struct AppendOp {
  chat::Message message;
  HistoryStore::Done done;
};
struct StatusOp {
  std::string room_id;
  std::string message_id;
  chat::DeliveryStatus status;
};
struct DeleteOp {
  std::string user_id;
  HistoryStore::Done done;
};
struct SweepOp {
  HistoryStore::Done done;  // empty for the periodic sweep
};
using WriteOp = std::variant<AppendOp, StatusOp, DeleteOp, SweepOp>;

HistoryStore::Done* done_of(WriteOp& op) {
  return std::visit(
      [](auto& o) -> HistoryStore::Done* {
        if constexpr (requires { o.done; }) {
          return &o.done;
        } else {
          return nullptr;
        }
      },
      op);
}

// A read-only connection and its statements; used by one reader thread at a time.
struct Reader {
  DbPtr db;
  StmtPtr begin, commit, anchor, newest, older, newer, last_seq, by_id;
};

// A queued read: called with the reader that runs it, or with nullptr and the reason it was rejected.
using ReadOp = std::function<void(Reader*, std::error_code)>;

}  // namespace

struct SqliteHistoryStore::Impl {
  Options options;
  std::string path;                                   // for messages
  std::shared_ptr<spdlog::logger> log = store_log();  // opened after logging is set up

  // Writer side. The connection and statements are touched only by the writer thread once it runs.
  DbPtr wdb;
  StmtPtr insert, read_room, raise_room, set_status, blank_sender, expire;
  // The rooms table's last_seq of every room appended to since open (writer thread only), so that refusing a
  // seq at or below it costs no query. Cleared when a batch rolls back.
  std::unordered_map<std::string, std::uint64_t> room_last_seq;
  std::mutex write_mutex;
  std::condition_variable write_cv;
  std::deque<WriteOp> write_queue;  // guarded by write_mutex
  bool write_closing = false;       // guarded by write_mutex
  std::thread writer;
  std::atomic<std::uint64_t> commits{0};

  // Checkpointer: a thread with its own connection copies the WAL into the database once it grew past
  // options.checkpoint_pages (PASSIVE: never blocks the writer or readers), so that commits do not wait for
  // it.
  DbPtr cdb;
  std::mutex checkpoint_mutex;
  std::condition_variable checkpoint_cv;
  bool checkpoint_wanted = false;   // guarded by checkpoint_mutex
  bool checkpoint_closing = false;  // guarded by checkpoint_mutex
  std::thread checkpointer;
  SteadyClock::time_point next_sweep;  // writer thread only
  bool checkpoint_pending = false;     // writer thread only: a wanted TRUNCATE checkpoint did not complete
  bool expired_since_vacuum = false;   // writer thread only: retention removed rows since the last VACUUM
  bool sweep_backlog = false;          // writer thread only: the last retention chunk was full

  // Reader side.
  std::vector<Reader> reader_conns;  // handed to the threads at start
  std::mutex read_mutex;
  std::condition_variable read_cv;
  std::deque<ReadOp> read_queue;  // guarded by read_mutex
  bool read_closing = false;      // guarded by read_mutex
  std::vector<std::thread> readers;

  std::mutex close_mutex;
  bool closed = false;  // guarded by close_mutex

  bool retention_enabled() const {
    return options.retention_group_days > 0 || options.retention_direct_days > 0;
  }
  std::int64_t now_ms() const { return options.now_ms ? options.now_ms() : util::now_ms(); }

  [[noreturn]] void open_error(const std::string& why) const {
    throw HistoryOpenError("history database '" + path + "': " + why);
  }

  void open_writer();
  void migrate();
  Reader open_reader();
  void start();

  void submit_write(WriteOp op);
  void writer_loop();
  void run_batch(std::vector<WriteOp>& batch);
  // Adds the room to `raised` when it stored the message: the rooms table is raised once per room at the end
  // of the batch instead of once per message.
  std::error_code apply(AppendOp& op, std::unordered_set<std::string>& raised);
  // The room's entry in room_last_seq, read from the rooms table on first use.
  std::uint64_t& last_seq_of(const std::string& room_id);
  void apply(StatusOp& op);
  void apply(DeleteOp& op);
  void apply_sweep(bool exhaustive);
  std::error_code erase_removed_text();
  void checkpoint();
  void open_checkpointer();
  void checkpointer_loop();
  void stop_checkpointer();
  // sqlite3_wal_hook: runs on the writer thread after each commit.
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int wal_pages);

  void submit_read(ReadOp op);
  void reader_loop(Reader reader);
  // Runs `body` inside one read transaction; returns the error that aborted it, if any.
  template <typename Body>
  std::error_code read_txn(Reader& r, Body&& body);
  static std::optional<std::uint64_t> anchor_seq(Reader& r, const std::string& room_id,
                                                 const std::string& id);

  void close();
};

void SqliteHistoryStore::Impl::open_writer() {
  namespace fs = std::filesystem;
  std::error_code fs_ec;
  const fs::path dir = options.file.has_parent_path() ? options.file.parent_path() : fs::path(".");
  if (!fs::exists(dir, fs_ec)) open_error("directory '" + dir.string() + "' does not exist");
  if (!fs::is_directory(dir, fs_ec)) open_error("'" + dir.string() + "' is not a directory");
  // The directory must be writable even when the file exists: WAL mode creates the -wal and -shm files beside
  // it.
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    open_error("directory '" + dir.string() + "' is not writable (check its permissions and mount options)");
  if (fs::exists(options.file, fs_ec) && ::access(options.file.c_str(), R_OK | W_OK) != 0)
    open_error("the file is not readable and writable (check its permissions)");

  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  wdb.reset(raw);
  if (rc != SQLITE_OK)
    open_error(std::string("cannot open: ") + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)) +
               " (is the directory writable?)");
  sqlite3_extended_result_codes(wdb.get(), 1);
  sqlite3_busy_timeout(wdb.get(), kBusyTimeoutMs);
  if (sqlite3_db_readonly(wdb.get(), "main") == 1)
    open_error("opened read-only; the file and its directory must be writable");

  try {
    // The first statement reads the header: a file that is not a database fails here (SQLITE_NOTADB).
    sqlite3_stmt* s = nullptr;
    int prc = sqlite3_prepare_v2(wdb.get(), "PRAGMA journal_mode=WAL", -1, &s, nullptr);
    StmtPtr jm(s);
    if (prc != SQLITE_OK) throw_db(wdb.get(), prc, "switching to WAL mode");
    prc = sqlite3_step(jm.get());
    if (prc != SQLITE_ROW) throw_db(wdb.get(), prc, "switching to WAL mode");
    const std::string mode = column_text(jm.get(), 0);
    if (mode != "wal") open_error("cannot switch to WAL mode (journal mode stays '" + mode + "')");
    jm.reset();
    // FULL: in WAL mode the WAL is fsynced at every commit, so a completed append survives power loss.
    exec(wdb.get(), "PRAGMA synchronous=FULL");
    // Deleted text is overwritten with zeros rather than left in free space.
    exec(wdb.get(), "PRAGMA secure_delete=ON");
    // Client ids are random, so each append lands on a different page of the id index: a page cache that
    // holds the index spares the writer a read for most of them (the default is 2 MiB).
    exec(wdb.get(), "PRAGMA cache_size=-16384");

    if (options.quick_check_on_open) {
      StmtPtr qc = prepare(wdb.get(), "PRAGMA quick_check(1)");
      const int qrc = sqlite3_step(qc.get());
      if (qrc != SQLITE_ROW) throw_db(wdb.get(), qrc, "checking integrity");
      const std::string verdict = column_text(qc.get(), 0);
      if (verdict != "ok")
        open_error("the file is damaged (quick_check: " + verdict +
                   "); restore it from a backup or move it away to start with an empty history");
    }
    migrate();
    if (options.max_page_count > 0)
      exec(wdb.get(), ("PRAGMA max_page_count=" + std::to_string(options.max_page_count)).c_str());

    // One row, VALUES: SQLite then needs no statement journal (INSERT ... SELECT did, at every message). The
    // room's high-water mark is checked before, against room_last_seq.
    insert = prepare(wdb.get(), "INSERT INTO messages(" SB_MESSAGE_COLUMNS
                                ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    read_room = prepare(wdb.get(), "SELECT last_seq FROM rooms WHERE room_id = ?1");
    raise_room = prepare(wdb.get(),
                         "INSERT INTO rooms(room_id, last_seq) VALUES(?1, ?2)"
                         " ON CONFLICT(room_id) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)");
    set_status =
        prepare(wdb.get(), "UPDATE messages SET status = max(status, ?3) WHERE room_id = ?1 AND id = ?2");
    blank_sender = prepare(
        wdb.get(), "UPDATE messages SET content = '', deleted = 1 WHERE sender_id = ?1 AND deleted = 0");
    expire = prepare(wdb.get(),
                     "DELETE FROM messages WHERE (room_id, seq) IN (SELECT room_id, seq FROM messages"
                     " WHERE timestamp < ?1 AND (room_id GLOB 'dm_*') = ?2 LIMIT ?3)");
  } catch (const SqliteError& e) {
    const int code = e.rc() & 0xff;
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
      open_error(std::string("the file is not a valid SQLite database or is damaged (") + e.what() +
                 "); restore it from a backup or move it away to start with an empty history");
    if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_PERM)
      open_error(std::string("cannot be written (") + e.what() +
                 "); check the permissions of the file and directory");
    open_error(e.what());
  }
}

void SqliteHistoryStore::Impl::migrate() {
  sqlite3* db = wdb.get();
  StmtPtr uv = prepare(db, "PRAGMA user_version");
  const int rc = sqlite3_step(uv.get());
  if (rc != SQLITE_ROW) throw_db(db, rc, "reading the schema version");
  const int version = sqlite3_column_int(uv.get(), 0);
  uv.reset();
  if (version > kSchemaVersion)
    open_error("schema version " + std::to_string(version) +
               " was written by a newer Switchboard (this build knows " + "up to " +
               std::to_string(kSchemaVersion) + "); upgrade, or restore a backup");
  if (version == kSchemaVersion) {
    // Nothing to migrate; a write transaction still proves at start-up that the file can be written.
    exec(db, "BEGIN IMMEDIATE");
    exec(db, ("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
    exec(db, "COMMIT");
    return;
  }
  // One transaction per step (user_version is part of it), so a crash mid-migration leaves a consistent
  // version.
  for (int v = version; v < kSchemaVersion; ++v) {
    exec(db, "BEGIN IMMEDIATE");
    try {
      exec(db, kMigrations[v]);
      exec(db, ("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
      exec(db, "COMMIT");
    } catch (...) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
  if (version != 0)
    log->info("history: migrated {} from schema version {} to {}", path, version, kSchemaVersion);
}

Reader SqliteHistoryStore::Impl::open_reader() {
  Reader r;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  r.db.reset(raw);
  if (rc != SQLITE_OK)
    open_error(std::string("cannot open a reader: ") + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  try {
    r.begin = prepare(raw, "BEGIN");
    r.commit = prepare(raw, "COMMIT");
    r.anchor = prepare(raw, "SELECT seq FROM messages WHERE room_id = ?1 AND id = ?2");
    r.newest = prepare(
        raw, "SELECT " SB_MESSAGE_COLUMNS " FROM messages WHERE room_id = ?1 ORDER BY seq DESC LIMIT ?2");
    r.older = prepare(raw, "SELECT " SB_MESSAGE_COLUMNS
                           " FROM messages WHERE room_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3");
    r.newer = prepare(raw, "SELECT " SB_MESSAGE_COLUMNS
                           " FROM messages WHERE room_id = ?1 AND seq > ?2 ORDER BY seq ASC LIMIT ?3");
    r.by_id = prepare(raw, "SELECT " SB_MESSAGE_COLUMNS " FROM messages WHERE room_id = ?1 AND id = ?2");
    r.last_seq = prepare(raw,
                         "SELECT max(coalesce((SELECT last_seq FROM rooms WHERE room_id = ?1), 0),"
                         " coalesce((SELECT max(seq) FROM messages WHERE room_id = ?1), 0))");
  } catch (const SqliteError& e) {
    open_error(std::string("cannot prepare a reader: ") + e.what());
  }
  return r;
}

void SqliteHistoryStore::Impl::start() {
  next_sweep = SteadyClock::now();  // a first sweep right after start-up, when retention is on
  // Named, so that `top -H` and profilers tell the store's threads apart.
  writer = std::thread([this] {
    pthread_setname_np(pthread_self(), "history-write");
    writer_loop();
  });
  checkpointer = std::thread([this] {
    pthread_setname_np(pthread_self(), "history-ckpt");
    checkpointer_loop();
  });
  for (auto& r : reader_conns)
    readers.emplace_back([this, conn = std::move(r)]() mutable {
      pthread_setname_np(pthread_self(), "history-read");
      reader_loop(std::move(conn));
    });
  reader_conns.clear();
}

// ---- writer ----

void SqliteHistoryStore::Impl::submit_write(WriteOp op) {
  std::error_code ec;
  {
    std::lock_guard lock(write_mutex);
    if (write_closing) {
      ec = StoreErrc::kClosed;
    } else if (write_queue.size() >= options.max_pending_writes) {
      ec = StoreErrc::kQueueFull;
    } else {
      write_queue.push_back(std::move(op));
    }
  }
  if (!ec) {
    write_cv.notify_one();
    return;
  }
  // Rejected: complete inline rather than block the caller (an I/O thread).
  if (auto* done = done_of(op); done && *done) (*done)(ec);
}

void SqliteHistoryStore::Impl::writer_loop() {
  std::vector<WriteOp> batch;
  for (;;) {
    batch.clear();
    bool stop = false;
    {
      std::unique_lock lock(write_mutex);
      const auto ready = [this] { return !write_queue.empty() || write_closing; };
      if (retention_enabled()) {
        write_cv.wait_until(lock, next_sweep, ready);
      } else {
        write_cv.wait(lock, ready);
      }
      const std::size_t n = std::min(write_queue.size(), options.max_batch);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(write_queue.front()));
        write_queue.pop_front();
      }
      stop = write_closing && batch.empty();
    }
    if (stop) break;
    if (!batch.empty()) run_batch(batch);
    if (retention_enabled() && SteadyClock::now() >= next_sweep) {
      // In a transaction of its own, so that a failing sweep never fails appends.
      next_sweep = SteadyClock::now() + std::chrono::seconds(options.retention_sweep_seconds);
      batch.clear();
      batch.push_back(SweepOp{});
      run_batch(batch);
    }
  }
  // Clean shutdown: fold the WAL into the database and truncate it; closing the last connection removes it.
  checkpoint();
  insert.reset();
  read_room.reset();
  raise_room.reset();
  set_status.reset();
  blank_sender.reset();
  expire.reset();
  wdb.reset();
}

void SqliteHistoryStore::Impl::run_batch(std::vector<WriteOp>& batch) {
  std::vector<std::error_code> results(batch.size());
  std::unordered_set<std::string> raised;
  bool deleted = false;  // a DeleteOp ran: removed text must leave the files before its `done`
  std::error_code failed;
  try {
    exec(wdb.get(), "BEGIN IMMEDIATE");
    for (std::size_t i = 0; i < batch.size(); ++i) {
      std::visit(
          [&](auto& op) {
            using T = std::decay_t<decltype(op)>;
            if constexpr (std::is_same_v<T, AppendOp>) {
              results[i] = apply(op, raised);
            } else if constexpr (std::is_same_v<T, StatusOp>) {
              apply(op);
            } else if constexpr (std::is_same_v<T, DeleteOp>) {
              apply(op);
              deleted = true;
            } else {
              apply_sweep(static_cast<bool>(op.done));  // a requested sweep finishes its backlog at once
            }
          },
          batch[i]);
    }
    for (const auto& room_id : raised) {
      sqlite3_stmt* s = raise_room.get();
      ResetGuard reset(s);
      bind_text(s, 1, room_id);
      bind_int(s, 2, static_cast<std::int64_t>(room_last_seq.at(room_id)));
      step_done(wdb.get(), s, "raising the room's last seq");
    }
    exec(wdb.get(), "COMMIT");
    commits.fetch_add(1, std::memory_order_relaxed);
  } catch (const SqliteError& e) {
    failed = to_error(e.rc());
    log->error("history: a transaction of {} operations on {} failed and was rolled back: {}", batch.size(),
               path, e.what());
    // SQLite may already have rolled back (SQLITE_FULL, I/O errors); a second ROLLBACK would only fail.
    if (!sqlite3_get_autocommit(wdb.get())) sqlite3_exec(wdb.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    std::fill(results.begin(), results.end(), failed);
    room_last_seq.clear();  // it may hold seqs of the rolled-back appends
  }
  if (!failed && (deleted || (expired_since_vacuum && !sweep_backlog))) {
    // Only deletions and sweeps wait for this; the appends of the batch are already durable.
    if (const auto ec = erase_removed_text()) {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (!std::holds_alternative<AppendOp>(batch[i])) results[i] = ec;
      }
    }
  } else if (checkpoint_pending) {
    checkpoint();
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto* done = done_of(batch[i]);
    if (!done || !*done) continue;
    try {
      (*done)(results[i]);
    } catch (const std::exception& e) {
      log->error("history: a completion handler threw: {}", e.what());
    }
  }
}

std::uint64_t& SqliteHistoryStore::Impl::last_seq_of(const std::string& room_id) {
  const auto it = room_last_seq.find(room_id);
  if (it != room_last_seq.end()) return it->second;
  sqlite3_stmt* s = read_room.get();
  ResetGuard reset(s);
  bind_text(s, 1, room_id);
  const int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) throw_db(wdb.get(), rc, "reading the room's last seq");
  const auto seq = rc == SQLITE_ROW ? static_cast<std::uint64_t>(sqlite3_column_int64(s, 0)) : 0;
  return room_last_seq.emplace(room_id, seq).first->second;
}

std::error_code SqliteHistoryStore::Impl::apply(AppendOp& op, std::unordered_set<std::string>& raised) {
  const chat::Message& m = op.message;
  sqlite3* db = wdb.get();
  std::uint64_t& last_seq = last_seq_of(m.room_id);
  if (m.seq <= last_seq) return StoreErrc::kDuplicate;
  {
    sqlite3_stmt* s = insert.get();
    ResetGuard reset(s);
    bind_text(s, 1, m.room_id);
    bind_int(s, 2, static_cast<std::int64_t>(m.seq));
    bind_text(s, 3, m.id);
    bind_text(s, 4, m.sender_id);
    bind_text(s, 5, m.display_name);
    bind_text(s, 6, m.content);
    bind_int(s, 7, m.timestamp);
    bind_text(s, 8, m.type);
    bind_int(s, 9, std::int64_t{m.is_nudge});
    bind_int(s, 10, std::int64_t{m.is_wink});
    bind_text(s, 11, m.wink_id);
    bind_int(s, 12, static_cast<std::int64_t>(m.status));
    bind_int(s, 13, std::int64_t{m.deleted});
    const int rc = sqlite3_step(s);
    // A constraint failure undoes only this statement; the rest of the batch goes on.
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return StoreErrc::kDuplicate;
    if (rc != SQLITE_DONE) throw_db(db, rc, "storing a message");
  }
  last_seq = m.seq;
  raised.insert(m.room_id);
  return {};
}

void SqliteHistoryStore::Impl::apply(StatusOp& op) {
  sqlite3_stmt* s = set_status.get();
  ResetGuard reset(s);
  bind_text(s, 1, op.room_id);
  bind_text(s, 2, op.message_id);
  bind_int(s, 3, static_cast<std::int64_t>(op.status));
  step_done(wdb.get(), s, "updating a delivery status");
}

void SqliteHistoryStore::Impl::apply(DeleteOp& op) {
  sqlite3_stmt* s = blank_sender.get();
  ResetGuard reset(s);
  bind_text(s, 1, op.user_id);
  step_done(wdb.get(), s, "deleting a sender's messages");
}

// Deletes expired messages, one chunk per room type (or every chunk, when `exhaustive`). A full chunk
// schedules the next sweep right away, so that appends interleave with a long backlog.
void SqliteHistoryStore::Impl::apply_sweep(bool exhaustive) {
  const std::int64_t now = now_ms();
  sweep_backlog = false;
  for (const bool direct : {false, true}) {
    const int days = direct ? options.retention_direct_days : options.retention_group_days;
    if (days <= 0) continue;
    int n = 0;
    do {
      sqlite3_stmt* s = expire.get();
      ResetGuard reset(s);
      bind_int(s, 1, now - days * kDayMs);
      bind_int(s, 2, std::int64_t{direct});
      bind_int(s, 3, std::int64_t{kRetentionChunk});
      step_done(wdb.get(), s, "expiring old messages");
      n = sqlite3_changes(wdb.get());
      if (n > 0) expired_since_vacuum = true;
    } while (exhaustive && n >= kRetentionChunk);
    if (n >= kRetentionChunk) sweep_backlog = true;
  }
  if (sweep_backlog) next_sweep = SteadyClock::now();
}

// Makes removed text unrecoverable from the files. secure_delete zeroes freed cells and pages, but b-tree
// rebalancing leaves stale copies of cells in pages' unallocated gaps (SQLite zeroes those only when it
// defragments a page), so a VACUUM rebuilds the file from live rows only; then a TRUNCATE checkpoint empties
// the WAL, whose old frames hold the text too. VACUUM costs time proportional to the database size and blocks
// the writer meanwhile; it runs only after a deletion request or a retention sweep that removed rows.
std::error_code SqliteHistoryStore::Impl::erase_removed_text() {
  const int rc = sqlite3_exec(wdb.get(), "VACUUM", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    log->error("history: VACUUM of {} failed, removed text may remain in the file: {}", path,
               sqlite3_errmsg(wdb.get()));
    checkpoint();
    return to_error(rc);
  }
  expired_since_vacuum = false;
  checkpoint();
  return checkpoint_pending ? std::error_code(StoreErrc::kIoError) : std::error_code();
}

// Copies the WAL into the database and truncates it to zero bytes, so that removed text does not linger in
// old WAL frames. Waits (busy timeout) for readers to finish their snapshot; if it still cannot finish,
// retries after the next batch.
void SqliteHistoryStore::Impl::checkpoint() {
  if (!wdb) return;
  const int rc = sqlite3_wal_checkpoint_v2(wdb.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  checkpoint_pending = rc != SQLITE_OK;
  if (checkpoint_pending)
    log->warn("history: WAL checkpoint of {} incomplete: {}", path, sqlite3_errmsg(wdb.get()));
}

// ---- readers ----

void SqliteHistoryStore::Impl::submit_read(ReadOp op) {
  std::error_code ec;
  {
    std::lock_guard lock(read_mutex);
    if (read_closing) {
      ec = StoreErrc::kClosed;
    } else if (read_queue.size() >= options.max_pending_reads) {
      ec = StoreErrc::kQueueFull;
    } else {
      read_queue.push_back(std::move(op));
    }
  }
  if (!ec) {
    read_cv.notify_one();
    return;
  }
  op(nullptr, ec);
}

void SqliteHistoryStore::Impl::reader_loop(Reader reader) {
  for (;;) {
    ReadOp op;
    {
      std::unique_lock lock(read_mutex);
      read_cv.wait(lock, [this] { return !read_queue.empty() || read_closing; });
      if (read_queue.empty()) break;  // closing, and everything accepted has been answered
      op = std::move(read_queue.front());
      read_queue.pop_front();
    }
    try {
      op(&reader, {});
    } catch (const std::exception& e) {
      log->error("history: a read completion handler threw: {}", e.what());
    }
  }
}

template <typename Body>
std::error_code SqliteHistoryStore::Impl::read_txn(Reader& r, Body&& body) {
  sqlite3* db = r.db.get();
  try {
    // One snapshot for the anchor lookup and the page, so both see the same commits.
    {
      ResetGuard reset(r.begin.get());
      step_done(db, r.begin.get(), "starting a read");
    }
    body();
    ResetGuard reset(r.commit.get());
    step_done(db, r.commit.get(), "ending a read");
    return {};
  } catch (const SqliteError& e) {
    log->error("history: a read of {} failed: {}", path, e.what());
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return to_error(e.rc());
  }
}

std::optional<std::uint64_t> SqliteHistoryStore::Impl::anchor_seq(Reader& r, const std::string& room_id,
                                                                  const std::string& id) {
  sqlite3_stmt* s = r.anchor.get();
  ResetGuard reset(s);
  bind_text(s, 1, room_id);
  bind_text(s, 2, id);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) throw_db(r.db.get(), rc, "finding an anchor message");
  return static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
}

// ---- checkpointer ----

void SqliteHistoryStore::Impl::open_checkpointer() {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  cdb.reset(raw);
  if (rc != SQLITE_OK)
    open_error(std::string("cannot open the checkpoint connection: ") +
               (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  try {
    // FULL: the checkpoint fsyncs the WAL before copying and the database after.
    exec(raw, "PRAGMA synchronous=FULL");
  } catch (const SqliteError& e) {
    open_error(std::string("cannot set up the checkpoint connection: ") + e.what());
  }
  // From now on the writer's commits only append to the WAL; this thread folds it into the database.
  sqlite3_wal_hook(wdb.get(), &Impl::on_wal_commit, this);
}

int SqliteHistoryStore::Impl::on_wal_commit(void* self, sqlite3*, const char*, int wal_pages) {
  auto* impl = static_cast<Impl*>(self);
  if (wal_pages >= impl->options.checkpoint_pages) {
    {
      std::lock_guard lock(impl->checkpoint_mutex);
      impl->checkpoint_wanted = true;
    }
    impl->checkpoint_cv.notify_one();
  }
  return SQLITE_OK;
}

void SqliteHistoryStore::Impl::checkpointer_loop() {
  for (;;) {
    {
      std::unique_lock lock(checkpoint_mutex);
      checkpoint_cv.wait(lock, [this] { return checkpoint_wanted || checkpoint_closing; });
      if (checkpoint_closing) break;
      checkpoint_wanted = false;
    }
    // PASSIVE copies what no reader still needs; the writer restarts the WAL from its beginning once all of
    // it was copied. BUSY means another checkpoint (the writer's, after a deletion) is running: nothing to
    // do.
    int wal_frames = 0;
    int copied = 0;
    const int rc =
        sqlite3_wal_checkpoint_v2(cdb.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
      log->warn("history: WAL checkpoint of {} failed: {}", path, sqlite3_errmsg(cdb.get()));
  }
  cdb.reset();
}

void SqliteHistoryStore::Impl::stop_checkpointer() {
  {
    std::lock_guard lock(checkpoint_mutex);
    checkpoint_closing = true;
  }
  checkpoint_cv.notify_all();
  if (checkpointer.joinable()) checkpointer.join();
  cdb.reset();  // not started (open failed half-way): close it here
}

// ---- close ----

void SqliteHistoryStore::Impl::close() {
  std::lock_guard close_lock(close_mutex);
  if (closed) return;
  closed = true;
  // Readers first: the writer's connection must be the last one closed, so that closing it removes the WAL.
  {
    std::lock_guard lock(read_mutex);
    read_closing = true;
  }
  read_cv.notify_all();
  for (auto& t : readers) {
    if (t.joinable()) t.join();
  }
  stop_checkpointer();
  {
    std::lock_guard lock(write_mutex);
    write_closing = true;
  }
  write_cv.notify_all();
  if (writer.joinable()) writer.join();
}

// ---- public ----

std::shared_ptr<SqliteHistoryStore> SqliteHistoryStore::open(Options options) {
  auto impl = std::make_unique<Impl>();
  options.max_pending_writes = std::max<std::size_t>(1, options.max_pending_writes);
  options.max_batch = std::max<std::size_t>(1, options.max_batch);
  options.max_pending_reads = std::max<std::size_t>(1, options.max_pending_reads);
  options.reader_threads = std::max<std::size_t>(1, options.reader_threads);
  options.retention_sweep_seconds = std::max(1, options.retention_sweep_seconds);
  options.checkpoint_pages = std::max(1, options.checkpoint_pages);
  impl->options = std::move(options);
  impl->path = impl->options.file.string();
  impl->open_writer();
  impl->open_checkpointer();
  for (std::size_t i = 0; i < impl->options.reader_threads; ++i)
    impl->reader_conns.push_back(impl->open_reader());
  impl->start();
  impl->log->info("history: opened {} (schema version {}, {} reader threads)", impl->path, kSchemaVersion,
                  impl->readers.size());
  return std::shared_ptr<SqliteHistoryStore>(new SqliteHistoryStore(std::move(impl)));
}

int SqliteHistoryStore::schema_version() {
  return kSchemaVersion;
}

SqliteHistoryStore::SqliteHistoryStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteHistoryStore::~SqliteHistoryStore() {
  close();
}

void SqliteHistoryStore::append(const chat::Message& message, Done done) {
  impl_->submit_write(AppendOp{message, std::move(done)});
}

void SqliteHistoryStore::update_status(const std::string& room_id, const std::string& message_id,
                                       chat::DeliveryStatus status) {
  impl_->submit_write(StatusOp{room_id, message_id, status});
}

void SqliteHistoryStore::delete_by_sender(const std::string& user_id, Done done) {
  impl_->submit_write(DeleteOp{user_id, std::move(done)});
}

void SqliteHistoryStore::sweep_retention(Done done) {
  impl_->submit_write(SweepOp{std::move(done)});
}

void SqliteHistoryStore::load_room(const std::string& room_id, std::size_t limit, RoomStateDone done) {
  impl_->submit_read(
      [impl = impl_.get(), room_id, limit, done = std::move(done)](Reader* r, std::error_code ec) {
        RoomState state;
        if (r) {
          ec = impl->read_txn(*r, [&] {
            sqlite3_stmt* s = r->newest.get();
            {
              ResetGuard reset(s);
              bind_text(s, 1, room_id);
              bind_int(s, 2, sql_limit(limit));
              state.recent = read_messages(r->db.get(), s);
              std::reverse(state.recent.begin(), state.recent.end());
            }
            s = r->last_seq.get();
            ResetGuard reset(s);
            bind_text(s, 1, room_id);
            const int rc = sqlite3_step(s);
            if (rc != SQLITE_ROW) throw_db(r->db.get(), rc, "reading the room's last seq");
            state.last_seq = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
          });
          if (ec) state = {};
        }
        done(ec, std::move(state));
      });
}

void SqliteHistoryStore::after(const std::string& room_id, const std::string& since_id, std::size_t limit,
                               PageDone done) {
  impl_->submit_read(
      [impl = impl_.get(), room_id, since_id, limit, done = std::move(done)](Reader* r, std::error_code ec) {
        Page page;
        if (r) {
          ec = impl->read_txn(*r, [&] {
            const auto seq = Impl::anchor_seq(*r, room_id, since_id);
            if (!seq) {
              page.anchor_found = false;
              return;
            }
            sqlite3_stmt* s = r->newer.get();
            ResetGuard reset(s);
            bind_text(s, 1, room_id);
            bind_int(s, 2, static_cast<std::int64_t>(*seq));
            bind_int(s, 3, sql_limit(limit));
            page.messages = read_messages(r->db.get(), s);
          });
          if (ec) page = {};
        }
        done(ec, std::move(page));
      });
}

void SqliteHistoryStore::before(const std::string& room_id, const std::string& before_id, std::size_t limit,
                                PageDone done) {
  impl_->submit_read(
      [impl = impl_.get(), room_id, before_id, limit, done = std::move(done)](Reader* r, std::error_code ec) {
        Page page;
        if (r) {
          ec = impl->read_txn(*r, [&] {
            sqlite3_stmt* s = nullptr;
            std::int64_t end = 0;
            if (before_id.empty()) {
              s = r->newest.get();
            } else {
              const auto seq = Impl::anchor_seq(*r, room_id, before_id);
              if (!seq) {
                page.anchor_found = false;
                return;
              }
              s = r->older.get();
              end = static_cast<std::int64_t>(*seq);
            }
            ResetGuard reset(s);
            bind_text(s, 1, room_id);
            if (before_id.empty()) {
              bind_int(s, 2, sql_limit(limit));
            } else {
              bind_int(s, 2, end);
              bind_int(s, 3, sql_limit(limit));
            }
            page.messages = read_messages(r->db.get(), s);
            std::reverse(page.messages.begin(), page.messages.end());
          });
          if (ec) page = {};
        }
        done(ec, std::move(page));
      });
}

void SqliteHistoryStore::find(const std::string& room_id, const std::string& id, MessageDone done) {
  impl_->submit_read(
      [impl = impl_.get(), room_id, id, done = std::move(done)](Reader* r, std::error_code ec) {
        std::optional<chat::Message> found;
        if (r) {
          ec = impl->read_txn(*r, [&] {
            sqlite3_stmt* s = r->by_id.get();
            ResetGuard reset(s);
            bind_text(s, 1, room_id);
            bind_text(s, 2, id);
            const int rc = sqlite3_step(s);
            if (rc == SQLITE_ROW) {
              found = read_message(s);
            } else if (rc != SQLITE_DONE) {
              throw_db(r->db.get(), rc, "finding a message by id");
            }
          });
          if (ec) found.reset();
        }
        done(ec, std::move(found));
      });
}

void SqliteHistoryStore::close() {
  impl_->close();
}

std::uint64_t SqliteHistoryStore::commit_count() const {
  return impl_->commits.load(std::memory_order_relaxed);
}

}  // namespace switchboard::store
