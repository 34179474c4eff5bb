package serve

import (
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// recorder is the ResponseWriter the handlers see: it remembers the
// status and lets a handler name the model for the metrics' model label.
type recorder struct {
	http.ResponseWriter
	status  int
	model   string
	version string // the model's version (metrics label)
	ptoks   int    // prompt tokens, for the access log
	ctoks   int    // completion tokens, for the access log
	// aborted: the client went away before the answer was complete.
	aborted bool
}

// statusClientClosed is the code recorded for requests whose client went
// away before the answer was complete (nginx's convention; never sent).
const statusClientClosed = 499

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush lets server-sent events through.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap serves http.ResponseController.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// recorderOf finds the recorder instrument put around w (a fresh one, not
// recorded anywhere, if there is none).
func recorderOf(w http.ResponseWriter) *recorder {
	if r, ok := w.(*recorder); ok {
		return r
	}
	return &recorder{ResponseWriter: w}
}

// instrument wraps h with the HTTP metrics (in-flight gauge, end-to-end
// duration by model, endpoint and code, errors by code) and the access log,
// which never contains request text.
func (s *Server) instrument(endpoint string, h http.Handler) http.Handler {
	inflight := s.metrics.InFlight.WithLabelValues(endpoint)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		inflight.Inc()
		defer inflight.Dec()
		rec := &recorder{ResponseWriter: w}
		quiet := endpoint == "/metrics" || endpoint == "/healthz" || endpoint == "/readyz"
		var sp trace.Span
		if !quiet {
			r, sp = s.startRequestSpan(r, endpoint)
		}
		h.ServeHTTP(rec, r)
		switch {
		case rec.aborted || (rec.status == 0 && r.Context().Err() != nil):
			rec.status = statusClientClosed
		case rec.status == 0:
			rec.status = http.StatusOK
		}
		code := strconv.Itoa(rec.status)
		el := time.Since(start)
		s.metrics.RequestDuration.WithLabelValues(rec.model, rec.version, endpoint, code).Observe(el.Seconds())
		if rec.status >= 400 {
			s.metrics.Errors.WithLabelValues(rec.model, rec.version, endpoint, code).Inc()
		}
		if quiet {
			return
		}
		s.log.InfoContext(r.Context(), "request", "method", r.Method, "endpoint", endpoint, "status", rec.status, "model", rec.model, "version", rec.version,
			"duration_s", el.Seconds(), "prompt_tokens", rec.ptoks, "completion_tokens", rec.ctoks)
		s.endRequestSpan(sp, rec)
	})
}
