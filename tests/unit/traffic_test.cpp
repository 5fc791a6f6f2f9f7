// Real traffic (issue 17): traces that load as they are (bad rows skipped, 0-output rows, sorting, stdin),
// the Mooncake format, requests without output tokens through every scheduler, and the prefix cache (hand-worked
// examples, invariants, and the Mooncake trace's hit rate against an independent count from its hash_ids).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <tuple>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <vector>

#include "infersim/core/error.hpp"
#include "infersim/cost/cost_model.hpp"
#include "infersim/roofline/step_cost.hpp"
#include "infersim/scenario/warnings.hpp"
#include "infersim/serving/kv_cache.hpp"
#include "infersim/serving/prefix_cache.hpp"
#include "infersim/workload/trace.hpp"
#include "support/paths.hpp"
#include "support/serving.hpp"

namespace infersim {
namespace {

using workload::TraceSpec;

std::string temp_file(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << content;
  return path;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(TraceLoading, SkipsBadRowsAndSaysWhichOnes) {
  TraceSpec t;
  // Lines 3 (not a number), 5 (negative) and 6 (too few columns) are bad; 2, 4 and 7 are good.
  t.path = temp_file("skip.csv", "arrival_s,input_tokens,output_tokens\n0.0,10,5\n0.5,abc,5\n1.0,20,6\n1.5,-3,2\n2.0\n3.0,30,7\n");
  EXPECT_THROW(workload::read_trace(t, 0), ConfigError);  // on_bad_row "error" (the default)
  t.skip_bad_rows = true;
  const auto load = workload::read_trace(t, 0);
  ASSERT_EQ(load.rows.size(), 3u);
  EXPECT_EQ(load.rows[1].input_tokens, 20);
  EXPECT_DOUBLE_EQ(load.rows[2].arrival_s, 3.0);
  ASSERT_EQ(load.notes.size(), 1u);
  const std::string& note = load.notes[0];
  EXPECT_TRUE(contains(note, "skipped 3 malformed rows")) << note;
  EXPECT_TRUE(contains(note, "line 3:")) << note;
  EXPECT_TRUE(contains(note, "line 5:")) << note;
  EXPECT_TRUE(contains(note, "line 6: expected 3 columns, found 1")) << note;
}

TEST(TraceLoading, SkipShowsTheFirstFiveOfManyBadJsonRows) {
  std::string text;
  for (int i = 0; i < 8; ++i) text += "{\"arrival_s\": " + std::to_string(i) + ", \"input_tokens\": 1.5, \"output_tokens\": 2}\n";
  text += "{\"arrival_s\": 9, \"input_tokens\": 4, \"output_tokens\": 2}\nnot json\n";
  TraceSpec t;
  t.path = temp_file("many.jsonl", text);
  t.skip_bad_rows = true;
  const auto load = workload::read_trace(t, 0);
  ASSERT_EQ(load.rows.size(), 1u);
  const std::string& note = load.notes.at(0);
  EXPECT_TRUE(contains(note, "skipped 9 malformed rows")) << note;
  EXPECT_TRUE(contains(note, "the first 5: line 1:")) << note;
  EXPECT_TRUE(contains(note, "line 5:")) << note;
  EXPECT_FALSE(contains(note, "line 6:")) << note;
}

TEST(TraceLoading, ZeroOutputRowsAreValidButZeroInputIsNot) {
  TraceSpec t;
  t.path = temp_file("zero.csv", "arrival_s,input_tokens,output_tokens\n0.0,10,0\n1.0,20,3\n");
  const auto rows = workload::load_trace(t, 0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].output_tokens, 0);
  t.path = temp_file("zero_in.csv", "arrival_s,input_tokens,output_tokens\n0.0,0,3\n");
  EXPECT_THROW(workload::load_trace(t, 0), ConfigError);
}

TEST(TraceLoading, SortCountsTheRowsThatMoved) {
  TraceSpec t;
  t.path = temp_file("unsorted.csv", "arrival_s,input_tokens,output_tokens\n1.0,10,5\n0.5,11,5\n2.0,12,5\n1.5,13,5\n3.0,14,5\n");
  try {
    workload::load_trace(t, 0);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "unsorted.csv:3")) << e.what();
    EXPECT_TRUE(contains(e.what(), "workload.arrival.sort")) << e.what();
  }
  t.sort = true;
  const auto load = workload::read_trace(t, 0);
  ASSERT_EQ(load.rows.size(), 5u);
  // Sorted: 0.5 (11), 1.0 (10), 1.5 (13), 2.0 (12), 3.0 (14), re-based to the first.
  const std::int64_t inputs[] = {11, 10, 13, 12, 14};
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(load.rows[i].input_tokens, inputs[i]);
  EXPECT_DOUBLE_EQ(load.rows[4].arrival_s, 2.5);
  ASSERT_EQ(load.notes.size(), 1u);
  EXPECT_TRUE(contains(load.notes[0], "2 of 5 rows were out of order")) << load.notes[0];
}

