#include "infersim/serving/prefix_cache.hpp"

#include <algorithm>
#include <cmath>

#include "infersim/core/check.hpp"
#include "infersim/core/error.hpp"
#include "infersim/serving/kv_cache.hpp"

namespace infersim::serving {

void BlockHashes::add(std::uint32_t id, const std::uint64_t* hashes, std::uint32_t count, std::uint32_t generated) {
  if (block_tokens_ <= 0) {  // a workload without hashes: nothing to keep (count() and total() stay 0)
    INFERSIM_CHECK(count + generated == 0, "block hashes of request " + std::to_string(id) + " in a workload without hash blocks");
    return;
  }
  INFERSIM_CHECK(id + 1 == offsets_.size(), "block hashes added out of request order");
  hashes_.insert(hashes_.end(), hashes, hashes + count + generated);
  offsets_.push_back(hashes_.size());
  prompt_.push_back(count);
}

std::uint64_t chain_key(std::uint64_t previous, std::uint64_t block_hash) {
  // splitmix64 of the pair: equal chains give equal keys; a different block anywhere before changes the key.
  std::uint64_t z = previous * 0x9E3779B97F4A7C15ull + block_hash + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

PrefixCache::PrefixCache(const PrefixCacheSpec& spec, BlockPool& pool, const BlockHashes& hashes,
                         double kv_bytes_per_token_per_chip)
    : spec_(spec), pool_(pool), hashes_(hashes), per_entry_(0) {
  const std::int64_t t = hashes.block_tokens();
  if (t > 0 && t % pool.block_size() != 0) {
    throw InfeasibleError("the prefix cache needs scheduler.block_size (" + std::to_string(pool.block_size()) +
                          " tokens) to divide the workload's hash blocks of " + std::to_string(t) + " tokens");
  }
  if (pool.footprint().full_weight <= 0) {
    // Every layer is local: a cached prefix would hold only windows, which a hit past them cannot use.
    throw InfeasibleError("a prefix cache with a model whose every layer has local attention is not modelled: "
                          "turn scheduler.prefix_cache off");
  }
  // A cached block holds the full-attention layers' cache of its tokens (a unit a token); the local layers'
  // windows stay with the requests that use them.
  per_entry_ = t > 0 ? t / pool.block_size() : 0;
  const double entry_bytes = static_cast<double>(t) * kv_bytes_per_token_per_chip;
  if (entry_bytes > 0) {
    host_capacity_ = static_cast<std::int64_t>(spec.host_gb * 1e9 / entry_bytes);
    load_s_per_entry_ = entry_bytes / spec.host_link_bytes_per_s;
  }
}

std::int64_t PrefixCache::matchable(std::uint32_t id, std::int64_t input_tokens) const {
  const std::int64_t t = hashes_.block_tokens();
  if (t <= 0) return 0;
  // At least one prompt token is computed (it yields the first output token).
  return std::min<std::int64_t>(hashes_.count(id), (input_tokens - 1) / t);
}

std::int64_t PrefixCache::cached_tokens(std::uint32_t id, std::int64_t input_tokens) const {
  const std::int64_t n = matchable(id, input_tokens);
  const std::uint64_t* h = n > 0 ? hashes_.of(id) : nullptr;
  std::uint64_t key = 0;
  std::int64_t k = 0;
  for (; k < n; ++k) {
    key = chain_key(key, h[k]);
    if (index_.find(key) == index_.end()) break;
  }
  return k * hashes_.block_tokens();
}

void PrefixCache::unlink(std::uint32_t e) {
  Entry& x = entries_[e];
  LruList& l = lru_[static_cast<int>(x.tier)];
  (x.prev == kNone ? l.head : entries_[x.prev].next) = x.next;
  (x.next == kNone ? l.tail : entries_[x.next].prev) = x.prev;
  x.prev = x.next = kNone;
}

void PrefixCache::push_back(std::uint32_t e) {
  Entry& x = entries_[e];
  LruList& l = lru_[static_cast<int>(x.tier)];
  x.prev = l.tail;
  x.next = kNone;
  (l.tail == kNone ? l.head : entries_[l.tail].next) = e;
  l.tail = e;
}

void PrefixCache::ref(std::uint32_t e) {
  Entry& x = entries_[e];
  if (x.refs++ == 0) {
    unlink(e);  // referenced entries are in no LRU list: they cannot be evicted
    ++referenced_entries_;
  }
}

void PrefixCache::unref(std::uint32_t e) {
  Entry& x = entries_[e];
  INFERSIM_CHECK(x.refs > 0, "a cached prefix block released more often than it was shared");
  if (--x.refs == 0) {
    push_back(e);  // most recently used
    --referenced_entries_;
  }
}

std::uint32_t PrefixCache::new_entry(std::uint64_t key, Tier tier) {
  std::uint32_t e;
  if (!free_.empty()) {
    e = free_.back();
    free_.pop_back();
  } else {
    e = static_cast<std::uint32_t>(entries_.size());
    entries_.emplace_back();
  }
  entries_[e] = Entry{key, 0, tier, kNone, kNone};
  index_.emplace(key, e);
  return e;
}

void PrefixCache::erase(std::uint32_t e) {
  index_.erase(entries_[e].key);
  free_.push_back(e);
}

std::int64_t PrefixCache::acquire(std::uint32_t id, std::int64_t input_tokens, engine::SimTime now) {
  const std::int64_t n = matchable(id, input_tokens);
  Holding& hold = held_[id];
  INFERSIM_CHECK(hold.entries.empty(), "request " + std::to_string(id) + " admitted while holding cached blocks");
  const std::uint64_t* h = n > 0 ? hashes_.of(id) : nullptr;
  std::uint64_t key = 0;
  std::vector<std::uint32_t> from_host;
  for (std::int64_t k = 0; k < n; ++k) {
    key = chain_key(key, h[k]);
    const auto it = index_.find(key);
    if (it == index_.end()) break;
    ref(it->second);
    hold.entries.push_back(it->second);
    if (entries_[it->second].tier == Tier::host) from_host.push_back(it->second);
  }
  hold.matched = static_cast<std::int64_t>(hold.entries.size());
  if (!from_host.empty()) {
    // Host blocks need device blocks again (evicting unreferenced device blocks if need be).
    const auto blocks = static_cast<std::int64_t>(from_host.size()) * per_entry_;
    if (!pool_.allocate(blocks, now)) {
      for (std::uint32_t e : hold.entries) unref(e);
      held_.erase(id);
      return -1;
    }
    for (std::uint32_t e : from_host) {
      entries_[e].tier = Tier::device;
      --host_entries_;
      ++device_entries_;
    }
    const double load_s = static_cast<double>(from_host.size()) * load_s_per_entry_;
    pending_load_s_ += load_s;
    stats_.host_load_s += load_s;
    stats_.host_hit_tokens += static_cast<std::int64_t>(from_host.size()) * hashes_.block_tokens();
    stats_.peak_cached_blocks = std::max(stats_.peak_cached_blocks, device_entries_);
  }
  const std::int64_t tokens = hold.matched * hashes_.block_tokens();
  ++stats_.lookups;
  stats_.input_tokens += input_tokens;
  stats_.hit_tokens += tokens;
  shared_total_ += static_cast<std::int64_t>(hold.entries.size());
  return tokens;
}

std::int64_t PrefixCache::physical_blocks(std::int64_t held_by_requests) const {
  return held_by_requests - (shared_total_ - device_entries_) * per_entry_;
}

std::int64_t PrefixCache::shared_blocks(std::uint32_t id) const {
  const auto it = held_.find(id);
  return it == held_.end() ? 0 : static_cast<std::int64_t>(it->second.entries.size()) * per_entry_;
}

void PrefixCache::on_prefilled(std::uint32_t id, std::int64_t input_tokens, engine::SimTime) {
  const std::int64_t t = hashes_.block_tokens();
  if (t <= 0) return;
  donate(id, std::min<std::int64_t>(hashes_.count(id), input_tokens / t));
}

void PrefixCache::on_completed(std::uint32_t id, std::int64_t kv_tokens, engine::SimTime) {
  const std::int64_t t = hashes_.block_tokens();
  if (t <= 0 || hashes_.total(id) == hashes_.count(id)) return;  // no output hashes: nothing more to keep
  donate(id, std::min<std::int64_t>(hashes_.total(id), kv_tokens / t));
}

void PrefixCache::donate(std::uint32_t id, std::int64_t full) {
  Holding& hold = held_[id];
  if (hold.matched >= full) return;
  const std::uint64_t* h = hashes_.of(id);
  std::uint64_t key = 0;
  for (std::int64_t k = 0; k < hold.matched; ++k) key = chain_key(key, h[k]);
  for (std::int64_t k = hold.matched; k < full; ++k) {
    key = chain_key(key, h[k]);
    if (index_.count(key)) continue;  // cached meanwhile by another request: this copy stays the request's own
    // The request's device blocks for this hash block now belong to the cache (no copy, no new blocks).
    const std::uint32_t e = new_entry(key, Tier::device);
    ++device_entries_;
    push_back(e);  // ref() takes it off the LRU list again
    ref(e);
    hold.entries.push_back(e);
    ++shared_total_;
  }
  hold.matched = full;
  stats_.peak_cached_blocks = std::max(stats_.peak_cached_blocks, device_entries_);
}

std::int64_t PrefixCache::release(std::uint32_t id, engine::SimTime) {
  const auto it = held_.find(id);
  if (it == held_.end()) return 0;
  const auto n = static_cast<std::int64_t>(it->second.entries.size());
  const std::int64_t shared = n * per_entry_;
  for (std::uint32_t e : it->second.entries) unref(e);
  held_.erase(it);
  shared_total_ -= n;
  return shared;
}

std::int64_t PrefixCache::evict(std::int64_t blocks, engine::SimTime now) {
  std::int64_t freed = 0;
  LruList& device = lru_[static_cast<int>(Tier::device)];
  LruList& host = lru_[static_cast<int>(Tier::host)];
  while (freed < blocks && device.head != kNone) {
    const std::uint32_t e = device.head;
    unlink(e);
    --device_entries_;
    ++stats_.evictions;
    freed += per_entry_;
    if (host_entries_ >= host_capacity_ && host.head != kNone) {  // the host tier is full: drop its LRU block
      const std::uint32_t old = host.head;
      unlink(old);
      erase(old);
      --host_entries_;
      ++stats_.host_evictions;
    }
    if (host_entries_ < host_capacity_) {
      entries_[e].tier = Tier::host;
      push_back(e);
      ++host_entries_;
    } else {
      erase(e);
    }
  }
  if (freed > 0) pool_.release(freed, now);
  return freed;
}

double PrefixCache::take_load_s() {
  const double s = pending_load_s_;
  pending_load_s_ = 0;
  return s;
}

}  // namespace infersim::serving
