#pragma once
#include <memory>

#include "switchboard/config/config.hpp"
#include "switchboard/store/history_store.hpp"

namespace switchboard::store {

// Builds the HistoryStore that `config.history.backend` names: "sqlite" (the default) opens
// `history.sqlite_file` inside `data.dir`, creating the directory if needed; "memory" keeps a per-room ring.
// Throws HistoryOpenError (a std::runtime_error naming the path) when the data directory or the database
// cannot be used; the composition root lets it stop start-up. Call close() on the result at shutdown.
std::shared_ptr<HistoryStore> make_history_store(const config::Config& config);

// What `history.backend` means for this config: "auto" is "redis" when redis.url is set (rooms shared by the
// instances of one Redis), else "sqlite".
std::string effective_history_backend(const config::Config& config);

}  // namespace switchboard::store
