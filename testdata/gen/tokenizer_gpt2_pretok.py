#!/usr/bin/python3
"""Regenerates testdata/tokenizer/gpt2_pretok_expected.json: how GPT-2's
pre-tokenizer pattern splits a set of strings, computed with the pattern of
OpenAI's encoder.py run by Python's `regex` module (the engine encoder.py
uses), independently of the hand-written matcher in
internal/tokenizer/bpe_pretok.go.

The strings are the GPT-2 fixture texts plus 400 random strings (fixed seed)
drawn from characters chosen to exercise every branch of the pattern:
contraction letters after apostrophes, spaces before letters, numbers and
other characters, runs of mixed whitespace (including U+0085, U+00A0,
U+2028, U+3000), combining marks, format characters and astral characters.

Needs Debian's python3-regex (apt-get install python3-regex); CI does not run
it, the JSON it writes is the committed fixture. From the repository root:

    /usr/bin/python3 testdata/gen/tokenizer_gpt2_pretok.py
"""
import json
import os
import random

import regex

PAT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")

POOL = (
    ["'", "'", " ", " ", " ", "s", "t", "r", "e", "v", "m", "l", "d", "S", "T", "a", "Z"]
    + ["1", "9", "\u00b2", "\u0663", "\u2167"]  # digits, superscript, Arabic-Indic, Roman numeral (Nl)
    + ["\t", "\n", "\r", "\x0b", "\x0c", "\u0085", "\u00a0", "\u2028", "\u3000", "\u2009"]
    + ["!", ".", ",", "-", "_", "$", "\u00ab", "\u2014"]
    + ["\u00e9", "\u00df", "\u4e2d", "\u0416", "\u05d0", "\u3042"]  # letters of several scripts
    + ["\u0301", "\u0903", "\u200b", "\u200d", "\ufeff", "\x00", "\x1f", "\x7f"]  # Mn, Mc, Cf, Cc
    + ["\U0001f642", "\U00020000", "\U0001d400", "\U0001f1e6"]  # emoji, CJK ext B (Lo), math letter, flag
)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "testdata", "tokenizer", "gpt2_expected.json"), encoding="utf-8") as f:
        texts = [c["text"] for c in json.load(f)["cases"]]
    rng = random.Random(20240601)
    for _ in range(400):
        texts.append("".join(rng.choice(POOL) for _ in range(rng.randint(1, 24))))
    cases = []
    for t in texts:
        pieces = PAT.findall(t)
        assert "".join(pieces) == t, t
        cases.append({"text": t, "pieces": pieces})
    dst = os.path.join(root, "testdata", "tokenizer", "gpt2_pretok_expected.json")
    source = "Python regex %s findall of encoder.py's pattern, testdata/gen/tokenizer_gpt2_pretok.py" % regex.__version__
    with open(dst, "w", encoding="utf-8") as f:
        f.write('{"source": %s,\n"cases": [\n' % json.dumps(source))
        f.write(",\n".join(" " + json.dumps(c) for c in cases))
        f.write("\n]}\n")
    print("wrote %d cases to %s" % (len(cases), dst))


if __name__ == "__main__":
    main()
