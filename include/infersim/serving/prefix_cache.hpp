#pragma once
// Automatic prefix caching (vLLM's APC, SGLang's RadixAttention, TensorRT-LLM's KV reuse) in one replica.
//
// A request's prompt is a chain of hash blocks (`hash_block_tokens` tokens each; the Mooncake traces' 512,
// or synthetic sessions'); a block is identified by the hash of its chain (its own hash and every hash
// before it), so equal keys mean an equal prefix. Each cached block occupies hash_block_tokens / block_size
// blocks of the replica's BlockPool and has a reference count:
// - admission (acquire): the longest chain of the prompt's blocks the cache holds is shared by the request
//   (ref + 1); its tokens are not prefilled again (attention still reads them: they count as KV tokens of the
//   request). At least one prompt token is always computed, so a prompt's last block is never a hit when the
//   prompt ends on a block boundary (as vLLM). Blocks held in the host tier come back over the host link: they
//   take device blocks again, and the transfer time is added to the step that admits the request.
// - prefill done (on_prefilled): the request's full prompt blocks not yet cached become cache blocks it
//   references (their device blocks move from the request to the cache; nothing is copied).
// - completion (on_completed): likewise the blocks its output filled, where the workload hashed them
//   (sessions: the next turn's prompt holds them; vLLM and SGLang keep a finished request's full blocks too).
// - leaving (release): every reference is dropped; a block whose count reaches 0 stays cached, evictable.
// - allocation short of free blocks (the BlockPool calls evict): unreferenced blocks are evicted, least
//   recently used first; with a host tier they move there (evicting its own LRU blocks when full).
// Invariants: blocks in use (requests' and the cache's) never exceed the pool; a referenced block is never
// evicted, so a shared block is freed only after its last user is done.
//
// The request's RunningSet entry counts all its blocks, shared ones included (`blocks`); the pool counts each
// physical block once: a request's own blocks are its `blocks` less shared_blocks(id).

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "infersim/engine/sim_time.hpp"
#include "infersim/serving/serving_spec.hpp"

namespace infersim::serving {

class BlockPool;

/// Every request's block hashes, indexed by request id (compact: one array for all requests): its prompt's,
/// then those of the blocks its output fills where the workload knows them (Request::generated_hash_count).
class BlockHashes {
 public:
  explicit BlockHashes(std::int64_t block_tokens = 0) : block_tokens_(block_tokens) {}
  /// Append request `id`'s `count` prompt hashes and `generated` output hashes after them (ids are added in
  /// order 0, 1, 2, ...). Without hash blocks (block_tokens() 0) there are none, and nothing is kept.
  void add(std::uint32_t id, const std::uint64_t* hashes, std::uint32_t count, std::uint32_t generated = 0);
  std::int64_t block_tokens() const { return block_tokens_; }
  /// The prompt's hashes.
  std::uint32_t count(std::uint32_t id) const { return id < prompt_.size() ? prompt_[id] : 0; }
  /// The prompt's and the output's hashes.
  std::uint32_t total(std::uint32_t id) const {
    return id + 1 < offsets_.size() ? static_cast<std::uint32_t>(offsets_[id + 1] - offsets_[id]) : 0;
  }
  const std::uint64_t* of(std::uint32_t id) const { return hashes_.data() + offsets_[id]; }

 private:
  std::int64_t block_tokens_;
  std::vector<std::uint64_t> offsets_{0};
  std::vector<std::uint32_t> prompt_;
  std::vector<std::uint64_t> hashes_;
};

/// The key of block i of a chain: a hash of the key of block i - 1 and the block's own hash.
std::uint64_t chain_key(std::uint64_t previous, std::uint64_t block_hash);

struct PrefixCacheStats {
  std::int64_t lookups = 0;            // admissions looked up
  std::int64_t input_tokens = 0;       // prompt tokens of those admissions
  std::int64_t hit_tokens = 0;         // of which served from the cache (device or host tier)
  std::int64_t host_hit_tokens = 0;    // of which brought back from the host tier
  std::int64_t evictions = 0;          // cached blocks evicted from the device (to the host tier or dropped)
  std::int64_t host_evictions = 0;     // cached blocks dropped from the host tier
  double host_load_s = 0;              // time spent bringing blocks back from the host tier
  std::int64_t peak_cached_blocks = 0; // most hash blocks on the device at once
};

class PrefixCache {
 public:
  /// `kv_bytes_per_token_per_chip`: KV of one token on one chip (for the host tier's size and transfers).
  PrefixCache(const PrefixCacheSpec& spec, BlockPool& pool, const BlockHashes& hashes, double kv_bytes_per_token_per_chip);

