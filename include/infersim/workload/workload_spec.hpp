#pragma once
// What requests arrive, when, and how long they are (contract: `workload`).

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "infersim/workload/duration_distribution.hpp"
#include "infersim/workload/token_distribution.hpp"

namespace infersim::workload {

enum class ArrivalProcess { offline, poisson, constant, gamma, closed_loop, trace };
inline constexpr std::string_view kArrivalProcessNames[] = {"offline", "poisson", "constant", "gamma", "closed_loop", "trace"};

/// How the clients reach the engine: through its OpenAI-compatible HTTP server (each request pays the engine's
/// front-end latency), or by calling it in their own process (an MLPerf LoadGen harness, vLLM's LLM class).
enum class Api { http, in_process };
inline constexpr std::string_view kApiNames[] = {"http", "in_process"};
/// Processes whose arrivals follow `rate_per_s` (open loop, no trace).
constexpr bool rate_driven(ArrivalProcess p) {
  return p == ArrivalProcess::poisson || p == ArrivalProcess::constant || p == ArrivalProcess::gamma;
}

struct TraceSpec {
  std::string path;         // resolved path of a CSV or JSONL file; "-" = standard input (text in stdin_text)
  std::string format;       // "csv", "jsonl", "mooncake" (from the extension unless given)
  bool skip_bad_rows = false;  // on_bad_row "skip": a malformed row is left out and reported, not an error
  bool sort = false;           // sort the rows by time (stable) instead of refusing rows out of order
  std::shared_ptr<const std::string> stdin_text;  // path "-": the text read once from standard input
  double rate_scale = 1.0;  // > 1 replays faster: arrival times are divided by it
  double start_s = 0.0;     // window, seconds after the trace's first request
  double end_s = std::numeric_limits<double>::infinity();
};

/// Synthetic chat / agent sessions (`workload.sessions`, docs/serving.md "Sessions"): the arrival process
/// starts sessions; each has a number of turns, and turn k's prompt is the session's system prompt, the whole
/// history (every earlier message and response) and a new message; the next turn arrives a think time after
/// the previous turn completes (closed loop). Prompts carry block hashes of `block_tokens` tokens.
struct SessionSpec {
  bool enabled = false;
  std::int64_t system_prompt_tokens = 0;  // shared by every session of one system prompt
  std::int64_t system_prompts = 1;        // distinct system prompts ("tenants"); a session draws one uniformly
  TokenDistribution turns;                // requests per session
  TokenDistribution message;              // tokens of each turn's new user message
  DurationDistribution think_time;        // seconds between a turn's completion and the next turn's arrival
  std::int64_t block_tokens = 16;         // tokens per prompt block hash (the scheduler's block_size)
};

struct WorkloadSpec {
  std::int64_t requests = 0;  // requests to simulate (trace: at most this many; 0 = all in the window)
  std::uint64_t seed = 1;
  ArrivalProcess process = ArrivalProcess::poisson;
  double rate_per_s = 1.0;    // poisson, constant, gamma
  double cv = 1.0;            // gamma: coefficient of variation of inter-arrival times
  std::int64_t concurrency = 1;  // closed_loop: clients, each waits for its response before the next request
  double think_time_s = 0.0;     // closed_loop: pause between a response and the client's next request
  TraceSpec trace;
  TokenDistribution input;   // prompt tokens (not with sessions: their prompts grow turn by turn)
  TokenDistribution output;  // output tokens (sessions: of each turn)
  SessionSpec sessions;
  bool streaming = true;     // clients receive tokens as they are generated (default: all but offline arrivals)
  Api api = Api::http;       // how requests reach the engine (default: http, in_process for offline arrivals)
};

/// Requests per arrival of the arrival process: the mean turns of a session with sessions, else 1.
double requests_per_arrival(const WorkloadSpec& w);
/// Mean prompt tokens of a request (not for traces). Sessions: the mean over every turn of every session,
/// from the first two moments of the turn distribution (exact for fixed lengths).
double expected_input_tokens(const WorkloadSpec& w);
/// The longest prompt a request can have (not for traces); 0 when unbounded.
std::int64_t input_upper_bound(const WorkloadSpec& w);

}  // namespace infersim::workload
