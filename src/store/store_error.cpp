#include "switchboard/store/store_error.hpp"

#include <string>

namespace switchboard::store {
namespace {

class StoreCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "history_store"; }

  std::string message(int ev) const override {
    switch (static_cast<StoreErrc>(ev)) {
      case StoreErrc::kQueueFull:
        return "the history store is overloaded (too many pending requests)";
      case StoreErrc::kDiskFull:
        return "the history database or its disk is full";
      case StoreErrc::kIoError:
        return "the history database reported an I/O error";
      case StoreErrc::kCorrupt:
        return "the history database file is corrupt";
      case StoreErrc::kReadOnly:
        return "the history database is read-only";
      case StoreErrc::kDuplicate:
        return "the room already holds a message with this id or sequence number";
      case StoreErrc::kClosed:
        return "the history store is closed";
    }
    return "unknown history store error";
  }

  std::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<StoreErrc>(ev)) {
      case StoreErrc::kQueueFull:
        return std::errc::resource_unavailable_try_again;
      case StoreErrc::kDiskFull:
        return std::errc::no_space_on_device;
      case StoreErrc::kIoError:
      case StoreErrc::kCorrupt:
        return std::errc::io_error;
      case StoreErrc::kReadOnly:
        return std::errc::read_only_file_system;
      case StoreErrc::kDuplicate:
        return std::errc::file_exists;
      case StoreErrc::kClosed:
        return std::errc::operation_canceled;
    }
    return {ev, *this};
  }
};

}  // namespace

const std::error_category& store_category() noexcept {
  static const StoreCategory category;
  return category;
}

std::error_code make_error_code(StoreErrc e) noexcept {
  return {static_cast<int>(e), store_category()};
}

}  // namespace switchboard::store
