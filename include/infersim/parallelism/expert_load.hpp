#pragma once
// Load imbalance across expert-parallel ranks (docs/roofline.md, "Attention data parallelism and wide expert
// parallelism"). A step's tokens each pick k of E routed experts; the experts are spread over R ranks, and the
// step waits for the busiest rank. The factor is the expected busiest rank's token-expert assignments over the
// mean, derived from uniform top-k routing statistics rather than picked.

namespace infersim::parallelism {

/// E[max of n independent standard normals] = integral of x n phi(x) Phi(x)^(n-1) dx (0 for n <= 1;
/// 1/sqrt(pi) for n = 2), by Simpson's rule.
double expected_max_standard_normal(int n);

/// Expected busiest-rank load over mean load when `tokens` tokens each pick `k` distinct experts uniformly out
/// of `experts`, spread evenly over `ranks` ranks. One token sends Hypergeometric(E, E/R, k) assignments to a
/// rank: mean k/R, variance k (1/R)(1 - 1/R)(E - k)/(E - 1). A rank's load over T tokens has mean mu = T k / R
/// and variance sigma^2 = T times that; the R loads sum to T k, so (normal approximation) they are
/// equicorrelated with correlation -1/(R-1) and E[max] = mu + sigma sqrt(R/(R-1)) E[max of R normals].
/// Returns 1 for one rank or no tokens; never more than a rank can take (min(k, E/R) per token).
double expert_load_imbalance(double experts, double k, double tokens, int ranks);

/// Chance that a token picking `k` distinct experts uniformly out of `experts`, spread evenly over `parts` parts
/// (ranks or nodes), picks at least one of a given part's: 1 - C(E - E/D, k) / C(E, k) (1 for one part).
double chance_token_reaches(double experts, double k, double parts);

/// Expected distinct nodes other than its own that one token's `k` experts land on, when it picks `k` distinct
/// experts uniformly out of `experts` spread evenly over `nodes` nodes: the token reaches
/// D (1 - C(E - E/D, k) / C(E, k)) distinct nodes (a node is missed when all k picks fall elsewhere), capped at
/// `node_limit` when the model limits the nodes a token may reach (DeepSeek-V3's node-limited routing, M = 4;
/// 0 = no limit), each of them the token's own node with probability 1/D, so (D - 1)/D of them are remote.
/// What DeepEP's internode kernels send over scale-out per token (docs/roofline.md). 0 for one node.
double expected_remote_nodes(double experts, double k, double nodes, double node_limit);

}  // namespace infersim::parallelism
