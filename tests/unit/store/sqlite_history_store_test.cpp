// What only the durable store does: group commit, durability across reopen, migrations, retention, secure
// deletion, and clear failures for bad files, bad directories, a full queue and a full disk.
#include "switchboard/store/sqlite_history_store.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sqlite3.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <random>
#include <thread>

#include "history_test_util.hpp"
#include "switchboard/config/config.hpp"
#include "switchboard/store/history_store_factory.hpp"
#include "switchboard/store/memory_history_store.hpp"
#include "switchboard/store/store_error.hpp"

namespace switchboard::store {
namespace {

using namespace switchboard::store::testing;
namespace fs = std::filesystem;

// Holds the writer thread inside a completion handler, so that later operations pile up in the queue and the
// test decides when the writer may drain them.
class WriterGate {
 public:
  // Appends a message whose completion blocks the writer until open().
  void close_on(SqliteHistoryStore& store, const chat::Message& m) {
    store.append(m, [this](std::error_code ec) {
      EXPECT_FALSE(ec);
      entered_.count_down();
      released_.wait();
    });
    entered_.wait();
  }
  void open() { released_.count_down(); }

 private:
  std::latch entered_{1};
  std::latch released_{1};
};

class SqliteHistoryStoreTest : public ::testing::Test {
 protected:
  SqliteHistoryStore::Options options() const {
    SqliteHistoryStore::Options o;
    o.file = db_path();
    return o;
  }
  fs::path db_path() const { return dir_.path() / "history.db"; }
  std::shared_ptr<SqliteHistoryStore> open() { return SqliteHistoryStore::open(options()); }

  // The schema version recorded in the file, read without the store.
  int file_user_version() const {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
    sqlite3_step(s);
    const int v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
  }

  // Expects `fn` to throw HistoryOpenError whose message names the file and contains `needle`.
  template <typename Fn>
  void expect_open_error(Fn&& fn, const std::string& path, const std::string& needle) {
    try {
      fn();
      ADD_FAILURE() << "expected HistoryOpenError";
    } catch (const HistoryOpenError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
    }
  }

