package weights

import "fmt"

// Loader reads many tensors from a Source under a name prefix and keeps the
// first error, so that a model family's constructor reads its whole list of
// tensors and checks once. Errors are prefixed with Family ("llama: …").
type Loader struct {
	Src    Source
	Prefix string
	Family string
	Err    error // the first error; nil while every read succeeded
}

// Has reports whether the source holds Prefix+name.
func (l *Loader) Has(name string) bool {
	_, _, ok := l.Src.Info(l.Prefix + name)
	return ok
}

// F32 reads Prefix+name with the given shape (see Source.F32); after the
// first error it returns nil and reads nothing more.
func (l *Loader) F32(name string, shape ...int) []float32 {
	if l.Err != nil {
		return nil
	}
	x, err := l.Src.F32(l.Prefix+name, shape...)
	if err != nil {
		l.Err = fmt.Errorf("%s: %w", l.Family, err)
	}
	return x
}
