#include "switchboard/ai/reply_post_processor.hpp"

#include <algorithm>
#include <cctype>

#include "switchboard/util/utf8.hpp"

namespace switchboard::ai {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

// Neighbours that make a * or _ decorative (emoticons like ~*~ ^_^ -_- >_<) rather than emphasis.
bool is_decor(char c) {
  return is_space(c) || std::string_view("~^*_`-=<>|\\/+#").find(c) != std::string_view::npos;
}

bool is_wordish(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool iprefix(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && util::iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view ltrim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view rtrim(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Removes chat-template tokens such as <|eot_id|> and </s>. In preview mode a token that may still be
// arriving
// ("<", "<|eo") ends the text.
std::string strip_template_tokens(std::string_view s, bool preview) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '<') {
      const std::string_view rest = s.substr(i);
      if (rest.rfind("<|", 0) == 0) {
        const auto close = rest.find("|>");
        if (close != std::string_view::npos && close <= 48) {
          i += close + 2;
          continue;
        }
        if (preview && close == std::string_view::npos && rest.size() <= 48) break;
      } else if (rest.rfind("</s>", 0) == 0) {
        i += 4;
        continue;
      } else if (preview && rest.size() < 4 && std::string_view("</s>").substr(0, rest.size()) == rest) {
        break;
      } else if (preview && rest == "<") {
        break;
      }
    }
    out.push_back(s[i++]);
  }
  return out;
}

// Removes paired Markdown emphasis delimiters from one line. In preview mode with `open_end` (the line may
// still grow) the result stops where later text could change the outcome.
std::string strip_emphasis_line(std::string_view line, bool open_end) {
  struct Run {
    std::size_t pos;
    std::size_t len;
    char ch;
  };
  std::vector<Run> openers;  // stack of unmatched opener candidates
  std::vector<bool> drop(line.size(), false);
  std::size_t hold = line.size();
  for (std::size_t p = 0; p < line.size();) {
    const char c = line[p];
    if (c != '*' && c != '_' && c != '`') {
      ++p;
      continue;
    }
    std::size_t len = 1;
    while (p + len < line.size() && line[p + len] == c) ++len;
    if (open_end && p + len == line.size()) {
      hold = p;  // the run might grow, and its right neighbour is unknown
      break;
    }
    const bool has_prev = p > 0;
    const bool has_next = p + len < line.size();
    const char prev = has_prev ? line[p - 1] : ' ';
    const char next = has_next ? line[p + len] : ' ';
    bool can_open = false;
    bool can_close = false;
    if (len <= 3) {
      if (c == '`') {
        can_open = has_next && !is_space(next);
        can_close = has_prev && !is_space(prev);
      } else if (c == '*') {
        if (!(is_digit(prev) && is_digit(next))) {
          can_open = has_next && !is_decor(next);
          can_close = has_prev && !is_decor(prev);
        }
      } else {  // '_' only at word boundaries, so snake_case and DJ_Euphoria survive
        can_open = has_next && !is_decor(next) && !(has_prev && is_wordish(prev));
        can_close = has_prev && !is_decor(prev) && !(has_next && is_wordish(next));
      }
    }
    bool matched = false;
    if (can_close) {
      for (std::size_t k = openers.size(); k-- > 0;) {
        if (openers[k].ch == c && openers[k].len == len) {
          for (std::size_t q = 0; q < len; ++q) {
            drop[openers[k].pos + q] = true;
            drop[p + q] = true;
          }
          openers.resize(k);
          matched = true;
          break;
        }
      }
    }
    if (!matched && can_open) openers.push_back({p, len, c});
    p += len;
  }
  if (open_end && !openers.empty()) hold = std::min(hold, openers.front().pos);
  std::string out;
  out.reserve(hold);
  for (std::size_t i = 0; i < hold; ++i)
    if (!drop[i]) out.push_back(line[i]);
  return out;
}

std::string strip_emphasis(std::string_view s, bool preview) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    const auto nl = s.find('\n', start);
    if (nl == std::string_view::npos) {
      out += strip_emphasis_line(s.substr(start), preview);
      break;
    }
    out += strip_emphasis_line(s.substr(start, nl - start), false);
    out.push_back('\n');
    start = nl + 1;
  }
  return out;
}

// Byte offset just past the first `n` code points of valid UTF-8 `s` (or s.size()).
std::size_t code_point_offset(std::string_view s, std::size_t n) {
  std::size_t i = 0;
  for (std::size_t count = 0; i < s.size() && count < n; ++count) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  }
  return i;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace

