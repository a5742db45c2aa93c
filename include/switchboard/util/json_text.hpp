#pragma once
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace switchboard::util {

// The one way Switchboard turns JSON into text (frames, REST bodies, Redis payloads, logs, analytics, files).
// It cannot throw: a string that is not valid UTF-8 (a path, a header, a byte-cut quote) is written with
// U+FFFD for each malformed sequence, where nlohmann's plain dump() would throw type_error 316. A unit test
// keeps every other dump() out of src/.
std::string json_text(const nlohmann::json& value);

}  // namespace switchboard::util
