#!/usr/bin/python3
"""Headlight against PyTorch 1.13 (Debian python3-torch on OpenBLAS) in one run.

`make bench-peers` runs this with /usr/bin/python3. Every case is measured
alternately (PyTorch, Headlight, Headlight, PyTorch, …) REPS times; each
measurement is itself the median of timed calls after a warm-up, and the table
reports the median of the alternating measurements. GFLOP/s are counted alike
on both sides (FlashAttention's convention, as `headlight bench attention`):
2·m·n·k for SGEMM, 4·b·h·s²·d for the attention core (half when causal), plus
8·b·s·d_model² for the MHA block.

Headlight's side is the `headlight bench attention` command (fused core and
MHA block, head statistics ON, weights packed as a model load packs them) and
bench/peers/sgemm (kernels.MatMulPanels: the square products pack b into
panels inside every timed call, as torch.matmul packs internally; the
projection shapes multiply weights packed once, as a loaded model's are),
both built once with `go build`. The roofline is the float32 FMA peak that
bench/peers/sgemm -fma-peak measures in this run (12 independent FMA chains
per thread on the vector width of Headlight's kernels — zmm when they run
AVX-512, ymm otherwise — on the same number of threads).
"""
import argparse
import atexit
import ctypes
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

THREADS = 2
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))  # before torch (and OpenBLAS) load

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
D_MODEL, HEADS = 768, 12
HEAD_DIM = D_MODEL // HEADS


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def cpu_mhz():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz"):
                return float(line.split(":", 1)[1])
    return None


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def blas_in_use():
    """The BLAS/LAPACK libraries mapped into this process after a matmul, and OpenBLAS's own config."""
    a = torch.randn(64, 64)
    torch.matmul(a, a)
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if any(s in p for s in ("blas", "lapack", "mkl", "blis", "gomp")):
                libs.add(p)
    cfg = None
    for lib in libs:
        if "openblas" in lib and "libopenblas" in os.path.basename(lib):
            try:
                ob = ctypes.CDLL(lib)
                ob.openblas_get_config.restype = ctypes.c_char_p
                cfg = "%s, %d threads" % (ob.openblas_get_config().decode(), ob.openblas_get_num_threads())
            except OSError:
                pass
    return sorted(libs), cfg


WARMUP = 0.5  # seconds of untimed calls before timing, on both sides (bench.WarmupTime, sgemm -warmup)


def median_time(fn, min_time, min_calls):
    warm = time.perf_counter()
    fn()  # warm-up: at least one call, for WARMUP seconds
    while time.perf_counter() - warm < WARMUP:
        fn()
    times = []
    t_start = time.perf_counter()
    while len(times) < min_calls or (time.perf_counter() - t_start < min_time and len(times) < 10000):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ---------------------------------------------------------------- PyTorch side
def torch_sgemm(m, n, k):
    a, b = torch.randn(m, k), torch.randn(k, n)
    return lambda: torch.matmul(a, b)


def torch_mha(batch, seq):
    mha = torch.nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True).eval()
    x = torch.randn(batch, seq, D_MODEL)

    def f():
        with torch.no_grad():
            mha(x, x, x, need_weights=False)
    return f


def torch_core(batch, seq, causal):
    # torch 1.13: _scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, need_attn_weights[, is_causal]);
    # the mask is boolean, True = takes part.
    bh = batch * HEADS
    q, k, v = (torch.randn(bh, seq, HEAD_DIM) for _ in range(3))
    mask = torch.ones(seq, seq, dtype=torch.bool).tril() if causal else None

    def f():
        with torch.no_grad():
            F._scaled_dot_product_attention(q, k, v, mask, 0.0, False)
    return f


# -------------------------------------------------------------- Headlight side
def go_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.strip().startswith("{")]


def hl_sgemm(bins, m, n, k, min_time, kernel):
    r = go_json([bins["sgemm"], "-shapes", "%dx%dx%d" % (m, n, k), "-threads", str(THREADS),
                 "-min-time", "%dms" % (min_time * 1000), "-reps", "3", "-kernel", kernel])[0]
    assert r["kernel"] == kernel, r
    return r["ms"] / 1e3


def hl_attention(bins, op, batch, seq, causal, min_time):
    r = go_json([bins["headlight"], "bench", "attention", "--json", "--shapes", "%dx%d" % (batch, seq),
                 "--ops", op, "--causal", "on" if causal else "off", "--stats", "on",
                 "--threads", str(THREADS), "--min-time", "%dms" % (min_time * 1000), "--reps", "3"])[0]
    assert r["stats"] and r["threads"] == THREADS, r
    return r["ms"] / 1e3


