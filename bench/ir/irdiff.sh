#!/bin/bash
# irdiff.sh — instructions per unit of a Go benchmark, counted by valgrind
# (callgrind), for A/B comparisons that wall time on a noisy VM cannot make.
#
#   go test -c -o /tmp/x.test ./internal/serve
#   bench/ir/irdiff.sh /tmp/x.test internal/serve 'DecodeStep/probe' 10 30 128
#
# runs the benchmark with -test.benchtime N1x and N2x and prints
# (Ir(N2) − Ir(N1)) / (N2 − N1) / DIVISOR, which cancels start-up and model
# loading. GODEBUG=asyncpreemptoff=1 keeps valgrind off Go's preemption
# signals (it crashes on them otherwise); GOMAXPROCS=1 keeps it to one thread.
set -euo pipefail
if [ $# -lt 5 ]; then
	echo "usage: $0 TESTBINARY PKGDIR BENCHREGEX N1 N2 [DIVISOR]" >&2
	exit 2
fi
bin=$(realpath "$1") dir=$2 re=$3 n1=$4 n2=$5 div=${6:-1}
command -v valgrind >/dev/null || { echo "irdiff: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
total() {
	(cd "$dir" && GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		"$bin" -test.run XXX -test.bench "$re" -test.benchtime "${1}x" 2>&1) |
		awk '/Collected/ {gsub(",", "", $4); print $4}'
}
a=$(total "$n1")
b=$(total "$n2")
echo "$re: $(( (b - a) / (n2 - n1) / div )) instructions per unit"
