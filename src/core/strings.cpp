#include "infersim/core/strings.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace infersim {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

namespace {
std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
bool is_separator(char c) { return c == '-' || c == '_' || c == '.' || c == ' '; }
}  // namespace

std::optional<std::string> closest_match(std::string_view name_in, std::span<const std::string> candidates) {
  // Case does not count: "H100" is meant as "h100-sxm", "Tensor_Parallel" as "tensor_parallel".
  const std::string name = lowercase(name_in);
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  // A candidate that the name begins (a name cut short: "h100" -> "h100-sxm") beats any other.
  bool best_extends = false;
  // The longest candidate that begins the name at a word boundary (a name with a suffix the catalog does not
  // have: "llama-3.1-70b-instruct" -> "llama-3.1-70b").
  std::optional<std::string> stem;
  for (const auto& c : candidates) {
    const std::string lower = lowercase(c);
    if (lower == name) return c;
    const std::size_t d = edit_distance(name, lower);
    const bool extends = name.size() >= 2 && lower.starts_with(name);
    if (!best || (extends && !best_extends) || (extends == best_extends && d < best_distance)) {
      best = c;
      best_distance = d;
      best_extends = extends;
    }
    if (lower.size() >= 3 && name.size() > lower.size() && name.starts_with(lower) && is_separator(name[lower.size()]) &&
        (!stem || c.size() > stem->size())) {
      stem = c;
    }
  }
  if (best_extends) return best;
  // Accept up to a third of the longer name's length (at least 2 edits): "tensor_paralel" -> "tensor_parallel".
  if (best) {
    const std::size_t limit = std::max<std::size_t>(2, std::max(name.size(), best->size()) / 3);
    if (best_distance <= limit) return best;
  }
  return stem;
}

bool valid_utf8(std::string_view text, std::size_t* bad_at) {
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    }
    if (b >= 0xC2 && b <= 0xDF) {
      n = 1;
      cp = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2;
      cp = b & 0x0Fu;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3;
      cp = b & 0x07u;
    }
    bool ok = n > 0 && i + n < text.size();
    for (std::size_t k = 1; ok && k <= n; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      ok = (c & 0xC0u) == 0x80u;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    // Overlong three- and four-byte forms, UTF-16 surrogates and code points past U+10FFFF.
    ok = ok && !(n == 2 && cp < 0x800) && !(n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!ok) {
      if (bad_at) *bad_at = i;
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::string join(std::span<const std::string> items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

std::string format_number(double value, int digits) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, value);
  return buf;
}

std::string format_bytes(double bytes) {
  char buf[64];
  if (std::abs(bytes) >= 1e12) {
    std::snprintf(buf, sizeof buf, "%.3g TB", bytes / 1e12);
  } else if (std::abs(bytes) >= 1e9) {
    std::snprintf(buf, sizeof buf, "%.3g GB", bytes / 1e9);
  } else if (std::abs(bytes) >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.3g MB", bytes / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g kB", bytes / 1e3);
  }
  return buf;
}

}  // namespace infersim
