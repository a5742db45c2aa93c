#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "switchboard/api/http_types.hpp"

namespace switchboard::net {

// One file of the UI compiled into the binary (see cmake/GenerateEmbeddedWeb.cmake).
struct EmbeddedFile {
  std::string_view path;  // "/index.html"
  std::string_view content;
};
std::vector<EmbeddedFile> embedded_web_files();

// The web UI's files, held in memory so serving never touches the disk on an I/O thread. Unknown paths that
// look like app routes (no file extension) get index.html, the single-page-app fallback. Thread-safety:
// immutable after construction.
class StaticFiles final {
 public:
  // The UI embedded in the binary.
  static StaticFiles embedded();
  // Every file below `root`, read once at start-up. Throws std::runtime_error when root is not a directory.
  static StaticFiles from_directory(const std::filesystem::path& root);

  // Answers GET/HEAD for `req.path`, with ETag/If-None-Match support.
  api::HttpResponse serve(const api::HttpRequest& req) const;
  std::size_t size() const { return files_.size(); }

 private:
  struct File {
    std::string content;
    std::string content_type;
    std::string etag;
  };
  void add(std::string path, std::string content);

  std::unordered_map<std::string, File> files_;
};

}  // namespace switchboard::net
