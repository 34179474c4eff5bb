package serve

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// captureStore keeps captures in a bbolt file: bucket "captures" holds
// each whole capture as JSON under its id (8 bytes big-endian, increasing),
// "index" its summary, "meta" the token-hash salt. Captures are written by
// one goroutine, off the request path; past max the oldest are deleted.
type captureStore struct {
	db       *bolt.DB
	salt     []byte // never leaves the file
	max      int
	in       chan *captureRecord
	done     chan struct{}
	log      *slog.Logger
	onStored func(*captureRecord) // after each commit (the metric)
	once     sync.Once
}

var (
	bucketCaptures = []byte("captures")
	bucketIndex    = []byte("index")
	bucketMeta     = []byte("meta")
	keySalt        = []byte("salt")
)

// openCaptureStore opens (or creates) the file at path.
func openCaptureStore(path string, max int, log *slog.Logger, onStored func(*captureRecord)) (*captureStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("capture db %s: %w", path, err)
	}
	c := &captureStore{db: db, max: max, in: make(chan *captureRecord, 256), done: make(chan struct{}), log: log, onStored: onStored}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCaptures, bucketIndex, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if s := meta.Get(keySalt); s != nil {
			c.salt = append([]byte(nil), s...)
			return nil
		}
		c.salt = make([]byte, 16)
		rand.Read(c.salt)
		return meta.Put(keySalt, c.salt)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("capture db %s: %w", path, err)
	}
	go c.writer()
	return c, nil
}

// add queues a capture for writing; it never blocks (a full queue drops it).
func (c *captureStore) add(rec *captureRecord) {
	select {
	case c.in <- rec:
	default:
		c.log.Warn("capture queue full: capture dropped", "model", rec.Model, "reason", rec.Reason)
	}
}

// close writes the queued captures and closes the file.
func (c *captureStore) close() {
	c.once.Do(func() {
		close(c.in)
		<-c.done
		c.db.Close()
	})
}

func (c *captureStore) writer() {
	defer close(c.done)
	for rec := range c.in {
		if err := c.put(rec); err != nil {
			c.log.Error("writing a capture failed", "err", err)
			continue
		}
		if c.onStored != nil {
			c.onStored(rec)
		}
	}
}

// put stores rec under the next id and deletes the oldest captures past max.
func (c *captureStore) put(rec *captureRecord) error {
	return c.db.Update(func(tx *bolt.Tx) error {
		caps, idx := tx.Bucket(bucketCaptures), tx.Bucket(bucketIndex)
		seq, err := caps.NextSequence()
		if err != nil {
			return err
		}
		rec.ID = strconv.FormatUint(seq, 10)
		full, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		sum, err := json.Marshal(rec.captureSummary)
		if err != nil {
			return err
		}
		key := binary.BigEndian.AppendUint64(nil, seq)
		if err := caps.Put(key, full); err != nil {
			return err
		}
		if err := idx.Put(key, sum); err != nil {
			return err
		}
		extra := -c.max
		cur := idx.Cursor()
		for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
			extra++
		}
		for k, _ := cur.First(); k != nil && extra > 0; k, _ = cur.Next() {
			if err := caps.Delete(k); err != nil {
				return err
			}
			if err := cur.Delete(); err != nil {
				return err
			}
			extra--
		}
		return nil
	})
}

// list returns up to limit summaries, newest first.
func (c *captureStore) list(limit int) ([]json.RawMessage, error) {
	out := []json.RawMessage{}
	err := c.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketIndex).Cursor()
		for k, v := cur.Last(); k != nil && len(out) < limit; k, v = cur.Prev() {
			out = append(out, append(json.RawMessage(nil), v...))
		}
		return nil
	})
	return out, err
}

// get returns the capture id as JSON, nil if there is none.
func (c *captureStore) get(id string) (json.RawMessage, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return nil, nil
	}
	var out json.RawMessage
	err = c.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketCaptures).Get(binary.BigEndian.AppendUint64(nil, seq)); v != nil {
			out = append(json.RawMessage(nil), v...)
		}
		return nil
	})
	return out, err
}

// errCapturesOff answers the capture endpoints without --capture-db.
var errCapturesOff = newError(http.StatusNotFound, "captures_off", "attention capture is off (start the server with --capture-db PATH)")

func (s *Server) handleCaptureList(w http.ResponseWriter, r *http.Request) {
	if s.captures == nil {
		writeError(w, errCapturesOff)
		return
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			writeError(w, badParam("limit", "limit %q must be an integer in [1, 10000]", v))
			return
		}
		limit = n
	}
	data, err := s.captures.list(limit)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

func (s *Server) handleCaptureGet(w http.ResponseWriter, r *http.Request) {
	if s.captures == nil {
		writeError(w, errCapturesOff)
		return
	}
	id := r.PathValue("id")
	rec, err := s.captures.get(id)
	switch {
	case err != nil:
		writeError(w, err)
	case rec == nil:
		writeError(w, newError(http.StatusNotFound, "capture_not_found", "capture %q does not exist (or was deleted by --capture-max)", id))
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(append(rec, '\n'))
	}
}
