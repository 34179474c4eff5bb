#!/usr/bin/python3
"""Decoding speed: Headlight against a llama2.c-style C decoder, in one run.

`make bench-decode-peers` runs this. The peer is bench/peers/llama2c/ref.c,
Headlight's own C decoder written to the algorithm of llama2.c's run.c (whose
source is not on this machine), built as run.c is built
(gcc -Ofast -march=native, plus -fopenmp for threads). Before timing, its
greedy tokens on stories260K are checked against run.c's golden tokens
(assets/stories260K/reference.json), so it decodes what run.c decodes.

For each model and thread count the two sides run alternately REPS times,
greedy from BOS for POSITIONS positions after WARMUP seconds of untimed
decoding; each side reports decode tokens/s
(the C side from its second step on, as run.c; Headlight: `headlight bench
generate --json`, the median of its own timed repetitions), and the table gives
the median of the alternating runs and their ratio.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STORIES = os.path.join(ROOT, "assets", "stories260K", "stories260K.bin")
STORIES_TOK = os.path.join(ROOT, "assets", "stories260K", "tok512.bin")
# Seconds of untimed decoding before the timed run, on both sides (ref.c's 4th
# argument, bench generate --warmup): after an idle spell this VM runs the
# first few hundred milliseconds slower, and a stories260K decode lasts less.
WARMUP = 0.5


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads([l for l in out.splitlines() if l.startswith("{")][-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3, help="alternating runs per case (median reported)")
    ap.add_argument("--big", default="", help="a 768-wide llama2.c checkpoint (default: written by headlight synth)")
    ap.add_argument("--no-big", action="store_true", help="only stories260K")
    ap.add_argument("--weights", default="f32,bf16",
                    help="Headlight's weight precisions to time (bf16 rounds the weights: its tokens may differ)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="hl-decode-")
    ref, hl = os.path.join(tmp, "ref"), os.path.join(tmp, "headlight")
    subprocess.run(["gcc", "-Ofast", "-march=native", "-fopenmp", "-o", ref,
                    os.path.join(ROOT, "bench", "peers", "llama2c", "ref.c"), "-lm"], check=True)
    subprocess.run(["go", "build", "-o", hl, "./cmd/headlight"], cwd=ROOT, check=True)

    golden = json.load(open(os.path.join(ROOT, "assets", "stories260K", "reference.json")))["tokens"][1:]
    got = run_json([ref, STORIES, str(len(golden)), "1"])["tokens"]
    if got != golden:
        sys.exit("ref.c does not reproduce run.c's golden tokens on stories260K: %s… vs %s…" % (got[:8], golden[:8]))
    print("ref.c reproduces run.c's %d golden tokens on stories260K" % len(golden), file=sys.stderr)

    models = [("stories260K", STORIES, STORIES_TOK, 512, 256)]
    if not args.no_big:
        big = args.big
        if not big:
            subprocess.run([hl, "synth", "--out", os.path.join(tmp, "s768")], check=True, capture_output=True)
            big = os.path.join(tmp, "s768", "model.bin")
        models.append(("768×12 random (85 M)", big, os.path.join(os.path.dirname(big), "tokenizer.bin"), 128, 64))

    kinds = [w for w in args.weights.split(",") if w]
    rows = []
    for name, path, tok, positions, prefill in models:
        for threads in (1, 2):
            c, g = [], {w: [] for w in kinds}
            for r in range(args.reps):
                print("%s, %d thread(s), rep %d/%d" % (name, threads, r + 1, args.reps), file=sys.stderr)
                c.append(run_json([ref, path, str(positions), str(threads), str(WARMUP)])["tok_s"])
                for wt in kinds:
                    g[wt].append(run_json([hl, "bench", "generate", "--json", "--model", path, "--tokenizer", tok,
                                           "--positions", str(positions), "--prefill", str(prefill),
                                           "--threads", str(threads), "--reps", "3", "--weights", wt,
                                           "--warmup", "%gs" % WARMUP])["decode_tok_s"])
            for wt in kinds:
                rows.append((name, threads, positions, wt, statistics.median(c), statistics.median(g[wt]), c, g[wt]))

    print("| model | threads | positions | Headlight weights | ref.c tokens/s (float32) | Headlight tokens/s "
          "| Headlight ÷ ref.c | goal |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | --- |")
    for name, threads, positions, wt, c, g, _, _ in rows:
        print("| %s | %d | %d | %s | %.1f | %.1f | **%.2f×** | ≥ 1.2× %s |" % (
            name, threads, positions, wt, c, g, g / c, "✓" if g / c >= 1.2 else "✗"))
    print()
    for name, threads, _, wt, _, _, c, g in rows:
        print("- %s, %d thread(s), Headlight %s: ref.c %s | Headlight %s" % (
            name, threads, wt, " ".join("%.1f" % v for v in c), " ".join("%.1f" % v for v in g)))


if __name__ == "__main__":
    main()
