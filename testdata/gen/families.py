#!/usr/bin/python3
"""Tiny Hugging Face-layout checkpoints with float64 reference outputs.

For every case this writes testdata/families/<case>/ with
    config.json        the Hugging Face config keys of that model_type
    model.safetensors  random weights under the real Hugging Face tensor names
    reference.json     input ids and the reference outputs
Run from anywhere (paths are resolved from this file):

    /usr/bin/python3 testdata/gen/families.py

Needs only torch and numpy (written against Debian's PyTorch 1.13). No
transformers / safetensors packages: the safetensors files are written by
hand, and the model code below is a plain, literal float64 transcription of
the Hugging Face modeling code (GPT2LMHeadModel, BertModel, LlamaForCausalLM,
BartForConditionalGeneration). The reference is computed from the tensors
read back from the written safetensors file, so it always matches the file.

Deterministic: every case has its own torch.Generator with a fixed seed and
torch runs on one thread, so a rerun writes identical bytes.
See testdata/gen/families_README.md for every convention.
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)  # fixed float64 reduction order

F32 = torch.float32
F64 = torch.float64

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT_ROOT = os.path.join(REPO, "testdata", "families")


# ---------------------------------------------------------------------------
# Random weights
# ---------------------------------------------------------------------------

class Weights:
    """Draws float32 tensors in Hugging Face state_dict order from one generator."""

    def __init__(self, seed):
        self.g = torch.Generator()
        self.g.manual_seed(seed)
        self.t = {}  # name -> float32 tensor (insertion order = draw order)

    def _randn(self, shape):
        return torch.randn(*shape, generator=self.g, dtype=F32)

    def mat(self, name, *shape):  # weight matrices and embeddings: randn * 0.2
        self._put(name, self._randn(shape) * 0.2)

    def norm(self, name, n):  # LayerNorm / RMSNorm weight: 1 + 0.1 randn
        self._put(name, 1.0 + 0.1 * self._randn((n,)))

    def bias(self, name, *shape):  # biases: 0.1 randn
        self._put(name, 0.1 * self._randn(shape))

    def _put(self, name, x):
        assert name not in self.t, name
        assert x.dtype == F32
        self.t[name] = x.contiguous()

    def linear(self, prefix, n_out, n_in, bias=True):
        """torch.nn.Linear: weight (out, in), y = x W^T + b."""
        self.mat(prefix + ".weight", n_out, n_in)
        if bias:
            self.bias(prefix + ".bias", n_out)

    def layer_norm(self, prefix, n):
        self.norm(prefix + ".weight", n)
        self.bias(prefix + ".bias", n)


def rand_ids(g, n, lo, hi):
    """n token ids uniform in [lo, hi)."""
    return [int(x) for x in torch.randint(lo, hi, (n,), generator=g).tolist()]


# ---------------------------------------------------------------------------
# safetensors writer / reader
# ---------------------------------------------------------------------------

def tensor_bytes(x, dtype):
    if dtype == "F32":
        return x.numpy().astype("<f4").tobytes()
    if dtype == "F16":
        return x.half().numpy().astype("<f2").tobytes()
    if dtype == "BF16":  # round-to-nearest-even, as torch's .bfloat16()
        return x.bfloat16().view(torch.int16).numpy().astype("<i2").tobytes()
    raise ValueError(dtype)


def write_safetensors(path, tensors, dtype):
    """Header: __metadata__ first, then the tensors sorted by name, packed in that order."""
    names = sorted(tensors)
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for n in names:
        b = tensor_bytes(tensors[n], dtype)
        header[n] = {"dtype": dtype, "shape": list(tensors[n].shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Independent reader: returns name -> (dtype string, float64 tensor)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    assert header.pop("__metadata__") == {"format": "pt"}
    out = {}
    spans = []
    for name, info in header.items():
        b, e = info["data_offsets"]
        spans.append((b, e))
        buf = data[b:e]
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        if info["dtype"] == "F32":
            a = np.frombuffer(buf, dtype="<f4").astype(np.float64)
        elif info["dtype"] == "F16":
            a = np.frombuffer(buf, dtype="<f2").astype(np.float64)
        elif info["dtype"] == "BF16":
            u = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            a = u.view(np.float32).astype(np.float64)
        else:
            raise ValueError(info["dtype"])
        assert a.size == count, name
        out[name] = (info["dtype"], torch.from_numpy(a.copy()).view(*info["shape"]))
    spans.sort()
    pos = 0
    for b, e in spans:  # the data section is covered exactly, without holes or overlaps
        assert b == pos and e >= b
        pos = e
    assert pos == len(data)
    return out


def write_checkpoint(case_dir, config, weights, dtype):
    """Writes config.json + model.safetensors, reads them back, returns float64 weights."""
    os.makedirs(case_dir, exist_ok=True)
    with open(os.path.join(case_dir, "config.json"), "w") as f:
        f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")  # as transformers writes it
    path = os.path.join(case_dir, "model.safetensors")
    write_safetensors(path, weights.t, dtype)
    back = read_safetensors(path)
    assert sorted(back) == sorted(weights.t)
    W = {}
    for name, x in weights.t.items():
        dt, y = back[name]
        assert dt == dtype and tuple(y.shape) == tuple(x.shape), name
        want = {"F32": x, "F16": x.half(), "BF16": x.bfloat16()}[dtype].to(F64)
        assert torch.equal(y, want), name
        W[name] = y
    return W


# ---------------------------------------------------------------------------
# reference.json
# ---------------------------------------------------------------------------

def entry(x):
    if isinstance(x, torch.Tensor):
        if x.is_floating_point():
            data = [float(v) for v in x.to(F64).reshape(-1).tolist()]
            assert all(math.isfinite(v) for v in data)
        else:
            data = [int(v) for v in x.reshape(-1).tolist()]
        return {"shape": list(x.shape), "data": data}
    raise TypeError(type(x))


def write_reference(case_dir, case, description, inputs, outputs, notes):
    lines = ["{"]
    lines.append(' "case": %s,' % json.dumps(case))
    lines.append(' "description": %s,' % json.dumps(description))
    for key, group in (("inputs", inputs), ("outputs", outputs)):
        lines.append(' "%s": {' % key)
        items = list(group.items())
        for i, (n, x) in enumerate(items):
            e = json.dumps(entry(x), allow_nan=False, separators=(",", ":"))
            lines.append("  %s: %s%s" % (json.dumps(n), e, "," if i + 1 < len(items) else ""))
        lines.append(" },")
    lines.append(' "notes": %s' % json.dumps(notes))
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)
    with open(os.path.join(case_dir, "reference.json"), "w") as f:
        f.write(text)


def assert_close(a, b, what, tol=1e-12):
    a, b = a.detach().to(F64), b.detach().to(F64)
    assert a.shape == b.shape, "%s: shape %s vs %s" % (what, tuple(a.shape), tuple(b.shape))
    err = (a - b).abs().max().item() if a.numel() else 0.0
    scale = max(1.0, b.abs().max().item())
    if not err <= tol * scale:
        raise AssertionError("%s: max abs diff %g" % (what, err))


# ---------------------------------------------------------------------------
# Building blocks (float64, literal)
# ---------------------------------------------------------------------------

def linear(x, W, prefix, bias=True):
    """torch.nn.Linear: weight (out, in); y = x W^T + b."""
    y = x @ W[prefix + ".weight"].T
    if bias:
        y = y + W[prefix + ".bias"]
    return y


def conv1d(x, W, prefix):
    """transformers.pytorch_utils.Conv1D (GPT-2): weight (in, out); y = x W + b. No transpose."""
    return x @ W[prefix + ".weight"] + W[prefix + ".bias"]


def layer_norm(x, W, prefix, eps):
    """torch.nn.LayerNorm: biased variance over the last dim."""
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * W[prefix + ".weight"] + W[prefix + ".bias"]


def rms_norm(x, w, eps):
    """LlamaRMSNorm: w * (x * rsqrt(mean(x^2) + eps))."""
    var = (x * x).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def gelu_erf(x):
    """ACT2FN["gelu"] = exact GELU: 0.5 x (1 + erf(x / sqrt 2))."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_new(x):
    """ACT2FN["gelu_new"] (GPT-2): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def silu(x):
    return x * torch.sigmoid(x)


def split_heads(x, n_heads):
    """(B, S, H*D) -> (B, H, S, D); head h = columns [h*D, (h+1)*D)."""
    B, S, E = x.shape
    return x.view(B, S, n_heads, E // n_heads).transpose(1, 2)


def merge_heads(x):
    """(B, H, S, D) -> (B, S, H*D)."""
    B, H, S, D = x.shape
    return x.transpose(1, 2).reshape(B, S, H * D)


def masked_softmax_av(scores, allowed, v):
    """scores (B,H,Sq,Sk), allowed bool broadcastable; every row must have an allowed key."""
    allowed = allowed.expand_as(scores)
    assert allowed.any(-1).all(), "a fully masked attention row"
    s = scores.masked_fill(~allowed, -math.inf)
    p = torch.softmax(s, dim=-1)  # masked keys get exactly 0
    return p @ v


def causal_allowed(S):
    """(1, 1, S, S): key j allowed for query i iff j <= i."""
    return torch.ones(S, S, dtype=torch.bool).tril().view(1, 1, S, S)


def key_allowed(mask):
    """attention_mask (B, Sk) of 1/0 -> (B, 1, 1, Sk) bool."""
    return mask.bool()[:, None, None, :]


def torch_mha(W, E, H, q_name, k_name, v_name, o_name):
    """nn.MultiheadAttention (float64) loaded with Linear-layout projections, for checks."""
    m = torch.nn.MultiheadAttention(E, H, dropout=0.0, batch_first=True, dtype=F64)
    with torch.no_grad():
        m.in_proj_weight.copy_(torch.cat([W[q_name + ".weight"], W[k_name + ".weight"], W[v_name + ".weight"]]))
        m.in_proj_bias.copy_(torch.cat([W[q_name + ".bias"], W[k_name + ".bias"], W[v_name + ".bias"]]))
        m.out_proj.weight.copy_(W[o_name + ".weight"])
        m.out_proj.bias.copy_(W[o_name + ".bias"])
    return m.eval()


def set_ln(ln, W, prefix):
    with torch.no_grad():
        ln.weight.copy_(W[prefix + ".weight"])
        ln.bias.copy_(W[prefix + ".bias"])


# Every torch-module check below runs with autograd enabled and parameters that
# require grad: that keeps torch 1.13 on the documented Python path and off the
# native "fast path" of nn.MultiheadAttention / nn.Transformer*Layer.


# ---------------------------------------------------------------------------
# GPT-2 (GPT2LMHeadModel)
# ---------------------------------------------------------------------------

GPT2 = dict(vocab=101, n_embd=48, n_layer=2, n_head=4, n_positions=32, eps=1e-5)


def gpt2_config():
    c = GPT2
    return {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1,
        "bos_token_id": c["vocab"] - 1,
        "embd_pdrop": 0.1,
        "eos_token_id": c["vocab"] - 1,
        "initializer_range": 0.02,
        "layer_norm_epsilon": c["eps"],
        "model_type": "gpt2",
        "n_ctx": c["n_positions"],
        "n_embd": c["n_embd"],
        "n_head": c["n_head"],
        "n_inner": None,
        "n_layer": c["n_layer"],
        "n_positions": c["n_positions"],
        "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.1,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "summary_activation": None,
        "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": c["vocab"],
    }


def gpt2_weights(seed):
    c = GPT2
    E, V = c["n_embd"], c["vocab"]
    w = Weights(seed)
    w.mat("transformer.wte.weight", V, E)
    w.mat("transformer.wpe.weight", c["n_positions"], E)
    for i in range(c["n_layer"]):
        p = "transformer.h.%d." % i
        w.layer_norm(p + "ln_1", E)
        w.mat(p + "attn.c_attn.weight", E, 3 * E)  # Conv1D (in, out)
        w.bias(p + "attn.c_attn.bias", 3 * E)
        w.mat(p + "attn.c_proj.weight", E, E)
        w.bias(p + "attn.c_proj.bias", E)
        w.layer_norm(p + "ln_2", E)
        w.mat(p + "mlp.c_fc.weight", E, 4 * E)
        w.bias(p + "mlp.c_fc.bias", 4 * E)
        w.mat(p + "mlp.c_proj.weight", 4 * E, E)
        w.bias(p + "mlp.c_proj.bias", E)
    w.layer_norm("transformer.ln_f", E)
    return w  # lm_head.weight is tied to transformer.wte.weight and not stored


def gpt2_block(W, i, h, allowed):
    c = GPT2
    E, H = c["n_embd"], c["n_head"]
    D = E // H
    p = "transformer.h.%d." % i
    a = layer_norm(h, W, p + "ln_1", c["eps"])
    qkv = conv1d(a, W, p + "attn.c_attn")
    q, k, v = qkv.split(E, dim=2)
    q, k, v = split_heads(q, H), split_heads(k, H), split_heads(v, H)
    scores = (q @ k.transpose(-1, -2)) / (D ** 0.5)  # scale_attn_weights: divide by sqrt(head_dim)
    o = merge_heads(masked_softmax_av(scores, allowed, v))
    h = h + conv1d(o, W, p + "attn.c_proj")
    m = layer_norm(h, W, p + "ln_2", c["eps"])
    m = conv1d(gelu_new(conv1d(m, W, p + "mlp.c_fc")), W, p + "mlp.c_proj")
    return h + m


def gpt2_forward(W, ids, mask, check=False):
    c = GPT2
    B, S = ids.shape
    pos = torch.arange(S)  # position_ids 0..S-1 (HF default when position_ids is None)
    h = W["transformer.wte.weight"][ids] + W["transformer.wpe.weight"][pos]
    allowed = causal_allowed(S) & key_allowed(mask)
    for i in range(c["n_layer"]):
        out = gpt2_block(W, i, h, allowed)
        if check:
            gpt2_check_block(W, i, h, mask, out)
        h = out
    h = layer_norm(h, W, "transformer.ln_f", c["eps"])
    return h @ W["transformer.wte.weight"].T  # tied lm_head, no bias


def gpt2_check_block(W, i, h, mask, expected):
    """A GPT-2 block is a pre-LN nn.TransformerEncoderLayer with Conv1D weights transposed."""
    c = GPT2
    E, H = c["n_embd"], c["n_head"]
    p = "transformer.h.%d." % i
    # torch's own tanh GELU, so this also checks gelu_new
    layer = torch.nn.TransformerEncoderLayer(E, H, 4 * E, dropout=0.0,
                                             activation=lambda x: F.gelu(x, approximate="tanh"),
                                             layer_norm_eps=c["eps"], batch_first=True,
                                             norm_first=True, dtype=F64).eval()
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(W[p + "attn.c_attn.weight"].T)
        layer.self_attn.in_proj_bias.copy_(W[p + "attn.c_attn.bias"])
        layer.self_attn.out_proj.weight.copy_(W[p + "attn.c_proj.weight"].T)
        layer.self_attn.out_proj.bias.copy_(W[p + "attn.c_proj.bias"])
        layer.linear1.weight.copy_(W[p + "mlp.c_fc.weight"].T)
        layer.linear1.bias.copy_(W[p + "mlp.c_fc.bias"])
        layer.linear2.weight.copy_(W[p + "mlp.c_proj.weight"].T)
        layer.linear2.bias.copy_(W[p + "mlp.c_proj.bias"])
    set_ln(layer.norm1, W, p + "ln_1")
    set_ln(layer.norm2, W, p + "ln_2")
    S = h.shape[1]
    not_causal = torch.ones(S, S, dtype=torch.bool).triu(1)
    got = layer(h, src_mask=not_causal, src_key_padding_mask=~mask.bool())
    assert_close(got, expected, "gpt2 block %d vs nn.TransformerEncoderLayer(norm_first)" % i)


def case_gpt2():
    seed = 1001
    w = gpt2_weights(seed)
    d = os.path.join(OUT_ROOT, "gpt2")
    W = write_checkpoint(d, gpt2_config(), w, "F32")
    g = torch.Generator()
    g.manual_seed(seed + 1)
    V = GPT2["vocab"]
    pad = V - 1  # GPT-2 has no pad token; padded slots hold eos (= pad_token_id convention)
    lengths = [9, 6]
    S = max(lengths)
    ids = torch.full((2, S), pad, dtype=torch.int64)
    mask = torch.zeros(2, S, dtype=torch.int64)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.tensor(rand_ids(g, n, 0, V - 1))
        mask[b, :n] = 1
    logits = gpt2_forward(W, ids, mask, check=True)

    # Checks: each sequence run alone without padding gives the same valid logits.
    for b, n in enumerate(lengths):
        alone = gpt2_forward(W, ids[b:b + 1, :n], mask[b:b + 1, :n])
        assert_close(logits[b:b + 1, :n], alone, "gpt2 padding invariance b=%d" % b)
    logits = logits * mask[:, :, None].to(F64)  # padded query rows written as 0
    logits = logits + 0.0  # no -0.0 in the file
    write_reference(
        d, "gpt2",
        "GPT2LMHeadModel, n_embd 48, 2 layers, 4 heads, gelu_new; batch of 2 right-padded (lengths 9, 6)",
        {"input_ids": ids, "attention_mask": mask},
        {"logits": logits},
        "position_ids are 0..8 for both rows (right padding, so the valid tokens sit at 0..len-1). "
        "Causal attention AND key padding: key j is used by query i iff j <= i and attention_mask[b, j] == 1. "
        "Padded slots hold token id 100 (eos, used as pad). "
        "logits rows where attention_mask == 0 (batch 1, positions 6..8) are written as exactly 0.0 and "
        "are NOT the model's output: compare only rows with attention_mask == 1. "
        "lm_head is tied: logits = ln_f(h) @ transformer.wte.weight^T (no bias). "
        "Conv1D weights are (in, out): y = x W + b. Attention scores divided by sqrt(head_dim = 12). "
        "LayerNorm eps 1e-5; activation gelu_new (tanh approximation).")
    return d


# ---------------------------------------------------------------------------
# BERT (BertModel, no "bert." prefix)
# ---------------------------------------------------------------------------

BERT = dict(vocab=103, hidden=48, layers=2, heads=4, inter=96, max_pos=32, types=2, eps=1e-12)


def bert_config():
    c = BERT
    return {
        "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "gradient_checkpointing": False,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": c["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": c["inter"],
        "layer_norm_eps": c["eps"],
        "max_position_embeddings": c["max_pos"],
        "model_type": "bert",
        "num_attention_heads": c["heads"],
        "num_hidden_layers": c["layers"],
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "type_vocab_size": c["types"],
        "use_cache": True,
        "vocab_size": c["vocab"],
    }


def bert_weights(seed):
    c = BERT
    E = c["hidden"]
    w = Weights(seed)
    w.mat("embeddings.word_embeddings.weight", c["vocab"], E)
    w.mat("embeddings.position_embeddings.weight", c["max_pos"], E)
    w.mat("embeddings.token_type_embeddings.weight", c["types"], E)
    w.layer_norm("embeddings.LayerNorm", E)
    for i in range(c["layers"]):
        p = "encoder.layer.%d." % i
        w.linear(p + "attention.self.query", E, E)
        w.linear(p + "attention.self.key", E, E)
        w.linear(p + "attention.self.value", E, E)
        w.linear(p + "attention.output.dense", E, E)
        w.layer_norm(p + "attention.output.LayerNorm", E)
        w.linear(p + "intermediate.dense", c["inter"], E)
        w.linear(p + "output.dense", E, c["inter"])
        w.layer_norm(p + "output.LayerNorm", E)
    w.linear("pooler.dense", E, E)
    return w


def bert_layer(W, i, h, allowed):
    c = BERT
    H = c["heads"]
    D = c["hidden"] // H
    p = "encoder.layer.%d." % i
    q = split_heads(linear(h, W, p + "attention.self.query"), H)
    k = split_heads(linear(h, W, p + "attention.self.key"), H)
    v = split_heads(linear(h, W, p + "attention.self.value"), H)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)
    ctx = merge_heads(masked_softmax_av(scores, allowed, v))
    a = layer_norm(linear(ctx, W, p + "attention.output.dense") + h, W, p + "attention.output.LayerNorm", c["eps"])
    inter = gelu_erf(linear(a, W, p + "intermediate.dense"))
    return layer_norm(linear(inter, W, p + "output.dense") + a, W, p + "output.LayerNorm", c["eps"])


def bert_forward(W, ids, tt, mask, check=False):
    c = BERT
    B, S = ids.shape
    pos = torch.arange(S)  # absolute position_ids 0..S-1, independent of the padding
    e = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.token_type_embeddings.weight"][tt]
    e = e + W["embeddings.position_embeddings.weight"][pos]
    h = layer_norm(e, W, "embeddings.LayerNorm", c["eps"])
    allowed = key_allowed(mask)
    for i in range(c["layers"]):
        out = bert_layer(W, i, h, allowed)
        if check:
            bert_check_layer(W, i, h, mask, out)
        h = out
    pooled = torch.tanh(linear(h[:, 0], W, "pooler.dense"))
    return h, pooled


def bert_check_layer(W, i, h, mask, expected):
    """A BERT layer is a post-LN nn.TransformerEncoderLayer with exact GELU."""
    c = BERT
    E, H = c["hidden"], c["heads"]
    p = "encoder.layer.%d." % i
    # attention alone against nn.MultiheadAttention
    m = torch_mha(W, E, H, p + "attention.self.query", p + "attention.self.key",
                  p + "attention.self.value", p + "attention.output.dense")
    got, _ = m(h, h, h, key_padding_mask=~mask.bool(), need_weights=False)
    q = split_heads(linear(h, W, p + "attention.self.query"), H)
    k = split_heads(linear(h, W, p + "attention.self.key"), H)
    v = split_heads(linear(h, W, p + "attention.self.value"), H)
    ctx = masked_softmax_av((q @ k.transpose(-1, -2)) / math.sqrt(E // H), key_allowed(mask), v)
    assert_close(linear(merge_heads(ctx), W, p + "attention.output.dense"), got, "bert attn %d vs MHA" % i)
    layer = torch.nn.TransformerEncoderLayer(E, H, c["inter"], dropout=0.0, activation=F.gelu,
                                             layer_norm_eps=c["eps"], batch_first=True,
                                             norm_first=False, dtype=F64).eval()
    with torch.no_grad():
        layer.self_attn.load_state_dict(m.state_dict())
        layer.linear1.weight.copy_(W[p + "intermediate.dense.weight"])
        layer.linear1.bias.copy_(W[p + "intermediate.dense.bias"])
        layer.linear2.weight.copy_(W[p + "output.dense.weight"])
        layer.linear2.bias.copy_(W[p + "output.dense.bias"])
    set_ln(layer.norm1, W, p + "attention.output.LayerNorm")
    set_ln(layer.norm2, W, p + "output.LayerNorm")
    got = layer(h, src_key_padding_mask=~mask.bool())
    assert_close(got, expected, "bert layer %d vs nn.TransformerEncoderLayer" % i)


def mean_pool(h, mask):
    """sentence-transformers Pooling(mean): sum(h * mask) / clamp(sum(mask), 1e-9)."""
    m = mask[:, :, None].to(F64)
    return (h * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)


def l2_normalize(x):
    """sentence-transformers Normalize = F.normalize(p=2, dim=1): x / max(||x||, 1e-12)."""
    return x / torch.clamp(torch.sqrt((x * x).sum(-1, keepdim=True)), min=1e-12)


def case_bert():
    seed = 2001
    w = bert_weights(seed)
    d = os.path.join(OUT_ROOT, "bert")
    W = write_checkpoint(d, bert_config(), w, "F32")
    g = torch.Generator()
    g.manual_seed(seed + 1)
    CLS, SEP, PAD = 101, 102, 0
    # [CLS] a a a [SEP] b b b b [SEP]   and   [CLS] a a [SEP] b b [SEP] [PAD]*3
    layouts = [(3, 4), (2, 2)]
    S = 10
    ids = torch.full((2, S), PAD, dtype=torch.int64)
    tt = torch.zeros(2, S, dtype=torch.int64)
    mask = torch.zeros(2, S, dtype=torch.int64)
    lengths = []
    for b, (na, nb) in enumerate(layouts):
        seq = [CLS] + rand_ids(g, na, 1, CLS) + [SEP] + rand_ids(g, nb, 1, CLS) + [SEP]
        types = [0] * (na + 2) + [1] * (nb + 1)
        n = len(seq)
        lengths.append(n)
        ids[b, :n] = torch.tensor(seq)
        tt[b, :n] = torch.tensor(types)
        mask[b, :n] = 1
    assert lengths == [10, 7]
    h, pooled = bert_forward(W, ids, tt, mask, check=True)
    mp = mean_pool(h, mask)
    mpn = l2_normalize(mp)
    assert_close(mpn, F.normalize(mp, p=2, dim=1), "bert F.normalize", 1e-15)
    assert_close(torch.nn.functional.layer_norm(h, (48,), torch.ones(48, dtype=F64), None, 1e-12),
                 layer_norm(h, {"x.weight": torch.ones(48, dtype=F64), "x.bias": torch.zeros(48, dtype=F64)},
                            "x", 1e-12), "layer_norm vs F.layer_norm")
    for b, n in enumerate(lengths):
        h1, p1 = bert_forward(W, ids[b:b + 1, :n], tt[b:b + 1, :n], mask[b:b + 1, :n])
        assert_close(h[b:b + 1, :n], h1, "bert padding invariance h b=%d" % b)
        assert_close(pooled[b:b + 1], p1, "bert padding invariance pooled b=%d" % b)
        assert_close(mp[b:b + 1], h1.mean(1), "bert mean pool b=%d" % b)
    write_reference(
        d, "bert",
        "BertModel (no 'bert.' prefix), hidden 48, 2 layers, 4 heads, exact GELU; batch of 2 right-padded (lengths 10, 7)",
        {"input_ids": ids, "token_type_ids": tt, "attention_mask": mask},
        {"last_hidden_state": h, "pooler_output": pooled, "mean_pooled": mp,
         "mean_pooled_normalized": mpn},
        "Bidirectional attention with key padding only (key j used iff attention_mask[b, j] == 1). "
        "position_ids 0..9 for both rows. Embeddings = word + token_type + position, then LayerNorm. "
        "last_hidden_state holds ALL rows as Hugging Face computes them, including the padded "
        "rows of batch 1 (positions 7..9: token 0 = [PAD], type 0, position p, attending to the 7 valid keys); "
        "an engine may skip those rows. pooler_output = tanh(pooler.dense(last_hidden_state[:, 0])). "
        "mean_pooled = sum over valid tokens / number of valid tokens (sentence-transformers mean pooling); "
        "mean_pooled_normalized = mean_pooled / max(||mean_pooled||_2, 1e-12). "
        "LayerNorm eps 1e-12 everywhere; hidden_act gelu = exact erf GELU; scores divided by sqrt(12).")
    return d


# ---------------------------------------------------------------------------
# Llama (LlamaForCausalLM)
# ---------------------------------------------------------------------------

def llama_spec(heads, kv_heads, tied):
    return dict(vocab=97, hidden=64, inter=128, layers=2, heads=heads, kv_heads=kv_heads,
                max_pos=64, eps=1e-5, theta=10000.0, tied=tied)


def llama_config(c, torch_dtype):
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "head_dim": c["hidden"] // c["heads"],
        "hidden_act": "silu",
        "hidden_size": c["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": c["inter"],
        "max_position_embeddings": c["max_pos"],
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": c["heads"],
        "num_hidden_layers": c["layers"],
        "num_key_value_heads": c["kv_heads"],
        "pretraining_tp": 1,
        "rms_norm_eps": c["eps"],
        "rope_scaling": None,
        "rope_theta": c["theta"],
        "tie_word_embeddings": c["tied"],
        "torch_dtype": torch_dtype,
        "use_cache": True,
        "vocab_size": c["vocab"],
    }


def llama_weights(c, seed):
    E, H, Hkv = c["hidden"], c["heads"], c["kv_heads"]
    D = E // H
    w = Weights(seed)
    w.mat("model.embed_tokens.weight", c["vocab"], E)
    for i in range(c["layers"]):
        p = "model.layers.%d." % i
        w.linear(p + "self_attn.q_proj", H * D, E, bias=False)
        w.linear(p + "self_attn.k_proj", Hkv * D, E, bias=False)
        w.linear(p + "self_attn.v_proj", Hkv * D, E, bias=False)
        w.linear(p + "self_attn.o_proj", E, H * D, bias=False)
        w.linear(p + "mlp.gate_proj", c["inter"], E, bias=False)
        w.linear(p + "mlp.up_proj", c["inter"], E, bias=False)
        w.linear(p + "mlp.down_proj", E, c["inter"], bias=False)
        w.norm(p + "input_layernorm.weight", E)
        w.norm(p + "post_attention_layernorm.weight", E)
    w.norm("model.norm.weight", E)
    if not c["tied"]:
        w.mat("lm_head.weight", c["vocab"], E)
    return w


def llama_inv_freq(D, theta):
    """Exactly LlamaRotaryEmbedding (default rope_type): float32 throughout."""
    return 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))


def llama_cos_sin(D, theta, S):
    """cos/sin (S, D) in float64 from the float32 inv_freq values; emb = cat(freqs, freqs)."""
    inv = llama_inv_freq(D, theta)
    assert inv.dtype == F32
    pos = torch.arange(S, dtype=F64)
    freqs = pos[:, None] * inv.to(F64)[None, :]  # (S, D/2), float64 product
    emb = torch.cat([freqs, freqs], dim=-1)
    return torch.cos(emb), torch.sin(emb), inv


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def apply_rope(x, cos, sin):
    """x (B, H, S, D), cos/sin (S, D): HF apply_rotary_pos_emb."""
    return x * cos + rotate_half(x) * sin


def repeat_kv(x, n_rep):
    """HF repeat_kv: (B, Hkv, S, D) -> (B, Hkv*n_rep, S, D); query head h reads kv head h // n_rep."""
    B, Hkv, S, D = x.shape
    return x[:, :, None, :, :].expand(B, Hkv, n_rep, S, D).reshape(B, Hkv * n_rep, S, D)


