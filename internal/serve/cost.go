package serve

// CPU time and cost accounting.
//
// A batch's CPU time is the growth of the process's user + system CPU time
// (getrusage(RUSAGE_SELF)) between two reads: one before its first forward
// pass (and after an attention request ran in between), then at every
// step that admits new sequences, before any sequence finishes, and at
// least every cpuReadEvery (5 ms) while it decodes, so the scheduler's
// bookkeeping is included and a fast decoding step does not pay a system
// call. It includes the kernel pool's threads, which RUSAGE_THREAD on the
// worker's thread would miss. The price of that choice: the process's
// other work in the same interval (HTTP handlers, tokenising, another
// model's batch running concurrently, GC) is counted too, so with several
// busy models the figures overlap and are an upper bound. The time is
// split among the batch's sequences in proportion to the tokens each fed
// since the previous read (its prompt when it joins, then one a step); a
// request's total is recorded when it finishes. Warm-up requests are not
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
	for b, j := range jobs {
		if !j.warm {
			w.chargeJob(cpu * float64(tokens[b]) / float64(total))
		}
	}
}

// chargeJob records one request's CPU seconds cpu (and its cost).
func (w *worker) chargeJob(cpu float64) {
	if !(cpu > 0) {
		return
	}
	w.mm.CPUSeconds.Add(cpu)
	if rate := w.opts.CostPerCPUSecond; rate > 0 {
		w.mm.Cost.Add(cpu * rate)
		w.mm.RequestCost.Observe(cpu * rate)
	}
}
