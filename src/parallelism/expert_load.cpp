#include "infersim/parallelism/expert_load.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace infersim::parallelism {

double expected_max_standard_normal(int n) {
  if (n <= 1) return 0.0;
  // The integrand x n phi(x) Phi(x)^(n-1) is negligible outside [-12, 12] for n up to millions.
  constexpr int kSteps = 4800;  // even, for Simpson's rule
  constexpr double kLo = -12.0, kHi = 12.0;
  const double h = (kHi - kLo) / kSteps;
  const double norm = 1.0 / std::sqrt(2.0 * std::numbers::pi);
  auto f = [n, norm](double x) {
    const double phi = norm * std::exp(-0.5 * x * x);
    const double cdf = 0.5 * std::erfc(-x / std::numbers::sqrt2);
    return x * n * phi * std::pow(cdf, n - 1);
  };
  double sum = f(kLo) + f(kHi);
  for (int i = 1; i < kSteps; ++i) sum += (i % 2 == 1 ? 4.0 : 2.0) * f(kLo + i * h);
  return sum * h / 3.0;
}

double expert_load_imbalance(double experts, double k, double tokens, int ranks) {
  if (ranks <= 1 || tokens <= 0 || experts <= 1 || k <= 0) return 1.0;
  const double r = ranks;
  const double p = 1.0 / r;
  const double mean = tokens * k * p;
  const double variance = tokens * k * p * (1.0 - p) * std::max(0.0, experts - k) / (experts - 1.0);
  const double factor = 1.0 + std::sqrt(variance) * std::sqrt(r / (r - 1.0)) * expected_max_standard_normal(ranks) / mean;
  // A rank holds E/R experts, so one token gives it at most min(k, E/R) assignments.
  const double ceiling = std::min(k, experts / r) * tokens / mean;
  return std::clamp(factor, 1.0, std::max(1.0, ceiling));
}

double chance_token_reaches(double experts, double k, double parts) {
  if (parts <= 1) return k > 0 && experts > 0 ? 1.0 : 0.0;
  if (k <= 0 || experts <= 0) return 0.0;
  // C(E - E/D, k) / C(E, k) = prod_{i < k} (E - E/D - i) / (E - i): all k picks miss a given part.
  const double elsewhere = experts - experts / parts;
  double miss = 1.0;
  for (int i = 0; i < static_cast<int>(k) && miss > 0; ++i) miss *= std::max(0.0, elsewhere - i) / (experts - i);
  return 1.0 - miss;
}

double expected_remote_nodes(double experts, double k, double nodes, double node_limit) {
  if (nodes <= 1 || k <= 0 || experts <= 0) return 0.0;
  double reached = nodes * chance_token_reaches(experts, k, nodes);
  if (node_limit > 0) reached = std::min(reached, node_limit);
  return reached * (nodes - 1.0) / nodes;
}

}  // namespace infersim::parallelism
