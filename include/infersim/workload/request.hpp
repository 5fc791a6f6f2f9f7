#pragma once
// A request as the workload generates it: when it arrives and how many tokens it reads and writes.

#include <cstdint>

#include "infersim/engine/sim_time.hpp"

namespace infersim::workload {

/// Request::session of a request that belongs to no session.
inline constexpr std::uint32_t kNoSession = 0xffffffffu;

struct Request {
  std::uint64_t id = 0;         // 0, 1, 2, ... in arrival order
  engine::SimTime arrival = 0;  // ns
  std::int64_t input_tokens = 1;
  std::int64_t output_tokens = 1;  // 0 = prefill only (a trace's cancelled request)
  /// The prompt's block hashes, one per RequestSource::hash_block_tokens() tokens, equal leading hashes =
  /// a shared prefix (prefix caching); owned by the RequestSource, which outlives the request. None: null.
  const std::uint64_t* hashes = nullptr;
  std::uint32_t hash_count = 0;
  /// Hashes after the prompt's (hashes[hash_count, + generated_hash_count)): the blocks that become full once
  /// the output is generated, when the workload knows them (sessions: the next turn's prompt holds them).
  /// The prompt's hashes are then exactly its full blocks. Traces: 0 (their rows carry prompt hashes only).
  std::uint32_t generated_hash_count = 0;
  std::uint32_t session = kNoSession;  // workload.sessions: the session it is a turn of
};

}  // namespace infersim::workload
