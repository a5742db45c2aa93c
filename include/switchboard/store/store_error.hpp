#pragma once
#include <system_error>

namespace switchboard::store {

// Why a HistoryStore call failed. Each value maps to a portable std::errc condition (see the category's
// default_error_condition), so callers may test `ec == std::errc::no_space_on_device` without knowing this
// enum. message() is a human sentence, suitable for logs and, reworded by the caller, for the sender.
enum class StoreErrc {
  kQueueFull = 1,  // too many writes or reads pending; nothing was stored (-> resource_unavailable_try_again)
  kDiskFull,   // the database or its disk is full; nothing of that batch was stored (-> no_space_on_device)
  kIoError,    // the disk reported an I/O error; nothing of that batch was stored (-> io_error)
  kCorrupt,    // the database file is damaged (-> io_error)
  kReadOnly,   // the database cannot be written (-> read_only_file_system)
  kDuplicate,  // the room already holds a message with this id or seq (-> file_exists)
  kClosed,     // the store was closed (-> operation_canceled)
};

const std::error_category& store_category() noexcept;
std::error_code make_error_code(StoreErrc e) noexcept;

}  // namespace switchboard::store

template <>
struct std::is_error_code_enum<switchboard::store::StoreErrc> : std::true_type {};
