// The tight-memory warning (scenario::tight_memory_warning): a pool whose KV cache is a small remainder of its
// chips' usable memory, served by an engine that captures CUDA graphs at run time, says that the engine's own
// allocations can shrink the cache far below the modelled one. Memory plans built by hand, so the share in the
// message is known: 20 GB of a 100 GB budget is 20%.

#include <gtest/gtest.h>

#include "infersim/scenario/warnings.hpp"
#include "infersim/serving/serving_engine_loader.hpp"

namespace infersim {
namespace {

serving::PoolResult plan(double weights, double workspace, double budget) {
  serving::PoolResult r;
  r.memory.budget_bytes_per_chip = budget;
  r.memory.weight_bytes_per_chip = weights;
  r.memory.workspace_bytes_per_chip = workspace;
  r.memory.kv_bytes_per_chip = budget - weights - workspace;
  return r;
}

serving::PoolSpec pool_on(const std::string& engine) {
  serving::PoolSpec p;
  p.engine = serving::load_serving_engine(engine);
  return p;
}

TEST(TightMemory, AGraphEngineWarnsWhenTheCacheIsASmallRemainder) {
  // 70 GB of weights and 10 GB of workspace of a 100 GB budget leave 20 GB, 20% < 25%.
  const auto w = scenario::tight_memory_warning(pool_on("vllm-v1"), plan(70e9, 10e9, 100e9));
  ASSERT_TRUE(w.has_value());
  EXPECT_NE(w->find("leave 20 GB of the 100 GB a chip may use (20%) for the KV cache"), std::string::npos) << *w;
  EXPECT_NE(w->find("engine vllm-v1"), std::string::npos) << *w;
  EXPECT_NE(w->find("upper bounds"), std::string::npos) << *w;
  // SGLang and TensorRT-LLM capture graphs too.
  EXPECT_TRUE(scenario::tight_memory_warning(pool_on("sglang"), plan(70e9, 10e9, 100e9)).has_value());
  EXPECT_TRUE(scenario::tight_memory_warning(pool_on("tensorrt-llm"), plan(70e9, 10e9, 100e9)).has_value());
}

TEST(TightMemory, ACacheOfAQuarterOrMoreSaysNothing) {
  // 65 + 10 of 100 GB leave exactly 25%: not below the threshold.
  EXPECT_FALSE(scenario::tight_memory_warning(pool_on("vllm-v1"), plan(65e9, 10e9, 100e9)).has_value());
  EXPECT_FALSE(scenario::tight_memory_warning(pool_on("vllm-v1"), plan(40e9, 2e9, 100e9)).has_value());
}

TEST(TightMemory, EnginesWithoutRunTimeGraphsSayNothing) {
  // Eager engines (no CUDA graphs), a statically compiled program (no eager launches, nothing captured at run
  // time), no engine at all, and a hybrid CPU/GPU placement.
  for (const char* e : {"llama.cpp", "hf-transformers", "static-compiled"}) {
    EXPECT_FALSE(scenario::tight_memory_warning(pool_on(e), plan(70e9, 10e9, 100e9)).has_value()) << e;
  }
  EXPECT_FALSE(scenario::tight_memory_warning(serving::PoolSpec{}, plan(70e9, 10e9, 100e9)).has_value());
  serving::PoolResult hybrid = plan(70e9, 10e9, 100e9);
  hybrid.host_memory = hybrid.memory;
  EXPECT_FALSE(scenario::tight_memory_warning(pool_on("vllm-v1"), hybrid).has_value());
}

}  // namespace
}  // namespace infersim
