#include "infersim/serving/batch_scheduler.hpp"

#include <stdexcept>

#include "infersim/core/error.hpp"
#include "infersim/core/strings.hpp"
#include "infersim/serving/prefix_cache.hpp"

namespace infersim::serving {

std::size_t RunningSet::push(std::uint32_t request, std::uint64_t admission, std::int64_t prefill, const RequestRecord& r) {
  id.push_back(request);
  seq.push_back(admission);
  kv_tokens.push_back(0);
  prefill_left.push_back(prefill);
  blocks.push_back(0);
  generated.push_back(r.generated);
  output.push_back(r.output_tokens);
  last_token.push_back(r.last_token);
  cost_usd.push_back(r.cost_usd);
  finished.push_back(0);
  return id.size() - 1;
}

void RunningSet::remove_swap(std::size_t i) {
  const std::size_t last = id.size() - 1;
  if (i != last) {
    id[i] = id[last];
    seq[i] = seq[last];
    kv_tokens[i] = kv_tokens[last];
    prefill_left[i] = prefill_left[last];
    blocks[i] = blocks[last];
    generated[i] = generated[last];
    output[i] = output[last];
    last_token[i] = last_token[last];
    cost_usd[i] = cost_usd[last];
    finished[i] = finished[last];
  }
  id.pop_back();
  seq.pop_back();
  kv_tokens.pop_back();
  prefill_left.pop_back();
  blocks.pop_back();
  generated.pop_back();
  output.pop_back();
  last_token.pop_back();
  cost_usd.pop_back();
  finished.pop_back();
}

std::size_t RunningSet::newest() const {
  std::size_t best = 0;
  for (std::size_t i = 1; i < seq.size(); ++i) {
    if (seq[i] > seq[best]) best = i;
  }
  return best;
}

void RunningSet::clear() {
  id.clear();
  seq.clear();
  kv_tokens.clear();
  prefill_left.clear();
  blocks.clear();
  generated.clear();
  output.clear();
  last_token.clear();
  cost_usd.clear();
  finished.clear();
}

std::int64_t SchedulerContext::prefill_tokens(std::uint32_t id) const {
  const RequestRecord& r = requests_[id];
  const PrefixCache* prefix = kv_.prefix_cache();
  const std::int64_t cached = prefix && r.transferred == 0 ? prefix->cached_tokens(id, r.input_tokens) : 0;
  return static_cast<std::int64_t>(r.input_tokens) + r.generated - r.transferred - cached;
}

bool SchedulerContext::admit(std::int64_t reserve_tokens) {
  if (waiting_.empty()) return false;
  const std::uint32_t id = waiting_.front();
  RequestRecord& rec = requests_[id];
  std::int64_t cached = rec.transferred;  // KV that arrived with the request
  // Or a prompt prefix the replica's prefix cache holds: shared, so only the rest takes new blocks.
  PrefixCache* prefix = kv_.prefix_cache();
  std::int64_t shared = 0;
  if (prefix && cached == 0) {
    cached = prefix->acquire(id, rec.input_tokens, now_);
    if (cached < 0) return false;
    shared = prefix->shared_blocks(id);
  }
  const std::int64_t prompt_left = static_cast<std::int64_t>(rec.input_tokens) + rec.generated - cached;
  const std::int64_t output_left = static_cast<std::int64_t>(rec.output_tokens) - rec.generated;
  const std::int64_t blocks = kv_.blocks_for(cached + reserve_tokens);
  // Free KV for the reserve: free blocks and the cached prefix blocks an allocation would evict (SGLang's
  // available + evictable), the request's own matched prefix being held by now.
  const std::int64_t available = kv_.free() + (prefix ? prefix->evictable_blocks() : 0);
  if ((reserve_ && !reserve_->admits(available * kv_.block_size(), cached, prompt_left, output_left)) ||
      !kv_.allocate(blocks - shared, now_)) {
    if (prefix) prefix->release(id, now_);
    return false;
  }
  if (reserve_) reserve_->admitted(cached + reserve_tokens, prompt_left - reserve_tokens, output_left);
  waiting_.pop_front();
  if (rec.first_scheduled < 0) rec.first_scheduled = now_;
  if (prefix && rec.transferred == 0) rec.cached_input = static_cast<std::int32_t>(cached);
  const std::size_t slot = running_.push(id, (*admissions_)++, prompt_left, rec);
  running_.kv_tokens[slot] = cached;
  running_.blocks[slot] = blocks;
  return true;
}

bool SchedulerContext::reserve(std::size_t slot, std::int64_t tokens) {
  const std::int64_t need = kv_.blocks_for(running_.kv_tokens[slot] + tokens) - running_.blocks[slot];
  if (need <= 0) return true;
  if (!kv_.allocate(need, now_)) return false;
  running_.blocks[slot] += need;
  return true;
}

void SchedulerContext::reserve_decodes() {
  RunningSet& r = running_;
  const std::int64_t bs = kv_.block_size();
  const std::int64_t ahead = decode_tokens_ + lookahead_tokens_;
  for (;;) {
    // An entry needs blocks when its next tokens do not fit in the blocks it holds. Branch-free so that the
    // compiler vectorizes it: take the blocks optimistically, give them back if the pool is short.
    const std::size_t n = r.size();
    grown_.resize(n);
    std::int64_t* __restrict blocks = r.blocks.data();
    const std::int64_t* __restrict kv = r.kv_tokens.data();
    const std::int64_t* __restrict left = r.prefill_left.data();
    const std::uint8_t* __restrict finished = r.finished.data();
    std::int64_t* __restrict grown = grown_.data();
    std::int64_t need = 0;
    if (ahead == 1 && kv_.footprint().plain()) {
      for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t g = static_cast<std::int64_t>(left[i] == 0) & static_cast<std::int64_t>(finished[i] == 0) &
                               static_cast<std::int64_t>(kv[i] + 1 > blocks[i] * bs);
        grown[i] = g;
        blocks[i] += g;
        need += g;
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        const bool decoding = left[i] == 0 && finished[i] == 0;
        const std::int64_t g = decoding ? kv_.blocks_to_grow(kv[i] + ahead, blocks[i]) : 0;
        grown[i] = g;
        blocks[i] += g;
        need += g;
      }
    }
    if (need == 0 || kv_.allocate(need, now_)) return;
    for (std::size_t i = 0; i < n; ++i) blocks[i] -= grown[i];
    if (r.empty()) return;
    preempt_newest();  // frees blocks (and maybe removes a needy entry); try again
  }
}