def fma_peak(bins):
    return go_json([bins["sgemm"], "-fma-peak", "-threads", str(THREADS)])[0]


# ----------------------------------------------------------------------- cases
def cases(with_causal):
    out = []
    for s in (512, 1024, 2048):
        out.append(dict(kind="SGEMM", label="%d³ square, packing included" % s, flops=2.0 * s ** 3, goal=0.95,
                        torch=lambda s=s: torch_sgemm(s, s, s),
                        go=lambda b, t, s=s: hl_sgemm(b, s, s, s, t, "panels+pack")))
    for seq in (128, 512, 2048):
        out.append(dict(kind="SGEMM", label="(%d×768)·(768×768), weights packed at load" % seq,
                        flops=2.0 * seq * 768 * 768, goal=0.95,
                        torch=lambda seq=seq: torch_sgemm(seq, 768, 768),
                        go=lambda b, t, seq=seq: hl_sgemm(b, seq, 768, 768, t, "panels")))
    for batch, seq in ((1, 128), (8, 128), (1, 512), (1, 2048)):
        fl = 4.0 * batch * HEADS * seq * seq * HEAD_DIM + 8.0 * batch * seq * D_MODEL ** 2
        out.append(dict(kind="MHA block", label="b=%d s=%d" % (batch, seq), flops=fl,
                        goal=1.2 if seq >= 512 else 1.0,
                        torch=lambda batch=batch, seq=seq: torch_mha(batch, seq),
                        go=lambda b, t, batch=batch, seq=seq: hl_attention(b, "mha", batch, seq, False, t)))
    for causal in ((False, True) if with_causal else (False,)):
        for seq in (128, 256, 512, 1024, 2048, 4096):
            fl = 4.0 * HEADS * seq * seq * HEAD_DIM / (2 if causal else 1)
            out.append(dict(kind="attention core" + (" causal" if causal else ""),
                            label="12×%d×64" % seq, flops=fl, goal=2.0, big=seq >= 4096,
                            torch=lambda seq=seq, causal=causal: torch_core(1, seq, causal),
                            go=lambda b, t, seq=seq, causal=causal: hl_attention(b, "attention", 1, seq, causal, t)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3, help="alternating A/B repetitions per case (median reported)")
    ap.add_argument("--big-reps", type=int, default=3, help="repetitions for seq 4096 (lower to save time)")
    ap.add_argument("--min-time", type=float, default=0.3, help="seconds each single measurement runs at least")
    ap.add_argument("--no-causal", action="store_true", help="skip the causal attention-core rows")
    ap.add_argument("--allow-reference-blas", action="store_true", help="run even if torch is not on OpenBLAS")
    ap.add_argument("--only", default="", help="only cases whose kind contains this text (debugging)")
    args = ap.parse_args()

    t_run = time.time()
    torch.set_num_threads(THREADS)
    libs, ob_cfg = blas_in_use()
    openblas = any("openblas" in l for l in libs)
    if not openblas and not args.allow_reference_blas:
        log("PyTorch is not using OpenBLAS (mapped: %s); run `make bench-peers` (as root) to install and pin it, "
            "or pass --allow-reference-blas" % libs)
        return 1

    tmp = tempfile.mkdtemp(prefix="bench-peers-")
    atexit.register(shutil.rmtree, tmp, True)
    bins = {"headlight": os.path.join(tmp, "headlight"), "sgemm": os.path.join(tmp, "sgemm")}
    log("building Headlight …")
    subprocess.run(["go", "build", "-o", bins["headlight"], "./cmd/headlight"], cwd=ROOT, check=True)
    subprocess.run(["go", "build", "-o", bins["sgemm"], "./bench/peers/sgemm"], cwd=ROOT, check=True)

    peaks = [fma_peak(bins)]
    todo = [c for c in cases(not args.no_causal) if args.only in c["kind"]]
    rows = []
    for i, c in enumerate(todo):
        reps = args.big_reps if c.get("big") else args.reps
        fn = c["torch"]()
        t_torch, t_go = [], []
        for r in range(reps):
            log("[%d/%d] %s %s rep %d/%d" % (i + 1, len(todo), c["kind"], c["label"], r + 1, reps))
            order = ("torch", "go") if r % 2 == 0 else ("go", "torch")
            for side in order:
                if side == "torch":
                    t_torch.append(median_time(fn, args.min_time, 3))
                else:
                    t_go.append(c["go"](bins, args.min_time))
        del fn
        gt = c["flops"] / statistics.median(t_torch) / 1e9
        gg = c["flops"] / statistics.median(t_go) / 1e9
        rows.append(dict(kind=c["kind"], label=c["label"], torch=gt, go=gg, ratio=gg / gt, goal=c["goal"], reps=reps,
                         torch_all=[c["flops"] / t / 1e9 for t in t_torch], go_all=[c["flops"] / t / 1e9 for t in t_go]))
    peaks.append(fma_peak(bins))
    peak = max(p["gflops"] for p in peaks)
    best_sgemm = max([max(r["torch"], r["go"]) for r in rows if r["kind"] == "SGEMM"] or [0])
    mhz = cpu_mhz()

    flags = cpu_flags()
    isa = "AVX-512F" if "avx512f" in flags else ("AVX2+FMA" if {"avx2", "fma"} <= flags else "no AVX2+FMA")
    p = print
    p("### Headlight ÷ PyTorch %s, %d threads — %s" % (torch.__version__, THREADS,
                                                      datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")))
    p("")
    kimpl = go_json([bins["sgemm"], "-shapes", "8x8x8", "-reps", "1", "-min-time", "0s"])[0]["impl"]
    lanes = 16 if kimpl == "avx512" else 8
    p("- machine: `nproc` = %d, CPU `%s` (%s), Go %s, Headlight kernels `%s`" % (
        os.cpu_count(), cpu_model(), isa,
        subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True).stdout.strip(), kimpl))
    p("- PyTorch BLAS: %s%s" % (", ".join("`%s`" % l for l in libs if "gomp" not in l),
                               " — OpenBLAS config: `%s`" % ob_cfg if ob_cfg else ""))
    p("- roofline: float32 FMA peak **%.0f GFLOP/s** on %d threads, measured in this run by `bench/peers/sgemm -fma-peak` "
      "(%s; best of 5 rounds, before and after the cases: %s). For comparison: clock × 2 FMA units × %d lanes × 2 flops "
      "× %d threads from /proc/cpuinfo's `cpu MHz` (%.0f MHz, the nominal clock a VM reports) = %.0f GFLOP/s; "
      "best SGEMM in this run (empirical ceiling) = %.0f GFLOP/s." % (
          peak, THREADS, peaks[0]["probe"], " / ".join("%.0f" % x["gflops"] for x in peaks), lanes,
          THREADS, mhz or 0, (mhz or 0) * 1e-3 * 4 * lanes * THREADS, best_sgemm))
    p("- method: %d alternating A/B repetitions per case (%d at seq 4096), each the median of ≥ 3 timed calls "
      "(≥ %.1f s) after %.2f s of untimed calls; the figure is the median of the repetitions. Headlight: head statistics on; "
      "PyTorch: eval, no_grad, `need_weights=False`; attention core = `F._scaled_dot_product_attention(q, k, v, mask, "
      "0.0, False)` on (12, seq, 64), causal rows with a boolean `tril` mask (FLOPs halved on both sides). "
      "Whole run: %.0f s." % (args.reps, args.big_reps, args.min_time, WARMUP, time.time() - t_run))
    p("")
    p("| kernel | shape | PyTorch GFLOP/s | Headlight GFLOP/s | Headlight ÷ PyTorch | goal (issue 5) | PyTorch % of peak | Headlight % of peak |")
    p("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |")
    for r in rows:
        ok = "✓" if r["ratio"] >= r["goal"] else "✗"
        p("| %s | %s | %.1f | %.1f | **%.2f×** | ≥ %.2f× %s | %.0f %% | %.0f %% |" % (
            r["kind"], r["label"], r["torch"], r["go"], r["ratio"], r["goal"], ok,
            100 * r["torch"] / peak, 100 * r["go"] / peak))
    p("")
    p("<details><summary>every repetition (GFLOP/s, PyTorch | Headlight)</summary>")
    p("")
    for r in rows:
        p("- %s %s: %s | %s" % (r["kind"], r["label"], " ".join("%.1f" % x for x in r["torch_all"]),
                                " ".join("%.1f" % x for x in r["go_all"])))
    p("")
    p("</details>")
    return 0


if __name__ == "__main__":
    sys.exit(main())
