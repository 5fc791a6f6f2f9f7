#include <algorithm>
#include <cmath>

#include "infersim/model/model_spec.hpp"

namespace infersim::model {

namespace {

/// Sum of keys(n) over n = 1..N: the query-key pairs of the first N positions on a local layer.
double pairs_up_to(const AttentionWindow& a, double n) {
  const double w = static_cast<double>(a.tokens);
  if (n <= 0) return 0.0;
  if (a.tokens <= 0) return n * (n + 1) / 2;  // no window: full causal attention
  if (a.kind == LocalAttentionKind::sliding_window) {
    // Positions 1..W attend 1..W keys; every later position attends W.
    return n <= w ? n * (n + 1) / 2 : w * (w + 1) / 2 + (n - w) * w;
  }
  // Chunked: every full chunk contributes 1 + 2 + ... + C, the partial chunk 1 + ... + r.
  const double full = std::floor(n / w);
  const double r = n - full * w;
  return full * w * (w + 1) / 2 + r * (r + 1) / 2;
}

}  // namespace

double AttentionWindow::keys(double position) const {
  const double w = static_cast<double>(tokens);
  if (position <= 0) return 0.0;
  if (tokens <= 0) return position;
  if (kind == LocalAttentionKind::sliding_window) return std::min(position, w);
  return position - std::floor((position - 1) / w) * w;
}

double AttentionWindow::pairs(double cached, double new_tokens) const {
  return pairs_up_to(*this, cached + new_tokens) - pairs_up_to(*this, cached);
}

}  // namespace infersim::model
