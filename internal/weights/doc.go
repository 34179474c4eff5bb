// Package weights loads model checkpoints from disk or memory.
//
// Today it reads llama2.c checkpoints (Karpathy's `.bin` files), both the
// legacy format (a 7 × int32 header followed by float32 tensors) and the
// "version 1" export (a 256-byte "ak42" header followed by float32 tensors in
// a different order). See llama2c.go for the layout.
//
// Files are memory-mapped where the OS allows it (linux, darwin, freebsd) and
// read into memory elsewhere. Tensors alias the mapping when they can (the data
// is 4-byte aligned and the host is little-endian) and are decoded copies
// otherwise. Every header field is validated and every size is computed in
// int64 with overflow checks before anything is sliced or allocated: malformed
// input returns an error wrapping ErrMalformed, never a panic, never an
// allocation larger than the input.
package weights
