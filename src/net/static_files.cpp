#include "switchboard/net/static_files.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "switchboard/util/random.hpp"

namespace switchboard::net {
namespace {

std::string content_type_for(std::string_view path) {
  const auto dot = path.rfind('.');
  const auto ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "woff2") return "font/woff2";
  if (ext == "woff") return "font/woff";
  if (ext == "ttf") return "font/ttf";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "webmanifest") return "application/manifest+json";
  return "application/octet-stream";
}

}  // namespace

StaticFiles StaticFiles::embedded() {
  StaticFiles files;
  for (const auto& f : embedded_web_files()) files.add(std::string(f.path), std::string(f.content));
  return files;
}

StaticFiles StaticFiles::from_directory(const std::filesystem::path& root) {
  if (!std::filesystem::is_directory(root))
    throw std::runtime_error("web root " + root.string() + " is not a directory");
  StaticFiles files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    files.add("/" + std::filesystem::relative(entry.path(), root).generic_string(), buf.str());
  }
  if (!files.files_.count("/index.html"))
    throw std::runtime_error("web root " + root.string() + " has no index.html");
  return files;
}

void StaticFiles::add(std::string path, std::string content) {
  File f;
  f.content_type = content_type_for(path);
  f.etag = "\"" + util::sha256_hex(content).substr(0, 32) + "\"";
  f.content = std::move(content);
  files_[std::move(path)] = std::move(f);
}

api::HttpResponse StaticFiles::serve(const api::HttpRequest& req) const {
  api::HttpResponse res;
  std::string path = req.path == "/" ? "/index.html" : req.path;
  auto it = files_.find(path);
  if (it == files_.end()) {
    const auto last = path.substr(path.rfind('/') + 1);
    if (last.find('.') != std::string::npos) {
      res.status = 404;
      res.content_type = "text/plain; charset=utf-8";
      res.body = "Not found.\n";
      return res;
    }
    it = files_.find("/index.html");  // a client-side route
    if (it == files_.end()) {
      res.status = 404;
      res.content_type = "text/plain; charset=utf-8";
      res.body = "Not found.\n";
      return res;
    }
  }
  const File& f = it->second;
  res.content_type = f.content_type;
  res.set_header("ETag", f.etag);
  // index.html must be revalidated so a new build is picked up; hashed assets may be cached by the browser.
  res.set_header("Cache-Control", it->first == "/index.html" ? "no-cache" : "public, max-age=3600");
  if (req.header("if-none-match") == f.etag) {
    res.status = 304;
    return res;
  }
  res.body = f.content;
  return res;
}

}  // namespace switchboard::net