TEST(TraceLoading, DashReadsTheTextGivenForStandardInput) {
  TraceSpec t;
  t.path = "-";
  t.format = "jsonl";
  t.stdin_text = std::make_shared<const std::string>("{\"arrival_s\": 0, \"input_tokens\": 7, \"output_tokens\": 1}\n"
                                                     "{\"arrival_s\": 2, \"input_tokens\": 8, \"output_tokens\": 0}\n");
  const auto rows = workload::load_trace(t, 0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].input_tokens, 8);
  t.stdin_text = std::make_shared<const std::string>("{\"arrival_s\": 0, \"input_tokens\": 0, \"output_tokens\": 1}\n");
  try {
    workload::load_trace(t, 0);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "<stdin>:1")) << e.what();
  }
}

TEST(TraceLoading, MooncakeRowsCarryTheirBlockHashes) {
  TraceSpec t;
  t.path = temp_file("mc.jsonl", "{\"timestamp\": 0, \"input_length\": 1000, \"output_length\": 5, \"hash_ids\": [0, 1]}\n"
                                 "{\"timestamp\": 1500, \"input_length\": 1100, \"output_length\": 0, \"hash_ids\": [0, 1, 2]}\n");
  t.format = "mooncake";
  const auto load = workload::read_trace(t, 0);
  ASSERT_EQ(load.rows.size(), 2u);
  EXPECT_EQ(load.hash_block_tokens, 512);
  EXPECT_DOUBLE_EQ(load.rows[1].arrival_s, 1.5);  // milliseconds
  ASSERT_EQ(load.rows[1].hash_count, 3u);
  EXPECT_EQ(load.hashes[load.rows[1].hash_begin + 2], 2u);
  // More hashes than 512-token blocks of the prompt is a bad row; so is a generic reading of a Mooncake file.
  t.path = temp_file("mc_bad.jsonl", "{\"timestamp\": 0, \"input_length\": 100, \"output_length\": 5, \"hash_ids\": [0, 1]}\n");
  try {
    workload::read_trace(t, 0);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "mc_bad.jsonl:1")) << e.what();
    EXPECT_TRUE(contains(e.what(), "at most 1 block ids")) << e.what();
  }
  t.format = "jsonl";
  t.path = temp_file("mc_generic.jsonl", "{\"timestamp\": 0, \"input_length\": 100, \"output_length\": 5, \"hash_ids\": [0]}\n");
  try {
    workload::read_trace(t, 0);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "format to \"mooncake\"")) << e.what();
  }
}

TEST(TraceLoading, ShippedMooncakeConversationTrace) {
  TraceSpec t;
  t.path = testing::source_path("configs/traces/mooncake/conversation_trace.jsonl");
  t.format = "mooncake";
  const auto load = workload::read_trace(t, 0);
  ASSERT_EQ(load.rows.size(), 12031u);
  // First row of the file: {"timestamp": 0, "input_length": 6758, "output_length": 500, "hash_ids": [0, ..., 13]}.
  EXPECT_EQ(load.rows[0].input_tokens, 6758);
  EXPECT_EQ(load.rows[0].output_tokens, 500);
  EXPECT_EQ(load.rows[0].hash_count, 14u);
  EXPECT_TRUE(load.notes.empty());
}

/// A trace of prefill-only requests among ordinary ones, far apart so that each runs alone.
serving::SimulationSpec zero_output_spec(const std::string& policy) {
  auto spec = testing::one_pool("llama-3.1-8b", "h100-sxm", policy);
  spec.workload.process = workload::ArrivalProcess::trace;
  spec.workload.trace.path = temp_file("zero_" + policy + ".csv",
                                       "arrival_s,input_tokens,output_tokens\n0,512,0\n100,512,4\n200,512,0\n300,512,1\n");
  return spec;
}

