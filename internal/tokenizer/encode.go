package tokenizer

// minMergeScore is run.c's initial best_score: a merge whose piece scores
// this or less (or NaN) never happens.
const minMergeScore float32 = -1e10

// Encode returns the token ids of text exactly as llama2.c's encode() in
// run.c does (see EncodeOffsets).
func (t *SentencePiece) Encode(text string, bos, eos bool) []int {
	toks := t.EncodeOffsets(text, bos, eos)
	ids := make([]int, len(toks))
	for i, tok := range toks {
		ids[i] = tok.ID
	}
	return ids
}

// EncodeOffsets encodes text as llama2.c's encode() and gives each token its
// byte span in text:
//
//  1. a non-empty text gets the dummy prefix, the piece " " (empty span at 0);
//  2. text is split into codepoints (a byte plus up to 3 continuation bytes
//     10xxxxxx); a codepoint that is a piece becomes that token, otherwise
//     each of its bytes becomes its byte token;
//  3. while some adjacent pair concatenates to a piece, the pair whose piece
//     has the highest score (the leftmost on ties) is merged; the merged
//     token spans both (so " Once" spans "Once");
//  4. BOS goes in front (empty span at 0) and EOS at the end (empty span at
//     len(text)) if asked.
//
// Differences from run.c, none of which changes the result for valid text
// and llama2.c vocabularies: run.c pushes BOS before merging, which matters
// only if a piece starts with the BOS piece and continues; run.c stops at a
// NUL byte, here NUL is encoded like any byte; if the vocabulary has no " "
// piece run.c emits id -1, here the byte token of ' '.
//
// Step 3 uses a priority queue ordered by (score, position), which makes the
// same merges in the same order as run.c's quadratic rescan.
func (t *SentencePiece) EncodeOffsets(text string, bos, eos bool) []Token {
	out := make([]Token, 0, len(text)+3)
	if bos {
		out = append(out, Token{ID: t.bos})
	}
	syms := t.initialSymbols(text)
	out = t.merge(out, syms)
	if eos {
		out = append(out, Token{ID: t.eos, Start: len(text), End: len(text)})
	}
	return out
}

// initialSymbols is steps 1 and 2 of EncodeOffsets.
func (t *SentencePiece) initialSymbols(text string) []Token {
	if text == "" {
		return nil
	}
	syms := make([]Token, 0, len(text)+1)
	prefix := t.space
	if prefix < 0 {
		prefix = t.byteID[' ']
	}
	syms = append(syms, Token{ID: prefix})
	for i := 0; i < len(text); {
		j := i + 1
		for j < len(text) && text[j]&0xC0 == 0x80 && j-i < 4 {
			j++
		}
		if id := t.lookup(text[i:j]); id >= 0 {
			syms = append(syms, Token{ID: id, Start: i, End: j})
		} else {
			for k := i; k < j; k++ {
				syms = append(syms, Token{ID: t.byteID[text[k]], Start: k, End: k + 1})
			}
		}
		i = j
	}
	return syms
}

// pairMerge returns the id and score of the piece left+right, and whether
// run.c would merge the pair at all. *buf is scratch space.
func (t *SentencePiece) pairMerge(buf *[]byte, left, right int) (id int, score float32, ok bool) {
	*buf = append(append((*buf)[:0], t.pieces[left]...), t.pieces[right]...)
	id, found := t.ids[string(*buf)]
	if !found || !(t.scores[id] > minMergeScore) {
		return 0, 0, false
	}
	return id, t.scores[id], true
}

// merge is step 3 of EncodeOffsets: it merges syms in place and appends the
// surviving tokens, in order, to out.
//
// syms form a doubly linked list; node i's pair is (i, next[i]). The queue
// holds a candidate for every pair formed so far; a candidate is stale if
// either node changed since (checked by ids; a dead node has id -1). Merging
// keeps the left node, so list order is index order and the smallest index
// among the best-scoring pairs is run.c's leftmost one.
func (t *SentencePiece) merge(out []Token, syms []Token) []Token {
	n := len(syms)
	if n == 0 {
		return out
	}
	prev := make([]int32, n)
	next := make([]int32, n)
	for i := range n {
		prev[i] = int32(i - 1)
		next[i] = int32(i + 1)
	}
	next[n-1] = -1
	var (
		q   candQueue
		buf []byte
	)
	push := func(l int32) {
		r := next[l]
		if id, score, ok := t.pairMerge(&buf, syms[l].ID, syms[r].ID); ok {
			q.push(cand{score: score, pos: l, left: int32(syms[l].ID), right: int32(syms[r].ID), merged: int32(id)})
		}
	}
	for i := 0; i+1 < n; i++ {
		push(int32(i))
	}
	for len(q) > 0 {
		c := q.pop()
		l := c.pos
		if int32(syms[l].ID) != c.left {
			continue
		}
		r := next[l]
		if r < 0 || int32(syms[r].ID) != c.right {
			continue
		}
		syms[l].ID = int(c.merged)
		syms[l].End = syms[r].End
		syms[r].ID = -1
		next[l] = next[r]
		if next[r] >= 0 {
			prev[next[r]] = l
		}
		if prev[l] >= 0 {
			push(prev[l])
		}
		if next[l] >= 0 {
			push(l)
		}
	}
	for i := int32(0); i >= 0; i = next[i] { // node 0 is never a right node
		out = append(out, syms[i])
	}
	return out
}

// cand is a possible merge of the pair starting at node pos.
type cand struct {
	score               float32
	pos                 int32
	left, right, merged int32
}

// before orders candidates: higher score first, then leftmost.
func (a cand) before(b cand) bool {
	return a.score > b.score || (a.score == b.score && a.pos < b.pos)
}

// candQueue is a binary heap of candidates, best first.
type candQueue []cand

func (q *candQueue) push(c cand) {
	*q = append(*q, c)
	h := *q
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *candQueue) pop() cand {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, best := 2*i+1, i
		if l < len(h) && h[l].before(h[best]) {
			best = l
		}
		if r := l + 1; r < len(h) && h[r].before(h[best]) {
			best = r
		}
		if best == i {
			break
		}
		h[i], h[best] = h[best], h[i]
		i = best
	}
	*q = h
	return top
}
