#include "infersim/serving/kv_cache.hpp"

#include <algorithm>

#include "infersim/core/check.hpp"

namespace infersim::serving {

void BlockPool::advance(engine::SimTime now) {
  if (now > last_change_) {
    area_ += static_cast<double>(used_) * static_cast<double>(now - last_change_);
    last_change_ = now;
  }
}

bool BlockPool::allocate(std::int64_t n, engine::SimTime now) {
  INFERSIM_CHECK(n >= 0, "negative KV block allocation");
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

double BlockPool::used_block_ns(engine::SimTime now) const {
  return area_ + (now > last_change_ ? static_cast<double>(used_) * static_cast<double>(now - last_change_) : 0.0);
}

}  // namespace infersim::serving