TEST(ZeroOutput, PrefillOnlyRequestsCountInTtftNotTpotUnderEveryPolicy) {
  for (const std::string policy : {"continuous", "chunked_prefill", "static"}) {
    const auto spec = zero_output_spec(policy);
    const auto r = serving::simulate(spec);
    ASSERT_EQ(r.completed, 4) << policy;
    const roofline::StepCostModel cost(spec.pools[0].model, spec.pools[0].hardware, spec.pools[0].deployment);
    const double prefill = cost.evaluate(roofline::StepShape::prefill(1, 512)).time_s;
    EXPECT_EQ(r.ttft.count, 4u) << policy;
    EXPECT_NEAR(r.ttft.max, prefill, 1e-9) << policy;  // each request alone: TTFT is one prefill step
    EXPECT_EQ(r.tpot.count, 1u) << policy;             // only the 4-token request has a time per output token
    EXPECT_DOUBLE_EQ(r.output_tokens, 5.0) << policy;
    for (const auto& q : r.request_table) {
      EXPECT_EQ(q.generated, q.output_tokens);
      if (q.output_tokens == 0) {
        EXPECT_EQ(q.completion, q.first_token) << policy;
      }
    }
  }
}

TEST(ZeroOutput, DisaggregatedPrefillOnlyRequestsNeverReachTheDecodePool) {
  auto spec = zero_output_spec("continuous");
  serving::PoolSpec decode = spec.pools[0];
  spec.pools[0].role = serving::ReplicaRole::prefill;
  decode.role = serving::ReplicaRole::decode;
  decode.name = "decode";
  spec.pools.push_back(decode);
  spec.kv_transfer.bandwidth_bytes_per_s = 50e9;
  const auto r = serving::simulate(spec);
  ASSERT_EQ(r.completed, 4);
  EXPECT_EQ(r.request_table[0].replica, 0);  // completed where it was prefilled
  EXPECT_EQ(r.request_table[0].generated, 0);
  EXPECT_EQ(r.request_table[1].replica, 1);  // decoded on the decode pool's replica
}

// ---- Prefix cache, by hand: pool blocks of 16 tokens, hash blocks of 32 tokens (2 pool blocks each).

struct Fixture {
  serving::BlockHashes hashes{32};
  serving::BlockPool pool;
  serving::PrefixCacheSpec spec;
  std::unique_ptr<serving::PrefixCache> cache;
  explicit Fixture(std::int64_t blocks, double host_gb = 0) : pool(blocks, 16) {
    spec.enabled = true;
    spec.host_gb = host_gb;
    spec.host_link_bytes_per_s = 1e9;
    cache = std::make_unique<serving::PrefixCache>(spec, pool, hashes, 1000.0);  // 1,000 bytes of KV per token
    pool.attach(cache.get());
  }
  void add(std::uint32_t id, std::vector<std::uint64_t> h) { hashes.add(id, h.data(), static_cast<std::uint32_t>(h.size())); }
  /// Admit `id` as SchedulerContext::admit does, reserving the whole prompt; returns the logical blocks held.
  std::int64_t admit(std::uint32_t id, std::int64_t input) {
    const std::int64_t hit = cache->acquire(id, input, 0);
    EXPECT_GE(hit, 0);
    const std::int64_t logical = pool.blocks_for(input);
    EXPECT_TRUE(pool.allocate(logical - cache->shared_blocks(id), 0));
    return logical;
  }
};

TEST(PrefixCache, TwoRequestsSharingKBlocks) {
  Fixture f(100);
  f.add(0, {1, 2, 3});
  f.add(1, {1, 2, 9});
  // Request 0: 100 tokens = 7 pool blocks, nothing cached yet.
  EXPECT_EQ(f.cache->cached_tokens(0, 100), 0);
  const std::int64_t held0 = f.admit(0, 100);
  EXPECT_EQ(held0, 7);
  EXPECT_EQ(f.pool.used(), 7);
  f.cache->on_prefilled(0, 100, 0);  // its 3 full hash blocks (96 tokens, 6 pool blocks) join the cache
  EXPECT_EQ(f.cache->device_entries(), 3);
  EXPECT_EQ(f.cache->shared_blocks(0), 6);
  EXPECT_EQ(f.pool.used(), 7);  // nothing copied
  // Request 1 shares k = 2 hash blocks (64 tokens) with it: only its other 36 tokens take new blocks (3).
  EXPECT_EQ(f.cache->cached_tokens(1, 100), 64);
  const std::int64_t held1 = f.admit(1, 100);
  EXPECT_EQ(f.cache->shared_blocks(1), 4);
  EXPECT_EQ(f.pool.used(), 10);
  EXPECT_EQ(f.pool.expected_used(held0 + held1), 10);
  // Request 0 leaves: its 1 own block is freed; the shared blocks stay (request 1 uses two, one is unreferenced).
  f.pool.release_request(0, held0, 0);
  EXPECT_EQ(f.pool.used(), 9);
  EXPECT_EQ(f.cache->referenced_entries(), 2);
  // Eviction can take only the unreferenced block: the shared ones are freed after their last user is done.
  EXPECT_EQ(f.cache->evict(100, 0), 2);
  EXPECT_EQ(f.pool.used(), 7);
  EXPECT_EQ(f.cache->cached_tokens(1, 100), 64);
  f.pool.release_request(1, held1, 0);
  EXPECT_EQ(f.pool.used(), 4);  // two cached hash blocks, unreferenced
  EXPECT_EQ(f.cache->evict(100, 0), 4);
  EXPECT_EQ(f.pool.used(), 0);
  const auto& st = f.cache->stats();
  EXPECT_EQ(st.input_tokens, 200);
  EXPECT_EQ(st.hit_tokens, 64);
  EXPECT_EQ(st.evictions, 3);
}

