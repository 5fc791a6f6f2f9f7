#pragma once
// Comparing two simulations request by request (determinism, runs of decode steps vs step by step).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "infersim/serving/request_table.hpp"

namespace infersim::testing {

/// Every request's timeline and counts must be equal; its attributed cost within `cost_relative` (0: exactly).
/// Stops at the first request that differs.
inline void expect_same_requests(const serving::RequestTable& a, const serving::RequestTable& b, double cost_relative = 0) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const serving::RequestRecord &x = a[i], &y = b[i];
    ASSERT_EQ(x.arrival, y.arrival) << "request " << i;
    ASSERT_EQ(x.first_scheduled, y.first_scheduled) << "request " << i;
    ASSERT_EQ(x.first_token, y.first_token) << "request " << i;
    ASSERT_EQ(x.last_token, y.last_token) << "request " << i;
    ASSERT_EQ(x.completion, y.completion) << "request " << i;
    ASSERT_EQ(x.input_tokens, y.input_tokens) << "request " << i;
    ASSERT_EQ(x.output_tokens, y.output_tokens) << "request " << i;
    ASSERT_EQ(x.generated, y.generated) << "request " << i;
    ASSERT_EQ(x.transferred, y.transferred) << "request " << i;
    ASSERT_EQ(x.preemptions, y.preemptions) << "request " << i;
    ASSERT_EQ(x.replica, y.replica) << "request " << i;
    ASSERT_EQ(x.cached_input, y.cached_input) << "request " << i;
    ASSERT_LE(std::abs(x.cost_usd - y.cost_usd), cost_relative * std::max(std::abs(x.cost_usd), std::abs(y.cost_usd)))
        << "request " << i << " cost_usd: " << x.cost_usd << " vs " << y.cost_usd;
  }
}

}  // namespace infersim::testing
