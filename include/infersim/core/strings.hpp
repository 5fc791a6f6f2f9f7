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

/// The candidate closest to `name`, if it is close enough to be a plausible typo.
std::optional<std::string> closest_match(std::string_view name, std::span<const std::string> candidates);

/// "a, b, c"
std::string join(std::span<const std::string> items, std::string_view separator = ", ");

/// A number printed with `digits` significant digits and no trailing noise.
std::string format_number(double value, int digits = 6);

/// A byte count as "13.5 GB".
std::string format_bytes(double bytes);

}  // namespace infersim