TEST(PrefixCache, ACompletedRequestsOutputBlocksJoinTheCacheWithoutNewBlocks) {
  Fixture f(100);
  // Request 0: a 40-token prompt (1 full hash block, hash 1) and 30 output tokens: 70 tokens of KV in
  // ceil(70 / 16) = 5 pool blocks; its output fills hash block 2 (tokens 32 to 63), whose hash the workload knows.
  const std::vector<std::uint64_t> h0{1, 2};
  f.hashes.add(0, h0.data(), 1, 1);
  const std::int64_t held0 = f.admit(0, 40);
  EXPECT_TRUE(f.pool.allocate(f.pool.blocks_for(70) - held0, 0));  // the decode steps' blocks
  f.cache->on_prefilled(0, 40, 0);
  EXPECT_EQ(f.cache->device_entries(), 1);
  f.cache->on_completed(0, 70, 0);
  EXPECT_EQ(f.cache->device_entries(), 2);  // the output's full block too
  EXPECT_EQ(f.cache->shared_blocks(0), 4);
  EXPECT_EQ(f.pool.used(), 5);  // nothing copied, nothing allocated
  EXPECT_EQ(f.pool.expected_used(5), 5);
  // It leaves: its one own block (tokens 64 to 69) is freed; the 2 hash blocks (4 pool blocks) stay, evictable.
  f.pool.release_request(0, 5, 0);
  EXPECT_EQ(f.pool.used(), 4);
  EXPECT_EQ(f.cache->referenced_entries(), 0);
  EXPECT_EQ(f.cache->evictable_blocks(), 4);
  // The next turn (prompt 100 tokens: hashes 1, 2, 3) finds 2 hash blocks = 64 tokens cached.
  f.add(1, {1, 2, 3});
  EXPECT_EQ(f.cache->cached_tokens(1, 100), 64);
  // A request without output hashes (a trace row; its 2nd hash is of a partial prompt block) keeps only its
  // full prompt block: completion adds nothing.
  f.add(2, {7, 8});
  const std::int64_t held2 = f.admit(2, 40);
  EXPECT_TRUE(f.pool.allocate(f.pool.blocks_for(100) - held2, 0));
  f.cache->on_prefilled(2, 40, 0);
  f.cache->on_completed(2, 100, 0);
  EXPECT_EQ(f.cache->device_entries(), 3);
  EXPECT_EQ(f.cache->shared_blocks(2), 2);
}

TEST(PrefixCache, AFullHitStillComputesTheLastToken) {
  Fixture f(100);
  f.add(0, {5, 6});
  f.add(1, {5, 6});
  f.pool.release_request(0, f.admit(0, 64), 0);  // no prefill: nothing donated
  EXPECT_EQ(f.cache->device_entries(), 0);
  const std::int64_t held = f.admit(0 + 1, 64);
  f.cache->on_prefilled(1, 64, 0);
  f.pool.release_request(1, held, 0);
  f.add(2, {5, 6});
  // 64 tokens = exactly 2 hash blocks, both cached: only the first is a hit, so that one token is computed.
  EXPECT_EQ(f.cache->cached_tokens(2, 64), 32);
  EXPECT_EQ(f.cache->cached_tokens(2, 65), 64);
}

/// Run a one-hash-block request through admission, prefill and release.
void serve(Fixture& f, std::uint32_t id, std::uint64_t hash) {
  f.add(id, {hash});
  const std::int64_t held = f.admit(id, 40);  // 40 tokens: 3 pool blocks, one full hash block
  f.cache->on_prefilled(id, 40, 0);
  f.pool.release_request(id, held, 0);
}

