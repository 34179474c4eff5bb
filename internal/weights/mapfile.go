package weights

import (
	"fmt"
	"math"
	"os"
)

// openRegular opens path for reading and checks that it is a non-empty
// regular file whose size fits in an int. The caller closes the file.
func openRegular(path string) (*os.File, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("weights: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("weights: %w", err)
	}
	size := st.Size()
	switch {
	case !st.Mode().IsRegular():
		err = fmt.Errorf("weights: %s: not a regular file (mode %v)", path, st.Mode())
	case size == 0:
		err = fmt.Errorf("%s: %w: empty file", path, ErrMalformed)
	case size > math.MaxInt:
		err = fmt.Errorf("weights: %s: %d bytes do not fit in memory on this platform", path, size)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, int(size), nil
}
