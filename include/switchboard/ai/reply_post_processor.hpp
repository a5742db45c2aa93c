#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/auth/user_directory.hpp"

namespace switchboard::ai {

// Cleans what a model wrote into what a 2005 messenger contact would type: drops chat-template tokens
// (<|eot_id|>), a leading name or role label ("Clippy:", "**Assistant:**"), wrapping quotes and Markdown
// emphasis (**bold**, *hugs*, _x_, `code`), while keeping emoticons such as :* ^_^ -_- ~*~ intact; then caps
// the length. Immutable after construction: safe from any thread.
class ReplyPostProcessor final {
 public:
  // `labels` are names the model might prefix its reply with; the generic role labels (assistant, ai, bot,
  // ...) are always added. `max_code_points` caps the final text.
  ReplyPostProcessor(std::vector<std::string> labels, std::size_t max_code_points);

  // Labels for `bot`: its display name, persona id and user id.
  static ReplyPostProcessor for_persona(const auth::BotPersona& bot, std::size_t max_code_points);

  // The final text, trimmed, with runs of blank lines collapsed; cut at a word boundary with "…" when over
  // the cap. Empty when nothing is left.
  std::string finish(std::string_view raw) const;

  // What can be shown of a reply that is still streaming: the same cleaning, holding back whatever later text
  // could still change (a possible label, an unclosed emphasis, a trailing delimiter or template token). The
  // previews of a growing text extend one another; finish() may still differ at the end (closing quote,
  // ellipsis).
  std::string preview(std::string_view raw) const;

 private:
  std::string clean(std::string_view raw, bool preview) const;
  // Length of a leading label in `s` (0 if none); sets `undecided` when more text could still make one.
  std::size_t label_length(std::string_view s, bool& undecided) const;

  std::vector<std::string> labels_;
  std::size_t max_code_points_;
};

}  // namespace switchboard::ai