TEST(PrefixCache, EvictsTheLeastRecentlyUsedUnreferencedBlockFirst) {
  Fixture f(8);
  serve(f, 0, 10);  // A
  serve(f, 1, 20);  // B
  serve(f, 2, 30);  // C
  EXPECT_EQ(f.pool.used(), 6);  // three cached hash blocks of 2 pool blocks
  serve(f, 3, 10);  // A again: a hit, and A becomes the most recently used
  EXPECT_EQ(f.cache->stats().hit_tokens, 32);
  // 4 blocks wanted, 2 free: one hash block is evicted, the least recently used: B.
  ASSERT_TRUE(f.pool.allocate(4, 0));
  f.add(4, {10});
  f.add(5, {20});
  f.add(6, {30});
  EXPECT_EQ(f.cache->cached_tokens(4, 40), 32);
  EXPECT_EQ(f.cache->cached_tokens(5, 40), 0);
  EXPECT_EQ(f.cache->cached_tokens(6, 40), 32);
  // 4 more: C then A go (C was used before A's second use). The pool never holds more than it has.
  ASSERT_TRUE(f.pool.allocate(4, 0));
  EXPECT_EQ(f.pool.used(), 8);
  EXPECT_EQ(f.cache->stats().evictions, 3);
  EXPECT_FALSE(f.pool.allocate(1, 0));
}

TEST(PrefixCache, HostTierKeepsEvictedBlocksAndChargesTheTransferBack) {
  // Host tier of 64,000 bytes = 2 hash blocks of 32 tokens x 1,000 bytes.
  Fixture f(6, 64000e-9);
  serve(f, 0, 10);
  serve(f, 1, 20);
  serve(f, 2, 30);
  ASSERT_TRUE(f.pool.allocate(6, 0));  // evicts all three to the host: the first (10) falls off its LRU end
  EXPECT_EQ(f.cache->host_entries(), 2);
  EXPECT_EQ(f.cache->stats().host_evictions, 1);
  f.pool.release(6, 0);
  f.add(3, {10});
  f.add(4, {30});
  EXPECT_EQ(f.cache->cached_tokens(3, 40), 0);
  EXPECT_EQ(f.cache->cached_tokens(4, 40), 32);
  f.admit(4, 40);
  EXPECT_EQ(f.cache->stats().host_hit_tokens, 32);
  // 32 tokens x 1,000 bytes over 1 GB/s.
  EXPECT_DOUBLE_EQ(f.cache->take_load_s(), 32e3 / 1e9);
  EXPECT_EQ(f.cache->take_load_s(), 0.0);
  EXPECT_EQ(f.pool.used(), 3);  // the block back on the device (2) and the request's own (1)
}

/// A Mooncake-format trace file of (time ms, input, output, hashes) rows.
std::string mooncake_file(const std::string& name, const std::vector<std::tuple<int, int, int, std::vector<int>>>& rows) {
  std::string text;
  for (const auto& [t, in, out, h] : rows) {
    text += "{\"timestamp\": " + std::to_string(t) + ", \"input_length\": " + std::to_string(in) +
            ", \"output_length\": " + std::to_string(out) + ", \"hash_ids\": [";
    for (std::size_t i = 0; i < h.size(); ++i) text += (i ? ", " : "") + std::to_string(h[i]);
    text += "]}\n";
  }
  return temp_file(name, text);
}

serving::SimulationSpec mooncake_spec(const std::string& path, bool cache) {
  auto spec = testing::one_pool("llama-3.1-8b", "h100-sxm", "chunked_prefill");
  spec.workload.process = workload::ArrivalProcess::trace;
  spec.workload.trace.path = path;
  spec.workload.trace.format = "mooncake";
  spec.pools[0].scheduler.prefix_cache.enabled = cache;
  return spec;
}

TEST(PrefixCacheServing, ASecondRequestSharingKBlocksPrefillsOnlyTheRest) {
  // Two 2,048-token prompts 100 s apart sharing their first 2 blocks of 512 tokens.
  const auto path = mooncake_file("two.jsonl", {{0, 2048, 4, {1, 2, 3, 4}}, {100000, 2048, 4, {1, 2, 7, 8}}});
  const auto off = serving::simulate(mooncake_spec(path, false));
  const auto on_spec = mooncake_spec(path, true);
  const auto on = serving::simulate(on_spec);
  EXPECT_EQ(off.cached_input_tokens, 0.0);
  EXPECT_EQ(on.cached_input_tokens, 1024.0);
  EXPECT_EQ(on.request_table[1].cached_input, 1024);
  // Its TTFT is one prefill step of the other 1,024 tokens, attending to all 2,048.
  const auto& pool = on_spec.pools[0];
  const roofline::StepCostModel cost(pool.model, pool.hardware, pool.deployment);
  roofline::StepShape rest;
  rest.add_prefill_chunk(1024, 1024, true);
  const double ttft1 = engine::to_seconds(on.request_table[1].first_token - on.request_table[1].arrival);
  EXPECT_NEAR(ttft1, cost.evaluate(rest).time_s, 1e-9);
  const double ttft0 = engine::to_seconds(off.request_table[1].first_token - off.request_table[1].arrival);
  EXPECT_NEAR(ttft0, cost.evaluate(roofline::StepShape::prefill(1, 2048)).time_s, 1e-9);
  EXPECT_LT(ttft1, 0.6 * ttft0);
  EXPECT_EQ(on.pools[0].replica_stats[0].prefix.hit_tokens, 1024);
}

