#!/usr/bin/python3
"""Reference-fixture generator for the headlight attention engine.

Writes one JSON file per case to testdata/attention/<name>.json.
Run from the repository root:

    /usr/bin/python3 testdata/gen/attention.py

Everything is deterministic: every case draws its inputs from its own
torch.Generator seeded with a fixed number, inputs are float32, and every
reference result is computed in float64 from those float32 values.
See testdata/gen/README.md for the file format and the exact semantics.
"""

import json
import math
import os
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)  # keep float64 reductions in one fixed order

OUT_DIR = os.path.join("testdata", "attention")
NEG_INF_IN_FILE = -1e30  # JSON cannot hold -inf; the Go loader maps <= -1e30 to -Inf
F64 = torch.float64
F32 = torch.float32


# ---------------------------------------------------------------------------
# Inputs and output helpers
# ---------------------------------------------------------------------------

def make_gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def randn32(g, *shape, mul=1.0):
    """float32 standard normals (optionally scaled, the product rounded to float32)."""
    x = torch.randn(*shape, generator=g, dtype=F32)
    if mul != 1.0:
        x = (x * mul).to(F32)
    return x


def rand_bool(g, shape, p):
    """Bernoulli(p) booleans."""
    return torch.rand(*shape, generator=g, dtype=F32) < p


def padding_mask(lengths, seq, left=None):
    """(B, seq) bool, True = padded key. left[b] True means left padding."""
    m = torch.zeros(len(lengths), seq, dtype=torch.bool)
    for b, n in enumerate(lengths):
        if left is not None and left[b]:
            m[b, : seq - n] = True
        else:
            m[b, n:] = True
    return m


def tensor_entry(t):
    """{"shape", "data"} with data flat row-major; bools/ints become integers, -inf becomes -1e30."""
    t = t.detach()
    if t.dtype == torch.bool or not t.is_floating_point():
        data = [int(x) for x in t.reshape(-1).tolist()]  # masks 0/1, counts
    else:
        # float32 values are converted exactly to float64 here, so they are written
        # with full float64 repr and parse back to exactly the same float32 value.
        data = []
        for x in t.to(F64).reshape(-1).tolist():
            if x == -math.inf:
                x = NEG_INF_IN_FILE
            if not math.isfinite(x):
                raise ValueError("non-finite value %r cannot be written" % x)
            data.append(x)
    return {"shape": list(t.shape), "data": data}


def write_case(name, kind, description, config, tensors):
    lines = ["{"]
    lines.append(' "name": %s,' % json.dumps(name))
    lines.append(' "kind": %s,' % json.dumps(kind))
    lines.append(' "description": %s,' % json.dumps(description))
    lines.append(' "config": %s,' % json.dumps(config, allow_nan=False))
    lines.append(' "tensors": {')
    items = list(tensors.items())
    for n, (tname, t) in enumerate(items):
        entry = json.dumps(tensor_entry(t), allow_nan=False, separators=(",", ":"))
        lines.append("  %s: %s%s" % (json.dumps(tname), entry, "," if n + 1 < len(items) else ""))
    lines.append(" }")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # sanity: valid JSON
    path = os.path.join(OUT_DIR, name + ".json")
    with open(path, "w") as f:
        f.write(text)
    return path


def assert_close(a, b, what, tol=1e-12):
    a = a.to(F64)
    b = b.to(F64)
    if a.shape != b.shape:
        raise AssertionError("%s: shape %s vs %s" % (what, tuple(a.shape), tuple(b.shape)))
    err = (a - b).abs().max().item() if a.numel() else 0.0
    scale = max(1.0, b.abs().max().item() if b.numel() else 0.0)
    if not err <= tol * scale:
        raise AssertionError("%s: max abs diff %g" % (what, err))


# ---------------------------------------------------------------------------
# kind "core"
# ---------------------------------------------------------------------------

def alibi_slopes(n):
    """Standard ALiBi slopes (Press et al., reference implementation get_slopes)."""
    def power_of_2(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start ** i for i in range(n)]

    if math.log2(n).is_integer():
        return power_of_2(n)
    closest = 2 ** math.floor(math.log2(n))
    return power_of_2(closest) + alibi_slopes(2 * closest)[0::2][: n - closest]


def round_kv(x, kv_dtype):
    """Round float32 K/V to the storage dtype, returned as float64."""
    if kv_dtype == "f32":
        return x.to(F64)
    if kv_dtype == "f16":
        return x.half().double()
    if kv_dtype == "bf16":
        return x.bfloat16().double()
    raise ValueError(kv_dtype)


