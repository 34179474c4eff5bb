#!/bin/bash
# panels.sh — MatMulPanels (packed weights) against MatMulTransB (row-major
# b) on the same shapes, with benchstat: `make bench-panels`. The
# BenchmarkMatMulPanels sub-benchmarks /transb and /panels are split into two
# files so benchstat compares them row by row (docs/performance.md,
# "Packed weights"). benchstat comes from the Go module proxy.
set -euo pipefail
count=${COUNT:-6}
dir=$(mktemp -d)
go test -run '^$' -bench MatMulPanels -count "$count" ./internal/kernels | tee "$dir/all.txt" >/dev/null
grep -E '^(goos|goarch|pkg|cpu):' "$dir/all.txt" | tee "$dir/transb.txt" > "$dir/panels.txt"
grep '/transb-' "$dir/all.txt" | sed 's|/transb-|-|' >> "$dir/transb.txt"
grep '/panels-' "$dir/all.txt" | sed 's|/panels-|-|' >> "$dir/panels.txt"
cd "$dir" && go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -col .file transb.txt panels.txt