TEST(PrefixCacheServing, CachedInputTokensPayForReadingTheirKv) {
  // The same two requests (2,048-token prompts 100 s apart, sharing k = 2 blocks of 512 tokens), priced.
  const auto path = mooncake_file("two_priced.jsonl", {{0, 2048, 4, {1, 2, 3, 4}}, {100000, 2048, 4, {1, 2, 7, 8}}});
  auto off_spec = mooncake_spec(path, false), on_spec = mooncake_spec(path, true);
  off_spec.pools[0].usd_per_chip_hour = on_spec.pools[0].usd_per_chip_hour = 3.6;
  const auto off = serving::simulate(off_spec), on = serving::simulate(on_spec);
  const auto c_off = cost::compute_cost(off_spec, off), c_on = cost::compute_cost(on_spec, on);
  // The requests never overlap: request 0 prefills 2,048 tokens in one step, request 1 the other 1,024 tokens
  // of its prompt after its k x 512 = 1,024 cached ones, each then decodes alone. Prefill's chip time is
  // T(2048 | 0) + T(1024 | 1024), where T(c | p) prices a chunk of c tokens after p cached ones; reading the
  // cached KV adds T(1024 | 1024) - T(1024 | 0) of it, which the 1,024 cached tokens pay for.
  const auto& pool = on_spec.pools[0];
  const roofline::StepCostModel model(pool.model, pool.hardware, pool.deployment);
  auto chunk = [&](std::int64_t c, std::int64_t p) {
    roofline::StepShape s;
    s.add_prefill_chunk(c, p, true);
    return model.evaluate(s).time_s;
  };
  const double prefill_s = chunk(2048, 0) + chunk(1024, 1024), cached_s = chunk(1024, 1024) - chunk(1024, 0);
  ASSERT_GT(cached_s, 0.0);
  EXPECT_NEAR(on.pools[0].replica_stats[0].cached_prefill_busy_s, cached_s, 1e-12);
  EXPECT_NEAR(on.pools[0].replica_stats[0].prefill_busy_s, prefill_s, 1e-12);
  // Prefill's dollars (the input tokens' share, unchanged by the split) divide as its time does.
  const double prefill_usd = c_on.usd_per_million_input_tokens * 4096 / 1e6;
  EXPECT_NEAR(prefill_usd, c_on.prefill_share * c_on.total_usd, 1e-15);
  const double cached_usd = prefill_usd * cached_s / prefill_s;
  EXPECT_NEAR(c_on.usd_per_million_cached_input_tokens, cached_usd / 1024 * 1e6, 1e-9);
  EXPECT_NEAR(c_on.usd_per_million_fresh_input_tokens, (prefill_usd - cached_usd) / 3072 * 1e6, 1e-9);
  EXPECT_NEAR(c_on.cached_input_share, cached_usd / c_on.total_usd, 1e-12);
  // A cached token costs less than a fresh one: it is read, not computed.
  EXPECT_LT(c_on.usd_per_million_cached_input_tokens, 0.5 * c_on.usd_per_million_fresh_input_tokens);
  // Without the cache every input token is fresh, and the cached figures are zero.
  EXPECT_EQ(c_off.usd_per_million_cached_input_tokens, 0.0);
  EXPECT_EQ(c_off.cached_input_share, 0.0);
  EXPECT_EQ(off.pools[0].replica_stats[0].cached_prefill_busy_s, 0.0);
  EXPECT_DOUBLE_EQ(c_off.usd_per_million_fresh_input_tokens, c_off.usd_per_million_input_tokens);
}

