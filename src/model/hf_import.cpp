#include "infersim/model/hf_import.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>

#include "infersim/core/error.hpp"
#include "infersim/core/strings.hpp"
#include "infersim/model/model_loader.hpp"
#include "infersim/model/model_stats.hpp"

namespace infersim::model {

namespace {

using config::Json;
using OJson = nlohmann::ordered_json;

/// Reads the fields of one Hugging Face config object: required fields report a missing or invalid value
/// (naming the field and the architecture) into the diagnostics; defaulted ones are recorded in the notes.
class HfFields {
 public:
  HfFields(const Json& j, std::string pointer, std::string architecture, config::Diagnostics& d,
           std::vector<std::string>& notes)
      : j_(j), pointer_(std::move(pointer)), arch_(std::move(architecture)), d_(d), notes_(notes) {}

  /// The value of `key` when present and not null.
  const Json* get(std::string_view key) const {
    if (!j_.is_object()) return nullptr;
    const auto it = j_.find(std::string(key));
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  const std::string& architecture() const { return arch_; }

  /// A required positive integer.
  int need(std::string_view key) {
    const Json* v = get(key);
    if (!v) {
      d_.error(path(key), "missing field \"" + std::string(key) + "\", which " + arch_ + " needs");
      return 1;
    }
    return checked(key, *v, 1);
  }
  /// An optional non-negative integer; its absence is noted.
  int count_or(std::string_view key, int fallback, std::string_view why) {
    const Json* v = get(key);
    if (!v) {
      note(std::string(key) + " absent: " + std::to_string(fallback) + " (" + std::string(why) + ")");
      return fallback;
    }
    return checked(key, *v, 0);
  }
  bool flag_or(std::string_view key, bool fallback, std::string_view why) {
    const Json* v = get(key);
    if (!v) {
      note(std::string(key) + " absent: " + (fallback ? "true" : "false") + " (" + std::string(why) + ")");
      return fallback;
    }
    if (!v->is_boolean()) {
      d_.error(path(key), "expected true or false, found " + config::describe_json(*v));
      return fallback;
    }
    return v->get<bool>();
  }
  std::string string_or(std::string_view key, std::string fallback) const {
    const Json* v = get(key);
    return v && v->is_string() ? v->get<std::string>() : fallback;
  }
  /// A list of values, one per layer (absent: empty).
  std::vector<Json> layer_list(std::string_view key, int layers) {
    const Json* v = get(key);
    if (!v || (v->is_array() && v->empty())) return {};  // absent, or an empty list: the architecture's default
    if (!v->is_array() || static_cast<int>(v->size()) != layers) {
      d_.error(path(key), "expected a list of " + std::to_string(layers) + " values (one per layer), found " +
                              config::describe_json(*v));
      return {};
    }
    return std::vector<Json>(v->begin(), v->end());
  }
  void error(std::string_view key, const std::string& message) { d_.error(path(key), message); }
  /// The fields of the nested object at `key` (checked to be an object by the caller).
  HfFields child(std::string_view key) const { return HfFields(*get(key), path(key), arch_, d_, notes_); }
  void note(std::string text) { notes_.push_back(std::move(text)); }
  std::string path(std::string_view key) const { return pointer_ + "/" + std::string(key); }

 private:
  int checked(std::string_view key, const Json& v, std::int64_t min) {
    if (!v.is_number_integer() || v.get<std::int64_t>() < min || v.get<std::int64_t>() > (1 << 30)) {
      d_.error(path(key), "expected an integer >= " + std::to_string(min) + ", found " + config::describe_json(v));
      return 1;
    }
    return static_cast<int>(v.get<std::int64_t>());
  }

  const Json& j_;
  std::string pointer_, arch_;
  config::Diagnostics& d_;
  std::vector<std::string>& notes_;
};

/// The shortest pattern that, repeated from layer 0, gives `layers` ('L' local, 'G' global).
std::string shortest_pattern(const std::string& layers) {
  for (std::size_t p = 1; p < layers.size(); ++p) {
    bool ok = true;
    for (std::size_t i = p; i < layers.size() && ok; ++i) ok = layers[i] == layers[i % p];
    if (ok) return layers.substr(0, p);
  }
  return layers;
}

/// What every decoder-only architecture shares: the transformer shape, data type and embeddings.
struct CommonDefaults {
  bool tied_embeddings = false;
  int head_dim = 0;  // 0 = hidden_size / num_attention_heads
};

void read_common(HfFields& f, ModelSpec& m, const CommonDefaults& defaults) {
  m.num_layers = f.need("num_hidden_layers");
  m.hidden_size = f.need("hidden_size");
  m.num_attention_heads = f.need("num_attention_heads");
  m.num_kv_heads = f.count_or("num_key_value_heads", m.num_attention_heads, "= num_attention_heads, multi-head attention");
  if (f.get("head_dim")) {
    m.head_dim = f.need("head_dim");
  } else if (defaults.head_dim > 0) {
    m.head_dim = f.count_or("head_dim", defaults.head_dim, f.architecture() + "'s default");
  } else {
    m.head_dim = std::max(1, m.hidden_size / std::max(1, m.num_attention_heads));
    f.note("head_dim absent: " + std::to_string(m.head_dim) + " (= hidden_size / num_attention_heads)");
  }
  m.ffn_hidden_size = f.need("intermediate_size");
  m.vocab_size = f.need("vocab_size");
  m.max_context_tokens = f.need("max_position_embeddings");
  m.tied_embeddings = f.flag_or("tie_word_embeddings", defaults.tied_embeddings, f.architecture() + "'s default");
  std::string dtype = f.string_or("torch_dtype", f.string_or("dtype", ""));
  static const std::map<std::string, DType> kTypes = {
      {"bfloat16", DType::bf16}, {"float16", DType::fp16}, {"float32", DType::fp32}};
  if (const auto it = kTypes.find(dtype); it != kTypes.end()) {
    m.native_dtype = it->second;
  } else {
    m.native_dtype = DType::bf16;
    f.note("native_dtype bf16: torch_dtype " + (dtype.empty() ? std::string("absent") : "\"" + dtype + "\" not a known type"));
  }
  if (const Json* q = f.get("quantization_config"); q && q->is_object()) {
    const std::string method = q->value("quant_method", std::string());
    if (method == "fp8") {
      m.native_dtype = DType::fp8;
      f.note("native_dtype fp8 from quantization_config (quant_method fp8)");
      if (const auto b = q->find("weight_block_size"); b != q->end() && b->is_array() && b->size() == 2 &&
                                                        (*b)[0].is_number_integer() && (*b)[0] == (*b)[1] &&
                                                        (*b)[0].get<int>() > 0) {
        m.fp8_weight_block_size = (*b)[0].get<int>();
        f.note("fp8_weight_block_size " + std::to_string(m.fp8_weight_block_size) +
               " from quantization_config.weight_block_size (block-scaled FP8 GEMMs)");
      } else if (b != q->end()) {
        f.note("quantization_config.weight_block_size is not a square block [N, N]: weights taken as scaled per tensor");
      }
    } else if (method != "mxfp4") {
      f.note("quantization_config quant_method \"" + method + "\" not modelled: weights taken as " +
             std::string(to_string(m.native_dtype)));
    }
  }
  m.gated_mlp = true;
  m.norm = Norm::rmsnorm;
  m.position_embedding = PositionEmbedding::rope;
}

void sliding_on_every_layer(HfFields& f, ModelSpec& m) {
  if (const Json* w = f.get("sliding_window")) {
    const int window = f.need("sliding_window");
    (void)w;
    m.local_attention = LocalAttentionSpec{{LocalAttentionKind::sliding_window, window}, "L"};
    f.note("sliding_window " + std::to_string(window) + " on every layer");
  }
}

void moe_from(HfFields& f, ModelSpec& m, std::string_view experts_key, std::string_view top_k_key, int expert_ffn) {
  MoeSpec e;
  e.num_experts = f.need(experts_key);
  e.experts_per_token = f.need(top_k_key);
  e.expert_ffn_hidden_size = expert_ffn;
  m.moe = e;
}

using Converter = std::function<void(HfFields&, ModelSpec&)>;

void llama(HfFields& f, ModelSpec& m) {
  read_common(f, m, {});
  m.linear_bias = f.flag_or("attention_bias", false, "LlamaConfig's default");
}

void mistral(HfFields& f, ModelSpec& m) {
  read_common(f, m, {});
  sliding_on_every_layer(f, m);
}

void qwen2(HfFields& f, ModelSpec& m) {
  read_common(f, m, {});
  m.linear_bias = true;
  f.note("linear_bias true: Qwen2 projects q, k and v with biases (o_proj and MLP biases are counted too, < 0.1% of the parameters)");
  if (f.flag_or("use_sliding_window", false, "Qwen2Config's default")) {
    const int window = f.need("sliding_window");
    const int first = f.count_or("max_window_layers", m.num_layers, "Qwen2Config's default");
    std::string layers;
    for (int i = 0; i < m.num_layers; ++i) layers += i >= first ? 'L' : 'G';
    m.local_attention = LocalAttentionSpec{{LocalAttentionKind::sliding_window, window}, shortest_pattern(layers)};
  }
}

void qwen3(HfFields& f, ModelSpec& m) {
  read_common(f, m, {.tied_embeddings = false, .head_dim = 128});
  m.linear_bias = f.flag_or("attention_bias", false, "Qwen3Config's default");
  f.note("per-head RMSNorm of q and k (QK-norm, 2 x head_dim weights per layer) not counted");
}

void qwen3_moe(HfFields& f, ModelSpec& m) {
  qwen3(f, m);
  moe_from(f, m, "num_experts", "num_experts_per_tok", f.need("moe_intermediate_size"));
  m.moe->layer_step = f.count_or("decoder_sparse_step", 1, "Qwen3MoeConfig's default");
  const Json* dense = f.get("mlp_only_layers");
  if (dense && dense->is_array() && !dense->empty()) {
    // Dense layers are supported as a leading block: [0, 1, ..., k-1].
    bool prefix = true;
    for (std::size_t i = 0; i < dense->size(); ++i) prefix = prefix && (*dense)[i] == static_cast<int>(i);
    if (!prefix || m.moe->layer_step != 1) {
      f.error("mlp_only_layers", "only a leading block of dense layers [0, 1, ..., k-1] with decoder_sparse_step 1 is supported");
    }
    m.moe->first_dense_layers = static_cast<int>(dense->size());
  }
}

void mixtral(HfFields& f, ModelSpec& m) {
  read_common(f, m, {});
  moe_from(f, m, "num_local_experts", "num_experts_per_tok", m.ffn_hidden_size);
  sliding_on_every_layer(f, m);
}

void deepseek_v3(HfFields& f, ModelSpec& m) {
  read_common(f, m, {});
  MlaSpec a;
  a.q_lora_rank = f.count_or("q_lora_rank", 0, "queries projected directly from the hidden state");
  a.kv_lora_rank = f.need("kv_lora_rank");
  a.qk_nope_head_dim = f.need("qk_nope_head_dim");
  a.qk_rope_head_dim = f.need("qk_rope_head_dim");
  a.v_head_dim = f.need("v_head_dim");
  m.mla = a;
  m.head_dim = a.qk_nope_head_dim + a.qk_rope_head_dim;
  f.note("head_dim " + std::to_string(m.head_dim) + " = qk_nope_head_dim + qk_rope_head_dim (multi-head latent attention)");
  moe_from(f, m, "n_routed_experts", "num_experts_per_tok", f.need("moe_intermediate_size"));
  m.moe->num_shared_experts = f.count_or("n_shared_experts", 0, "no shared expert");
  m.moe->first_dense_layers = f.count_or("first_k_dense_replace", 0, "every layer MoE");
  // Group-limited routing (n_group groups, experts from topk_group of them); n_group 1 (Kimi K2) is unrestricted.
  const int groups = f.count_or("n_group", 1, "no group-limited routing");
  const int groups_per_token = f.count_or("topk_group", groups, "every group");
  if (groups > 1 && groups_per_token < groups) {
    m.moe->expert_groups = groups;
    m.moe->groups_per_token = groups_per_token;
  }
  const int freq = f.count_or("moe_layer_freq", 1, "DeepseekV3Config's default");
  if (freq != 1) f.error("moe_layer_freq", "only 1 (every layer after first_k_dense_replace is MoE) is supported");
  if (const Json* mtp = f.get("num_nextn_predict_layers"); mtp && mtp->is_number_integer() && mtp->get<int>() > 0) {
    f.note("the multi-token-prediction module (num_nextn_predict_layers " + std::to_string(mtp->get<int>()) + ") is not counted");
  }
}

void gpt_oss(HfFields& f, ModelSpec& m) {
  read_common(f, m, {});
  m.linear_bias = f.flag_or("attention_bias", true, "GptOssConfig's default");
  m.attention_sinks = true;
  f.note("attention_sinks: gpt-oss adds a learned sink logit per head to every softmax");
  const char* top_k = f.get("experts_per_token") ? "experts_per_token" : "num_experts_per_tok";
  moe_from(f, m, "num_local_experts", top_k, m.ffn_hidden_size);
  const Json* q = f.get("quantization_config");
  if (q && q->is_object() && q->value("quant_method", std::string()) == "mxfp4") {
    m.moe->expert_weight_format = BlockFormat::mxfp4;
    f.note("routed experts in MXFP4 (quantization_config; attention, router, embedding and LM head stay bf16)");
  }
  const int window = f.need("sliding_window");
  std::string layers;
  const auto types = f.layer_list("layer_types", m.num_layers);
  for (int i = 0; i < m.num_layers; ++i) {
    if (types.empty()) {
      layers += i % 2 == 0 ? 'L' : 'G';
    } else {
      layers += types[static_cast<std::size_t>(i)] == "sliding_attention" ? 'L' : 'G';
    }
  }
  if (types.empty()) f.note("layer_types absent: sliding and full attention alternate from layer 0 (GptOssConfig's default)");
  m.local_attention = LocalAttentionSpec{{LocalAttentionKind::sliding_window, window}, shortest_pattern(layers)};
}

void llama4_text(HfFields& f, ModelSpec& m) {
  read_common(f, m, {.tied_embeddings = false, .head_dim = 128});
  m.linear_bias = f.flag_or("attention_bias", false, "Llama4TextConfig's default");
  const int expert_ffn = m.ffn_hidden_size;
  m.ffn_hidden_size = f.need("intermediate_size_mlp");
  f.note("ffn_hidden_size is intermediate_size_mlp (dense layers); intermediate_size " + std::to_string(expert_ffn) +
         " is the expert and shared-expert size");
  moe_from(f, m, "num_local_experts", "num_experts_per_tok", expert_ffn);
  m.moe->num_shared_experts = 1;
  f.note("num_shared_experts 1: every Llama 4 MoE layer adds a shared expert of intermediate_size");
  m.moe->layer_step = f.count_or("interleave_moe_layer_step", 1, "Llama4TextConfig's default");
  const int chunk = f.count_or("attention_chunk_size", 8192, "Llama4TextConfig's default");
  // RoPE layers use chunked attention, NoPE layers attend the whole context.
  std::string layers;
  const auto rope = f.layer_list("no_rope_layers", m.num_layers);
  const int interval = rope.empty() ? f.count_or("nope_layer_interval", 4, "Llama4TextConfig's default") : 0;
  for (int i = 0; i < m.num_layers; ++i) {
    const bool uses_rope = rope.empty() ? (i + 1) % std::max(1, interval) != 0 : rope[static_cast<std::size_t>(i)] != 0;
    layers += uses_rope ? 'L' : 'G';
  }
  m.local_attention = LocalAttentionSpec{{LocalAttentionKind::chunked, chunk}, shortest_pattern(layers)};
  f.note("chunked attention (" + std::to_string(chunk) + " tokens) on the RoPE layers, full attention on the NoPE layers");
}

void gemma3_text(HfFields& f, ModelSpec& m) {
  read_common(f, m, {.tied_embeddings = true, .head_dim = 256});
  f.note("GeGLU MLP counted as gated; the four norms per layer and the QK-norm are counted as two norms");
  const int window = f.count_or("sliding_window", 4096, "Gemma3TextConfig's default");
  std::string layers;
  const auto types = f.layer_list("layer_types", m.num_layers);
  const int period = types.empty() ? f.count_or("sliding_window_pattern", 6, "Gemma3TextConfig's default") : 0;
  for (int i = 0; i < m.num_layers; ++i) {
    if (types.empty()) {
      layers += (i + 1) % std::max(1, period) != 0 ? 'L' : 'G';
    } else {
      layers += types[static_cast<std::size_t>(i)] == "sliding_attention" ? 'L' : 'G';
    }
  }
  m.local_attention = LocalAttentionSpec{{LocalAttentionKind::sliding_window, window}, shortest_pattern(layers)};
}

/// A multimodal architecture whose language model is described by `text_config`.
Converter text_model(Converter inner) {
  return [inner](HfFields& f, ModelSpec& m) {
    const Json* text = f.get("text_config");
    if (!text || !text->is_object()) {
      f.error("text_config", "missing field \"text_config\", which " + f.architecture() + " needs (its language model)");
      return;
    }
    f.note("the language model (text_config) only; the vision encoder is not modelled");
    HfFields t = f.child("text_config");
    inner(t, m);
  };
}

struct Architecture {
  std::string_view description;
  Converter convert;
};

const std::map<std::string, Architecture, std::less<>>& registry() {
  static const std::map<std::string, Architecture, std::less<>> kArchitectures = {
      {"LlamaForCausalLM", {"Llama 2/3 (GQA, SwiGLU)", llama}},
      {"MistralForCausalLM", {"Mistral (sliding window on every layer when sliding_window is set)", mistral}},
      {"Qwen2ForCausalLM", {"Qwen2 / Qwen2.5 (q/k/v biases)", qwen2}},
      {"Qwen3ForCausalLM", {"Qwen3 dense", qwen3}},
      {"Qwen3MoeForCausalLM", {"Qwen3 mixture of experts", qwen3_moe}},
      {"MixtralForCausalLM", {"Mixtral mixture of experts", mixtral}},
      {"DeepseekV3ForCausalLM", {"DeepSeek-V3 / R1, Kimi K2 (MLA, dense layers before the MoE layers)", deepseek_v3}},
      {"GptOssForCausalLM", {"gpt-oss (MXFP4 experts, alternating sliding window, attention sinks)", gpt_oss}},
      {"Llama4ForConditionalGeneration", {"Llama 4 (its text model: chunked attention, interleaved MoE)", text_model(llama4_text)}},
      {"Llama4ForCausalLM", {"Llama 4 text model", llama4_text}},
      {"Gemma3ForCausalLM", {"Gemma 3 text model (5 sliding-window layers to 1 global)", gemma3_text}},
      {"Gemma3ForConditionalGeneration", {"Gemma 3 (its text model)", text_model(gemma3_text)}},
  };
  return kArchitectures;
}

std::string default_name(const std::string& file) {
  const std::filesystem::path p(file);
  std::string name = p.filename() == "config.json" && p.has_parent_path() && !p.parent_path().filename().empty()
                         ? p.parent_path().filename().string()
                         : p.stem().string();
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

std::string billions(double n) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(n >= 100e9 ? 1 : (n >= 1e9 ? 2 : 3));
  os << n / 1e9;
  return os.str();
}

}  // namespace

nlohmann::ordered_json model_to_json(const ModelSpec& m) {
  OJson j;
  j["name"] = m.name;
  j["description"] = m.description;
  j["source"] = m.source;
  j["notes"] = m.notes;
  j["published_parameters_billion"] = m.published_parameters / 1e9;
  j["native_dtype"] = to_string(m.native_dtype);
  if (m.fp8_weight_block_size > 0) j["fp8_weight_block_size"] = m.fp8_weight_block_size;
  j["num_layers"] = m.num_layers;
  j["hidden_size"] = m.hidden_size;
  j["num_attention_heads"] = m.num_attention_heads;
  j["num_kv_heads"] = m.num_kv_heads;
  j["head_dim"] = m.head_dim;
  j["ffn_hidden_size"] = m.ffn_hidden_size;
  j["vocab_size"] = m.vocab_size;
  j["gated_mlp"] = m.gated_mlp;
  j["tied_embeddings"] = m.tied_embeddings;
  j["norm"] = kNormNames[static_cast<std::size_t>(m.norm)];
  j["linear_bias"] = m.linear_bias;
  j["position_embedding"] = kPositionEmbeddingNames[static_cast<std::size_t>(m.position_embedding)];
  j["max_context_tokens"] = m.max_context_tokens;
  j["attention_sinks"] = m.attention_sinks;
  if (m.moe) {
    const MoeSpec& e = *m.moe;
    j["moe"] = OJson{{"num_experts", e.num_experts},
                     {"experts_per_token", e.experts_per_token},
                     {"num_shared_experts", e.num_shared_experts},
                     {"expert_ffn_hidden_size", e.expert_ffn_hidden_size},
                     {"first_dense_layers", e.first_dense_layers},
                     {"layer_step", e.layer_step},
                     {"expert_weight_format", kBlockFormatNames[static_cast<std::size_t>(e.expert_weight_format)]}};
    if (e.expert_groups > 0) {
      j["moe"]["expert_groups"] = e.expert_groups;
      j["moe"]["groups_per_token"] = e.groups_per_token;
    }
  } else {
    j["moe"] = nullptr;
  }
  if (m.mla) {
    const MlaSpec& a = *m.mla;
    j["mla"] = OJson{{"q_lora_rank", a.q_lora_rank},
                     {"kv_lora_rank", a.kv_lora_rank},
                     {"qk_nope_head_dim", a.qk_nope_head_dim},
                     {"qk_rope_head_dim", a.qk_rope_head_dim},
                     {"v_head_dim", a.v_head_dim}};
  } else {
    j["mla"] = nullptr;
  }
  if (m.local_attention) {
    const LocalAttentionSpec& l = *m.local_attention;
    j["local_attention"] = OJson{{"kind", kLocalAttentionKindNames[static_cast<std::size_t>(l.window.kind)]},
                                 {"window_tokens", l.window.tokens},
                                 {"layer_pattern", l.layer_pattern}};
  } else {
    j["local_attention"] = nullptr;
  }
  return j;
}

std::vector<std::string> import_architectures() {
  std::vector<std::string> names;
  for (const auto& [name, arch] : registry()) names.push_back(name);
  return names;
}

ImportedModel import_hf_config(const config::Document& doc, const ImportOptions& options) {
  config::Diagnostics d(doc.file);
  const Json& j = doc.json;
  std::string arch;
  if (const auto it = j.is_object() ? j.find("architectures") : j.end();
      it != j.end() && it->is_array() && !it->empty() && (*it)[0].is_string()) {
    arch = (*it)[0].get<std::string>();
  } else {
    throw ConfigError(doc.file, doc.pointer + "/architectures",
                      "missing field \"architectures\" (a list naming the model class); known architectures: " +
                          join(import_architectures()));
  }
  const auto found = registry().find(arch);
  if (found == registry().end()) {
    throw ConfigError(doc.file, doc.pointer + "/architectures/0",
                      "unknown architecture \"" + arch + "\"; known architectures: " + join(import_architectures()));
  }
  ModelSpec m;
  std::vector<std::string> notes;
  HfFields f(j, doc.pointer, arch, d, notes);
  found->second.convert(f, m);
  d.throw_if_any();

  m.name = options.name.empty() ? default_name(doc.file) : options.name;
  m.source = options.source.empty() ? doc.file : options.source;
  m.description = m.name + " (" + arch + ", imported from config.json)";
  const double counted = count_parameters(m).total();
  if (options.published_parameters_billion) {
    m.published_parameters = *options.published_parameters_billion * 1e9;
    notes.insert(notes.begin(), "published_parameters_billion from the model card; the shape counts " + billions(counted) + " B");
  } else {
    m.published_parameters = std::round(counted / 1e6) * 1e6;
    notes.insert(notes.begin(), "published_parameters_billion is the count computed from the shape (config.json states none)");
  }
  notes.insert(notes.begin(), "Imported from " + arch + " config.json by infersim import-model");
  std::string joined;
  for (const auto& n : notes) joined += (joined.empty() ? "" : "; ") + n;
  m.notes = joined;

  ImportedModel out;
  out.file = model_to_json(m);
  out.architecture = arch;
  // Parse what was written, so that the file is exactly what the loader accepts.
  config::Document written;
  written.json = Json::parse(out.file.dump());
  written.file = m.name + " (imported from " + doc.file + ")";
  out.spec = load_model(written);
  return out;
}

std::string import_summary(const ModelSpec& m) {
  const auto c = count_parameters(m);
  std::string s = m.name + ": " + billions(c.total()) + " B parameters, " + billions(active_parameters(m)) +
                  " B active per token, " + std::to_string(m.num_layers) + " layers, ";
  s += m.mla ? "MLA" : (m.num_kv_heads == m.num_attention_heads ? "MHA" : (m.num_kv_heads == 1 ? "MQA" : "GQA"));
  s += " " + std::to_string(m.num_attention_heads) + "/" + std::to_string(m.num_kv_heads) + " heads";
  if (const int local = m.num_local_attention_layers(); local > 0) {
    const auto& w = m.local_attention->window;
    s += ", " + std::to_string(local) + " " +
         (w.kind == LocalAttentionKind::chunked ? "chunked (" : "sliding-window (") + std::to_string(w.tokens) + ") layers";
  }
  if (m.moe) {
    s += ", " + std::to_string(m.num_moe_layers()) + " MoE layers of " + std::to_string(m.moe->num_experts) +
         " experts (top-" + std::to_string(m.moe->experts_per_token) + ")";
    if (m.moe->num_shared_experts > 0) s += " + " + std::to_string(m.moe->num_shared_experts) + " shared";
    if (m.moe->expert_weight_format != BlockFormat::none) {
      s += " in " + std::string(kBlockFormatNames[static_cast<std::size_t>(m.moe->expert_weight_format)]);
    }
  }
  if (m.attention_sinks) s += ", attention sinks";
  s += ", context " + std::to_string(m.max_context_tokens) + ", " + std::string(to_string(m.native_dtype));
  if (m.fp8_weight_block_size > 0) {
    const std::string b = std::to_string(m.fp8_weight_block_size);
    s += " (" + b + " x " + b + " block scales)";
  }
  return s;
}

}  // namespace infersim::model