  TempDir dir_;
};

// ---- group commit and ordering ----

TEST_F(SqliteHistoryStoreTest, PendingAppendsFromManyThreadsShareOneTransaction) {
  auto o = options();
  o.max_batch = 5000;
  auto store = SqliteHistoryStore::open(o);
  WriterGate gate;
  gate.close_on(*store, msg("warmup", 1));
  const auto commits_before = store->commit_count();

  constexpr int kThreads = 4;
  constexpr int kPerThread = 250;
  std::mutex order_mutex;
  std::vector<std::string> submitted, completed;
  std::latch all_done(kThreads * kPerThread);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string room = "room" + std::to_string(t);
      for (std::uint64_t i = 1; i <= kPerThread; ++i) {
        const auto m = msg(room, i);
        // Recording under the same lock as the append makes `submitted` the queue's order.
        std::lock_guard lock(order_mutex);
        submitted.push_back(room + "/" + m.id);
        store->append(m, [&, key = room + "/" + m.id](std::error_code ec) {
          EXPECT_FALSE(ec) << ec.message();
          {
            std::lock_guard l(order_mutex);
            completed.push_back(key);
          }
          all_done.count_down();
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  gate.open();
  all_done.wait();

  // 1000 appends, pending together, committed as one transaction; completions in submission order.
  EXPECT_EQ(store->commit_count() - commits_before, 1u);
  {
    std::lock_guard lock(order_mutex);
    EXPECT_EQ(completed, submitted);
  }
  for (int t = 0; t < kThreads; ++t) {
    const auto state = load_sync(*store, "room" + std::to_string(t), 1000);
    EXPECT_EQ(state.recent.size(), static_cast<std::size_t>(kPerThread));
    EXPECT_EQ(state.last_seq, static_cast<std::uint64_t>(kPerThread));
  }
}

TEST_F(SqliteHistoryStoreTest, MaxBatchBoundsATransaction) {
  auto o = options();
  o.max_batch = 100;
  auto store = SqliteHistoryStore::open(o);
  WriterGate gate;
  gate.close_on(*store, msg("warmup", 1));
  const auto commits_before = store->commit_count();
  std::latch all_done(1000);
  for (std::uint64_t i = 1; i <= 1000; ++i)
    store->append(msg("general", i), [&](std::error_code) { all_done.count_down(); });
  gate.open();
  all_done.wait();
  EXPECT_EQ(store->commit_count() - commits_before, 10u);
}

TEST_F(SqliteHistoryStoreTest, ConcurrentWritersAllLandInOrder) {
  auto store = open();
  constexpr int kThreads = 4;
  constexpr std::uint64_t kPerThread = 300;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::uint64_t>> done_order(kThreads);
  std::latch all_done(kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t i = 1; i <= kPerThread; ++i) {
        // Completions for one thread's room run one at a time on the writer, so no lock is needed.
        store->append(msg("r" + std::to_string(t), i), [&, t, i](std::error_code ec) {
          EXPECT_FALSE(ec);
          done_order[t].push_back(i);
          all_done.count_down();
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  all_done.wait();
  EXPECT_LT(store->commit_count(), kThreads * kPerThread + 2);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(done_order[t].size(), kPerThread);
    EXPECT_TRUE(std::is_sorted(done_order[t].begin(), done_order[t].end()));
    EXPECT_EQ(load_sync(*store, "r" + std::to_string(t), 1000).recent.size(), kPerThread);
  }
}

TEST_F(SqliteHistoryStoreTest, ReadsAndWritesCompleteOffTheCallersThread) {
  auto store = open();
  const auto caller = std::this_thread::get_id();
  std::promise<std::thread::id> wrote, read;
  store->append(msg("general", 1), [&](std::error_code) { wrote.set_value(std::this_thread::get_id()); });
  const auto writer_id = wrote.get_future().get();
  store->load_room("general", 10, [&](std::error_code, HistoryStore::RoomState) {
    read.set_value(std::this_thread::get_id());
  });
  const auto reader_id = read.get_future().get();
  EXPECT_NE(writer_id, caller);
  EXPECT_NE(reader_id, caller);
  EXPECT_NE(reader_id, writer_id);
}

TEST_F(SqliteHistoryStoreTest, ASeqNotAboveOneEarlierInTheSameBatchIsRefused) {
  // The rooms table is raised once per batch; within the batch the store still refuses a seq that does not
  // exceed the room's highest, as across batches.
  auto store = open();
  WriterGate gate;
  gate.close_on(*store, msg("warmup", 1));
  const auto commits_before = store->commit_count();
  std::vector<std::error_code> results(5);
  std::latch all_done(5);
  const chat::Message batch[] = {msg("general", 5), msg("general", 3), msg("music", 1), msg("general", 6),
                                 msg("general", 6)};
  auto reused_seq = msg("general", 6);
  reused_seq.id = "other";
  for (std::size_t i = 0; i < 5; ++i) {
    store->append(i == 4 ? reused_seq : batch[i], [&, i](std::error_code ec) {
      results[i] = ec;
      all_done.count_down();
    });
  }
  gate.open();
  all_done.wait();
  EXPECT_EQ(store->commit_count() - commits_before, 1u);
  EXPECT_FALSE(results[0]);
  EXPECT_EQ(results[1], StoreErrc::kDuplicate) << "below seq 5 of the same batch";
  EXPECT_FALSE(results[2]) << "rooms are independent";
  EXPECT_FALSE(results[3]);
  EXPECT_EQ(results[4], StoreErrc::kDuplicate) << "seq 6 again";
  store->close();

  // The high-water marks were committed with the batch.
  auto again = open();
  EXPECT_EQ(load_sync(*again, "general", 10).last_seq, 6u);
  EXPECT_EQ(seqs(load_sync(*again, "general", 10).recent), (std::vector<std::uint64_t>{5, 6}));
  EXPECT_EQ(load_sync(*again, "music", 10).last_seq, 1u);
  EXPECT_EQ(append_sync(*again, msg("general", 4)), StoreErrc::kDuplicate);
}

TEST_F(SqliteHistoryStoreTest, TheWalIsCheckpointedInTheBackground) {
  auto o = options();
  o.checkpoint_pages = 4;  // a handful of commits is enough
  auto store = SqliteHistoryStore::open(o);
  const auto db_size = [&] { return fs::file_size(db_path()); };
  const auto empty_size = db_size();
  // Large messages, one per commit: the WAL passes 4 pages within a few appends.
  for (std::uint64_t i = 1; i <= 40; ++i)
    ASSERT_FALSE(append_sync(*store, msg("general", i, "alice", std::string(3000, 'a' + i % 26))));
  // The checkpointer copies the WAL into the database file while the store stays open.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (db_size() < empty_size + 40 * 3000 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE(db_size(), empty_size + 40 * 3000);
  EXPECT_EQ(load_sync(*store, "general", 100).recent.size(), 40u);
  store->close();
  EXPECT_FALSE(fs::exists(dir_.path() / "history.db-wal"));
}

// ---- durability across restarts ----

TEST_F(SqliteHistoryStoreTest, HistoryAndSeqSurviveReopen) {
  {
    auto store = open();
    for (std::uint64_t i = 1; i <= 120; ++i) ASSERT_FALSE(append_sync(*store, msg("general", i)));
    auto nudge = msg("dm_alice__bob", 1, "alice", "sent a nudge.");
    nudge.is_nudge = true;
    nudge.type = "nudge";
    ASSERT_FALSE(append_sync(*store, nudge));
    store->update_status("general", "m120", chat::DeliveryStatus::kRead);
    store->close();
  }
  EXPECT_FALSE(fs::exists(dir_.path() / "history.db-wal"));  // checkpointed and removed at close

  auto store = open();
  const auto state = load_sync(*store, "general", 100);
  EXPECT_EQ(state.last_seq, 120u);
  ASSERT_EQ(state.recent.size(), 100u);
  EXPECT_EQ(state.recent.front().seq, 21u);
  EXPECT_EQ(state.recent.back().status, chat::DeliveryStatus::kRead);
  EXPECT_TRUE(load_sync(*store, "dm_alice__bob", 10).recent.at(0).is_nudge);
  // Older than the in-memory window: paging reaches back to the first message.
  EXPECT_EQ(seqs(before_sync(*store, "general", "m21", 100).messages).front(), 1u);
  EXPECT_EQ(seqs(after_sync(*store, "general", "m118", 100).messages),
            (std::vector<std::uint64_t>{119, 120}));
  // Seq keeps rising from where it was.
  auto reused = msg("general", 120);
  reused.id = "new";
  EXPECT_EQ(append_sync(*store, reused), StoreErrc::kDuplicate);
  EXPECT_FALSE(append_sync(*store, msg("general", 121)));
}

TEST_F(SqliteHistoryStoreTest, CloseDrainsEveryAcceptedWrite) {
  auto store = open();
  std::atomic<int> ok{0};
  for (std::uint64_t i = 1; i <= 500; ++i) {
    store->append(msg("general", i), [&](std::error_code ec) {
      if (!ec) ++ok;
    });
  }
  store->close();
  EXPECT_EQ(ok.load(), 500);
  store.reset();
  EXPECT_EQ(load_sync(*open(), "general", 1000).recent.size(), 500u);
}

// ---- migrations ----

// The schema as version 1 wrote it, frozen here on purpose: it stands for a file written by an old release.
constexpr const char* kVersion1Schema =
    "CREATE TABLE messages("
    " room_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, sender_id TEXT NOT NULL,"
    " display_name TEXT NOT NULL DEFAULT '', content TEXT NOT NULL, timestamp INTEGER NOT NULL,"
    " type TEXT NOT NULL DEFAULT 'chat', is_nudge INTEGER NOT NULL DEFAULT 0, is_wink INTEGER NOT NULL "
    "DEFAULT 0,"
    " wink_id TEXT NOT NULL DEFAULT '', status INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(room_id, seq), UNIQUE(room_id, id)) WITHOUT ROWID;"
    "INSERT INTO messages(room_id, seq, id, sender_id, content, timestamp, status) VALUES"
    " ('general', 1, 'a', 'alice', 'one', 1, 0), ('general', 2, 'b', 'bob', 'two', 2, 2),"
    " ('general', 3, 'c', 'alice', 'three', 3, 1), ('music', 9, 'z', 'bob', 'nine', 9, 0);"
    "PRAGMA user_version = 1;";

void write_raw(const fs::path& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST_F(SqliteHistoryStoreTest, MigratesAVersion1File) {
  write_raw(db_path(), kVersion1Schema);
  {
    auto store = open();
    const auto state = load_sync(*store, "general", 10);
    ASSERT_EQ(state.recent.size(), 3u);
    EXPECT_EQ(state.last_seq, 3u);
    EXPECT_EQ(state.recent[1].content, "two");
    EXPECT_EQ(state.recent[1].status, chat::DeliveryStatus::kRead);
    EXPECT_FALSE(state.recent[1].deleted);  // the new column's default
    EXPECT_EQ(load_sync(*store, "music", 10).last_seq, 9u);
    // The new columns and tables work.
    EXPECT_EQ(append_sync(*store, msg("general", 3)), StoreErrc::kDuplicate);
    ASSERT_FALSE(append_sync(*store, msg("general", 4)));
    ASSERT_FALSE(delete_sync(*store, "alice"));
    EXPECT_TRUE(load_sync(*store, "general", 10).recent[0].deleted);
    store->close();
  }
  EXPECT_EQ(file_user_version(), SqliteHistoryStore::schema_version());
  // Opening again is a no-op migration.
  auto again = open();
  EXPECT_EQ(load_sync(*again, "general", 10).last_seq, 4u);
}

TEST_F(SqliteHistoryStoreTest, NewFileGetsTheCurrentSchemaVersion) {
  open()->close();
  EXPECT_EQ(file_user_version(), SqliteHistoryStore::schema_version());
  EXPECT_GE(SqliteHistoryStore::schema_version(), 2);
}

TEST_F(SqliteHistoryStoreTest, RefusesAFileFromANewerVersion) {
  write_raw(db_path(), "CREATE TABLE t(x); PRAGMA user_version = 99;");
  expect_open_error([&] { open(); }, db_path().string(), "newer");
}

// ---- retention ----

TEST_F(SqliteHistoryStoreTest, RetentionRemovesOldMessagesPerRoomType) {
  constexpr std::int64_t kDay = 24LL * 3600 * 1000;
  const std::int64_t now = 1'800'000'000'000;
  auto o = options();
  o.retention_group_days = 1;
  o.retention_direct_days = 7;
  o.now_ms = [now] { return now; };
  auto store = SqliteHistoryStore::open(o);

  auto at = [&](const std::string& room, std::uint64_t seq, std::int64_t age) {
    auto m = msg(room, seq);
    m.timestamp = now - age;
    return m;
  };
  ASSERT_FALSE(append_sync(*store, at("general", 1, 3 * kDay)));  // expired (group: 1 day)
  ASSERT_FALSE(append_sync(*store, at("general", 2, 2 * kDay)));  // expired
  ASSERT_FALSE(append_sync(*store, at("general", 3, kDay / 2)));  // kept
  ASSERT_FALSE(append_sync(*store, at("dm_a__b", 1, 8 * kDay)));  // expired (direct: 7 days)
  ASSERT_FALSE(append_sync(*store, at("dm_a__b", 2, 3 * kDay)));  // kept
  ASSERT_FALSE(append_sync(*store, at("music", 5, 30 * kDay)));   // the whole room expires

  std::promise<std::error_code> swept;
  store->sweep_retention([&](std::error_code ec) { swept.set_value(ec); });
  ASSERT_FALSE(swept.get_future().get());

  EXPECT_EQ(seqs(load_sync(*store, "general", 10).recent), (std::vector<std::uint64_t>{3}));
  EXPECT_EQ(seqs(load_sync(*store, "dm_a__b", 10).recent), (std::vector<std::uint64_t>{2}));
  // An expired anchor is unknown (a resuming client gets resumed:false).
  EXPECT_FALSE(after_sync(*store, "general", "m1", 10).anchor_found);
  // A room emptied by retention keeps its seq high-water mark, so seq never goes back.
  const auto music = load_sync(*store, "music", 10);
  EXPECT_TRUE(music.recent.empty());
  EXPECT_EQ(music.last_seq, 5u);
  EXPECT_EQ(append_sync(*store, at("music", 1, 0)), StoreErrc::kDuplicate);
  EXPECT_FALSE(append_sync(*store, at("music", 6, 0)));
}

TEST_F(SqliteHistoryStoreTest, RetentionSweepRunsBySchedule) {
  {
    auto store = open();  // retention off: everything is kept
    auto old = msg("general", 1);
    old.timestamp = 1;
    ASSERT_FALSE(append_sync(*store, old));
    ASSERT_FALSE(append_sync(*store, msg("general", 2)));
  }
  auto o = options();
  o.retention_group_days = 1;
  o.now_ms = [] { return std::int64_t{1'700'000'000'000}; };
  auto store = SqliteHistoryStore::open(o);  // the first sweep runs right after start-up
  for (int i = 0; i < 200 && load_sync(*store, "general", 10).recent.size() != 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  EXPECT_EQ(seqs(load_sync(*store, "general", 10).recent), (std::vector<std::uint64_t>{2}));
}

TEST_F(SqliteHistoryStoreTest, RetentionOffKeepsEverything) {
  auto store = open();
  auto old = msg("general", 1);
  old.timestamp = 1;
  ASSERT_FALSE(append_sync(*store, old));
  std::promise<std::error_code> swept;
  store->sweep_retention([&](std::error_code ec) { swept.set_value(ec); });
  ASSERT_FALSE(swept.get_future().get());
  EXPECT_EQ(load_sync(*store, "general", 10).recent.size(), 1u);
}

// ---- deletion erases the bytes ----

std::size_t count_in_files(const fs::path& db, const std::string& needle) {
  std::size_t n = 0;
  for (const char* suffix : {"", "-wal", "-journal"}) {
    const std::string bytes = read_bytes(db.string() + suffix);
    for (auto pos = bytes.find(needle); pos != std::string::npos; pos = bytes.find(needle, pos + 1)) ++n;
  }
  return n;
}

TEST_F(SqliteHistoryStoreTest, DeletionErasesTheTextFromTheFiles) {
  auto store = open();
  // Thousands of interleaved messages of random length across rooms, so that pages split and cells move
  // (which leaves stale copies of cells behind in pages' free gaps), some long enough for overflow pages, and
  // status updates that rewrite rows. Secure-delete alone leaves such copies; this needs the VACUUM.
  std::mt19937 rng(8);
  std::vector<std::uint64_t> seq(5, 0);
  std::latch appended(4000);
  for (int i = 0; i < 4000; ++i) {
    const auto room = static_cast<std::size_t>(rng() % 5);
    const bool alice = rng() % 3 == 0;
    const std::size_t len = rng() % 10 == 0 ? rng() % 7000 : rng() % 300;
    const std::string text = alice ? "XYZZY-" + std::to_string(i) + std::string(len, 'q')
                                   : "bob-keeps-" + std::to_string(i) + std::string(len, 'b');
    const auto m = msg(room == 0 ? "dm_alice__bob" : "room" + std::to_string(room), ++seq[room],
                       alice ? "alice" : "bob", text);
    store->append(m, [&](std::error_code ec) {
      EXPECT_FALSE(ec);
      appended.count_down();
    });
    if (rng() % 4 == 0) store->update_status(m.room_id, m.id, chat::DeliveryStatus::kDelivered);
  }
  appended.wait();
  barrier(*store);
  ASSERT_GT(count_in_files(db_path(), "XYZZY"), 0u);  // the probe finds the text before deletion

  ASSERT_FALSE(delete_sync(*store, "alice"));
  EXPECT_EQ(count_in_files(db_path(), "XYZZY"), 0u);
  EXPECT_EQ(count_in_files(db_path(), std::string(200, 'q')), 0u);
  EXPECT_GT(count_in_files(db_path(), "bob-keeps-"), 0u);  // other senders' text is untouched

  std::size_t placeholders = 0;
  for (const auto& m : load_sync(*store, "room1", 10000).recent) {
    if (m.sender_id != "alice") continue;
    EXPECT_TRUE(m.deleted);
    EXPECT_EQ(m.content, "");
    ++placeholders;
  }
  EXPECT_GT(placeholders, 0u);

  store->close();
  EXPECT_EQ(count_in_files(db_path(), "XYZZY"), 0u);
}

TEST_F(SqliteHistoryStoreTest, RetentionErasesTheTextFromTheFiles) {
  auto o = options();
  o.retention_group_days = 1;
  o.now_ms = [] { return std::int64_t{1'800'000'000'000}; };
  auto store = SqliteHistoryStore::open(o);
  for (std::uint64_t i = 1; i <= 200; ++i) {
    auto m = msg("general", i, "alice", "EXPIRING-" + std::to_string(i) + "-PLUGH");
    m.timestamp = i <= 150 ? 1 : 1'800'000'000'000;
    ASSERT_FALSE(append_sync(*store, m));
  }
  std::promise<std::error_code> swept;
  store->sweep_retention([&](std::error_code ec) { swept.set_value(ec); });
  ASSERT_FALSE(swept.get_future().get());
  for (int i = 1; i <= 150; ++i)
    EXPECT_EQ(count_in_files(db_path(), "EXPIRING-" + std::to_string(i) + "-PLUGH"), 0u) << i;
  EXPECT_GT(count_in_files(db_path(), "EXPIRING-151-PLUGH"), 0u);
}

// ---- bad files and directories ----

TEST_F(SqliteHistoryStoreTest, GarbageFileFailsOpenClearly) {
  {
    std::ofstream out(db_path(), std::ios::binary);
    for (int i = 0; i < 1000; ++i) out << "this is not a database, just some text; ";
  }
  expect_open_error([&] { open(); }, db_path().string(), "not a valid SQLite database");
}

TEST_F(SqliteHistoryStoreTest, DamagedPagesFailOpenClearly) {
  {
    auto store = open();
    for (std::uint64_t i = 1; i <= 300; ++i) ASSERT_FALSE(append_sync(*store, msg("general", i)));
    store->close();
  }
  const auto size = fs::file_size(db_path());
  ASSERT_GT(size, 4u * 4096);
  {
    // Scribble over pages 2 to 4 (b-tree pages), leaving the header intact.
    std::fstream f(db_path(), std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(4096);
    const std::string junk(3 * 4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  expect_open_error([&] { open(); }, db_path().string(), "damaged");
}

TEST_F(SqliteHistoryStoreTest, MissingDirectoryFailsOpenClearly) {
  auto o = options();
  o.file = dir_.path() / "no" / "such" / "history.db";
  expect_open_error([&] { SqliteHistoryStore::open(o); }, o.file.string(), "does not exist");
}

TEST_F(SqliteHistoryStoreTest, DirectoryThatIsAFileFailsOpenClearly) {
  std::ofstream(dir_.path() / "plain").put('x');
  auto o = options();
  o.file = dir_.path() / "plain" / "history.db";
  expect_open_error([&] { SqliteHistoryStore::open(o); }, o.file.string(), "is not a directory");
}

// Makes a directory unwritable for this process: chmod for a normal user; the immutable attribute for root
// (whom permissions do not stop). Undone by the destructor.
class UnwritableDir {
 public:
  explicit UnwritableDir(const fs::path& dir) : dir_(dir) {
    if (::geteuid() != 0) {
      fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
      ok_ = true;
      return;
    }
    fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
    int flags = 0;
    if (fd_ >= 0 && ::ioctl(fd_, FS_IOC_GETFLAGS, &flags) == 0) {
      flags |= FS_IMMUTABLE_FL;
      ok_ = ::ioctl(fd_, FS_IOC_SETFLAGS, &flags) == 0;
    }
  }
  ~UnwritableDir() {
    if (fd_ >= 0) {
      int flags = 0;
      if (::ioctl(fd_, FS_IOC_GETFLAGS, &flags) == 0) {
        flags &= ~FS_IMMUTABLE_FL;
        ::ioctl(fd_, FS_IOC_SETFLAGS, &flags);
      }
      ::close(fd_);
    } else {
      fs::permissions(dir_, fs::perms::owner_all);
    }
  }
  bool ok() const { return ok_; }

 private:
  fs::path dir_;
  int fd_ = -1;
  bool ok_ = false;
};

TEST_F(SqliteHistoryStoreTest, UnwritableDirectoryFailsOpenClearly) {
  const fs::path ro = dir_.path() / "ro";
  fs::create_directories(ro);
  UnwritableDir guard(ro);
  if (!guard.ok())
    GTEST_SKIP() << "cannot make a directory unwritable here (root without CAP_LINUX_IMMUTABLE)";
  auto o = options();
  o.file = ro / "history.db";
  expect_open_error([&] { SqliteHistoryStore::open(o); }, o.file.string(), "not writable");
}

TEST_F(SqliteHistoryStoreTest, ExistingDatabaseInUnwritableDirectoryFailsOpenClearly) {
  const fs::path ro = dir_.path() / "ro";
  fs::create_directories(ro);
  auto o = options();
  o.file = ro / "history.db";
  SqliteHistoryStore::open(o)->close();
  UnwritableDir guard(ro);
  if (!guard.ok()) GTEST_SKIP() << "cannot make a directory unwritable here";
  expect_open_error([&] { SqliteHistoryStore::open(o); }, o.file.string(), "not writable");
}

// ---- overload and a full disk ----

TEST_F(SqliteHistoryStoreTest, FullQueueFailsAtOnceWithoutBlocking) {
  auto o = options();
  o.max_pending_writes = 5;
  auto store = SqliteHistoryStore::open(o);
  WriterGate gate;
  gate.close_on(*store, msg("general", 1));
  std::latch queued_done(5);
  std::atomic<int> queued_ok{0};
  for (std::uint64_t i = 2; i <= 6; ++i) {
    store->append(msg("general", i), [&](std::error_code ec) {
      if (!ec) ++queued_ok;
      queued_done.count_down();
    });
  }
  // The sixth pending append completes inline, on this thread, before append returns.
  bool rejected = false;
  store->append(msg("general", 7), [&](std::error_code ec) {
    EXPECT_EQ(ec, StoreErrc::kQueueFull);
    EXPECT_EQ(ec, std::errc::resource_unavailable_try_again);
    rejected = true;
  });
  EXPECT_TRUE(rejected);
  store->update_status("general", "m1", chat::DeliveryStatus::kRead);  // dropped, never blocks
  gate.open();
  queued_done.wait();
  EXPECT_EQ(queued_ok.load(), 5);
  EXPECT_EQ(load_sync(*store, "general", 10).last_seq, 6u);  // the rejected message was not stored
  EXPECT_FALSE(append_sync(*store, msg("general", 7)));      // and the room may retry it
}

TEST_F(SqliteHistoryStoreTest, FullReadQueueFailsAtOnce) {
  auto o = options();
  o.max_pending_reads = 1;
  o.reader_threads = 1;
  auto store = SqliteHistoryStore::open(o);
  // Hold the only reader inside a completion handler, queue one read, and the next is refused inline.
  std::latch entered(1), release(1);
  store->load_room("general", 1, [&](std::error_code, HistoryStore::RoomState) {
    entered.count_down();
    release.wait();
  });
  entered.wait();
  std::promise<std::error_code> queued;
  store->before("general", "", 1, [&](std::error_code ec, HistoryStore::Page) { queued.set_value(ec); });
  bool rejected = false;
  store->after("general", "m1", 1, [&](std::error_code ec, HistoryStore::Page) {
    EXPECT_EQ(ec, StoreErrc::kQueueFull);
    rejected = true;
  });
  EXPECT_TRUE(rejected);
  release.count_down();
  EXPECT_FALSE(queued.get_future().get());
}

TEST_F(SqliteHistoryStoreTest, FullDatabaseFailsTheWholeBatchAndEchoesNothing) {
  auto o = options();
  o.max_page_count = 24;  // a database "disk" of about 96 KiB
  auto store = SqliteHistoryStore::open(o);
  WriterGate gate;
  gate.close_on(*store, msg("general", 1));
  // 40 messages of 4 KiB cannot fit; queued together they form one batch, which fails as a whole.
  std::mutex mutex;
  std::vector<std::error_code> results;
  std::latch all_done(40);
  for (std::uint64_t i = 2; i <= 41; ++i) {
    store->append(msg("general", i, "alice", std::string(4000, 'x')), [&](std::error_code ec) {
      std::lock_guard lock(mutex);
      results.push_back(ec);
      all_done.count_down();
    });
  }
  gate.open();
  all_done.wait();
  for (const auto& ec : results) {
    EXPECT_EQ(ec, StoreErrc::kDiskFull) << ec.message();
    EXPECT_EQ(ec, std::errc::no_space_on_device);
  }
  // None of that batch was stored; what was acknowledged before is intact; the store keeps working.
  auto state = load_sync(*store, "general", 100);
  EXPECT_EQ(seqs(state.recent), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(state.last_seq, 1u);
  EXPECT_FALSE(append_sync(*store, msg("general", 2)));

  // Filling it one message at a time: every append either succeeds and is readable, or fails and is absent.
  std::uint64_t seq = 2, stored = 2;
  std::error_code ec;
  while (!ec && seq < 200) {
    ec = append_sync(*store, msg("general", ++seq, "alice", std::string(3000, 'y')));
    if (!ec) stored = seq;
  }
  EXPECT_EQ(ec, StoreErrc::kDiskFull);
  state = load_sync(*store, "general", 1000);
  EXPECT_EQ(state.last_seq, stored);
  EXPECT_EQ(state.recent.back().seq, stored);
  store->close();
  EXPECT_EQ(load_sync(*open(), "general", 1000).last_seq, stored);
}

// ---- factory ----

TEST_F(SqliteHistoryStoreTest, FactoryCreatesTheDataDirectory) {
  config::Config c;
  c.data.dir = (dir_.path() / "nested" / "data").string();
  auto store = make_history_store(c);
  ASSERT_NE(dynamic_cast<SqliteHistoryStore*>(store.get()), nullptr);
  EXPECT_FALSE(append_sync(*store, msg("general", 1)));
  store->close();
  EXPECT_TRUE(fs::exists(dir_.path() / "nested" / "data" / "history.db"));

  c.history.sqlite_file = (dir_.path() / "elsewhere.db").string();  // absolute: used as is
  make_history_store(c)->close();
  EXPECT_TRUE(fs::exists(dir_.path() / "elsewhere.db"));
}

TEST_F(SqliteHistoryStoreTest, FactoryBuildsTheMemoryStore) {
  config::Config c;
  c.history.backend = "memory";
  c.data.dir = (dir_.path() / "unused").string();
  auto store = make_history_store(c);
  EXPECT_NE(dynamic_cast<MemoryHistoryStore*>(store.get()), nullptr);
  EXPECT_FALSE(fs::exists(dir_.path() / "unused"));
}

TEST_F(SqliteHistoryStoreTest, FactoryNamesAnUnusableDataDirectory) {
  std::ofstream(dir_.path() / "plain").put('x');
  config::Config c;
  c.data.dir = (dir_.path() / "plain" / "data").string();
  expect_open_error([&] { make_history_store(c); }, c.data.dir, "cannot create directory");
}

TEST(HistoryConfig, BackendAndKeysAreValidated) {
  const std::map<std::string, std::string> none;
  const auto c = config::load("/nonexistent/switchboard.json", false, none, none);
  EXPECT_EQ(c.history.backend, "auto");
  EXPECT_EQ(effective_history_backend(c), "sqlite");
  EXPECT_EQ(c.history.sqlite_file, "history.db");
  EXPECT_EQ(c.history.retention_group_days, 0);
  const auto m =
      config::load("/nonexistent/switchboard.json", false, {{"SWITCHBOARD_HISTORY_BACKEND", "memory"}},
                   {{"history.retention_direct_days", "30"}, {"history.max_batch", "64"}});
  EXPECT_EQ(m.history.backend, "memory");
  EXPECT_EQ(m.history.retention_direct_days, 30);
  EXPECT_EQ(m.history.max_batch, 64u);
  // "redis" needs a Redis; "auto" picks it when there is one.
  EXPECT_THROW(config::load("/nonexistent/switchboard.json", false, none, {{"history.backend", "redis"}}),
               config::ConfigError);
  EXPECT_THROW(config::load("/nonexistent/switchboard.json", false, none, {{"history.backend", "postgres"}}),
               config::ConfigError);
  const auto shared =
      config::load("/nonexistent/switchboard.json", false, none, {{"redis.url", "redis://127.0.0.1:6379/0"}});
  EXPECT_EQ(effective_history_backend(shared), "redis");
  EXPECT_THROW(
      config::load("/nonexistent/switchboard.json", false, none, {{"history.retention_group_days", "-1"}}),
      config::ConfigError);
  EXPECT_THROW(
      config::load("/nonexistent/switchboard.json", false, none, {{"history.max_pending_writes", "0"}}),
      config::ConfigError);
}

}  // namespace
}  // namespace switchboard::store
