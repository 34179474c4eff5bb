# Headlight — make test runs everything CI runs (.ci/run calls it).
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test tools lint unit race fuzz-smoke fuzz fuzz-run bench bench-serve promcheck build fixtures

test: tools lint unit race fuzz-smoke

# Debian tools some tests use: Prometheus and promtool (the /metrics scrape test and the alert
# rules). Installed when missing and apt-get can run (as root); otherwise those tests skip unless
# HEADLIGHT_REQUIRE_PROMETHEUS=1 (set by .ci/run) makes them fail.
tools:
	@if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; \
		else echo "prometheus/promtool missing and cannot install (not root): their tests will skip"; fi; \
	fi

build:
	$(GO) build -o bin/headlight ./cmd/headlight

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# The pure-Go twins of the SIMD kernels are tested on their own too (purego tag), and on an
# AVX-512 machine (where avx512 is the default path) the attention kernel and the model families'
# golden tests run once more on the AVX2 kernels (HEADLIGHT_KERNELS=avx2).
unit:
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags purego ./internal/kernels ./internal/attention
	@if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then \
		echo "HEADLIGHT_KERNELS=avx2 $(GO) test -count=1 ./internal/attention ./internal/model/... ./internal/engine"; \
		HEADLIGHT_KERNELS=avx2 $(GO) test -count=1 ./internal/attention ./internal/model/... ./internal/engine; \
	fi

# The race detector on the packages with concurrency, in short mode.
race:
	$(GO) test -count=1 -race -short ./internal/kernels ./internal/attention ./internal/engine ./internal/model/... ./internal/serve ./internal/telemetry ./internal/loadgen

# Coverage-guided fuzzing of the attention kernel and every file parser. make test runs a
# bounded number of executions per target (counts, not durations: Go 1.26's fuzz coordinator
# can report a spurious "context deadline exceeded" when a -fuzztime duration ends,
# golang/go#75804). Longer: make fuzz FUZZTIME=5m (durations are fine for a person watching).
FUZZ_ATTENTION ?= 1500x
FUZZ_PARSERS ?= 20000x
fuzz-smoke:
	$(MAKE) fuzz-run FUZZ_A=$(FUZZ_ATTENTION) FUZZ_P=$(FUZZ_PARSERS)

FUZZTIME ?= 1m
fuzz:
	$(MAKE) fuzz-run FUZZ_A=$(FUZZTIME) FUZZ_P=$(FUZZTIME)

fuzz-run:
	$(GO) test -run '^$$' -fuzz '^FuzzAttend$$' -fuzztime $(FUZZ_A) ./internal/attention
	$(GO) test -run '^$$' -fuzz '^FuzzParseLlama2C$$' -fuzztime $(FUZZ_P) ./internal/weights
	$(GO) test -run '^$$' -fuzz '^FuzzParseGGUF$$' -fuzztime $(FUZZ_P) ./internal/weights
	$(GO) test -run '^$$' -fuzz '^FuzzParseSafetensors$$' -fuzztime $(FUZZ_P) ./internal/weights
	$(GO) test -run '^$$' -fuzz '^FuzzLoadLlama2C$$' -fuzztime $(FUZZ_P) ./internal/tokenizer
	$(GO) test -run '^$$' -fuzz '^FuzzEncode$$' -fuzztime $(FUZZ_P) ./internal/tokenizer
	$(GO) test -run '^$$' -fuzz '^FuzzBPERoundTrip$$' -fuzztime $(FUZZ_P) ./internal/tokenizer
	$(GO) test -run '^$$' -fuzz '^FuzzLoadHFTokenizerJSON$$' -fuzztime $(FUZZ_P) ./internal/tokenizer

# Benchmarks are not part of the test run: they take minutes.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/kernels ./internal/attention

# Load test of `headlight serve` over loopback and its overhead over the engine at batch 1.
bench-serve:
	$(GO) run ./cmd/headlight bench serve --requests 200 --duration 60s --concurrency 4

# promtool on deploy/prometheus (config, rules, rule unit tests); `make test` runs the same
# checks in internal/serve's TestPromtoolChecks. Needs Debian's prometheus package.
promcheck:
	cd deploy/prometheus && promtool check config prometheus.yml && promtool check rules alerts.yml && promtool test rules alerts_test.yml

# Regenerate the PyTorch fixtures (needs Debian's python3-torch).
fixtures:
	/usr/bin/python3 testdata/gen/attention.py

# Headlight against PyTorch 1.13 in one run, alternating A/B (bench/peers/run.py; about 5 minutes).
# Installs Debian's python3-torch and libopenblas0-openmp when missing (as root) and pins
# libblas.so.3 / liblapack.so.3 to the OpenBLAS-OpenMP variant: Debian's default reference BLAS
# is ~30× slower. run.py checks which BLAS torch has mapped and refuses to run on another.
.PHONY: bench-panels
bench-panels: ## MatMulPanels against MatMulTransB with benchstat (COUNT=6)
	bash bench/panels.sh

.PHONY: bench-decode-peers
bench-decode-peers: ## decoding tokens/s against bench/peers/llama2c/ref.c (a C decoder to run.c's algorithm; needs gcc)
	/usr/bin/python3 bench/peers/decode.py $(DECODEFLAGS)

.PHONY: bench-peers
PEERSFLAGS ?=
bench-peers:
	@if ! /usr/bin/python3 -c 'import torch' 2>/dev/null || ! dpkg -s libopenblas0-openmp >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-openmp >/dev/null; \
		else echo "bench-peers needs python3-torch and libopenblas0-openmp: apt-get install them as root"; exit 1; fi; \
	fi
	@if [ "$$(id -u)" = 0 ]; then \
		ma=$$(uname -m)-linux-gnu; \
		update-alternatives --set libblas.so.3-$$ma /usr/lib/$$ma/openblas-openmp/libblas.so.3 && \
		update-alternatives --set liblapack.so.3-$$ma /usr/lib/$$ma/openblas-openmp/liblapack.so.3; \
	fi
	/usr/bin/python3 -c 'import torch; print(torch.__config__.show())' | grep -E 'BLAS_INFO|CPU capability' | cut -c1-120
	/usr/bin/python3 bench/peers/run.py $(PEERSFLAGS)