TEST(PrefixCacheCost, HostTransfersAreCachedTokensTimeAndTheSplitAddsUp) {
  // One chip at $3.60 per hour for 1,000 s: $1. Prefill busy 300 s of 800 s busy: $0.375 to input tokens.
  // Cached tokens: 30 s of reading their KV in prefill steps plus 20 s of host-tier transfers, of prefill's
  // 300 + 20 s: 0.375 x 50 / 320 = $0.05859375 for 400,000 cached tokens, $0.31640625 for 600,000 fresh ones.
  serving::SimulationSpec spec;
  spec.pools.emplace_back();
  spec.pools[0].usd_per_chip_hour = 3.6;
  serving::SimulationResult r;
  r.duration_s = 1000;
  r.input_tokens = 1e6;
  r.cached_input_tokens = 4e5;
  r.output_tokens = 1e5;
  r.pools.emplace_back();
  auto& rs = r.pools[0].replica_stats.emplace_back();
  rs.prefill_busy_s = 300;
  rs.decode_busy_s = 500;
  rs.cached_prefill_busy_s = 30;
  rs.prefix.host_load_s = 20;
  const auto c = cost::compute_cost(spec, r);
  EXPECT_NEAR(c.usd_per_million_input_tokens, 0.375, 1e-12);
  EXPECT_NEAR(c.usd_per_million_cached_input_tokens, 0.146484375, 1e-12);
  EXPECT_NEAR(c.usd_per_million_fresh_input_tokens, 0.52734375, 1e-12);
  EXPECT_NEAR(c.cached_input_share, 0.05859375, 1e-12);
  EXPECT_NEAR(c.usd_per_million_cached_input_tokens * 0.4 + c.usd_per_million_fresh_input_tokens * 0.6,
              c.usd_per_million_input_tokens * 1.0, 1e-12);
  // A hit that no request kept (preempted, readmitted without it) leaves its reads with the fresh tokens.
  r.cached_input_tokens = 0;
  const auto lost = cost::compute_cost(spec, r);
  EXPECT_EQ(lost.usd_per_million_cached_input_tokens, 0.0);
  EXPECT_NEAR(lost.usd_per_million_fresh_input_tokens, 0.375, 1e-12);
}

/// The prefix-cache hit rate of a Mooncake trace with an unlimited cache, from the hash_ids alone: each
/// request hits the longest run of its leading blocks that an earlier request's prompt held (at most
/// (input - 1) / 512 blocks, so that one token is computed).
double unlimited_hit_rate(const std::string& path, std::size_t limit) {
  std::ifstream in(path);
  std::string line;
  std::set<std::vector<std::uint64_t>> seen;
  double hit = 0, total = 0;
  std::size_t n = 0;
  while (std::getline(in, line) && n++ < limit) {
    const auto j = nlohmann::json::parse(line);
    const auto h = j["hash_ids"].get<std::vector<std::uint64_t>>();
    const std::int64_t input = j["input_length"];
    const auto matchable = std::min<std::size_t>(h.size(), static_cast<std::size_t>((input - 1) / 512));
    std::size_t k = 0;
    while (k < matchable && seen.count(std::vector<std::uint64_t>(h.begin(), h.begin() + static_cast<long>(k) + 1))) ++k;
    hit += 512.0 * static_cast<double>(k);
    total += static_cast<double>(input);
    for (std::size_t i = 1; i <= h.size(); ++i) seen.insert(std::vector<std::uint64_t>(h.begin(), h.begin() + static_cast<long>(i)));
  }
  return hit / total;
}

TEST(PrefixCacheServing, MooncakeConversationHitRateAgainstAnUnlimitedCache) {
  const std::string path = testing::source_path("configs/traces/mooncake/conversation_trace.jsonl");
  const double unlimited = unlimited_hit_rate(path, 100000);
  std::printf("unlimited-cache hit rate of the conversation trace: %.4f\n", unlimited);
  EXPECT_NEAR(unlimited, 0.3734, 0.0005);
  // The first 2,000 requests on 4 replicas of an 8B model: a host tier large enough to keep every block
  // makes the cache unlimited, but a request only hits what an earlier one has finished prefilling.
  auto spec = mooncake_spec(path, true);
  spec.workload.requests = 2000;
  spec.pools[0].deployment.replicas = 4;
  spec.pools[0].router = serving::Router::prefix_affinity;
  spec.pools[0].scheduler.prefix_cache.host_gb = 1e5;
  spec.pools[0].scheduler.prefix_cache.affinity_max_imbalance = 1000000;  // always to the replica with the prefix
  const auto r = serving::simulate(spec);
  const double ideal = unlimited_hit_rate(path, 2000);
  const double got = r.cached_input_tokens / r.input_tokens;
  std::printf("2,000 requests: unlimited %.4f, simulated %.4f\n", ideal, got);
  EXPECT_LE(got, ideal + 1e-12);
  EXPECT_GT(got, 0.9 * ideal);
  // Blocks in use never exceeded the pool.
  for (const auto& rs : r.pools[0].replica_stats) EXPECT_LE(rs.kv_blocks_peak, rs.kv_blocks_total);
}

