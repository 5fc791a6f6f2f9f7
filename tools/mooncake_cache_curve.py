#!/usr/bin/env python3
"""Prefix-cache hit ratio of a Mooncake trace against one global LRU pool of N 512-token blocks.

The analysis of the Mooncake paper's Table 1 (arXiv 2407.00079, section 4.2: "a single global cache pool",
hit ratio by capacity in blocks), from the trace's hash_ids alone, independent of the simulator: each request
hits the longest run of its leading blocks the pool holds (at most (input - 1) / 512 blocks, so that one
token is computed, as in infersim), then every block of its prompt becomes the most recently used, the least
recently used leaving when the pool is full. Prints the token-weighted hit ratio (infersim's
prefix_cache.hit_rate) and the block-weighted one. docs/serving.md has the results.

    /usr/bin/python3 tools/mooncake_cache_curve.py configs/traces/mooncake/conversation_trace.jsonl
"""

import argparse
import json
from collections import OrderedDict

BLOCK_TOKENS = 512


def hit_ratios(rows, capacity):
    pool = OrderedDict()
    hit_tokens = input_tokens = hit_blocks = blocks = 0
    for row in rows:
        hashes, length = row["hash_ids"], row["input_length"]
        matchable = min(len(hashes), (length - 1) // BLOCK_TOKENS)
        k = 0
        while k < matchable and hashes[k] in pool:
            k += 1
        hit_tokens += BLOCK_TOKENS * k
        input_tokens += length
        hit_blocks += k
        blocks += len(hashes)
        for h in hashes:
            if h in pool:
                pool.move_to_end(h)
            else:
                pool[h] = True
                if capacity is not None and len(pool) > capacity:
                    pool.popitem(last=False)
    return hit_tokens / input_tokens, hit_blocks / blocks


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trace", nargs="+", help="Mooncake JSONL trace files")
    parser.add_argument("--capacities", default="1000,10000,30000,50000,100000,inf",
                        help="pool sizes in blocks, comma-separated ('inf': unlimited)")
    args = parser.parse_args()
    capacities = [None if c == "inf" else int(c) for c in args.capacities.split(",")]
    for path in args.trace:
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        n = len(rows)
        print(f"{path}: {n} requests, mean input {sum(r['input_length'] for r in rows) / n:.1f}, "
              f"mean output {sum(r['output_length'] for r in rows) / n:.1f} tokens")
        for c in capacities:
            tokens, blocks = hit_ratios(rows, c)
            print(f"  {'unlimited' if c is None else c:>9} blocks: hit ratio {tokens:.4f} of tokens, {blocks:.4f} of blocks")


if __name__ == "__main__":
    main()
