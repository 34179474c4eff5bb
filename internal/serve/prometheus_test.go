package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests check /metrics and deploy/prometheus against Debian's real
// Prometheus 2.42 (apt-get install prometheus). Without the binaries they
// skip, unless HEADLIGHT_REQUIRE_PROMETHEUS=1 (CI), when they fail.

// deployDir holds the scrape config and alert rules we ship.
const deployDir = "../../deploy/prometheus"

// promTool finds prometheus or promtool on PATH.
func promTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("HEADLIGHT_REQUIRE_PROMETHEUS") == "1" {
		t.Fatalf("%s is not on PATH and HEADLIGHT_REQUIRE_PROMETHEUS=1 (apt-get install prometheus)", name)
	}
	t.Skipf("%s is not on PATH: skipping (apt-get install prometheus; set HEADLIGHT_REQUIRE_PROMETHEUS=1 to make this a failure)", name)
	return ""
}

// promResult is one series of an instant query's vector.
type promResult struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"` // [time, "value"]
}

func (r promResult) value(t *testing.T) float64 {
	t.Helper()
	s, _ := r.Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("series %v: value %v: %v", r.Metric, r.Value[1], err)
	}
	return v
}

// promQuery runs an instant query against the Prometheus at base.
func promQuery(t *testing.T, base, q string) []promResult {
	t.Helper()
	var out struct {
		Status, Error string
		Data          struct {
			ResultType string       `json:"resultType"`
			Result     []promResult `json:"result"`
		}
	}
	promGet(t, base+"/api/v1/query?query="+url.QueryEscape(q), &out)
	if out.Status != "success" || out.Data.ResultType != "vector" {
		t.Fatalf("query %s: status %q (%s), result type %q", q, out.Status, out.Error, out.Data.ResultType)
	}
	return out.Data.Result
}

func promGet(t *testing.T, u string, into any) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: status %d: %v", u, resp.StatusCode, err)
	}
}

// freePort is a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startPrometheus runs prometheus with config (written to a temp dir) on
// a loopback port, stopped at the end of the test, and returns its URL
// once it answers /-/ready (up to 30 s).
func startPrometheus(t *testing.T, config string) string {
	bin := promTool(t, "prometheus")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("prometheus exited: %v\n%s", err, logs.String())
		default:
		}
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 30s")
		}
	}
}

func TestPrometheusScrapesMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server: not in -short mode")
	}
	promTool(t, "prometheus")
	ts := start(t, nil)
	const requests = 3
	for i := range requests {
		body := map[string]any{"prompt": fmt.Sprintf("Once upon a time %d", i), "max_tokens": 12, "temperature": 0}
		if status, _, out := ts.post(t, "/v1/completions", body); status != http.StatusOK {
			t.Fatalf("completion: %d %s", status, out)
		}
	}
	rules, err := filepath.Abs(filepath.Join(deployDir, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	target := strings.TrimPrefix(ts.url, "http://")
	prom := startPrometheus(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: headlight
    static_configs:
      - targets: [%q]
`, rules, target))

	// Wait for a successful scrape of the server.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		up := promQuery(t, prom, `up{job="headlight"}`)
		if len(up) == 1 && up[0].value(t) == 1 && len(promQuery(t, prom, `headlight_build_info`)) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no successful scrape of %s after 30s (up: %v)", target, up)
		}
	}

	// Every head of the model has its entropy histogram, with observations.
	cfg := ts.workers["stories260K"].cfg
	series := promQuery(t, prom, `headlight_attention_entropy_nats_count{job="headlight"}`)
	if len(series) != cfg.Layers*cfg.Heads {
		t.Errorf("%d entropy series, want layers × heads = %d × %d", len(series), cfg.Layers, cfg.Heads)
	}
	seen := map[[2]int]bool{}
	for _, s := range series {
		l, errL := strconv.Atoi(s.Metric["layer"])
		h, errH := strconv.Atoi(s.Metric["head"])
		if s.Metric["model"] != "stories260K" || errL != nil || errH != nil || l < 0 || l >= cfg.Layers || h < 0 || h >= cfg.Heads {
			t.Errorf("entropy series with labels %v", s.Metric)
			continue
		}
		if s.value(t) <= 0 {
			t.Errorf("layer %d head %d: no entropy observations after %d completions", l, h, requests)
		}
		seen[[2]int{l, h}] = true
	}
	if len(seen) != cfg.Layers*cfg.Heads {
		t.Errorf("entropy series cover %d distinct (layer, head) pairs, want %d", len(seen), cfg.Layers*cfg.Heads)
	}
	// Entropies are in nats: a mean within [0, ln(max_seq)].
	mean := promQuery(t, prom, `sum(headlight_attention_entropy_nats_sum{job="headlight"}) / sum(headlight_attention_entropy_nats_count{job="headlight"})`)
	if len(mean) != 1 || !(mean[0].value(t) > 0 && mean[0].value(t) < 7) {
		t.Errorf("mean head entropy: %v, want one value in (0, ln 512)", mean)
	}

	// The request latency histogram, by model, endpoint and code.
	lat := promQuery(t, prom, `headlight_request_duration_seconds_count{job="headlight", endpoint="/v1/completions"}`)
	if len(lat) != 1 || lat[0].Metric["model"] != "stories260K" || lat[0].Metric["code"] != "200" || lat[0].value(t) != requests {
		t.Errorf("completion latency series: %v, want one with model stories260K, code 200 and %d requests", lat, requests)
	}
	p50 := promQuery(t, prom, `histogram_quantile(0.5, sum by (le) (headlight_request_duration_seconds_bucket{job="headlight", endpoint="/v1/completions", code="200"}))`)
	if len(p50) != 1 || !(p50[0].value(t) > 0 && p50[0].value(t) <= 60) {
		t.Errorf("median completion latency: %v, want one value in (0, 60] s", p50)
	}

	// The shipped alert rules load and evaluate without errors on real data.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		var out struct {
			Data struct {
				Groups []struct {
					Rules []struct {
						Name, Health, LastError string
					}
				}
			}
		}
		promGet(t, prom+"/api/v1/rules", &out)
		var n, ok int
		var bad []string
		for _, g := range out.Data.Groups {
			for _, r := range g.Rules {
				n++
				switch r.Health {
				case "ok":
					ok++
				case "err":
					bad = append(bad, r.Name+": "+r.LastError)
				}
			}
		}
		if len(bad) > 0 {
			t.Fatalf("alert rules fail to evaluate: %v", bad)
		}
		if n > 0 && ok == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert rules: %d of %d evaluated ok after 15s", ok, n)
		}
	}
}

// TestPromtoolChecks validates deploy/prometheus with promtool: the config,
// the rules and the rules' unit tests (alerts_test.yml).
func TestPromtoolChecks(t *testing.T) {
	bin := promTool(t, "promtool")
	for _, args := range [][]string{
		{"check", "config", "prometheus.yml"},
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts_test.yml"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = deployDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestAlertRulesUseServedMetrics checks that every headlight_ metric the
// alert rules name is one the server exports (a misspelt metric makes an
// alert that can never fire).
func TestAlertRulesUseServedMetrics(t *testing.T) {
	rules, err := os.ReadFile(filepath.Join(deployDir, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	ts := start(t, nil)
	if status, _, out := ts.post(t, "/v1/completions", map[string]any{"prompt": "Once", "max_tokens": 4}); status != http.StatusOK {
		t.Fatalf("completion: %d %s", status, out)
	}
	// A refused request creates the error and rejection series.
	if status, _, _ := ts.post(t, "/v1/completions", map[string]any{"prompt": "Once", "max_tokens": 100000}); status != http.StatusUnprocessableEntity {
		t.Fatalf("max_tokens over the cap: status %d, want 422", status)
	}
	mfs, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, mf := range mfs {
		n := mf.GetName()
		served[n] = true
		if mf.GetType().String() == "HISTOGRAM" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				served[n+suffix] = true
			}
		}
	}
	names := regexp.MustCompile(`\bheadlight_[a-z_]+`).FindAllString(string(rules), -1)
	if len(names) < 6 {
		t.Fatalf("found %d metric names in alerts.yml; the regexp is broken", len(names))
	}
	for _, n := range names {
		if !served[n] {
			t.Errorf("alerts.yml uses %s, which the server does not export", n)
		}
	}
}
