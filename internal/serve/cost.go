package serve

// CPU time and cost accounting.
//
// A batch's CPU time is the growth of the process's user + system CPU time
// (getrusage(RUSAGE_SELF)) from just before its prefill forward pass to
// just after its last decode step, so it includes sampling and the
// scheduler's per-step bookkeeping, and the kernel pool's threads, which
// RUSAGE_THREAD on the worker's thread would miss. The price of that
// choice: the process's other work in the same interval (HTTP handlers,
// tokenising, another model's batch running concurrently, GC) is counted
// too, so with several busy models the figures overlap and are an upper
// bound. The time is split among the batch's requests in proportion to the
// tokens each processed (prompt + generated); warm-up requests are not
// charged.

// charge records a batch's CPU seconds cpu: each job's share (by
// tokens[b], its prompt + generated tokens) goes to the CPU-seconds and
// cost counters and the per-request cost histogram (with --cost-per-cpu-second).
func (w *worker) charge(jobs []*job, tokens []int, cpu float64) {
	total := 0
	for b, j := range jobs {
		if !j.warm {
			total += tokens[b]
		}
	}
	if total == 0 || !(cpu > 0) {
		return
	}
	rate := w.opts.CostPerCPUSecond
	for b, j := range jobs {
		if j.warm {
			continue
		}
		share := cpu * float64(tokens[b]) / float64(total)
		w.mm.CPUSeconds.Add(share)
		if rate > 0 {
			w.mm.Cost.Add(share * rate)
			w.mm.RequestCost.Observe(share * rate)
		}
	}
}