  /// Prompt tokens of request `id` the cache would serve now (device and host tiers).
  std::int64_t cached_tokens(std::uint32_t id, std::int64_t input_tokens) const;
  /// Admission: share the cached prefix (bringing host blocks back); the prompt tokens it covers, or -1 (and
  /// nothing held) when the device has no room for the host blocks.
  std::int64_t acquire(std::uint32_t id, std::int64_t input_tokens, engine::SimTime now);
  /// Pool blocks of request `id` that belong to the cache (not to be released by the request).
  std::int64_t shared_blocks(std::uint32_t id) const;
  /// The request's prompt is computed: its full prompt blocks join the cache.
  void on_prefilled(std::uint32_t id, std::int64_t input_tokens, engine::SimTime now);
  /// The request completed with `kv_tokens` tokens of KV (prompt and output): the full blocks its output
  /// filled join the cache as on_prefilled (none when the workload has no output hashes, e.g. traces).
  void on_completed(std::uint32_t id, std::int64_t kv_tokens, engine::SimTime now);
  /// The request leaves (completed, handed off or preempted): drop its references; returns its shared blocks.
  std::int64_t release(std::uint32_t id, engine::SimTime now);
  /// Free at least `blocks` pool blocks by evicting unreferenced cached blocks (LRU); returns the blocks freed.
  std::int64_t evict(std::int64_t blocks, engine::SimTime now);
  /// Pool blocks in use when the requests' entries add up to `held_by_requests` (shared blocks counted once per
  /// user): theirs less the shared ones, plus every cached block on the device (for the invariant checks).
  std::int64_t physical_blocks(std::int64_t held_by_requests) const;
  /// Host-tier transfer time of the admissions since the last call (added to the step that admits them).
  double take_load_s();
  /// The transfer time take_load_s() would return now (0 while no admission loaded blocks from the host).
  double pending_load_s() const { return pending_load_s_; }

  const PrefixCacheStats& stats() const { return stats_; }
  /// Hash blocks cached on the device, referenced or not; and those referenced.
  std::int64_t device_entries() const { return device_entries_; }
  std::int64_t referenced_entries() const { return referenced_entries_; }
  std::int64_t host_entries() const { return host_entries_; }
  std::int64_t pool_blocks_per_entry() const { return per_entry_; }
  /// Pool blocks that evict() could free now (unreferenced cached blocks on the device).
  std::int64_t evictable_blocks() const { return (device_entries_ - referenced_entries_) * per_entry_; }

 private:
  enum class Tier : std::uint8_t { device, host };
  static constexpr std::uint32_t kNone = 0xffffffffu;
  struct Entry {
    std::uint64_t key = 0;
    std::int32_t refs = 0;
    Tier tier = Tier::device;
    std::uint32_t prev = kNone, next = kNone;  // in its tier's LRU list (unreferenced entries only)
  };
  struct LruList {
    std::uint32_t head = kNone, tail = kNone;  // head: least recently used
  };
  struct Holding {
    std::vector<std::uint32_t> entries;  // entries the request references, in block order
    std::int64_t matched = 0;            // blocks covered from the start (hit, then donated)
  };

  std::int64_t matchable(std::uint32_t id, std::int64_t input_tokens) const;
  /// The request's first `full` hash blocks are computed: those not yet cached join the cache.
  void donate(std::uint32_t id, std::int64_t full);
  void unlink(std::uint32_t e);
  void push_back(std::uint32_t e);
  void ref(std::uint32_t e);
  void unref(std::uint32_t e);
  std::uint32_t new_entry(std::uint64_t key, Tier tier);
  void erase(std::uint32_t e);

  PrefixCacheSpec spec_;
  BlockPool& pool_;
  const BlockHashes& hashes_;
  std::int64_t per_entry_;            // pool blocks per hash block
  std::int64_t host_capacity_ = 0;    // hash blocks the host tier holds
  double load_s_per_entry_ = 0;       // host -> device transfer of one hash block
  std::unordered_map<std::uint64_t, std::uint32_t> index_;
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> free_;
  LruList lru_[2];
  std::unordered_map<std::uint32_t, Holding> held_;
  std::int64_t device_entries_ = 0, referenced_entries_ = 0, host_entries_ = 0;
  std::int64_t shared_total_ = 0;  // references held by requests (an entry shared by two counts twice)
  double pending_load_s_ = 0;
  PrefixCacheStats stats_;
};

}  // namespace infersim::serving
