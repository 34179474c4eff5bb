package attention

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
}

// Probe receives the statistics of one attention call of one layer. Model
// code calls it; telemetry implements it. Implementations must not keep st
// after returning (its slices are reused).
type Probe interface {
	ObserveAttention(layer int, st *Stats)
}

// NonFinite is the total count of NaN and Inf logits and outputs.
func (s *Stats) NonFinite() int64 {
	var n int64
	for i := range s.ScoreNaN {
		n += s.ScoreNaN[i] + s.ScoreInf[i] + s.OutNaN[i] + s.OutInf[i]
	}
	return n
}

func (s *Stats) reset(sh Shape) {
	s.Batch, s.Heads, s.SeqQ = sh.Batch, sh.Heads, sh.SeqQ
	rows := sh.Batch * sh.Heads * sh.SeqQ
	heads := sh.Batch * sh.Heads
	s.Entropy = grow(s.Entropy, rows)
	s.MaxWeight = grow(s.MaxWeight, rows)
	s.Attended = grow(s.Attended, rows)
	s.OutNorm = grow(s.OutNorm, heads)
	s.ScoreNaN = grow(s.ScoreNaN, heads)
	s.ScoreInf = grow(s.ScoreInf, heads)
	s.OutNaN = grow(s.OutNaN, heads)
	s.OutInf = grow(s.OutInf, heads)
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
