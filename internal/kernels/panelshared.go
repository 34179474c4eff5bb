package kernels

// PanelsProduct is one product of MatMulPanelsShared: C = a·Wᵀ + Bias.
type PanelsProduct struct {
	C    []float32 // (m, W.N) output
	W    *Panels   // (n, k) packed weights
	Bias []float32 // (n) or nil
}

// MatMulPanelsShared computes every product of ps from the same a (m, k),
// each as MatMulPanels computes it (the same bits), in one pool job whose
// tasks cover the blocks of all of them: products that share an input (a
// layer's query, key and value projections; W1 and W3 of a SwiGLU) cost one
// hand-off to the pool's helpers instead of one each, and the tasks of one
// product fill the gaps of another. It panics if a product's sizes do not
// fit or its k differs from the first's.
func MatMulPanelsShared(pool *Pool, a []float32, m int, ps ...PanelsProduct) {
	if len(ps) == 0 {
		return
	}
	k := ps[0].W.K
	var work int64
	tasks := 0
	mb := (m + panelMC - 1) / panelMC
	for _, p := range ps {
		n := p.W.N
		if p.W.K != k {
			panic("kernels.MatMulPanelsShared: products of different depth k")
		}
		checkMatMul("MatMulPanelsShared", len(a), n*k, len(p.C), p.Bias, m, n, k)
		work += int64(m) * int64(n) * int64(k)
		tasks += mb * panelTasks(n)
	}
	if m == 0 {
		return
	}
	if m <= panelGemvMaxM {
		work *= panelGemvWork
	}
	pool = pool.For(work)
	if pool == nil || tasks == 1 {
		for _, p := range ps {
			MatMulPanels(nil, p.C, a, p.W, p.Bias, m)
		}
		return
	}
	own := append([]PanelsProduct(nil), ps...) // the closure's copy: the caller's slice stays on its stack
	var ab []uint16                            // a in bfloat16 for the products in the dot mode
	for _, p := range ps {
		if p.W.dot && m > panelGemvMaxM && ab == nil {
			buf := bf16Copy(a, m, k)
			defer bf16Bufs.Put(buf)
			ab = *buf
		}
	}
	pool.Run(tasks, func(_, t int) {
		for _, p := range own { // find t's product: the tasks go product after product
			nt := mb * panelTasks(p.W.N)
			if t >= nt {
				t -= nt
				continue
			}
			np := (p.W.N + panelW - 1) / panelW
			i0, q0 := (t%mb)*panelMC, (t/mb)*panelNP
			pab := ab
			if !p.W.dot {
				pab = nil
			}
			panelBlock(p.C[:m*p.W.N], a[:m*k], pab, p.W, p.Bias, m, i0, min(i0+panelMC, m), q0, min(q0+panelNP, np))
			return
		}
	})
}

// panelTasks is the number of panel groups (tasks per row block) of a
// product with n outputs.
func panelTasks(n int) int {
	np := (n + panelW - 1) / panelW
	return (np + panelNP - 1) / panelNP
}