def core_allowed(cfg, key_padding=None, bool_mask=None, bias=None):
    """(B, H, Sq, Sk) bool: True where query i may attend key j."""
    B, H, Sq, Sk = cfg["batch"], cfg["heads"], cfg["seq_q"], cfg["seq_k"]
    qpos = torch.arange(Sq).view(Sq, 1) + cfg["q_offset"]  # (Sq, 1)
    kpos = torch.arange(Sk).view(1, Sk)                     # (1, Sk)
    allowed = torch.ones(B, H, Sq, Sk, dtype=torch.bool)

    if cfg["causal"]:
        allowed &= ~(kpos > qpos)
    if key_padding is not None:
        allowed &= ~key_padding.view(B, 1, 1, Sk)
    if bool_mask is not None:
        allowed &= ~bool_mask  # broadcast over size-1 batch/head dims
    if bias is not None:
        allowed &= bias != -math.inf

    if "window_left" in cfg:
        wl, wr = cfg["window_left"], cfg["window_right"]
        in_window = torch.ones(Sq, Sk, dtype=torch.bool)
        if wl != -1:
            in_window &= (qpos - kpos) <= wl
        if wr != -1:
            in_window &= (kpos - qpos) <= wr
        if "global" in cfg:
            glob = torch.tensor(cfg["global"])
            q_is_global = (qpos.view(Sq, 1, 1) == glob).any(-1)  # (Sq, 1)
            k_is_global = (kpos.view(1, Sk, 1) == glob).any(-1)  # (1, Sk)
            in_window |= q_is_global | k_is_global
        allowed &= in_window
    return allowed


