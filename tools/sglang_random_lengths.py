#!/usr/bin/env python3
"""Regenerate the request lengths of sglang.bench_serving's random dataset, without numpy.

sglang.bench_serving seeds numpy's legacy global generator with --seed (default 1; run_benchmark calls
np.random.seed(args.seed)) and its random dataset (sample_random_requests in python/sglang/bench_serving.py)
draws, in this order,

  input_lens  = np.random.randint(max(int(input_len * range_ratio), 1), input_len + 1, size=num_prompts)
  output_lens = np.random.randint(OUT_LOW, output_len + 1, size=num_prompts)

where OUT_LOW is int(output_len * range_ratio) in some releases and max(int(output_len * range_ratio), 1) in
others (the pages' 'Total generated tokens' tell which: --output-low). bench_serving ignores EOS unless
--disable-ignore-eos, so each request generates its drawn output length and the page's 'Total input tokens' and
'Total generated tokens' are the sums of these draws: --expect-input-total / --expect-output-total check them.

This is a pure-Python re-implementation of the two numpy pieces involved (numpy/random/_mt19937.pyx,
src/mt19937/mt19937.c, src/distributions/distributions.c):
  * RandomState(seed) with a Python int seed: _legacy_seeding calls mt19937_seed(state, seed), Knuth's
    linear initialisation (init_genrand of the reference MT19937), not init_by_array (which numpy uses for an
    array seed); --check shows which of the two reproduces the published lengths.
  * randint(low, high, size) with the default int64 dtype and a range below 2**32: legacy masked rejection
    sampling, each value low + (next_uint32() & mask) redrawn while above high - 1 - low, mask the smallest
    all-ones number covering the range.

  tools/sglang_random_lengths.py --input-len 1000 --output-len 1000 --num-prompts 80 --output-low 0 \\
      --expect-input-total 39668 --expect-output-total 40725
  tools/sglang_random_lengths.py --check
"""
import argparse, json, sys

N, M = 624, 397
MATRIX_A, UPPER, LOWER = 0x9908B0DF, 0x80000000, 0x7FFFFFFF


class MT19937:
    def __init__(self):
        self.mt = [0] * N
        self.pos = N

    def init_genrand(self, seed):
        """numpy mt19937_seed: what RandomState(int) uses."""
        mt = self.mt
        mt[0] = seed & 0xFFFFFFFF
        for i in range(1, N):
            mt[i] = (1812433253 * (mt[i - 1] ^ (mt[i - 1] >> 30)) + i) & 0xFFFFFFFF
        self.pos = N

    def init_by_array(self, key):
        """numpy mt19937_init_by_array: what RandomState(array) uses (kept for --check's comparison)."""
        self.init_genrand(19650218)
        mt = self.mt
        i, j = 1, 0
        for _ in range(max(N, len(key))):
            mt[i] = ((mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525)) + key[j] + j) & 0xFFFFFFFF
            i += 1
            j += 1
            if i >= N:
                mt[0] = mt[N - 1]
                i = 1
            if j >= len(key):
                j = 0
        for _ in range(N - 1):
            mt[i] = ((mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941)) - i) & 0xFFFFFFFF
            i += 1
            if i >= N:
                mt[0] = mt[N - 1]
                i = 1
        mt[0] = 0x80000000
        self.pos = N

    def _generate(self):
        mt = self.mt
        for k in range(N):
            y = (mt[k] & UPPER) | (mt[(k + 1) % N] & LOWER)
            mt[k] = mt[(k + M) % N] ^ (y >> 1) ^ (MATRIX_A if y & 1 else 0)
        self.pos = 0

    def next_uint32(self):
        if self.pos >= N:
            self._generate()
        y = self.mt[self.pos]
        self.pos += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        return y


def randint(gen, low, high, size):
    """numpy legacy RandomState.randint(low, high, size) for an int64 range narrower than 2**32."""
    rng = high - 1 - low
    if rng < 0:
        raise ValueError("low >= high")
    if rng == 0:
        return [low] * size
    if rng >= 0xFFFFFFFF:
        raise ValueError("ranges of 2**32 and more draw 64-bit words: not re-implemented")
    mask = rng
    for shift in (1, 2, 4, 8, 16):
        mask |= mask >> shift
    out = []
    for _ in range(size):
        v = gen.next_uint32() & mask
        while v > rng:
            v = gen.next_uint32() & mask
        out.append(low + v)
    return out


def random_lengths(input_len, output_len, num_prompts, range_ratio=0.0, seed=1, output_low=None, seeding="int"):
    gen = MT19937()
    if seeding == "int":
        gen.init_genrand(seed)
    else:
        gen.init_by_array([seed & 0xFFFFFFFF])
    ins = randint(gen, max(int(input_len * range_ratio), 1), input_len + 1, num_prompts)
    if output_low is None:
        output_low = int(output_len * range_ratio)
    outs = randint(gen, output_low, output_len + 1, num_prompts)
    return ins, outs


def check():
    """Reproduce published figures, the values hand-checkable against the pages they come from."""
    ok = True
    # The first values of sglang-recent.json's Llama-3.1-70B rows (seed 1, input 1000, ratio 0).
    ins, _ = random_lengths(1000, 1000, 10)
    ok &= ins[:3] == [38, 236, 909]
    ins_arr, _ = random_lengths(1000, 1000, 10, seeding="array")
    print(f"int seeding (mt19937_seed): first prompts {ins[:3]}; array seeding (init_by_array): {ins_arr[:3]}")
    # SGLang cookbook totals (page, prompts, input/output lengths, output low, 'Total input tokens',
    # 'Total generated tokens').
    cases = [
        ("Llama3.1.md c16 (0.5.6)", 80, 1000, 1000, 1, 39668, 40805),
        ("Qwen3.md c16 (0.5.6)", 80, 1000, 1000, 0, 39668, 40725),
        ("Qwen3.md c1 1K/8K (0.5.6)", 10, 1000, 8000, 0, 6101, 44452),
    ]
    for name, n, il, ol, lo, ti, to in cases:
        a, b = random_lengths(il, ol, n, output_low=lo)
        good = sum(a) == ti and sum(b) == to
        ok &= good
        print(f"{name}: {sum(a)} / {sum(b)} tokens, page {ti} / {to}: {'ok' if good else 'MISMATCH'}")
    print("check passed" if ok else "check FAILED")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input-len", type=int)
    ap.add_argument("--output-len", type=int)
    ap.add_argument("--num-prompts", type=int)
    ap.add_argument("--range-ratio", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--output-low", type=int, default=None,
                    help="lowest output length drawn (default int(output_len * range_ratio))")
    ap.add_argument("--expect-input-total", type=int)
    ap.add_argument("--expect-output-total", type=int)
    ap.add_argument("--check", action="store_true", help="reproduce published lengths and totals")
    a = ap.parse_args()
    if a.check:
        sys.exit(0 if check() else 1)
    if None in (a.input_len, a.output_len, a.num_prompts):
        ap.error("--input-len, --output-len and --num-prompts are needed (or --check)")
    ins, outs = random_lengths(a.input_len, a.output_len, a.num_prompts, a.range_ratio, a.seed, a.output_low)
    print(json.dumps({"input_tokens": ins, "output_tokens": outs, "input_total": sum(ins),
                      "output_total": sum(outs)}))
    bad = (a.expect_input_total is not None and sum(ins) != a.expect_input_total) or \
          (a.expect_output_total is not None and sum(outs) != a.expect_output_total)
    if bad:
        print(f"totals {sum(ins)} / {sum(outs)} differ from the expected "
              f"{a.expect_input_total} / {a.expect_output_total}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
