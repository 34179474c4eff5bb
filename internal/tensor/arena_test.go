package tensor

import "testing"

func TestArenaReusesBuffersInCallOrder(t *testing.T) {
	var a Arena
	x := a.Floats(10)
	y := a.Floats(5)
	for i := range x {
		x[i] = 1
	}
	y[0] = 2
	a.Reset()
	x2 := a.Floats(8) // fits in the first buffer: same memory, zeroed
	if &x2[0] != &x[0] {
		t.Fatal("the first buffer was not reused")
	}
	for i, v := range x2 {
		if v != 0 {
			t.Fatalf("reused buffer not zeroed at %d: %v", i, v)
		}
	}
	y2 := a.Floats(50) // larger than the second buffer: a new one
	if len(y2) != 50 || &y2[0] == &y[0] {
		t.Fatal("the second buffer was not grown")
	}
	z := a.Floats(3) // a third buffer, new
	if len(z) != 3 {
		t.Fatal(len(z))
	}
	if got, want := a.Bytes(), int64(4*(10+50+3)); got != want {
		t.Fatalf("Bytes = %d, want %d", got, want)
	}
	// Distinct buffers within one pass never overlap.
	x2[0], y2[0], z[0] = 1, 2, 3
	if x2[0] != 1 || y2[0] != 2 {
		t.Fatal("buffers of one pass overlap")
	}
}

func TestNilArenaAllocates(t *testing.T) {
	var a *Arena
	x, y := a.Floats(4), a.Floats(4)
	if len(x) != 4 || &x[0] == &y[0] {
		t.Fatal("a nil arena must allocate fresh slices")
	}
	a.Reset()
	if a.Bytes() != 0 {
		t.Fatal("nil arena holds memory")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("negative length did not panic")
		}
	}()
	a.Floats(-1)
}

func TestArenaSteadyStateAllocatesNothing(t *testing.T) {
	var a Arena
	pass := func(n int) {
		a.Reset()
		a.Floats(n)
		a.Ints(n)[0] = 1
		a.Floats(2 * n)
		if a.Ints(3)[0] != 0 {
			panic("Ints not zeroed")
		}
	}
	pass(100) // prefill-sized pass grows the buffers
	if allocs := testing.AllocsPerRun(20, func() { pass(1) }); allocs != 0 {
		t.Fatalf("decode-sized passes allocate %v times", allocs)
	}
}
