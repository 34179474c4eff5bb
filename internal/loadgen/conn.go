package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// conn is a keep-alive HTTP/1.1 connection used from one goroutine: it
// writes a request and reads the response itself. net/http's client hands
// each request to a writer and a reader goroutine of the connection, three
// goroutines in all, whose hand-offs on a small machine cost about as much
// as the server's own work for a short request; the overhead measurement
// uses conn so that what it measures is the server, not its client.
type conn struct {
	addr string // host:port
	c    net.Conn
	r    *bufio.Reader
}

func dial(base string) (*conn, error) {
	base, err := BaseURL(base)
	if err != nil {
		return nil, err
	}
	addr := strings.TrimPrefix(base, "http://")
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &conn{addr: addr, c: c, r: bufio.NewReader(c)}, nil
}

func (c *conn) Close() error { return c.c.Close() }

// post sends body to path and returns the status and the response body.
func (c *conn) post(ctx context.Context, path string, body []byte) (int, []byte, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.c.SetDeadline(dl)
	}
	var b strings.Builder
	b.Grow(len(body) + 128)
	b.WriteString("POST " + path + " HTTP/1.1\r\nHost: " + c.addr + "\r\nContent-Type: application/json\r\nContent-Length: ")
	b.WriteString(strconv.Itoa(len(body)))
	b.WriteString("\r\n\r\n")
	b.Write(body)
	if _, err := io.WriteString(c.c, b.String()); err != nil {
		return 0, nil, err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	if resp.Close {
		return resp.StatusCode, out, fmt.Errorf("loadgen: the server closed the connection")
	}
	return resp.StatusCode, out, nil
}

// complete sends one greedy, non-streamed completion of it and returns the
// answer's text and completion tokens.
func (c *conn) complete(ctx context.Context, cfg Config, it Item) (text string, tokens int, err error) {
	req := map[string]any{"prompt": it.Prompt, "max_tokens": it.MaxTokens, "temperature": cfg.Temperature, "seed": it.Seed}
	if cfg.Model != "" {
		req["model"] = cfg.Model
	}
	js, err := json.Marshal(req)
	if err != nil {
		return "", 0, err
	}
	status, body, err := c.post(ctx, "/v1/completions", js)
	if err != nil {
		return "", 0, err
	}
	if status != http.StatusOK {
		return "", 0, fmt.Errorf("status %d: %s", status, errorMessage(body))
	}
	var out completion
	if err := json.Unmarshal(body, &out); err != nil {
		return "", 0, fmt.Errorf("decoding the answer: %w", err)
	}
	if len(out.Choices) > 0 {
		text = out.Choices[0].Text
	}
	return text, out.Usage.CompletionTokens, nil
}
