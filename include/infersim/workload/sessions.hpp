#pragma once
// The turns of synthetic sessions (SessionSpec, docs/serving.md "Sessions"), drawn from the workload's seed.
//
// Every session's system prompt, number of turns, and each turn's message, output and think time are drawn
// when the workload is built, each quantity from its own random stream in session order, so that the
// samples do not depend on when the simulation asks for the turns (their arrivals do: a turn arrives its
// think time after the previous turn completes). Sessions are drawn until their turns add up to the
// workload's request count; the last one is cut short to make the total exact.
//
// Turn k's prompt is the conversation so far: the system prompt, every earlier message and response, and its
// own message. Its block hashes are one per full block of `block_tokens` tokens of that prompt (a partial last
// block has none: it cannot be shared); the hashes of the blocks its output fills follow them
// (Request::generated_hash_count), so that a prefix cache keeps the response for the next turn. A block that lies wholly within the system prompt has a hash of the
// system prompt and its index, shared by every session of that prompt; any later block has a hash of the
// session and its index, shared by the session's later turns (its conversation only grows).

#include <cstdint>
#include <vector>

#include "infersim/engine/sim_time.hpp"
#include "infersim/workload/request.hpp"
#include "infersim/workload/workload_spec.hpp"

namespace infersim::workload {

class Sessions {
 public:
  /// Draw the sessions of `spec` (spec.sessions.enabled) for spec.requests requests.
  explicit Sessions(const WorkloadSpec& spec);

  std::uint32_t count() const { return static_cast<std::uint32_t>(sessions_.size()); }
  std::uint32_t turns(std::uint32_t session) const { return sessions_[session].turns; }
  /// Session s's next turn into `out` (input and output tokens, block hashes, session; not its id or arrival);
  /// false when it has none left. `think_s`: the think time before it (0 for a first turn). The hashes stay
  /// valid until the session's next call.
  bool next_turn(std::uint32_t session, Request& out, double& think_s);

 private:
  struct Session {
    std::uint32_t system_prompt = 0;
    std::uint32_t turns = 0;
    std::uint32_t issued = 0;   // turns handed out so far
    std::uint64_t first = 0;    // index of its first turn in message_, output_ and think_s_
    std::int64_t context = 0;   // tokens before its next message: system prompt, earlier messages and outputs
  };

  std::uint64_t block_hash(const Session& s, std::uint32_t session, std::int64_t block) const;

  SessionSpec spec_;
  std::vector<Session> sessions_;
  std::vector<std::int32_t> message_, output_;
  std::vector<double> think_s_;
  std::vector<std::vector<std::uint64_t>> hashes_;  // each session's block hashes so far (prompts and outputs)
};

}  // namespace infersim::workload
