#include "switchboard/redis/redis_script.hpp"

#include <openssl/sha.h>

namespace switchboard::redis {

RedisScript::RedisScript(std::string source) : source_(std::move(source)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  sha1_.reserve(2 * SHA_DIGEST_LENGTH);
  for (const unsigned char b : digest) {
    sha1_ += kHex[b >> 4];
    sha1_ += kHex[b & 0x0f];
  }
}

}  // namespace switchboard::redis