void SchedulerContext::preempt_newest() {
  if (running_.empty()) throw std::logic_error("preempt_newest on an empty running set");
  const std::size_t slot = running_.newest();
  const std::uint32_t id = running_.id[slot];
  kv_.release_request(id, running_.blocks[slot], now_);
  RequestRecord& rec = requests_[id];
  rec.generated = static_cast<std::int32_t>(running_.generated[slot]);
  rec.last_token = running_.last_token[slot];
  rec.cost_usd = running_.cost_usd[slot];
  rec.preemptions += 1;
  rec.transferred = 0;  // recompute: the KV is gone, the replica prefills it again
  running_.remove_swap(slot);
  waiting_.push_front(id);
  ++preemptions_;
}

void SchedulerRegistry::add(std::string name, std::string description, Factory factory) {
  entries_[std::move(name)] = Entry{std::move(description), std::move(factory)};
}

std::vector<std::string> SchedulerRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : entries_) out.push_back(name);
  return out;
}

std::unique_ptr<BatchScheduler> SchedulerRegistry::make(const SchedulerSpec& spec) const {
  auto it = entries_.find(spec.policy);
  if (it == entries_.end()) {
    const auto valid = names();
    std::string message = "unknown scheduler policy \"" + spec.policy + "\"";
    if (auto near = closest_match(spec.policy, valid)) message += "; did you mean \"" + *near + "\"?";
    throw InfeasibleError(message + " Valid policies: " + join(valid));
  }
  return it->second.factory(spec);
}

}  // namespace infersim::serving
