#include <gtest/gtest.h>

#include "infersim/core/error.hpp"
#include "infersim/hardware/hardware_loader.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/model/model_stats.hpp"
#include "infersim/parallelism/memory_plan.hpp"

namespace infersim::parallelism {
namespace {

TEST(MemoryPlan, WeightsPerChipAndKvCapacityByHand) {
  const auto m = model::load_model("llama-3.1-70b");
  const auto hw = hardware::load_hardware("h100-sxm");
  DeploymentSpec d;
  d.tensor_parallel = 8;
  d.weight_dtype = d.activation_dtype = d.kv_cache_dtype = DType::fp8;
  const WorkspaceLimits limits{8192, 256};
  const auto plan = plan_memory(m, hw, d, limits);
  // fp8 layers, 16-bit embedding and LM head, split 8 ways.
  const auto c = model::count_parameters(m);
  EXPECT_NEAR(plan.weight_bytes_per_chip, (c.layers() * 1.0 + (c.embedding + c.lm_head) * 2.0) / 8, 1.0);
  // KV: 80 layers x 1 KV head x 128 x 2 (K, V) x 1 byte per token on each chip.
  EXPECT_DOUBLE_EQ(plan.kv_bytes_per_token_per_chip, 80 * 128 * 2);
  // The H100 SXM's device total: 81,559 MiB as nvidia-smi reports it, 85.52 GB (NVIDIA's "80GB" counts binary units).
  const double capacity = 85.52e9;
  const double budget = std::min(capacity * 0.9, capacity - hw.memory.reserved_bytes);
  EXPECT_DOUBLE_EQ(plan.budget_bytes_per_chip, budget);
  const double free = budget - plan.weight_bytes_per_chip - plan.workspace_bytes_per_chip;
  EXPECT_EQ(plan.kv_token_capacity, static_cast<std::int64_t>(free / (80 * 128 * 2)));
  EXPECT_TRUE(plan.fits());
}

TEST(MemoryPlan, Int4WeightsCarryGroupScales) {
  DeploymentSpec d;
  d.weight_dtype = DType::int4;
  EXPECT_DOUBLE_EQ(weight_bytes_per_element(d), 0.5 + 2.0 / 128);
  d.quantization_group_size = 64;
  EXPECT_DOUBLE_EQ(weight_bytes_per_element(d), 0.5 + 2.0 / 64);
}

TEST(MemoryPlan, TooBigAModelSaysWhatItNeedsAndWhatFits) {
  const auto m = model::load_model("llama-3.1-405b");
  const auto hw = hardware::load_hardware("h100-sxm");
  DeploymentSpec d;
  const auto plan = plan_memory(m, hw, d);
  EXPECT_FALSE(plan.fits());
  try {
    require_fit(m, hw, d, plan);
    FAIL() << "expected InfeasibleError";
  } catch (const InfeasibleError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("812 GB"), std::string::npos) << msg;  // 405.85e9 parameters x 2 bytes
    EXPECT_NE(msg.find("smallest deployment that fits"), std::string::npos) << msg;
  }
  const auto fit = smallest_fitting_deployment(m, hw, d);
  ASSERT_TRUE(fit.has_value());
  EXPECT_TRUE(plan_memory(m, hw, *fit).fits());
  // 812 GB of weights over 72 GB usable per chip needs at least 12 chips.
  EXPECT_GE(fit->chips_per_replica(), 12);
  // No deployment with one chip fewer fits.
  for (int t : {1, 2, 4, 8}) {
    DeploymentSpec smaller = d;
    smaller.tensor_parallel = t;
    smaller.pipeline_parallel = (fit->chips_per_replica() - 1) / t;
    if (smaller.pipeline_parallel < 1) continue;
    EXPECT_FALSE(plan_memory(m, hw, smaller).fits()) << "t=" << t;
  }
}

TEST(MemoryPlan, ParallelismThatDoesNotDivideHeadsIsRejected) {
  const auto m = model::load_model("llama-3.1-70b");
  const auto hw = hardware::load_hardware("h100-sxm");
  DeploymentSpec d;
  d.tensor_parallel = 3;
  try {
    validate_deployment(m, hw, d);
    FAIL();
  } catch (const InfeasibleError& e) {
    EXPECT_NE(std::string(e.what()).find("valid values: 1, 2, 4, 8"), std::string::npos) << e.what();
  }
  d.tensor_parallel = 2;
  d.expert_parallel = 2;
  EXPECT_THROW(validate_deployment(m, hw, d), InfeasibleError);  // dense model
}

}  // namespace
}  // namespace infersim::parallelism
