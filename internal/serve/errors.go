package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is an error with the HTTP status and the JSON body it becomes:
// {"error": {"message", "type", "code"}} in OpenAI's shape.
type apiError struct {
	Status  int    `json:"-"`
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    string `json:"code"`
	Param   string `json:"param,omitempty"`
	// RetryAfter, in seconds, is sent as the Retry-After header when > 0.
	RetryAfter int `json:"-"`
}

func (e *apiError) Error() string { return e.Message }

// Error types (the "type" field) by status.
func errType(status int) string {
	switch {
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusRequestEntityTooLarge, status == http.StatusUnprocessableEntity:
		return "limit_error"
	case status == http.StatusTooManyRequests:
		return "overloaded_error"
	case status == http.StatusServiceUnavailable:
		return "unavailable_error"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

// newError builds an apiError; code is a stable machine-readable name.
func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Type: errType(status), Code: code, Message: fmt.Sprintf(format, args...)}
}

// badParam is a 400 naming the offending parameter.
func badParam(param, format string, args ...any) *apiError {
	e := newError(http.StatusBadRequest, "invalid_parameter", format, args...)
	e.Param = param
	return e
}

// asAPIError turns any error into an apiError (500 unless it is one).
func asAPIError(err error) *apiError {
	var e *apiError
	if errors.As(err, &e) {
		return e
	}
	return newError(http.StatusInternalServerError, "internal_error", "internal error: %v", err)
}

// writeError sends err as the JSON error body with its status.
func writeError(w http.ResponseWriter, err error) {
	e := asAPIError(err)
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(w, e.Status, map[string]*apiError{"error": e})
}

// writeJSON sends v as a JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client may be gone; nothing to do about it
}
