//go:build !(linux || darwin || freebsd)

package weights

import (
	"fmt"
	"io"
)

// mapFile reads path into memory: this platform has no syscall.Mmap. The
// io.Closer is a no-op; the garbage collector frees the data.
func mapFile(path string) ([]byte, io.Closer, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data := make([]byte, size)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, nil, fmt.Errorf("weights: read %s: %w", path, err)
	}
	return data, nopCloser{}, nil
}

// nopCloser is the io.Closer of data that needs no release.
type nopCloser struct{}

func (nopCloser) Close() error { return nil }
