// Regenerates testdata/tokenizer/minilm_expected_hfjs.json: the token ids and
// the decoded text of the strings in testdata/tokenizer/minilm_inputs.json
// under testdata/tokenizer/minilm/tokenizer.json (all-MiniLM-L6-v2, BERT
// uncased WordPiece), as computed by the npm package @huggingface/tokenizers
// (Hugging Face's own pure JavaScript implementation of tokenizer.json), an
// implementation independent of internal/tokenizer. It is the second
// reference next to testdata/gen/tokenizer_minilm (a Go port); each has known
// differences from Hugging Face's Rust tokenizers, the two do not share them.
//
// The package is not a dependency of the project and CI does not run this
// script; the JSON it writes is the committed fixture. To regenerate:
//
//   d=$(mktemp -d) && (cd $d && npm install --no-save @huggingface/tokenizers@0.2.0)
//   NODE_PATH=$d/node_modules node testdata/gen/tokenizer_minilm.js
//
// (run from the repository root).
//
// Known differences from Hugging Face's Rust tokenizers, read from the
// package's source (BertNormalizer). Cases they touch are still written, with
// "skip" set to the reason, and the Go test does not compare them:
//   - it lowercases the whole string with String.prototype.toLowerCase, which
//     turns a word-final capital sigma into ς; Rust lowercases char by char
//     (σ);
//   - it looks for Chinese characters one UTF-16 unit at a time, so
//     characters beyond U+FFFF (CJK extensions B..F) get no spaces;
//   - unassigned code points (Cn) are not dropped as control characters.
'use strict';
const fs = require('fs');
const path = require('path');

const { Tokenizer } = require('@huggingface/tokenizers');
// The package's "exports" hide package.json: find it next to dist/.
const pkgFile = path.join(path.dirname(require.resolve('@huggingface/tokenizers')), '..', 'package.json');
const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf-8'));

const root = path.resolve(__dirname, '..', '..');
const dir = path.join(root, 'testdata', 'tokenizer');
const tokJSON = JSON.parse(fs.readFileSync(path.join(dir, 'minilm', 'tokenizer.json'), 'utf-8'));
const texts = JSON.parse(fs.readFileSync(path.join(dir, 'minilm_inputs.json'), 'utf-8'));

const tk = new Tokenizer(tokJSON, {});

// Hugging Face's Chinese-character ranges (normalizers/bert.rs).
const chinese = [[0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f], [0x2b920, 0x2ceaf], [0xf900, 0xfaff], [0x2f800, 0x2fa1f]];

function knownDifference(text) {
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    if (cp === 0x3a3) {
      return 'U+03A3: toLowerCase applies the final-sigma rule';
    }
    if (cp > 0xffff && chinese.some(([lo, hi]) => cp >= lo && cp <= hi)) {
      return `U+${cp.toString(16).toUpperCase()}: astral Chinese characters are not split`;
    }
    if (/\p{Cn}/u.test(ch)) {
      return `U+${cp.toString(16).toUpperCase()}: unassigned characters are kept`;
    }
  }
  return '';
}

const lines = texts.map((text) => {
  const ids = tk.encode(text, { add_special_tokens: true }).ids;
  const c = {
    text,
    ids,
    // Rust's Tokenizer::decode(ids, skip_special_tokens = true): no
    // whole-string cleanup on top of the WordPiece decoder's own.
    decoded: tk.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false }),
  };
  const skip = knownDifference(text);
  if (skip) {
    c.skip = skip;
  }
  return ' ' + JSON.stringify(c);
});
const source = `npm @huggingface/tokenizers@${pkg.version} Tokenizer.encode/decode, testdata/gen/tokenizer_minilm.js`;
const dst = path.join(dir, 'minilm_expected_hfjs.json');
fs.writeFileSync(dst, `{"source": ${JSON.stringify(source)},\n"cases": [\n${lines.join(',\n')}\n]}\n`);
console.log(`wrote ${lines.length} cases to ${dst}`);
