#include "infersim/scenario/timeline.hpp"

#include <algorithm>
#include <cstdio>

namespace infersim::scenario {

void TimelineRecorder::step(int pool, int replica, std::size_t lane, engine::SimTime start, engine::SimTime duration,
                            const roofline::StepShape& shape) {
  if (steps_.size() >= max_steps_) {
    ++dropped_;
    return;
  }
  steps_.push_back(Step{pool, replica, static_cast<std::uint32_t>(lane), start, duration, shape.prefill_tokens,
                        shape.decode_sequences, shape.decode_context_tokens});
}

namespace {

void append_us(std::string& out, engine::SimTime ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ns) / 1e3);
  out += buf;
}

}  // namespace

std::string TimelineRecorder::to_json(const ScenarioSpec& sc, const serving::SimulationResult& r,
                                      std::size_t max_requests) const {
  std::string out;
  out.reserve(steps_.size() * 200 + 1024);
  out += "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"scenario\":";
  out += config::Json(sc.name).dump();
  // What the picture of the timeline names in its caption (infersim.plot.timeline): the first pool's.
  const serving::PoolSpec& pool = sc.simulation.pools.front();
  out += ",\"model\":" + config::Json(pool.model.name).dump() + ",\"hardware\":" + config::Json(pool.hardware.name).dump() +
         ",\"engine\":" + (pool.engine ? config::Json(pool.engine->name) : config::Json(nullptr)).dump();
  out += ",\"steps_not_recorded\":" + std::to_string(dropped_) + "},\"traceEvents\":[\n";
  bool first = true;
  auto sep = [&] {
    if (!first) out += ",\n";
    first = false;
  };
  // Process and thread names.
  int replicas = 0;
  for (std::size_t p = 0; p < r.pools.size(); ++p) {
    for (int i = 0; i < r.pools[p].replicas; ++i, ++replicas) {
      sep();
      out += "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + std::to_string(replicas + 1) + ",\"args\":{\"name\":" +
             config::Json("replica " + std::to_string(replicas) + " (" + r.pools[p].name + ", " +
                          sc.simulation.pools[p].hardware.name + ")")
                 .dump() +
             "}}";
      for (int lane = 0; lane < sc.simulation.pools[p].deployment.pipeline_parallel; ++lane) {
        sep();
        out += "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + std::to_string(replicas + 1) +
               ",\"tid\":" + std::to_string(lane) + ",\"args\":{\"name\":\"lane " + std::to_string(lane) + " steps\"}}";
      }
    }
  }
  const int requests_pid = replicas + 1;
  sep();
  out += "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + std::to_string(requests_pid) + ",\"args\":{\"name\":\"requests\"}}";
  for (const Step& s : steps_) {
    sep();
    const char* kind = s.prefill_tokens > 0 ? (s.decode_sequences > 0 ? "mixed" : "prefill") : "decode";
    out += "{\"ph\":\"X\",\"cat\":\"step\",\"name\":\"";
    out += kind;
    out += "\",\"pid\":" + std::to_string(s.replica + 1) + ",\"tid\":" + std::to_string(s.lane) + ",\"ts\":";
    append_us(out, s.start);
    out += ",\"dur\":";
    append_us(out, s.duration);
    out += ",\"args\":{\"prefill_tokens\":" + std::to_string(s.prefill_tokens) +
           ",\"decode_sequences\":" + std::to_string(s.decode_sequences) +
           ",\"context_tokens\":" + std::to_string(s.context_tokens) + "}}";
  }
  const std::size_t n = std::min(max_requests, r.request_table.size());
  for (std::size_t i = 0; i < n; ++i) {
    const serving::RequestRecord& q = r.request_table[i];
    if (!q.done()) continue;
    const std::string id = std::to_string(i);
    auto async = [&](const char* ph, const char* name, engine::SimTime ts, const std::string& args) {
      sep();
      out += "{\"ph\":\"";
      out += ph;
      out += "\",\"cat\":\"request\",\"name\":\"";
      out += name;
      out += "\",\"id\":" + id + ",\"pid\":" + std::to_string(requests_pid) + ",\"tid\":0,\"ts\":";
      append_us(out, ts);
      out += args;
      out += "}";
    };
    const std::string args = ",\"args\":{\"replica\":" + std::to_string(q.replica) + ",\"input_tokens\":" +
                             std::to_string(q.input_tokens) + ",\"output_tokens\":" + std::to_string(q.output_tokens) +
                             ",\"preemptions\":" + std::to_string(q.preemptions) + "}";
    async("b", ("request " + id).c_str(), q.arrival, args);
    async("b", "queued", q.arrival, "");
    async("e", "queued", q.first_scheduled, "");
    async("b", "prefill", q.first_scheduled, "");
    async("e", "prefill", q.first_token, "");
    async("b", "decode", q.first_token, "");
    async("e", "decode", q.completion, "");
    async("e", ("request " + id).c_str(), q.completion, "");
  }
  out += "\n]}\n";
  return out;
}

}  // namespace infersim::scenario
