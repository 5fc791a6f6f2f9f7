#include "infersim/workload/sessions.hpp"

#include <algorithm>

#include "infersim/core/error.hpp"
#include "infersim/core/limits.hpp"
#include "infersim/core/random.hpp"

namespace infersim::workload {

namespace {
// Random streams of the workload's seed (RequestSource uses 1 to 3: arrivals, input, output tokens).
constexpr std::uint64_t kTurnStream = 4, kThinkStream = 5, kSystemPromptStream = 6;
}  // namespace

Sessions::Sessions(const WorkloadSpec& spec) : spec_(spec.sessions) {
  Rng turns = Rng::stream(spec.seed, kTurnStream), think = Rng::stream(spec.seed, kThinkStream),
      prompts = Rng::stream(spec.seed, kSystemPromptStream), messages = Rng::stream(spec.seed, 2),
      outputs = Rng::stream(spec.seed, 3);
  const auto total = static_cast<std::uint64_t>(std::max<std::int64_t>(spec.requests, 0));
  message_.reserve(total);
  output_.reserve(total);
  think_s_.reserve(total);
  while (message_.size() < total) {
    Session s;
    s.system_prompt = static_cast<std::uint32_t>(prompts.uniform_int(0, spec_.system_prompts - 1));
    const auto drawn = static_cast<std::uint64_t>(spec_.turns.sample(turns));
    s.turns = static_cast<std::uint32_t>(std::min(drawn, total - message_.size()));
    s.first = message_.size();
    s.context = spec_.system_prompt_tokens;
    for (std::uint32_t k = 0; k < s.turns; ++k) {
      message_.push_back(static_cast<std::int32_t>(spec_.message.sample(messages)));
      output_.push_back(static_cast<std::int32_t>(spec.output.sample(outputs)));
      think_s_.push_back(k == 0 ? 0.0 : spec_.think_time.sample(think));
    }
    sessions_.push_back(s);
  }
  hashes_.resize(sessions_.size());
}

std::uint64_t Sessions::block_hash(const Session& s, std::uint32_t session, std::int64_t block) const {
  // Blocks wholly inside the system prompt belong to it (every session of the prompt shares them); the rest
  // belong to the session. Two rounds of SplitMix64 over (owner, block index).
  const bool shared = (block + 1) * spec_.block_tokens <= spec_.system_prompt_tokens;
  std::uint64_t state = shared ? (std::uint64_t{1} << 63) | s.system_prompt : session;
  std::uint64_t z = splitmix64(state) ^ static_cast<std::uint64_t>(block);
  return splitmix64(z);
}

bool Sessions::next_turn(std::uint32_t session, Request& out, double& think_s) {
  Session& s = sessions_[session];
  std::vector<std::uint64_t>& hashes = hashes_[session];
  if (s.issued >= s.turns) {
    std::vector<std::uint64_t>().swap(hashes);  // the last turn was admitted long ago: its hashes were copied
    return false;
  }
  const std::uint64_t i = s.first + s.issued++;
  const std::int64_t prompt = s.context + message_[i];
  if (prompt > limits::kMaxTokensPerRequest) {
    throw InfeasibleError("turn " + std::to_string(s.issued) + " of session " + std::to_string(session) + " would read " +
                          std::to_string(prompt) + " prompt tokens (system prompt and history), beyond the limit of " +
                          std::to_string(limits::kMaxTokensPerRequest) +
                          " per request; fewer workload.sessions.turns or shorter messages and outputs");
  }
  const std::int64_t blocks = prompt / spec_.block_tokens;  // full blocks only
  // And the blocks its output fills: the next turn's prompt starts with this prompt and output.
  const std::int64_t with_output = (prompt + output_[i]) / spec_.block_tokens;
  for (auto b = static_cast<std::int64_t>(hashes.size()); b < with_output; ++b) hashes.push_back(block_hash(s, session, b));
  out.input_tokens = prompt;
  out.output_tokens = output_[i];
  out.hashes = hashes.data();
  out.hash_count = static_cast<std::uint32_t>(blocks);
  out.generated_hash_count = static_cast<std::uint32_t>(with_output - blocks);
  out.session = session;
  think_s = think_s_[i];
  s.context = prompt + output_[i];
  return true;
}

}  // namespace infersim::workload
