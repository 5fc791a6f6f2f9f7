#include "infersim/serving/kv_cache.hpp"

#include <algorithm>

#include "infersim/core/check.hpp"
#include "infersim/serving/prefix_cache.hpp"

namespace infersim::serving {

void BlockPool::advance(engine::SimTime now) {
  if (now > last_change_) {
    area_ += static_cast<double>(used_) * static_cast<double>(now - last_change_);
    last_change_ = now;
  }
}

bool BlockPool::allocate(std::int64_t n, engine::SimTime now) {
  INFERSIM_CHECK(n >= 0, "negative KV block allocation");
  if (n > free() && prefix_ && n <= free() + prefix_->evictable_blocks()) prefix_->evict(n - free(), now);
  if (n > free()) return false;
  advance(now);
  used_ += n;
  peak_ = std::max(peak_, used_);
  INFERSIM_CHECK(used_ <= total_, "KV blocks in use exceed the pool");
  return true;
}

void BlockPool::release(std::int64_t n, engine::SimTime now) {
  INFERSIM_CHECK(n >= 0, "negative KV block release");
  INFERSIM_CHECK(n <= used_, "KV blocks released twice (more released than in use)");
  advance(now);
  used_ -= n;
}

void BlockPool::release_request(std::uint32_t id, std::int64_t blocks, engine::SimTime now) {
  release(blocks - (prefix_ ? prefix_->release(id, now) : 0), now);
}

std::int64_t BlockPool::expected_used(std::int64_t held) const { return prefix_ ? prefix_->physical_blocks(held) : held; }

double BlockPool::used_block_ns(engine::SimTime now) const {
  return area_ + (now > last_change_ ? static_cast<double>(used_) * static_cast<double>(now - last_change_) : 0.0);
}

}  // namespace infersim::serving
