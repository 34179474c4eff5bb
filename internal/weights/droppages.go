package weights

import "io"

// PageDropper is a model file's mapping whose pages can be handed back to
// the kernel once the model has copied what it keeps (e.g. weights packed
// at load): DropPages discards the resident pages of the read-only mapping,
// which the kernel reads again from the file if a tensor still viewing them
// is used. It is advice: data stays valid, only resident memory shrinks.
type PageDropper interface {
	DropPages() error
}

// DropPages calls c's DropPages when it has one (nil otherwise).
func DropPages(c io.Closer) error {
	if d, ok := c.(PageDropper); ok {
		return d.DropPages()
	}
	return nil
}

// DropPages drops the pages of an OpenGGUF mapping (see PageDropper).
func (g *GGUF) DropPages() error { return DropPages(g.closer) }

// DropPages drops the pages of every mapped file (see PageDropper).
func (s *Safetensors) DropPages() error {
	for _, c := range s.closers {
		if err := DropPages(c); err != nil {
			return err
		}
	}
	return nil
}
