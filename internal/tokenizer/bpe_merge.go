package tokenizer

import "container/heap"

// bpeSymbol is one token of a word being merged, in a doubly linked list.
type bpeSymbol struct {
	id         int32
	start, end int32 // byte range in the word
	prev, next int32 // neighbours, -1 at the ends
	dead       bool  // merged into its left neighbour
}

// bpeCandidate is a possible merge of the symbol at pos with its right
// neighbour, valid while both still hold left and right.
type bpeCandidate struct {
	rank, pos   int32
	left, right int32
}

// bpeQueue orders candidates by rank, then position (leftmost first).
type bpeQueue []bpeCandidate

func (q bpeQueue) Len() int { return len(q) }
func (q bpeQueue) Less(i, j int) bool {
	return q[i].rank < q[j].rank || q[i].rank == q[j].rank && q[i].pos < q[j].pos
}
func (q bpeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *bpeQueue) Push(x any)   { *q = append(*q, x.(bpeCandidate)) }
func (q *bpeQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// encodeWord byte-pair encodes one pre-token and appends its tokens to out.
// Byte k of word sits at byte base+k of the text, clamped to at least lo
// (a prepended space has no source: its span is empty). Positions inside a
// word are int32: words must be shorter than 2 GiB.
//
// OpenAI's encoder.py repeatedly takes the lowest-ranked adjacent pair and
// merges all its occurrences left to right. This does the same in O(n log n)
// with a priority queue of (rank, position): a merge only creates pairs
// containing the new token, and in a merge list where every token is made
// before it is used (as training produces) those pairs rank after the merge
// that made it, so the order of merges is the same.
func (t *BPE) encodeWord(out []Token, word string, base, lo int) []Token {
	syms := make([]bpeSymbol, len(word))
	for i := range len(word) {
		syms[i] = bpeSymbol{
			id: int32(t.byteTok[word[i]]), start: int32(i), end: int32(i + 1),
			prev: int32(i - 1), next: int32(i + 1),
		}
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	var q bpeQueue
	// push queues the merge of the symbol at pos with its right neighbour,
	// if there is one.
	push := func(pos int32) {
		if pos < 0 || syms[pos].next < 0 {
			return
		}
		l, r := syms[pos].id, syms[syms[pos].next].id
		if m, ok := t.merges[uint64(l)<<32|uint64(r)]; ok {
			heap.Push(&q, bpeCandidate{rank: m.rank, pos: pos, left: l, right: r})
		}
	}
	for i := range syms {
		push(int32(i))
	}
	for q.Len() > 0 {
		c := heap.Pop(&q).(bpeCandidate)
		s := &syms[c.pos]
		if s.dead || s.id != c.left || s.next < 0 || syms[s.next].id != c.right {
			continue // stale: one side changed since the candidate was made
		}
		right := &syms[s.next]
		s.id = t.merges[uint64(c.left)<<32|uint64(c.right)].result
		s.end = right.end
		right.dead = true
		s.next = right.next
		if s.next >= 0 {
			syms[s.next].prev = c.pos
		}
		push(s.prev) // the pairs the new token is part of
		push(c.pos)
	}
	for i := 0; i >= 0 && i < len(syms); i = int(syms[i].next) {
		s := syms[i]
		out = append(out, Token{ID: int(s.id), Start: max(base+int(s.start), lo), End: max(base+int(s.end), lo)})
	}
	return out
}
