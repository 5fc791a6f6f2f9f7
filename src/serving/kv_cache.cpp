#include "infersim/serving/kv_cache.hpp"

#include <algorithm>
#include <stdexcept>

namespace infersim::serving {

void BlockPool::advance(engine::SimTime now) {
  if (now > last_change_) {
    area_ += static_cast<double>(used_) * static_cast<double>(now - last_change_);
    last_change_ = now;
  }
}

bool BlockPool::allocate(std::int64_t n, engine::SimTime now) {
  if (n > free()) return false;
  advance(now);
  used_ += n;
  peak_ = std::max(peak_, used_);
  return true;
}

void BlockPool::release(std::int64_t n, engine::SimTime now) {
  if (n > used_) throw std::logic_error("KV blocks released twice");
  advance(now);
  used_ -= n;
}

double BlockPool::used_block_ns(engine::SimTime now) const {
  return area_ + (now > last_change_ ? static_cast<double>(used_) * static_cast<double>(now - last_change_) : 0.0);
}

}  // namespace infersim::serving