def llama_forward(c, W, ids, check=False):
    E, H, Hkv = c["hidden"], c["heads"], c["kv_heads"]
    D = E // H
    B, S = ids.shape
    cos, sin, _ = llama_cos_sin(D, c["theta"], S)
    h = W["model.embed_tokens.weight"][ids]
    allowed = causal_allowed(S)
    for i in range(c["layers"]):
        p = "model.layers.%d." % i
        x = rms_norm(h, W[p + "input_layernorm.weight"], c["eps"])
        q = split_heads(linear(x, W, p + "self_attn.q_proj", bias=False), H)
        k = split_heads(linear(x, W, p + "self_attn.k_proj", bias=False), Hkv)
        v = split_heads(linear(x, W, p + "self_attn.v_proj", bias=False), Hkv)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        kr, vr = repeat_kv(k, H // Hkv), repeat_kv(v, H // Hkv)
        scores = (q @ kr.transpose(-1, -2)) * (D ** -0.5)
        o = masked_softmax_av(scores, allowed, vr)
        if check:
            llama_check_attention(q, k, v, o, H // Hkv)
            llama_check_rope(linear(x, W, p + "self_attn.q_proj", bias=False), q, H, c["theta"])
        h = h + linear(merge_heads(o), W, p + "self_attn.o_proj", bias=False)
        x = rms_norm(h, W[p + "post_attention_layernorm.weight"], c["eps"])
        m = silu(linear(x, W, p + "mlp.gate_proj", bias=False)) * linear(x, W, p + "mlp.up_proj", bias=False)
        h = h + linear(m, W, p + "mlp.down_proj", bias=False)
    h = rms_norm(h, W["model.norm.weight"], c["eps"])
    head = W["model.embed_tokens.weight"] if c["tied"] else W["lm_head.weight"]
    return h @ head.T


def llama_check_attention(q, k, v, expected, n_rep):
    """Against torch's _scaled_dot_product_attention (K/V expanded with repeat_interleave)."""
    S = q.shape[2]
    keep = torch.ones(S, S, dtype=torch.bool).tril()
    kk, vv = k.repeat_interleave(n_rep, dim=1), v.repeat_interleave(n_rep, dim=1)
    out, _ = F._scaled_dot_product_attention(q, kk, vv, keep.expand(q.shape[0], q.shape[1], S, S),
                                             0.0, False, False)
    assert_close(out, expected, "llama attention vs _scaled_dot_product_attention")


def llama_check_rope(q_flat, q_rot, H, theta):
    """rotate_half RoPE == complex rotation of the pairs (x[i], x[i + D/2]) by p * inv_freq[i]."""
    B, S, E = q_flat.shape
    D = E // H
    x = q_flat.view(B, S, H, D)
    z = torch.complex(x[..., : D // 2], x[..., D // 2:])
    inv = llama_inv_freq(D, theta).to(F64)
    ang = torch.arange(S, dtype=F64)[:, None] * inv[None, :]
    z = z * torch.polar(torch.ones_like(ang), ang)[None, :, None, :]
    y = torch.cat([z.real, z.imag], dim=-1).transpose(1, 2)
    assert_close(y, q_rot, "rope vs complex rotation")


def case_llama(name, c, seed, dtype, description):
    w = llama_weights(c, seed)
    d = os.path.join(OUT_ROOT, name)
    W = write_checkpoint(d, llama_config(c, {"F32": "float32", "BF16": "bfloat16"}[dtype]), w, dtype)
    g = torch.Generator()
    g.manual_seed(seed + 1)
    ids = torch.tensor([[1] + rand_ids(g, 10, 3, c["vocab"])], dtype=torch.int64)
    logits = llama_forward(c, W, ids, check=True)
    # causality: a prefix gives the same rows
    assert_close(llama_forward(c, W, ids[:, :6]), logits[:, :6], name + " prefix")
    D = c["hidden"] // c["heads"]
    _, _, inv = llama_cos_sin(D, c["theta"], 1)
    # The float32 inv_freq equals float32 rounding of float64 pow done in float32 steps.
    expo = (torch.arange(0, D, 2, dtype=torch.int64).float() / D).to(F64)
    alt = (1.0 / torch.tensor([c["theta"] ** e for e in expo.tolist()], dtype=F64).to(F32)).to(F32)
    assert torch.equal(alt, inv), (alt, inv)
    tie = ("lm_head tied: logits = norm(h) @ model.embed_tokens.weight^T; lm_head.weight is not stored. "
           if c["tied"] else "lm_head.weight stored separately (tie_word_embeddings false). ")
    bf = ("Every tensor in model.safetensors is BF16 (round-to-nearest-even of the float32 draws); the "
          "reference is float64 compute on exactly those bf16 values (bf16 -> float32/float64 is exact). "
          "Same seed, weights and input ids as case 'llama', so the difference to llama/reference.json is "
          "the effect of bf16 weight rounding alone. " if dtype == "BF16" else "")
    notes = (
        "One sequence, no padding, position_ids 0..10. Causal attention. "
        "RoPE rotate_half (half-split) layout: pairs (x[i], x[i + head_dim/2]), applied to q and k after the "
        "projections and before repeat_kv. inv_freq = 1.0 / (rope_theta ** (arange(0, head_dim, 2).float() / head_dim)) "
        "computed in float32 exactly as HF (written as output rope_inv_freq); the angles pos * inv_freq, cos and "
        "sin are then computed in float64 from those float32 inv_freq values (HF itself forms pos*inv_freq and "
        "cos/sin in float32; that differs by ~1e-7 relative). "
        "GQA: query head h uses kv head h // (num_attention_heads / num_key_value_heads). "
        "Scores multiplied by head_dim**-0.5. RMSNorm: w * x / sqrt(mean(x^2) + 1e-5). MLP: down(silu(gate(x)) * up(x)). "
        "No biases anywhere. " + tie + bf)
    write_reference(d, name, description, {"input_ids": ids},
                    {"logits": logits, "rope_inv_freq": inv}, notes)
    return d


# ---------------------------------------------------------------------------
# BART (BartForConditionalGeneration)
# ---------------------------------------------------------------------------

BART = dict(vocab=104, d=32, enc_layers=2, dec_layers=2, heads=4, ffn=64, max_pos=32, eps=1e-5)


def bart_config():
    c = BART
    return {
        "activation_dropout": 0.0,
        "activation_function": "gelu",
        "add_bias_logits": False,
        "add_final_layer_norm": False,
        "architectures": ["BartForConditionalGeneration"],
        "attention_dropout": 0.0,
        "bos_token_id": 0,
        "classif_dropout": 0.1,
        "classifier_dropout": 0.0,
        "d_model": c["d"],
        "decoder_attention_heads": c["heads"],
        "decoder_ffn_dim": c["ffn"],
        "decoder_layerdrop": 0.0,
        "decoder_layers": c["dec_layers"],
        "decoder_start_token_id": 2,
        "dropout": 0.1,
        "encoder_attention_heads": c["heads"],
        "encoder_ffn_dim": c["ffn"],
        "encoder_layerdrop": 0.0,
        "encoder_layers": c["enc_layers"],
        "eos_token_id": 2,
        "forced_bos_token_id": 0,
        "forced_eos_token_id": 2,
        "init_std": 0.02,
        "is_encoder_decoder": True,
        "max_position_embeddings": c["max_pos"],
        "model_type": "bart",
        "normalize_before": False,
        "normalize_embedding": True,
        "num_hidden_layers": c["enc_layers"],
        "pad_token_id": 1,
        "scale_embedding": False,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": c["vocab"],
    }


def bart_weights(seed):
    c = BART
    E, Fd = c["d"], c["ffn"]
    w = Weights(seed)
    w.mat("model.shared.weight", c["vocab"], E)
    w.mat("model.encoder.embed_positions.weight", c["max_pos"] + 2, E)
    for i in range(c["enc_layers"]):
        p = "model.encoder.layers.%d." % i
        for n in ("k_proj", "v_proj", "q_proj", "out_proj"):
            w.linear(p + "self_attn." + n, E, E)
        w.layer_norm(p + "self_attn_layer_norm", E)
        w.linear(p + "fc1", Fd, E)
        w.linear(p + "fc2", E, Fd)
        w.layer_norm(p + "final_layer_norm", E)
    w.layer_norm("model.encoder.layernorm_embedding", E)
    w.mat("model.decoder.embed_positions.weight", c["max_pos"] + 2, E)
    for i in range(c["dec_layers"]):
        p = "model.decoder.layers.%d." % i
        for n in ("k_proj", "v_proj", "q_proj", "out_proj"):
            w.linear(p + "self_attn." + n, E, E)
        w.layer_norm(p + "self_attn_layer_norm", E)
        for n in ("k_proj", "v_proj", "q_proj", "out_proj"):
            w.linear(p + "encoder_attn." + n, E, E)
        w.layer_norm(p + "encoder_attn_layer_norm", E)
        w.linear(p + "fc1", Fd, E)
        w.linear(p + "fc2", E, Fd)
        w.layer_norm(p + "final_layer_norm", E)
    w.layer_norm("model.decoder.layernorm_embedding", E)
    w.bias("final_logits_bias", 1, c["vocab"])  # a persistent buffer, saved; random here to exercise it
    return w


def bart_attention(W, p, x_q, x_kv, allowed):
    """BartAttention: q = q_proj(x) * head_dim**-0.5 (bias included), then softmax(q k^T) v, out_proj."""
    H = BART["heads"]
    D = BART["d"] // H
    q = linear(x_q, W, p + ".q_proj") * (D ** -0.5)
    k = linear(x_kv, W, p + ".k_proj")
    v = linear(x_kv, W, p + ".v_proj")
    q, k, v = split_heads(q, H), split_heads(k, H), split_heads(v, H)
    o = masked_softmax_av(q @ k.transpose(-1, -2), allowed, v)
    return linear(merge_heads(o), W, p + ".out_proj")


def bart_encoder_layer(W, i, h, allowed):
    eps = BART["eps"]
    p = "model.encoder.layers.%d." % i
    h = layer_norm(h + bart_attention(W, p + "self_attn", h, h, allowed), W, p + "self_attn_layer_norm", eps)
    f = linear(gelu_erf(linear(h, W, p + "fc1")), W, p + "fc2")
    return layer_norm(h + f, W, p + "final_layer_norm", eps)


def bart_decoder_layer(W, i, h, enc, self_allowed, cross_allowed):
    eps = BART["eps"]
    p = "model.decoder.layers.%d." % i
    h = layer_norm(h + bart_attention(W, p + "self_attn", h, h, self_allowed), W, p + "self_attn_layer_norm", eps)
    h = layer_norm(h + bart_attention(W, p + "encoder_attn", h, enc, cross_allowed), W,
                   p + "encoder_attn_layer_norm", eps)
    f = linear(gelu_erf(linear(h, W, p + "fc1")), W, p + "fc2")
    return layer_norm(h + f, W, p + "final_layer_norm", eps)


def bart_forward(W, enc_ids, enc_mask, dec_ids, check=False):
    c = BART
    embed_scale = 1.0  # scale_embedding false
    offset = 2  # BartLearnedPositionalEmbedding
    # encoder
    S = enc_ids.shape[1]
    h = W["model.shared.weight"][enc_ids] * embed_scale
    h = h + W["model.encoder.embed_positions.weight"][torch.arange(S) + offset]
    h = layer_norm(h, W, "model.encoder.layernorm_embedding", c["eps"])
    enc_allowed = key_allowed(enc_mask)
    for i in range(c["enc_layers"]):
        out = bart_encoder_layer(W, i, h, enc_allowed)
        if check:
            bart_check_encoder_layer(W, i, h, enc_mask, out)
        h = out
    enc = h
    # decoder (decoder attention mask all ones: causal only)
    T = dec_ids.shape[1]
    h = W["model.shared.weight"][dec_ids] * embed_scale
    h = h + W["model.decoder.embed_positions.weight"][torch.arange(T) + offset]
    h = layer_norm(h, W, "model.decoder.layernorm_embedding", c["eps"])
    for i in range(c["dec_layers"]):
        out = bart_decoder_layer(W, i, h, enc, causal_allowed(T), enc_allowed)
        if check:
            bart_check_decoder_layer(W, i, h, enc, enc_mask, out)
        h = out
    logits = h @ W["model.shared.weight"].T + W["final_logits_bias"]
    return enc, logits


def _bart_torch_layer(W, p, cls, norms):
    c = BART
    layer = cls(c["d"], c["heads"], c["ffn"], dropout=0.0, activation=F.gelu, layer_norm_eps=c["eps"],
                batch_first=True, norm_first=False, dtype=F64).eval()
    layer.self_attn.load_state_dict(torch_mha(W, c["d"], c["heads"], p + "self_attn.q_proj", p + "self_attn.k_proj",
                                              p + "self_attn.v_proj", p + "self_attn.out_proj").state_dict())
    with torch.no_grad():
        layer.linear1.weight.copy_(W[p + "fc1.weight"])
        layer.linear1.bias.copy_(W[p + "fc1.bias"])
        layer.linear2.weight.copy_(W[p + "fc2.weight"])
        layer.linear2.bias.copy_(W[p + "fc2.bias"])
    for norm, name in zip(norms, ("self_attn_layer_norm", "encoder_attn_layer_norm", "final_layer_norm")
                          if len(norms) == 3 else ("self_attn_layer_norm", "final_layer_norm")):
        set_ln(getattr(layer, norm), W, p + name)
    return layer


def bart_check_encoder_layer(W, i, h, enc_mask, expected):
    p = "model.encoder.layers.%d." % i
    layer = _bart_torch_layer(W, p, torch.nn.TransformerEncoderLayer, ("norm1", "norm2"))
    got = layer(h, src_key_padding_mask=~enc_mask.bool())
    assert_close(got, expected, "bart encoder layer %d vs nn.TransformerEncoderLayer" % i)


def bart_check_decoder_layer(W, i, h, enc, enc_mask, expected):
    c = BART
    p = "model.decoder.layers.%d." % i
    layer = _bart_torch_layer(W, p, torch.nn.TransformerDecoderLayer, ("norm1", "norm2", "norm3"))
    layer.multihead_attn.load_state_dict(torch_mha(W, c["d"], c["heads"], p + "encoder_attn.q_proj",
                                                   p + "encoder_attn.k_proj", p + "encoder_attn.v_proj",
                                                   p + "encoder_attn.out_proj").state_dict())
    T = h.shape[1]
    got = layer(h, enc, tgt_mask=torch.ones(T, T, dtype=torch.bool).triu(1),
                memory_key_padding_mask=~enc_mask.bool())
    assert_close(got, expected, "bart decoder layer %d vs nn.TransformerDecoderLayer" % i)
    # cross-attention alone against nn.MultiheadAttention
    m = torch_mha(W, c["d"], c["heads"], p + "encoder_attn.q_proj", p + "encoder_attn.k_proj",
                  p + "encoder_attn.v_proj", p + "encoder_attn.out_proj")
    got, _ = m(h, enc, enc, key_padding_mask=~enc_mask.bool(), need_weights=False)
    assert_close(got, bart_attention(W, p + "encoder_attn", h, enc, key_allowed(enc_mask)),
                 "bart cross attention %d vs MHA" % i)


BART_SEED = 4001


def bart_inputs():
    g = torch.Generator()
    g.manual_seed(BART_SEED + 1)
    V = BART["vocab"]
    enc0 = [0] + rand_ids(g, 7, 3, V) + [2]            # <s> ... </s>, length 9
    dec0 = [2, 0] + rand_ids(g, 4, 3, V)               # </s> <s> ..., length 6
    enc1 = [0] + rand_ids(g, 3, 3, V) + [2] + [1] * 4  # length 5, right-padded with <pad> = 1
    dec1 = [2, 0] + rand_ids(g, 4, 3, V)
    return enc0, dec0, enc1, dec1


BART_NOTES = (
    "Post-LN (normalize_before false). Embeddings: shared[ids] * 1.0 (scale_embedding false) + "
    "embed_positions[arange(len) + 2] (BART's learned positions have OFFSET 2, so the tables have "
    "max_position_embeddings + 2 = 34 rows and rows 0, 1 are never used), then layernorm_embedding; "
    "positions do not depend on padding. No final encoder/decoder layer norm. "
    "Attention: q = q_proj(x) * head_dim**-0.5 (the bias is scaled too), softmax(q k^T) v, out_proj. "
    "Encoder self-attention and decoder cross-attention mask padded encoder keys (attention_mask 0); "
    "decoder self-attention is causal (decoder attention mask all ones). "
    "Each layer: x = LN(x + attn(x)); [decoder: x = LN(x + cross_attn(x, enc))]; x = LN(x + fc2(gelu(fc1(x)))). "
    "activation gelu = exact erf GELU; every LayerNorm eps 1e-5 (nn.LayerNorm default, no config key). "
    "logits = dec_h @ model.shared.weight^T + final_logits_bias (lm_head tied to shared). "
    "decoder_input_ids are given explicitly: decoder_start_token_id 2, then <s> 0, then random ids. ")


def case_bart():
    w = bart_weights(BART_SEED)
    d = os.path.join(OUT_ROOT, "bart")
    W = write_checkpoint(d, bart_config(), w, "F32")
    enc0, dec0, _, _ = bart_inputs()
    enc_ids = torch.tensor([enc0])
    enc_mask = torch.ones_like(enc_ids)
    dec_ids = torch.tensor([dec0])
    enc, logits = bart_forward(W, enc_ids, enc_mask, dec_ids, check=True)
    write_reference(
        d, "bart",
        "BartForConditionalGeneration, d_model 32, 2+2 layers, 4 heads, post-LN; encoder (1, 9), decoder (1, 6)",
        {"input_ids": enc_ids, "attention_mask": enc_mask, "decoder_input_ids": dec_ids},
        {"encoder_last_hidden_state": enc, "logits": logits},
        BART_NOTES + "No padding in this case.")
    return d, enc, logits


def case_bart_padded(bart_enc, bart_logits):
    w = bart_weights(BART_SEED)  # the same weights as case "bart"
    d = os.path.join(OUT_ROOT, "bart_padded")
    W = write_checkpoint(d, bart_config(), w, "F32")
    enc0, dec0, enc1, dec1 = bart_inputs()
    enc_ids = torch.tensor([enc0, enc1])
    enc_mask = torch.tensor([[1] * 9, [1] * 5 + [0] * 4])
    dec_ids = torch.tensor([dec0, dec1])
    enc, logits = bart_forward(W, enc_ids, enc_mask, dec_ids, check=True)
    # row 0 is exactly case "bart"; row 1 equals its unpadded run
    assert_close(enc[0:1], bart_enc, "bart_padded row 0 encoder vs bart")
    assert_close(logits[0:1], bart_logits, "bart_padded row 0 logits vs bart")
    e1, l1 = bart_forward(W, enc_ids[1:2, :5], enc_mask[1:2, :5], dec_ids[1:2])
    assert_close(enc[1:2, :5], e1, "bart_padded row 1 encoder padding invariance")
    assert_close(logits[1:2], l1, "bart_padded row 1 logits padding invariance")
    write_reference(
        d, "bart_padded",
        "Same checkpoint as 'bart'; encoder batch of 2 right-padded (lengths 9, 5), decoder (2, 6)",
        {"input_ids": enc_ids, "attention_mask": enc_mask, "decoder_input_ids": dec_ids},
        {"encoder_last_hidden_state": enc, "logits": logits},
        BART_NOTES + "Row 0 is identical to case 'bart'. Encoder row 1 is padded with <pad> id 1 at "
        "positions 5..8 (attention_mask 0). encoder_last_hidden_state holds ALL rows as Hugging Face "
        "computes them, including the padded rows of batch 1 (they attend to the 5 valid keys); an engine "
        "may skip those rows, they never influence the logits because cross-attention masks them. "
        "All decoder rows are valid (no decoder padding).")
    return d


# ---------------------------------------------------------------------------

def main():
    os.makedirs(OUT_ROOT, exist_ok=True)
    dirs = [case_gpt2(), case_bert()]
    dirs.append(case_llama("llama", llama_spec(8, 2, False), 3001, "F32",
                           "LlamaForCausalLM, hidden 64, 2 layers, 8 heads / 2 kv heads (GQA), untied lm_head; one sequence of 11"))
    dirs.append(case_llama("llama_tied", llama_spec(4, 4, True), 3101, "F32",
                           "LlamaForCausalLM, hidden 64, 2 layers, 4 heads = 4 kv heads, tie_word_embeddings true; one sequence of 11"))
    dirs.append(case_llama("llama_bf16", llama_spec(8, 2, False), 3001, "BF16",
                           "Case 'llama' with every tensor stored as BF16; reference from the bf16 values"))
    d, enc, logits = case_bart()
    dirs.append(d)
    dirs.append(case_bart_padded(enc, logits))
    total = 0
    for d in dirs:
        for f in ("config.json", "model.safetensors", "reference.json"):
            path = os.path.join(d, f)
            size = os.path.getsize(path)
            total += size
            print("%-50s %8d bytes" % (os.path.relpath(path, REPO), size))
    print("total %d bytes" % total)
    assert total < 3 * 1024 * 1024


if __name__ == "__main__":
    sys.exit(main())
