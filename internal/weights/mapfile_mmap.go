//go:build linux || darwin || freebsd

package weights

import (
	"fmt"
	"io"
	"sync"
	"syscall"
)

// mapFile maps path read-only and private into memory. The io.Closer unmaps
// it; closing twice is harmless.
func mapFile(path string) ([]byte, io.Closer, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close() // the mapping outlives the descriptor
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("weights: mmap %s: %w", path, err)
	}
	return data, &mapping{data: data}, nil
}

// mapping owns one mmap'd region.
type mapping struct {
	mu   sync.Mutex
	data []byte
}

// DropPages discards the region's resident pages (MADV_DONTNEED): the
// mapping is private and never written, so a later read faults the page in
// again from the file (see PageDropper).
func (m *mapping) DropPages() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.data == nil {
		return nil
	}
	if err := syscall.Madvise(m.data, syscall.MADV_DONTNEED); err != nil {
		return fmt.Errorf("weights: madvise: %w", err)
	}
	return nil
}

// Close unmaps the region. Slices into it must not be used afterwards.
func (m *mapping) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.data == nil {
		return nil
	}
	err := syscall.Munmap(m.data)
	m.data = nil
	if err != nil {
		return fmt.Errorf("weights: munmap: %w", err)
	}
	return nil
}
