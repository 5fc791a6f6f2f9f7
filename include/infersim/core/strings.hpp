#pragma once
// Small string helpers used for error messages.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace infersim {

/// Levenshtein distance (insertions, deletions, substitutions), case-sensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `name`, if it is close enough to be a plausible typo (any case; a candidate the name
/// begins or that begins the name at a '-', '_' or '.' counts as close).
std::optional<std::string> closest_match(std::string_view name, std::span<const std::string> candidates);

/// Whether `text` is well-formed UTF-8 (no stray continuation bytes, overlong forms, surrogates or code points
/// past U+10FFFF); the byte offset of the first bad byte into `bad_at` when it is not.
bool valid_utf8(std::string_view text, std::size_t* bad_at = nullptr);

/// "a, b, c"
std::string join(std::span<const std::string> items, std::string_view separator = ", ");

/// A number printed with `digits` significant digits and no trailing noise.
std::string format_number(double value, int digits = 6);

/// A byte count as "13.5 GB".
std::string format_bytes(double bytes);

}  // namespace infersim
