// Arrival processes, token-count distributions and trace replay against their definitions.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <numeric>

#include "infersim/core/error.hpp"
#include "infersim/workload/request_source.hpp"
#include "infersim/workload/trace.hpp"
#include "support/paths.hpp"

namespace infersim::workload {
namespace {

WorkloadSpec base(ArrivalProcess p, std::int64_t n) {
  WorkloadSpec w;
  w.process = p;
  w.requests = n;
  w.rate_per_s = 10;
  w.input.value = 100;
  w.output.value = 10;
  return w;
}

std::vector<double> gaps_of(const WorkloadSpec& w) {
  RequestSource s(w);
  std::vector<double> gaps;
  Request r;
  double last = 0;
  bool first = true;
  while (s.next(r)) {
    const double t = engine::to_seconds(r.arrival);
    if (!first) gaps.push_back(t - last);
    first = false;
    last = t;
  }
  return gaps;
}

void mean_and_cv(const std::vector<double>& x, double& mean, double& cv) {
  mean = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
  double var = 0;
  for (double v : x) var += (v - mean) * (v - mean);
  var /= static_cast<double>(x.size() - 1);
  cv = std::sqrt(var) / mean;
}

TEST(Arrivals, PoissonHasExponentialGaps) {
  const auto gaps = gaps_of(base(ArrivalProcess::poisson, 200001));
  double mean, cv;
  mean_and_cv(gaps, mean, cv);
  EXPECT_NEAR(mean, 0.1, 0.1 * 0.01);  // 1 / rate, standard error 0.22% at 2e5 samples
  EXPECT_NEAR(cv, 1.0, 0.01);         // exponential: standard deviation = mean
}

TEST(Arrivals, GammaHasTheRequestedCoefficientOfVariation) {
  for (double cv_wanted : {0.5, 2.0, 4.0}) {
    auto w = base(ArrivalProcess::gamma, 200001);
    w.cv = cv_wanted;
    const auto gaps = gaps_of(w);
    double mean, cv;
    mean_and_cv(gaps, mean, cv);
    EXPECT_NEAR(mean, 0.1, 0.1 * 0.03) << cv_wanted;
    EXPECT_NEAR(cv / cv_wanted, 1.0, 0.05) << cv_wanted;
  }
}

TEST(Arrivals, ConstantAndOffline) {
  for (double g : gaps_of(base(ArrivalProcess::constant, 1000))) EXPECT_NEAR(g, 0.1, 1e-9);
  for (double g : gaps_of(base(ArrivalProcess::offline, 1000))) EXPECT_EQ(g, 0.0);
}

TEST(Arrivals, SameSeedSameRequestsAndStreamsAreIndependent) {
  auto w = base(ArrivalProcess::poisson, 1000);
  w.output = TokenDistribution::uniform_between(1, 100);
  RequestSource a(w), b(w);
  auto w2 = w;
  w2.output.max = 500;  // a different output distribution must not move arrivals or inputs
  RequestSource c(w2);
  Request ra, rb, rc;
  int differ = 0;
  while (a.next(ra)) {
    ASSERT_TRUE(b.next(rb));
    ASSERT_TRUE(c.next(rc));
    EXPECT_EQ(ra.arrival, rb.arrival);
    EXPECT_EQ(ra.output_tokens, rb.output_tokens);
    EXPECT_EQ(ra.arrival, rc.arrival);
    EXPECT_EQ(ra.input_tokens, rc.input_tokens);
    differ += ra.output_tokens != rc.output_tokens;
  }
  EXPECT_GT(differ, 500);
}

TEST(TokenDistributions, MatchTheirDefinitions) {
  Rng rng(5);
  const int n = 200000;
  const TokenDistribution u = TokenDistribution::uniform_between(10, 20);
  double sum = 0;
  std::int64_t lo = 1000, hi = 0;
  for (int i = 0; i < n; ++i) {
    const auto v = u.sample(rng);
    sum += static_cast<double>(v);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_EQ(lo, 10);
  EXPECT_EQ(hi, 20);
  EXPECT_NEAR(sum / n, 15.0, 0.05);

  TokenDistribution ln;
  ln.kind = TokenDistribution::Kind::lognormal;
  ln.median = 400;
  ln.sigma = 0.8;
  std::vector<std::int64_t> xs(n);
  for (auto& x : xs) x = ln.sample(rng);
  std::nth_element(xs.begin(), xs.begin() + n / 2, xs.end());
  EXPECT_NEAR(static_cast<double>(xs[n / 2]), 400.0, 6.0);

  TokenDistribution norm;
  norm.kind = TokenDistribution::Kind::normal;
  norm.mean = 100;
  norm.std = 50;
  norm.min = 80;
  norm.max = 150;
  for (int i = 0; i < 10000; ++i) {
    const auto v = norm.sample(rng);
    ASSERT_GE(v, 80);
    ASSERT_LE(v, 150);
  }

  TokenDistribution emp;
  emp.kind = TokenDistribution::Kind::empirical;
  emp.values = {5, 7, 9};
  std::array<int, 10> hits{};
  for (int i = 0; i < 30000; ++i) hits[static_cast<std::size_t>(emp.sample(rng))]++;
  for (int v : {5, 7, 9}) EXPECT_NEAR(hits[static_cast<std::size_t>(v)], 10000, 300);
}

TEST(Trace, ParsesDateTimes) {
  double s = 0;
  // 2023-11-16 18:17:03.97996 UTC = 1700158623.97996 s after the epoch (Python: datetime(...).timestamp()).
  ASSERT_TRUE(parse_datetime("2023-11-16 18:17:03.9799600", s));
  EXPECT_NEAR(s, 1700158623.97996, 1e-4);
  ASSERT_TRUE(parse_datetime("1970-01-01T00:00:01", s));
  EXPECT_DOUBLE_EQ(s, 1.0);
  EXPECT_FALSE(parse_datetime("16/11/2023 18:17", s));
}

TEST(Trace, ReplaysTheAzureTraceAsRecorded) {
  TraceSpec t;
  t.path = testing::source_path("configs/traces/AzureLLMInferenceTrace_code.csv");
  const auto rows = load_trace(t, 0);
  ASSERT_EQ(rows.size(), 8819u);
  // First rows of the file: 18:17:03.97996 (4808, 10), 18:17:04.03196 (3180, 8).
  EXPECT_EQ(rows[0].arrival_s, 0.0);
  EXPECT_EQ(rows[0].input_tokens, 4808);
  EXPECT_EQ(rows[0].output_tokens, 10);
  EXPECT_NEAR(rows[1].arrival_s, 0.052, 1e-6);
  EXPECT_EQ(rows[1].input_tokens, 3180);
  // Twice the rate: half the times. A window keeps only its requests, re-based to 0.
  t.rate_scale = 2.0;
  const auto fast = load_trace(t, 0);
  EXPECT_NEAR(fast[1].arrival_s, 0.026, 1e-6);
  EXPECT_NEAR(fast.back().arrival_s, rows.back().arrival_s / 2, 1e-6);
  t.rate_scale = 1.0;
  t.start_s = 600;
  t.end_s = 1200;
  const auto window = load_trace(t, 0);
  std::size_t expected = 0;
  double first = -1, last = -1;
  for (const auto& r : rows) {
    if (r.arrival_s >= 600 && r.arrival_s < 1200) {
      ++expected;
      if (first < 0) first = r.arrival_s;
      last = r.arrival_s;
    }
  }
  EXPECT_EQ(window.size(), expected);
  EXPECT_EQ(window.front().arrival_s, 0.0);
  EXPECT_NEAR(window.back().arrival_s, last - first, 1e-9);
}

std::string temp_file(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << content;
  return path;
}

TEST(Trace, BadRowsNameFileAndLine) {
  TraceSpec t;
  t.path = temp_file("bad.csv", "arrival_s,input_tokens,output_tokens\n0.0,10,5\n0.5,abc,5\n");
  try {
    load_trace(t, 0);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:3"), std::string::npos) << e.what();
  }
  t.path = temp_file("order.csv", "arrival_s,input_tokens,output_tokens\n1.0,10,5\n0.5,10,5\n");
  try {
    load_trace(t, 0);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("order.csv:3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("out of order"), std::string::npos) << e.what();
  }
  t.path = temp_file("empty.csv", "");
  EXPECT_THROW(load_trace(t, 0), ConfigError);
}

TEST(Trace, ReadsJsonLines) {
  TraceSpec t;
  t.path = temp_file("t.jsonl", "{\"arrival_s\": 1.0, \"input_tokens\": 10, \"output_tokens\": 3}\n\n"
                                "{\"arrival_s\": 2.5, \"input_tokens\": 20, \"output_tokens\": 4}\n");
  const auto rows = load_trace(t, 0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows[1].arrival_s, 1.5);
  EXPECT_EQ(rows[1].input_tokens, 20);
}

}  // namespace
}  // namespace infersim::workload