ReplyPostProcessor::ReplyPostProcessor(std::vector<std::string> labels, std::size_t max_code_points)
    : labels_(std::move(labels)), max_code_points_(std::max<std::size_t>(max_code_points, 2)) {
  for (const char* generic : {"assistant", "ai", "bot", "model", "system", "response", "reply"})
    labels_.emplace_back(generic);
  labels_.erase(
      std::remove_if(labels_.begin(), labels_.end(), [](const std::string& l) { return l.empty(); }),
      labels_.end());
  // Longest first, so "Clippy (bot)" wins over "Clippy".
  std::sort(labels_.begin(), labels_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

ReplyPostProcessor ReplyPostProcessor::for_persona(const auth::BotPersona& bot, std::size_t max_code_points) {
  return ReplyPostProcessor({bot.account.display_name, bot.persona_id, bot.account.id}, max_code_points);
}

std::size_t ReplyPostProcessor::label_length(std::string_view s, bool& undecided) const {
  undecided = false;
  std::size_t i = 0;
  while (i < s.size() && i < 3 && (s[i] == '*' || s[i] == '_' || s[i] == '[')) ++i;
  const std::string_view rest = s.substr(i);
  for (const auto& label : labels_) {
    if (!iprefix(rest, label)) {
      if (rest.size() < label.size() && iprefix(label, rest) && rest.find('\n') == std::string_view::npos)
        undecided = true;  // "Clip" may become "Clippy:"
      continue;
    }
    std::size_t j = i + label.size();
    while (j < s.size() && (s[j] == '*' || s[j] == '_' || s[j] == ']' || s[j] == ' ')) ++j;
    if (j == s.size()) {
      undecided = true;  // "Clippy" or "**Clippy**" so far
      continue;
    }
    if (s[j] != ':') continue;
    ++j;
    while (j < s.size() && (s[j] == '*' || s[j] == '_')) ++j;
    while (j < s.size() && is_space(s[j])) ++j;
    undecided = false;
    return j;
  }
  if (rest.empty() && i < 3 && i == s.size()) undecided = true;  // only "**" or "[" so far
  return 0;
}

std::string ReplyPostProcessor::clean(std::string_view raw, bool preview) const {
  const std::string untokened = strip_template_tokens(raw, preview);
  std::string_view s = ltrim(untokened);

  // Leading labels, possibly stacked ("Assistant: Clippy: hi").
  for (int round = 0; round < 3; ++round) {
    bool undecided = false;
    const std::size_t n = label_length(s, undecided);
    if (preview && undecided) return {};
    if (n == 0) break;
    s = ltrim(s.substr(n));
  }

  // Wrapping quotes.
  std::string body;
  if (preview) {
    if (s.rfind("\"", 0) == 0) {
      s.remove_prefix(1);
    } else if (s.rfind("\xE2\x80\x9C", 0) == 0) {  // “
      s.remove_prefix(3);
    }
    body = std::string(s);
  } else {
    s = rtrim(s);
    struct Pair {
      std::string_view open, close;
    };
    for (const Pair& q : {Pair{"\"", "\""}, Pair{"\xE2\x80\x9C", "\xE2\x80\x9D"}, Pair{"'", "'"}}) {
      if (s.size() >= q.open.size() + q.close.size() + 1 && s.rfind(q.open, 0) == 0 &&
          s.compare(s.size() - q.close.size(), q.close.size(), q.close) == 0) {
        const std::string_view inner = s.substr(q.open.size(), s.size() - q.open.size() - q.close.size());
        if (inner.find(q.open) == std::string_view::npos && inner.find(q.close) == std::string_view::npos) {
          s = inner;
          break;
        }
      }
    }
    body = std::string(s);
  }

  std::string text = strip_emphasis(body, preview);
  if (preview) {
    text.resize(code_point_offset(text, max_code_points_));
    return text;
  }

  // Trailing spaces on each line, runs of blank lines, and the ends.
  std::string tidy;
  std::size_t blank_run = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    const std::string_view line = rtrim(std::string_view(text).substr(start, nl - start));
    if (line.empty()) {
      ++blank_run;
    } else {
      if (!tidy.empty()) tidy += blank_run > 0 ? "\n\n" : "\n";
      tidy += line;
      blank_run = 0;
    }
    start = nl + 1;
  }
  tidy = std::string(ltrim(tidy));

  if (code_points(tidy) <= max_code_points_) return tidy;
  // Over the cap: cut on a word boundary when one is near, and say so with an ellipsis.
  std::size_t cut = code_point_offset(tidy, max_code_points_ - 1);
  const std::size_t space = tidy.find_last_of(" \n", cut);
  if (space != std::string::npos && space > cut * 7 / 10) cut = space;
  std::string out(rtrim(std::string_view(tidy).substr(0, cut)));
  out += "\xE2\x80\xA6";  // …
  return out;
}

std::string ReplyPostProcessor::finish(std::string_view raw) const {
  return clean(raw, false);
}

std::string ReplyPostProcessor::preview(std::string_view raw) const {
  return clean(raw, true);
}

}  // namespace switchboard::ai
