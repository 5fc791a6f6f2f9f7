#include "infersim/serving/admission_reserve.hpp"

#include <algorithm>

#include "infersim/core/strings.hpp"
#include "infersim/serving/batch_scheduler.hpp"

namespace infersim::serving {

AdmissionReserve::AdmissionReserve(const AdmissionReserveSpec& spec, const parallelism::KvFootprint& footprint)
    : spec_(spec), footprint_(footprint), share_(spec.running_output_fraction) {}

double AdmissionReserve::clipped(std::int64_t tokens) const {
  const std::int64_t t = std::max<std::int64_t>(tokens, 0);
  return static_cast<double>(spec_.output_clip_tokens > 0 ? std::min(t, spec_.output_clip_tokens) : t);
}

void AdmissionReserve::begin_pass(std::int64_t decode_steps_run, std::span<const RunningSet* const> lanes) {
  const std::int64_t steps = decode_steps_run - decode_steps_seen_;
  decode_steps_seen_ = decode_steps_run;
  holding_ = false;
  for (const RunningSet* run : lanes) holding_ = holding_ || !run->empty();
  if (!holding_) {
    share_ = spec_.running_output_fraction;
  } else if (spec_.decay_decode_steps > 0 && steps > 0) {
    const double per_step =
        (spec_.running_output_fraction - spec_.running_output_fraction_min) / static_cast<double>(spec_.decay_decode_steps);
    share_ = std::max(spec_.running_output_fraction_min, share_ - per_step * static_cast<double>(steps));
  }
  reserved_ = 0;
  for (const RunningSet* run : lanes) {
    for (std::size_t i = 0; i < run->size(); ++i) {
      if (!run->finished[i]) {
        reserved_ += footprint_.growth(static_cast<double>(run->kv_tokens[i]), share_ * clipped(run->output[i] - run->generated[i]));
      }
    }
  }
}

bool AdmissionReserve::admits(std::int64_t free_units, std::int64_t held_tokens, std::int64_t prompt_tokens,
                              std::int64_t output_tokens) const {
  if (!enabled() || !holding_) return true;
  const double need = footprint_.growth(static_cast<double>(held_tokens),
                                        static_cast<double>(prompt_tokens) + spec_.new_output_fraction * clipped(output_tokens));
  return need < static_cast<double>(free_units) - reserved_;
}

void AdmissionReserve::admitted(std::int64_t allocated_tokens, std::int64_t unallocated_prompt_tokens, std::int64_t output_tokens) {
  holding_ = true;
  reserved_ += footprint_.growth(static_cast<double>(allocated_tokens),
                                 static_cast<double>(std::max<std::int64_t>(unallocated_prompt_tokens, 0)) +
                                     spec_.new_output_fraction * clipped(output_tokens));
}

void AdmissionReserve::after_preemption(std::span<const RunningSet* const> lanes) {
  double generated = 0, outputs = 0, requests = 0;
  for (const RunningSet* run : lanes) {
    for (std::size_t i = 0; i < run->size(); ++i) {
      if (run->finished[i]) continue;
      generated += static_cast<double>(run->generated[i]);
      outputs += static_cast<double>(run->output[i]);
      requests += 1;
    }
  }
  share_ = std::min(1.0, (generated + static_cast<double>(spec_.preemption_lookahead_steps) * requests) / (outputs + 1.0));
}

AdmissionReserveSpec read_admission_reserve(config::ObjectReader& r, const AdmissionReserveSpec& base) {
  using config::Range;
  AdmissionReserveSpec s;
  s.new_output_fraction = r.number_or("new_output_fraction", base.new_output_fraction, Range::between(0, 1));
  s.running_output_fraction = r.number_or("running_output_fraction", base.running_output_fraction, Range::between(0, 1));
  s.running_output_fraction_min =
      r.number_or("running_output_fraction_min", std::min(base.running_output_fraction_min, s.running_output_fraction),
                  Range::between(0, 1));
  s.decay_decode_steps = r.integer_or("decay_decode_steps", base.decay_decode_steps, Range::between(0, 1e9));
  s.output_clip_tokens = r.integer_or("output_clip_tokens", base.output_clip_tokens, Range::between(0, 1e9));
  s.preemption_lookahead_steps =
      r.integer_or("preemption_lookahead_steps", base.preemption_lookahead_steps, Range::between(0, 1e6));
  if (r.valid() && s.running_output_fraction_min > s.running_output_fraction) {
    r.error("running_output_fraction_min", "must not exceed running_output_fraction (" +
                                               format_number(s.running_output_fraction) + "): the share only falls");
  }
  r.string_or("source", "");
  r.finish();
  return s;
}

config::Json admission_reserve_json(const AdmissionReserveSpec& a) {
  return {{"new_output_fraction", a.new_output_fraction},
          {"running_output_fraction", a.running_output_fraction},
          {"running_output_fraction_min", a.running_output_fraction_min},
          {"decay_decode_steps", a.decay_decode_steps},
          {"output_clip_tokens", a.output_clip_tokens},
          {"preemption_lookahead_steps", a.preemption_lookahead_steps}};
}

std::string admission_reserve_label(const AdmissionReserveSpec& a) {
  if (!a.enabled()) return "-";
  std::string running = format_number(a.running_output_fraction, 3);
  if (a.running_output_fraction_min < a.running_output_fraction) running += " -> " + format_number(a.running_output_fraction_min, 3);
  return "new " + format_number(a.new_output_fraction, 3) + ", running " + running;
}

}  // namespace infersim::serving