TEST(PrefixCacheServing, SmallCacheEvictsPreemptsAndStillCompletesEverything) {
  const std::string path = testing::source_path("configs/traces/mooncake/conversation_trace.jsonl");
  for (const std::string policy : {"continuous", "chunked_prefill", "static"}) {
    auto spec = mooncake_spec(path, true);
    spec.pools[0].scheduler.policy = policy;
    spec.workload.requests = 300;
    spec.workload.trace.rate_scale = 4;
    spec.pools[0].deployment.memory_utilization = 0.45;  // ~150k tokens of KV: evictions and preemptions
    const auto r = serving::simulate(spec);
    ASSERT_EQ(r.completed, 300) << policy;
    const auto& st = r.pools[0].replica_stats[0];
    EXPECT_GT(st.prefix.evictions, 0) << policy;
    EXPECT_LE(st.kv_blocks_peak, st.kv_blocks_total) << policy;
    for (const auto& q : r.request_table) EXPECT_EQ(q.generated, q.output_tokens) << policy;
  }
}

TEST(PrefixCacheServing, WithoutHashesTheCacheChangesNothing) {
  auto spec = testing::one_pool("llama-3.1-8b", "h100-sxm", "chunked_prefill");
  testing::fixed_tokens(spec, 700, 50);
  spec.workload.requests = 300;
  spec.workload.rate_per_s = 5;
  const auto off = serving::simulate(spec);
  spec.pools[0].scheduler.prefix_cache.enabled = true;
  const auto on = serving::simulate(spec);
  EXPECT_EQ(on.cached_input_tokens, 0.0);
  EXPECT_EQ(on.ttft.p99, off.ttft.p99);
  EXPECT_EQ(on.duration_s, off.duration_s);
}

// ---- Reasoning traffic (configs/scenarios/reasoning-deepseek-r1-8xh200.json): long outputs fill the KV cache.

serving::SimulationSpec reasoning_spec(double rate_per_s) {
  auto spec = testing::one_pool("deepseek-r1", "h200-sxm", "chunked_prefill", 1024, 8192);
  spec.pools[0].deployment.tensor_parallel = 8;
  spec.pools[0].deployment.expert_parallel = 8;
  auto& w = spec.workload;
  w.requests = 800;
  w.seed = 17;
  w.process = workload::ArrivalProcess::poisson;
  w.rate_per_s = rate_per_s;
  w.input.kind = w.output.kind = workload::TokenDistribution::Kind::lognormal;
  w.input.median = 600, w.input.sigma = 0.8, w.input.max = 8192;
  w.output.median = 4000, w.output.sigma = 0.6, w.output.max = 32768;
  return spec;
}

TEST(Reasoning, LongOutputsFillTheKvCacheAndPreemptOnlyUnderLoad) {
  const auto light = serving::simulate(reasoning_spec(1));
  const auto heavy = serving::simulate(reasoning_spec(3));
  for (const auto* r : {&light, &heavy}) {
    ASSERT_EQ(r->completed, 800);
    for (const auto& q : r->request_table) ASSERT_EQ(q.generated, q.output_tokens);
    const auto& st = r->pools[0].replica_stats[0];
    EXPECT_LE(st.kv_blocks_peak, st.kv_blocks_total);
  }
  // At 1 request/s about 1,000 sequences of ~4,000 tokens never fill 1.4 M tokens; at 3/s they do: the
  // newest are preempted and recomputed, and the first tokens of the requests behind them wait.
  EXPECT_EQ(light.preemptions, 0);
  EXPECT_GT(heavy.preemptions, 100);
  EXPECT_EQ(heavy.pools[0].replica_stats[0].kv_blocks_peak, heavy.pools[0].replica_stats[0].kv_blocks_total);
  EXPECT_GT(heavy.ttft.p99, 10 * light.ttft.p99);
  // The overload warning's statistic: at 1/s the wait before the first step stays put, at 3/s it grows.
  const auto g_light = scenario::queue_growth(light.request_table);
  const auto g_heavy = scenario::queue_growth(heavy.request_table);
  ASSERT_TRUE(g_light && g_heavy);
  EXPECT_LT(g_light->growth, scenario::kQueueGrowthWarning);
  EXPECT_GT(g_heavy->growth, scenario::kQueueGrowthWarning);
  EXPECT_GT(g_heavy->wait_last_s - g_heavy->wait_first_s, scenario::kQueueGrowthMinExtraWaitS);
}

}  // namespace
}  // namespace infersim
