#!/usr/bin/python3
"""Reference fixture for the float32 -> float16 / bfloat16 rounding kernels.

Writes testdata/kernels/half_rounding.json. Run from the repository root:

    /usr/bin/python3 testdata/gen/kernels.py

Needs torch (written against Debian's PyTorch 1.13) and numpy. The inputs are
a fixed list of float32 bit patterns: random normals over many scales (fixed
numpy seed), exact rounding ties for both formats and their neighbours, the
float16 subnormal range, the float16 and bfloat16 overflow thresholds, float32
subnormals, signed zeros, infinities and NaNs with several payloads. For each
input torch's x.half() and x.bfloat16() give the reference bit patterns.

File format (all numbers are unsigned integers, JSON cannot hold NaN):

    {"about": "...", "torch": "<version>",
     "f32":  [float32 bit patterns],
     "f16":  [torch .half() bit patterns, same order],
     "bf16": [torch .bfloat16() bit patterns, same order]}

The Go test (internal/kernels/half_test.go) requires bit-exact agreement,
except that for a NaN input it only requires a NaN output (torch 1.13 gives
0x7e00 for .half() but 0xffff for .bfloat16(); the payload is not specified).
Running the script again recreates the same bytes.
"""

import json
import os

import numpy as np
import torch

OUT = os.path.join("testdata", "kernels", "half_rounding.json")


def f32_bits(vals):
    """float values -> list of float32 bit patterns (rounding to float32)."""
    return [int(b) for b in np.asarray(vals, dtype=np.float32).view(np.uint32)]


def f16_value_bits(h):
    """float16 bit pattern -> float32 bit pattern of the same value."""
    return int(np.array([h], dtype=np.uint16).view(np.float16).astype(np.float32).view(np.uint32)[0])


def main():
    rng = np.random.RandomState(20240611)
    bits = []

    # Random normals over many scales, both signs.
    for e in range(-40, 41, 2):
        bits += f32_bits(rng.standard_normal(40) * 2.0 ** e)
    # Uniform over the float16 normal range and around 1.
    bits += f32_bits(rng.uniform(-65504, 65504, 200))
    bits += f32_bits(rng.uniform(0.5, 2, 200))

    # float16 ties: halfway between two adjacent finite halves (exact in
    # float32), for even and odd lower neighbours, normal and subnormal, plus
    # one float32 ulp either side of each tie.
    hs = list(rng.randint(0, 0x7BFF, 150)) + [0, 1, 2, 3, 0x3FF, 0x400, 0x3C00, 0x3C01, 0x7BFE]
    for h in hs:
        lo = np.uint32(f16_value_bits(h)).view(np.float32)
        hi = np.uint32(f16_value_bits(h + 1)).view(np.float32)
        mid = np.float32((np.float64(lo) + np.float64(hi)) / 2)
        mb = int(np.array([mid], dtype=np.float32).view(np.uint32)[0])
        for b in (mb - 1, mb, mb + 1):
            bits += [b, b | 0x80000000]

    # bfloat16 ties: low 16 bits exactly 0x8000, and one ulp either side.
    for h in list(rng.randint(0, 0x7F7F, 150)) + [0, 1, 0x7F, 0x80, 0x3F80, 0x3F81, 0x7F7E, 0x7F7F]:
        for low in (0x7FFF, 0x8000, 0x8001, 0x0000, 0xFFFF):
            b = (int(h) << 16) | low
            bits += [b, b | 0x80000000]

    # float16 subnormal range and underflow to zero.
    bits += f32_bits(rng.uniform(0, 2.0 ** -14, 300))
    bits += f32_bits(-rng.uniform(0, 2.0 ** -14, 100))
    for v in (2.0 ** -24, 2.0 ** -25, 2.0 ** -26, 1.5 * 2.0 ** -25, 2.0 ** -14, 2.0 ** -15):
        b = f32_bits([v])[0]
        bits += [b - 1, b, b + 1, (b - 1) | 0x80000000, b | 0x80000000]
    bits += f32_bits(rng.uniform(2.0 ** -28, 2.0 ** -23, 200))

    # float16 overflow: 65504 is the largest half, 65520 the tie that rounds
    # to infinity.
    for v in (65504.0, 65519.0, 65520.0, 65535.0, 65536.0, 1e5, 1e9):
        b = f32_bits([v])[0]
        bits += [b - 1, b, b + 1, b | 0x80000000]
    bits += f32_bits(rng.uniform(65000, 66000, 100))

    # bfloat16 near its largest finite value 0x7F7F (3.3895e38), the tie
    # 0x7F7F8000 and float32 max.
    for b in (0x7F7F0000, 0x7F7F7FFF, 0x7F7F8000, 0x7F7F8001, 0x7F7FFFFF, 0x7F7E8000):
        bits += [b, b | 0x80000000]

    # float32 subnormals, zeros, infinities, NaNs with various payloads.
    bits += [0x00000001, 0x00000002, 0x00007FFF, 0x00008000, 0x00018000, 0x007FFFFF, 0x00800000]
    bits += [b | 0x80000000 for b in bits[-7:]]
    bits += [0x00000000, 0x80000000, 0x7F800000, 0xFF800000]
    bits += [0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FBFFFFF, 0x7FFFFFFF, 0xFF800001, 0x7F80FFFF, 0x7FC0FFFF]

    bits = [b & 0xFFFFFFFF for b in bits]
    x = torch.from_numpy(np.array(bits, dtype=np.uint32).view(np.float32))
    f16 = (x.half().view(torch.int16).numpy().astype(np.int64) & 0xFFFF).tolist()
    bf16 = (x.bfloat16().view(torch.int16).numpy().astype(np.int64) & 0xFFFF).tolist()

    # Sanity checks on torch itself (nothing from here goes into the file).
    back = x.half().float()
    finite = torch.isfinite(x) & (x.abs() < 65520)
    assert bool(((back - x).abs()[finite] <= torch.maximum(x.abs()[finite] * 2.0 ** -11, torch.tensor(2.0 ** -25))).all())
    assert f16[bits.index(f32_bits([65520.0])[0])] == 0x7C00
    assert f16[bits.index(f32_bits([65504.0])[0])] == 0x7BFF
    assert bf16[bits.index(0x7F7F8000)] == 0x7F80
    assert bf16[bits.index(0x7F7F7FFF)] == 0x7F7F

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    doc = {
        "about": "float32 bit patterns and torch .half() / .bfloat16() bit patterns; written by testdata/gen/kernels.py",
        "torch": torch.__version__,
        "f32": bits,
        "f16": f16,
        "bf16": bf16,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("%s: %d values, %d bytes" % (OUT, len(bits), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
