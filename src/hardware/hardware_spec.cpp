#include "infersim/hardware/hardware_spec.hpp"

#include <algorithm>
#include <cctype>

namespace infersim::hardware {

double HardwareSpec::vector_flops_per_s() const {
  const auto& p = compute.peak_flops_per_s;
  if (p[index_of(DType::fp32)] > 0) return p[index_of(DType::fp32)];
  return std::max({p[index_of(DType::bf16)], p[index_of(DType::fp16)], p[index_of(DType::int8)],
                   p[index_of(DType::fp8)]});
}

std::string_view to_string(DeviceKind kind) { return kDeviceKindNames[static_cast<std::size_t>(kind)]; }

std::string_view to_string(PriceKind kind) { return kPriceKindNames[static_cast<std::size_t>(kind)]; }

namespace {

// The number written by `n` digits at `s[at]`, or -1 when they are not all digits.
int digits_at(std::string_view s, std::size_t at, std::size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// True when the text goes on past `at` with something that is not part of a number or date (or ends).
bool ends_at(std::string_view s, std::size_t at) {
  return at == s.size() || !(std::isdigit(static_cast<unsigned char>(s[at])) || s[at] == '-');
}

}  // namespace

bool PriceSpec::dated() const {
  const std::string_view s = as_of;
  const int year = digits_at(s, 0, 4), month = digits_at(s, 5, 2);
  if (year < 1 || s.size() < 7 || s[4] != '-' || month < 1 || month > 12) return false;
  if (ends_at(s, 7)) return true;  // YYYY-MM
  const int day = digits_at(s, 8, 2);
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return s[7] == '-' && day >= 1 && day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0) && ends_at(s, 10);
}

PriceKind PriceSpec::kind() const {
  std::string b;
  for (char c : basis) b += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (b.starts_with("on-demand")) return PriceKind::on_demand;
  if (b.starts_with("reserved") || b.starts_with("committed")) return PriceKind::reserved;
  if (b.starts_with("spot")) return PriceKind::spot;
  if (b.starts_with("purchase amortisation")) return PriceKind::amortised;
  return PriceKind::unstated;
}

std::string PriceSpec::as_of_label() const {
  if (dated()) return as_of;
  if (as_of.empty() || as_of.starts_with("undated")) return as_of.empty() ? "undated" : as_of;
  return "undated: " + as_of;
}

}  // namespace infersim::hardware