def core_reference(cfg, q, k, v, key_padding=None, bool_mask=None, bias=None,
                   alibi=None, head_mask=None):
    """Float64 reference of the attention core. Returns a dict of expected tensors."""
    B, H, Hkv, D = cfg["batch"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"]
    Sq, Sk = cfg["seq_q"], cfg["seq_k"]
    kv_dtype = cfg.get("kv_dtype", "f32")

    qh = q.to(F64).view(B, Sq, H, D).permute(0, 2, 1, 3)                # (B, H, Sq, D)
    kh = round_kv(k, kv_dtype).view(B, Sk, Hkv, D).permute(0, 2, 1, 3)  # (B, Hkv, Sk, D)
    vh = round_kv(v, kv_dtype).view(B, Sk, Hkv, D).permute(0, 2, 1, 3)

    # Grouped-query: query head h reads KV head h // (H / Hkv).
    group = H // Hkv
    kv_of_head = torch.tensor([h // group for h in range(H)])
    kh = kh[:, kv_of_head]  # (B, H, Sk, D)
    vh = vh[:, kv_of_head]

    logits = cfg["scale"] * torch.matmul(qh, kh.transpose(-1, -2))  # (B, H, Sq, Sk)
    if bias is not None:
        logits = logits + bias.to(F64)
    if alibi is not None:
        qpos = torch.arange(Sq, dtype=F64).view(Sq, 1) + cfg["q_offset"]
        kpos = torch.arange(Sk, dtype=F64).view(1, Sk)
        logits = logits - alibi.to(F64).view(1, H, 1, 1) * (qpos - kpos).abs()

    allowed = core_allowed(cfg, key_padding, bool_mask, bias)

    # Softmax over allowed keys only; rows without any allowed key get all-zero weights.
    masked = torch.where(allowed, logits, torch.full_like(logits, -math.inf))
    row_max = masked.max(dim=-1, keepdim=True).values
    row_max = torch.where(torch.isinf(row_max), torch.zeros_like(row_max), row_max)
    safe = torch.where(allowed, logits - row_max, torch.zeros_like(logits))
    e = torch.where(allowed, torch.exp(safe), torch.zeros_like(logits))
    denom = e.sum(dim=-1, keepdim=True)
    weights = torch.where(denom > 0, e / torch.where(denom > 0, denom, torch.ones_like(denom)),
                          torch.zeros_like(e))

    out = torch.matmul(weights, vh)  # (B, H, Sq, D)
    if head_mask is not None:
        out = out * head_mask.to(F64).view(1, H, 1, 1)
    out = out.permute(0, 2, 1, 3).reshape(B, Sq, H * D)

    plogp = torch.where(weights > 0, weights * torch.log(torch.where(weights > 0, weights,
                                                                     torch.ones_like(weights))),
                        torch.zeros_like(weights))
    entropy = -plogp.sum(dim=-1)
    max_weight = weights.max(dim=-1).values
    attended = allowed.sum(dim=-1)  # int64 count of allowed keys
    return {"out": out, "weights": weights, "entropy": entropy,
            "max_weight": max_weight, "attended": attended}


def core_naive(cfg, q, k, v, key_padding=None, bool_mask=None, bias=None,
               alibi=None, head_mask=None):
    """Scalar Python transcription of the README rules, used only as a cross-check."""
    B, H, Hkv, D = cfg["batch"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"]
    Sq, Sk = cfg["seq_q"], cfg["seq_k"]
    kv_dtype = cfg.get("kv_dtype", "f32")
    Q = q.to(F64).tolist()
    K = round_kv(k, kv_dtype).tolist()
    V = round_kv(v, kv_dtype).tolist()
    glob = cfg.get("global")
    out = torch.zeros(B, Sq, H * D, dtype=F64)
    weights = torch.zeros(B, H, Sq, Sk, dtype=F64)
    for b in range(B):
        for h in range(H):
            kvh = h // (H // Hkv)
            for i in range(Sq):
                qpos = i + cfg["q_offset"]
                logit, ok = [], []
                for j in range(Sk):
                    kpos = j
                    s = cfg["scale"] * sum(Q[b][i][h * D + d] * K[b][j][kvh * D + d] for d in range(D))
                    a = True
                    if cfg["causal"] and kpos > qpos:
                        a = False
                    if key_padding is not None and key_padding[b, j]:
                        a = False
                    if bool_mask is not None:
                        bb = b if bool_mask.shape[0] > 1 else 0
                        hh = h if bool_mask.shape[1] > 1 else 0
                        if bool_mask[bb, hh, i, j]:
                            a = False
                    if bias is not None:
                        bb = b if bias.shape[0] > 1 else 0
                        hh = h if bias.shape[1] > 1 else 0
                        bval = float(bias[bb, hh, i, j])
                        if bval == -math.inf:
                            a = False
                        else:
                            s += bval
                    if alibi is not None:
                        s -= float(alibi[h]) * abs(qpos - kpos)
                    if "window_left" in cfg:
                        wl, wr = cfg["window_left"], cfg["window_right"]
                        w = (wl == -1 or qpos - kpos <= wl) and (wr == -1 or kpos - qpos <= wr)
                        if glob is not None and (qpos in glob or kpos in glob):
                            w = True
                        if not w:
                            a = False
                    logit.append(s)
                    ok.append(a)
                if not any(ok):
                    continue
                m = max(s for s, a in zip(logit, ok) if a)
                e = [math.exp(s - m) if a else 0.0 for s, a in zip(logit, ok)]
                z = sum(e)
                for j in range(Sk):
                    weights[b, h, i, j] = e[j] / z
                if head_mask is not None and float(head_mask[h]) == 0:
                    continue
                for d in range(D):
                    out[b, i, h * D + d] = sum(e[j] / z * V[b][j][kvh * D + d] for j in range(Sk))
    return out, weights


def check_against_sdpa(cfg, q, k, v, key_padding, expected):
    """Compare with torch's own _scaled_dot_product_attention (float64, default scale)."""
    B, H, Hkv, D = cfg["batch"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"]
    Sq, Sk = cfg["seq_q"], cfg["seq_k"]
    assert cfg["q_offset"] == 0 and Sq == Sk and abs(cfg["scale"] - 1 / math.sqrt(D)) < 1e-15
    qh = q.to(F64).view(B, Sq, H, D).transpose(1, 2)
    kh = k.to(F64).view(B, Sk, Hkv, D).transpose(1, 2).repeat_interleave(H // Hkv, dim=1)
    vh = v.to(F64).view(B, Sk, Hkv, D).transpose(1, 2).repeat_interleave(H // Hkv, dim=1)
    # torch 1.13: bool attn_mask True = "takes part in attention".
    keep = None
    if key_padding is not None:
        keep = (~key_padding).view(B, 1, 1, Sk).expand(B, H, Sq, Sk)
    if cfg["causal"]:
        tri = torch.ones(Sq, Sk, dtype=torch.bool).tril()
        keep = tri.expand(B, H, Sq, Sk) if keep is None else keep & tri
    out, w = F._scaled_dot_product_attention(qh, kh, vh, keep, 0.0, True, False)
    assert_close(w, expected["weights"], cfg["name"] + " sdpa weights")
    assert_close(out.transpose(1, 2).reshape(B, Sq, H * D), expected["out"], cfg["name"] + " sdpa out")


def core_case(name, description, seed, B, H, Hkv, D, Sq, Sk, causal=False, q_offset=0,
              scale=None, window=None, global_pos=None, kv_dtype="f32",
              qk_mul=1.0, v_mul=1.0, pad_lengths=None, pad_left=None,
              bool_mask_shape=None, bool_mask_p=0.3, force_masked_row=None,
              bias_shape=None, bias_neginf_p=0.0, alibi=False, head_mask=None,
              sdpa_check=False):
    g = make_gen(seed)
    cfg = {"batch": B, "heads": H, "kv_heads": Hkv, "head_dim": D, "seq_q": Sq, "seq_k": Sk,
           "scale": scale if scale is not None else 1.0 / math.sqrt(D),
           "causal": causal, "q_offset": q_offset}
    if window is not None:
        cfg["window_left"], cfg["window_right"] = window
    if global_pos is not None:
        cfg["global"] = list(global_pos)
    if kv_dtype != "f32":
        cfg["kv_dtype"] = kv_dtype

    q = randn32(g, B, Sq, H * D, mul=qk_mul)
    k = randn32(g, B, Sk, Hkv * D, mul=qk_mul)
    v = randn32(g, B, Sk, Hkv * D, mul=v_mul)
    extra = {}
    if pad_lengths is not None:
        extra["key_padding"] = padding_mask(pad_lengths, Sk, pad_left)
    if bool_mask_shape is not None:
        m = rand_bool(g, bool_mask_shape, bool_mask_p)
        if force_masked_row is not None:
            m[force_masked_row] = True  # (b, h, i): every key masked -> empty row
        extra["bool_mask"] = m
    if bias_shape is not None:
        bias = randn32(g, *bias_shape)
        if bias_neginf_p > 0:
            bias = bias.masked_fill(rand_bool(g, bias_shape, bias_neginf_p), -math.inf)
        extra["bias"] = bias
    if alibi:
        extra["alibi"] = torch.tensor(alibi_slopes(H), dtype=F64)
    if head_mask is not None:
        extra["head_mask"] = torch.tensor(head_mask)  # int64 0/1

    exp = core_reference(cfg, q, k, v, **extra)

    # Cross-checks (not written): scalar transcription, and torch's SDPA where applicable.
    n_out, n_w = core_naive(cfg, q, k, v, **extra)
    assert_close(n_w, exp["weights"], name + " naive weights", tol=1e-11)
    assert_close(n_out, exp["out"], name + " naive out", tol=1e-11)
    if sdpa_check:
        check_against_sdpa(dict(cfg, name=name), q, k, v, extra.get("key_padding"), exp)

    tensors = {"q": q, "k": k, "v": v}
    tensors.update(extra)
    tensors.update(exp)
    return name, "core", description, cfg, tensors


# ---------------------------------------------------------------------------
# kind "mha": torch.nn.MultiheadAttention
# ---------------------------------------------------------------------------

def mha_case(name, description, seed, B, E, H, Sq, Sk=None, kdim=None, vdim=None,
             bias=True, self_attn=True, attn_mask_kind="none", causal=False, pad_lengths=None):
    g = make_gen(seed)
    Sk = Sq if Sk is None else Sk
    kdim = E if kdim is None else kdim
    vdim = E if vdim is None else vdim
    assert not self_attn or (Sk == Sq and kdim == E and vdim == E)

    # Weights: float32 values, ~ N(0, 1/fan_in); biases randn*0.1 (or zeros).
    wq = randn32(g, E, E, mul=1 / math.sqrt(E))
    wk = randn32(g, E, kdim, mul=1 / math.sqrt(kdim))
    wv = randn32(g, E, vdim, mul=1 / math.sqrt(vdim))
    wo = randn32(g, E, E, mul=1 / math.sqrt(E))
    if bias:
        bq, bk, bv, bo = (randn32(g, E, mul=0.1) for _ in range(4))
    else:
        bq = bk = bv = bo = torch.zeros(E, dtype=F32)

    query = randn32(g, B, Sq, E)
    if self_attn:
        key = value = query
    else:
        key = randn32(g, B, Sk, kdim)
        value = randn32(g, B, Sk, vdim)

    key_padding = padding_mask(pad_lengths, Sk) if pad_lengths is not None else None
    attn_mask = None
    if attn_mask_kind == "bool":
        assert causal
        attn_mask = torch.ones(Sq, Sk, dtype=torch.bool).triu(1)  # True = not allowed
    elif attn_mask_kind == "float":
        attn_mask = randn32(g, B * H, Sq, Sk)

    mha = torch.nn.MultiheadAttention(E, H, dropout=0.0, bias=bias, kdim=kdim, vdim=vdim,
                                      batch_first=True).double().eval()
    with torch.no_grad():
        if mha._qkv_same_embed_dim:
            mha.in_proj_weight.copy_(torch.cat([wq, wk, wv]).to(F64))
        else:
            mha.q_proj_weight.copy_(wq.to(F64))
            mha.k_proj_weight.copy_(wk.to(F64))
            mha.v_proj_weight.copy_(wv.to(F64))
        mha.out_proj.weight.copy_(wo.to(F64))
        if bias:
            mha.in_proj_bias.copy_(torch.cat([bq, bk, bv]).to(F64))
            mha.out_proj.bias.copy_(bo.to(F64))
        else:
            assert mha.in_proj_bias is None and mha.out_proj.bias is None

    # Forward with autograd enabled: that keeps torch 1.13 on the documented Python path
    # (F.multi_head_attention_forward) instead of the native "fast path", which in 1.13
    # crashes with bias=False and is only taken for some of the cases.
    qd, kd, vd = query.to(F64), key.to(F64), value.to(F64)
    if self_attn:
        kd = vd = qd
    mask_arg = None
    if attn_mask is not None:
        mask_arg = attn_mask if attn_mask.dtype == torch.bool else attn_mask.to(F64)
    out, weights = mha(qd, kd, vd, key_padding_mask=key_padding, need_weights=True,
                       attn_mask=mask_arg, average_attn_weights=False)
    out, weights = out.detach(), weights.detach()

    # Cross-check against a plain float64 computation of the same thing.
    D = E // H
    def proj(x, w, b):
        return x.to(F64) @ w.to(F64).T + b.to(F64)
    qh = proj(query, wq, bq).view(B, Sq, H, D).transpose(1, 2)
    kh = proj(key, wk, bk).view(B, Sk, H, D).transpose(1, 2)
    vh = proj(value, wv, bv).view(B, Sk, H, D).transpose(1, 2)
    logits = qh @ kh.transpose(-1, -2) / math.sqrt(D)
    if attn_mask_kind == "float":
        logits = logits + attn_mask.to(F64).view(B, H, Sq, Sk)
    if attn_mask_kind == "bool":
        logits = logits.masked_fill(attn_mask, -math.inf)
    if key_padding is not None:
        logits = logits.masked_fill(key_padding.view(B, 1, 1, Sk), -math.inf)
    w_plain = torch.softmax(logits, dim=-1)
    assert not torch.isnan(w_plain).any(), name + ": fully masked row"
    o_plain = (w_plain @ vh).transpose(1, 2).reshape(B, Sq, E) @ wo.to(F64).T + bo.to(F64)
    assert_close(weights, w_plain, name + " mha weights")
    assert_close(out, o_plain, name + " mha out")

    cfg = {"batch": B, "embed_dim": E, "num_heads": H, "kdim": kdim, "vdim": vdim,
           "seq_q": Sq, "seq_k": Sk, "bias": bias, "self": self_attn,
           "attn_mask_kind": attn_mask_kind, "causal": causal}
    tensors = {"query": query, "key": key, "value": value,
               "wq": wq, "wk": wk, "wv": wv, "bq": bq, "bk": bk, "bv": bv, "wo": wo, "bo": bo}
    if key_padding is not None:
        tensors["key_padding"] = key_padding
    if attn_mask is not None:
        tensors["attn_mask"] = attn_mask
    tensors["out"] = out
    tensors["weights"] = weights
    return name, "mha", description, cfg, tensors


# ---------------------------------------------------------------------------
# RoPE and sinusoidal positions
# ---------------------------------------------------------------------------

def rope_angles(positions, D, theta):
    """(len(positions), D/2) float64 angles p * theta^(-2i/D)."""
    i = torch.arange(D // 2, dtype=F64)
    inv_freq = torch.tensor(float(theta), dtype=F64) ** (-2.0 * i / D)
    return positions.to(F64).view(-1, 1) * inv_freq.view(1, -1)


def apply_rope(x, positions, theta, layout):
    """x (..., S, H, D) float64; positions (S,). Rotates pairs per the layout."""
    D = x.shape[-1]
    ang = rope_angles(positions, D, theta)  # (S, D/2)
    cos = ang.cos().view(-1, 1, D // 2)     # broadcast over heads
    sin = ang.sin().view(-1, 1, D // 2)
    if layout == "interleaved":
        x0, x1 = x[..., 0::2], x[..., 1::2]
    elif layout == "half":
        x0, x1 = x[..., : D // 2], x[..., D // 2:]
    else:
        raise ValueError(layout)
    y0 = x0 * cos - x1 * sin
    y1 = x0 * sin + x1 * cos
    y = torch.empty_like(x)
    if layout == "interleaved":
        y[..., 0::2], y[..., 1::2] = y0, y1
    else:
        y[..., : D // 2], y[..., D // 2:] = y0, y1
    return y


def rope_complex_check(x, positions, theta, layout, y):
    """Independent check: rotation as complex multiplication (Meta Llama style)."""
    D = x.shape[-1]
    if layout == "interleaved":
        pairs = x.reshape(*x.shape[:-1], D // 2, 2)
    else:
        pairs = torch.stack([x[..., : D // 2], x[..., D // 2:]], dim=-1)
    z = torch.view_as_complex(pairs.contiguous())
    freqs = 1.0 / (float(theta) ** (torch.arange(0, D, 2, dtype=F64) / D))
    ang = torch.outer(positions.to(F64), freqs)
    rot = torch.polar(torch.ones_like(ang), ang).view(-1, 1, D // 2)
    r = torch.view_as_real(z * rot)
    if layout == "interleaved":
        r = r.reshape(x.shape)
    else:
        r = torch.cat([r[..., 0], r[..., 1]], dim=-1)
    assert_close(r, y, "rope complex check")


def rope_case(name, description, seed, B, S, H, D, theta, layout, pos_offset):
    g = make_gen(seed)
    x = randn32(g, B, S, H, D)
    positions = torch.arange(S) + pos_offset
    y = apply_rope(x.to(F64), positions, theta, layout)
    rope_complex_check(x.to(F64), positions, theta, layout, y)
    cfg = {"batch": B, "seq": S, "heads": H, "head_dim": D, "theta": float(theta),
           "layout": layout, "pos_offset": pos_offset}
    return name, "rope", description, cfg, {"x": x, "y": y}


def sinusoidal_case(name, description, seq, dim):
    table = torch.zeros(seq, dim, dtype=F64)
    for pos in range(seq):
        for i in range(0, dim, 2):
            ang = pos / (10000.0 ** (i / dim))  # i here is 2*pair index
            table[pos, i] = math.sin(ang)
            if i + 1 < dim:
                table[pos, i + 1] = math.cos(ang)
    # Cross-check with the PyTorch-tutorial formula (exp/log form).
    position = torch.arange(seq, dtype=F64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, dim, 2, dtype=F64) * (-math.log(10000.0) / dim))
    alt = torch.zeros(seq, dim, dtype=F64)
    alt[:, 0::2] = torch.sin(position * div_term)
    alt[:, 1::2] = torch.cos(position * div_term)[:, : dim // 2]
    assert_close(alt, table, name + " sinusoidal check", tol=1e-12)
    return name, "sinusoidal", description, {"seq": seq, "dim": dim}, {"table": table}


# ---------------------------------------------------------------------------
# kind "block": Llama-style attention block
# ---------------------------------------------------------------------------

def block_case(name, description, seed, B, E, H, Hkv, D, S, theta, layout, pos_offset):
    g = make_gen(seed)
    x = randn32(g, B, S, E)
    wq = randn32(g, H * D, E, mul=1 / math.sqrt(E))
    wk = randn32(g, Hkv * D, E, mul=1 / math.sqrt(E))
    wv = randn32(g, Hkv * D, E, mul=1 / math.sqrt(E))
    wo = randn32(g, E, H * D, mul=1 / math.sqrt(H * D))

    xd = x.to(F64)
    q = (xd @ wq.to(F64).T).view(B, S, H, D)
    k = (xd @ wk.to(F64).T).view(B, S, Hkv, D)
    v = (xd @ wv.to(F64).T).view(B, S, Hkv, D)
    positions = torch.arange(S) + pos_offset
    q = apply_rope(q, positions, theta, layout)
    k = apply_rope(k, positions, theta, layout)

    qh = q.transpose(1, 2)                                      # (B, H, S, D)
    kh = k.transpose(1, 2).repeat_interleave(H // Hkv, dim=1)   # (B, H, S, D)
    vh = v.transpose(1, 2).repeat_interleave(H // Hkv, dim=1)
    logits = qh @ kh.transpose(-1, -2) / math.sqrt(D)
    future = torch.ones(S, S, dtype=torch.bool).triu(1)
    p = torch.softmax(logits.masked_fill(future, -math.inf), dim=-1)
    attn = (p @ vh).transpose(1, 2).reshape(B, S, H * D)
    out = attn @ wo.to(F64).T

    # Cross-check the attention part against the "core" reference.
    core_cfg = {"batch": B, "heads": H, "kv_heads": Hkv, "head_dim": D, "seq_q": S, "seq_k": S,
                "scale": 1 / math.sqrt(D), "causal": True, "q_offset": 0}
    ref = core_reference(core_cfg, q.reshape(B, S, H * D), k.reshape(B, S, Hkv * D),
                         v.reshape(B, S, Hkv * D))
    assert_close(ref["out"], attn, name + " block vs core")

    cfg = {"batch": B, "embed_dim": E, "heads": H, "kv_heads": Hkv, "head_dim": D, "seq": S,
           "rope_layout": layout, "rope_theta": float(theta), "pos_offset": pos_offset,
           "causal": True, "bias": False}
    return name, "block", description, cfg, {"x": x, "wq": wq, "wk": wk, "wv": wv, "wo": wo,
                                              "out": out}


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

def cases():
    c = core_case
    yield c("c01_plain", "plain bidirectional multi-head attention", 101,
            2, 3, 3, 8, 11, 11, sdpa_check=True)
    yield c("c02_causal", "causal self-attention", 102,
            2, 3, 3, 8, 11, 11, causal=True, sdpa_check=True)
    yield c("c03_causal_offset", "causal, 4 queries at positions 7..10 over 11 keys (KV-cache decode)", 103,
            1, 2, 2, 8, 4, 11, causal=True, q_offset=7)
    yield c("c03b_causal_offset_single", "causal, single query at position 10 over 11 keys", 1031,
            1, 2, 2, 8, 1, 11, causal=True, q_offset=10)
    yield c("c04_key_padding", "right key padding, lengths 9, 5, 1", 104,
            3, 2, 2, 8, 9, 9, pad_lengths=[9, 5, 1], sdpa_check=True)
    yield c("c04b_key_padding_left", "key padding lengths 9, 5, 1; batch 1 is LEFT padded", 1041,
            3, 2, 2, 8, 9, 9, pad_lengths=[9, 5, 1], pad_left=[False, True, False], sdpa_check=True)
    yield c("c04c_left_padding_causal", "causal + left padding (lengths 9, 5, 1): early rows are empty", 1042,
            3, 2, 2, 8, 9, 9, causal=True, pad_lengths=[9, 5, 1], pad_left=[True, True, True])
    yield c("c05_cross_padding", "cross-attention 5 queries x 13 keys, key padding lengths 13, 7", 105,
            2, 4, 4, 8, 5, 13, pad_lengths=[13, 7])
    yield c("c06_bool_mask", "random bool mask (B,1,Sq,Sk) p=0.3, row (b1,i3) fully masked", 106,
            2, 2, 2, 8, 7, 9, bool_mask_shape=(2, 1, 7, 9), force_masked_row=(1, 0, 3))
    yield c("c06b_bool_mask_heads", "random bool mask (1,H,Sq,Sk) p=0.3, row (h1,i5) fully masked", 1061,
            2, 2, 2, 8, 7, 9, bool_mask_shape=(1, 2, 7, 9), force_masked_row=(0, 1, 5))
    yield c("c07_bias_learned", "additive bias (1,H,Sq,Sk) randn", 107,
            2, 3, 3, 8, 7, 7, bias_shape=(1, 3, 7, 7))
    yield c("c08_bias_neginf", "additive bias (B,H,Sq,Sk) randn with ~20% -inf", 108,
            2, 2, 2, 8, 6, 6, bias_shape=(2, 2, 6, 6), bias_neginf_p=0.2)
    yield c("c09_gqa", "grouped-query causal, 8 query heads over 2 KV heads", 109,
            2, 8, 2, 8, 9, 9, causal=True, sdpa_check=True)
    yield c("c10_mqa", "multi-query causal, 4 query heads over 1 KV head", 110,
            2, 4, 1, 8, 7, 7, causal=True, sdpa_check=True)
    yield c("c11_window_causal", "causal sliding window, left 3, right 0", 111,
            1, 2, 2, 8, 12, 12, causal=True, window=(3, 0))
    yield c("c12_window_bidir", "bidirectional window, left 2, right 2", 112,
            1, 2, 2, 8, 12, 12, window=(2, 2))
    yield c("c12b_window_left_only", "non-causal window, left 4, right unbounded", 1121,
            1, 2, 2, 8, 12, 12, window=(4, -1))
    yield c("c13_longformer", "Longformer: window 2/2, global positions 0 and 6, padding 14, 10", 113,
            2, 2, 2, 8, 14, 14, window=(2, 2), global_pos=[0, 6], pad_lengths=[14, 10])
    yield c("c14_alibi_causal", "ALiBi causal, 4 heads", 114,
            1, 4, 4, 8, 10, 10, causal=True, alibi=True)
    yield c("c14b_alibi_6heads", "ALiBi causal, 6 heads (non-power-of-two slopes)", 1141,
            1, 6, 6, 8, 9, 9, causal=True, alibi=True)
    yield c("c14c_alibi_bidir", "ALiBi bidirectional (|i-j| distance), 4 heads", 1142,
            1, 4, 4, 8, 9, 9, alibi=True)
    yield c("c15_head_mask", "head mask [1,0,1,0]: heads 1 and 3 output zero", 115,
            2, 4, 4, 8, 6, 6, head_mask=[1, 0, 1, 0])
    yield c("c16_kv_f16", "causal, K/V stored as float16", 116,
            2, 3, 3, 8, 9, 9, causal=True, kv_dtype="f16")
    yield c("c17_kv_bf16", "causal, K/V stored as bfloat16", 117,
            2, 3, 3, 8, 9, 9, causal=True, kv_dtype="bf16")
    yield c("c18_large_logits", "q,k = randn*60, logits up to about 1e4 in magnitude", 118,
            1, 2, 2, 8, 6, 6, qk_mul=60.0)
    yield c("c19_large_inputs", "q,k,v = randn*1e3 with scale 1e-5", 119,
            1, 2, 2, 8, 6, 6, qk_mul=1e3, v_mul=1e3, scale=1e-5)
    yield c("c20_custom_scale", "explicit scale 0.3", 120,
            1, 2, 2, 8, 5, 5, scale=0.3)
    yield c("c21_odd_dim", "head dim 5, a single key", 121,
            2, 3, 3, 5, 7, 1)
    yield c("c22_odd_sizes", "causal 37 queries (offset 16) x 53 keys, head dim 12", 122,
            1, 3, 3, 12, 37, 53, causal=True, q_offset=16)

    m = mha_case
    yield m("m01_self", "nn.MultiheadAttention self-attention", 201, 2, 32, 4, 9)
    yield m("m02_causal", "nn.MultiheadAttention self-attention with bool causal attn_mask", 202,
            2, 32, 4, 9, attn_mask_kind="bool", causal=True)
    yield m("m03_key_padding", "nn.MultiheadAttention self-attention, key padding lengths 9, 4", 203,
            2, 32, 4, 9, pad_lengths=[9, 4])
    yield m("m04_cross", "nn.MultiheadAttention cross, kdim 20, vdim 24, key padding 10, 6", 204,
            2, 32, 4, 6, Sk=10, kdim=20, vdim=24, self_attn=False, pad_lengths=[10, 6])
    yield m("m05_float_mask", "nn.MultiheadAttention self-attention, float attn_mask (B*H,Sq,Sk)", 205,
            2, 32, 4, 9, attn_mask_kind="float")
    yield m("m06_nobias", "nn.MultiheadAttention self-attention without biases", 206,
            2, 32, 4, 9, bias=False)

    yield block_case("g01_gqa_rope_interleaved", "Llama block, GQA 4/2, interleaved RoPE", 301,
                     2, 32, 4, 2, 8, 9, 10000, "interleaved", 0)
    yield block_case("g02_gqa_rope_half", "Llama block, GQA 4/2, rotate-half RoPE theta 5e5, offset 5", 302,
                     2, 32, 4, 2, 8, 9, 500000, "half", 5)
    yield block_case("g03_mqa_rope_half", "Llama block, MQA 4/1, rotate-half RoPE", 303,
                     2, 32, 4, 1, 8, 7, 10000, "half", 0)

    yield sinusoidal_case("p01_sinusoidal", "sinusoidal position table 50 x 16", 50, 16)
    yield sinusoidal_case("p02_sinusoidal_odd", "sinusoidal position table 7 x 10", 7, 10)

    yield rope_case("r01_rope_interleaved", "RoPE interleaved pairs, offset 3", 401,
                    2, 6, 3, 8, 10000, "interleaved", 3)
    yield rope_case("r02_rope_half", "RoPE rotate-half pairs, offset 0", 402,
                    2, 6, 3, 8, 10000, "half", 0)
    yield rope_case("r03_rope_half_theta", "RoPE rotate-half, theta 5e5, positions 100..104", 403,
                    1, 5, 2, 16, 500000, "half", 100)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    os.chdir(os.path.dirname(os.path.dirname(here)))  # repository root
    os.makedirs(OUT_DIR, exist_ok=True)
    for f in os.listdir(OUT_DIR):  # drop stale fixtures so the set matches this script
        if f.endswith(".json"):
            os.remove(os.path.join(OUT_DIR, f))
    total = 0
    for name, kind, description, cfg, tensors in cases():
        path = write_case(name, kind, description, cfg, tensors)
        size = os.path.getsize(path)
        total += size
        print("%-40s %8d bytes" % (path, size))
    print("total %d bytes" % total)


if __name__ == "__main__":
    sys.exit(main())
