#pragma once
// The paged KV cache of one replica: a pool of fixed-size blocks (vLLM's PagedAttention layout). Requests
// hold whole blocks; a request with n cached tokens holds ceil(n / block_size) of them. The pool also keeps
// the time-weighted usage for the utilization metric. A model with local-attention layers counts a block in
// units of its KvFootprint (parallelism/kv_footprint.hpp): a sequence's tokens inside the window take the
// local layers' share too, and its blocks stop growing at that rate once it passes the window. With a prefix
// cache attached (prefix_cache.hpp), cached blocks count as used, an allocation short of free blocks first
// evicts unreferenced cached blocks, and a request's shared blocks go back to the cache, not to the pool, when
// it leaves.

#include <algorithm>
#include <cstdint>

#include "infersim/engine/sim_time.hpp"
#include "infersim/parallelism/kv_footprint.hpp"

namespace infersim::serving {

class PrefixCache;

class BlockPool {
 public:
  BlockPool(std::int64_t total_blocks, std::int64_t block_size, const parallelism::KvFootprint& footprint = {})
      : total_(total_blocks), block_size_(block_size), footprint_(footprint) {}

  std::int64_t total() const { return total_; }
  std::int64_t used() const { return used_; }
  std::int64_t free() const { return total_ - used_; }
  std::int64_t block_size() const { return block_size_; }
  const parallelism::KvFootprint& footprint() const { return footprint_; }
  /// Blocks a sequence of `tokens` tokens holds.
  std::int64_t blocks_for(std::int64_t tokens) const { return footprint_.blocks(tokens, block_size_); }
  /// Blocks a sequence holding `held` must take to grow to `tokens` tokens.
  std::int64_t blocks_to_grow(std::int64_t tokens, std::int64_t held) const {
    if (footprint_.plain()) return tokens > held * block_size_ ? (tokens + block_size_ - 1) / block_size_ - held : 0;
    return std::max<std::int64_t>(0, footprint_.blocks(tokens, block_size_) - held);
  }

  /// Take n blocks (evicting unreferenced cached prefix blocks if need be); false (and nothing taken) when
  /// fewer are free.
  bool allocate(std::int64_t n, engine::SimTime now);
  void release(std::int64_t n, engine::SimTime now);
  /// Request `id`, holding `blocks` (its shared prefix blocks included), leaves: its own blocks return to the
  /// pool, its shared ones to the prefix cache.
  void release_request(std::uint32_t id, std::int64_t blocks, engine::SimTime now);
  /// Blocks in use when running requests hold `held` (shared blocks counted once per user).
  std::int64_t expected_used(std::int64_t held) const;

  void attach(PrefixCache* cache) { prefix_ = cache; }
  PrefixCache* prefix_cache() const { return prefix_; }

  /// Integral of used blocks over time up to `now`, in block-nanoseconds; and the peak.
  double used_block_ns(engine::SimTime now) const;
  std::int64_t peak() const { return peak_; }

 private:
  void advance(engine::SimTime now);
  std::int64_t total_, block_size_;
  parallelism::KvFootprint footprint_;
  std::int64_t used_ = 0, peak_ = 0;
  engine::SimTime last_change_ = 0;
  double area_ = 0;
  PrefixCache* prefix_ = nullptr;
};

}  // namespace infersim::serving
