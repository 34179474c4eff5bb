package attention

import "github.com/headlight/headlight/internal/kernels"

// Stats are the per-head measurements the fused kernel takes in the same pass
// as the attention itself. Slices are reused between calls when large enough.
//
// For a query row with softmax weights p over its allowed keys:
//
//	Entropy   = -Σ p log p  (nats; log n for a uniform row over n keys, 0 for one-hot)
//	MaxWeight = max p
//	Attended  = number of allowed keys
//
// Rows with no allowed key, and heads switched off, report zeros.
type Stats struct {
	Batch, Heads, SeqQ int

	Entropy   []float32 // (batch, heads, seqQ)
	MaxWeight []float32 // (batch, heads, seqQ)
	Attended  []int32   // (batch, heads, seqQ)

	// OutNorm is the L2 norm of the head's output over all its queries and
	// dimensions: the head's utilisation (M10).
	OutNorm []float32 // (batch, heads)
	// NaN and Inf counts among the logits (after bias; -Inf from masks is not
	// counted) and among the head's outputs.
	ScoreNaN, ScoreInf []int64 // (batch, heads)
	OutNaN, OutInf     []int64 // (batch, heads)

	logL []float32 // (batch, heads, seqQ) scratch of finish: log l per row
}

// Probe receives the statistics of one attention call of one layer. Model
// code calls it; telemetry implements it. Implementations must not keep st
// after returning (its slices are reused).
type Probe interface {
	ObserveAttention(layer int, st *Stats)
}

// NonFinite is the total count of NaN and Inf logits and outputs.
func (s *Stats) NonFinite() int64 {
	sn := s.ScoreNaN // the four have one length: no bounds checks in the loop
	si, on, oi := s.ScoreInf[:len(sn)], s.OutNaN[:len(sn)], s.OutInf[:len(sn)]
	var n int64
	for i := range sn {
		n += sn[i] + si[i] + on[i] + oi[i]
	}
	return n
}

// reset sizes s for a call of shape sh. The values are not cleared: the
// call writes every one (setRow or zeroRows for each row, each head's once
// at the end), then finish.
func (s *Stats) reset(sh Shape) {
	s.Batch, s.Heads, s.SeqQ = sh.Batch, sh.Heads, sh.SeqQ
	rows := sh.Batch * sh.Heads * sh.SeqQ
	heads := sh.Batch * sh.Heads
	s.Entropy = resize(s.Entropy, rows)
	s.MaxWeight = resize(s.MaxWeight, rows)
	s.Attended = resize(s.Attended, rows)
	s.OutNorm = resize(s.OutNorm, heads)
	s.ScoreNaN = resize(s.ScoreNaN, heads)
	s.ScoreInf = resize(s.ScoreInf, heads)
	s.OutNaN = resize(s.OutNaN, heads)
	s.OutInf = resize(s.OutInf, heads)
}

// setRow records query i of batch b, head h: cnt keys attended, and for a
// row with weights (ok: l > 0 and no NaN/Inf logit) its softmax sum l =
// Σ exp(s − m) and entropy term t = Σ exp(s − m)·(s − m), kept in Entropy
// and MaxWeight until finish turns them into the statistics. A nil s
// records nothing.
func (s *Stats) setRow(b, h, i int, cnt int32, l, t float32, ok bool) {
	if s == nil {
		return
	}
	ri := (b*s.Heads+h)*s.SeqQ + i
	if !ok {
		l, t = 0, 0
	}
	s.Attended[ri], s.Entropy[ri], s.MaxWeight[ri] = cnt, l, t
}

// zeroRows records queries [i0, i1) of batch b, head h as rows without keys
// (a head switched off). A nil s records nothing.
func (s *Stats) zeroRows(b, h, i0, i1 int) {
	if s == nil {
		return
	}
	r0 := (b*s.Heads+h)*s.SeqQ + i0
	r1 := r0 + i1 - i0
	clear(s.Entropy[r0:r1])
	clear(s.MaxWeight[r0:r1])
	clear(s.Attended[r0:r1])
}

// finish turns each row's l and t (setRow) into its statistics, the
// logarithms in one vector pass:
//
//	MaxWeight = 1/l,  Entropy = max(0, log l − t/l)  (t/l as t·(1/l))
//
// and leaves the rows without weights (l = 0) at zero.
func (s *Stats) finish() {
	if len(s.logL) != len(s.Entropy) {
		s.logL = resize(s.logL, len(s.Entropy))
	}
	kernels.Log(s.logL, s.Entropy)
	mw := s.MaxWeight[:len(s.Entropy)]
	lg := s.logL[:len(s.Entropy)]
	for i, l := range s.Entropy {
		if l > 0 {
			inv := 1 / l
			e := lg[i] - mw[i]*inv
			if e <= 0 { // max(0, e): −0 and below give +0, NaN stays
				e = 0
			}
			s.Entropy[i], mw[i] = e, inv
		}
	}
}

// resize returns x with length n, reusing its memory; the values are not
// cleared.
func resize[T any](x []T, n int) []T {
	if cap(x) < n {
		return make([]T, n)
	}
	return x[:n]
}

// grow returns x resized to n zeroed elements, reusing its memory.
func grow[T any](x []T, n int) []T {
	if cap(x) < n {
		return make([]T, n)
	}
	x = x[:n]
	clear(x)
	return x
}
