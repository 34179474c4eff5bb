// ref.c — Headlight's own C decoder of legacy llama2.c checkpoints, written
// to the algorithm of llama2.c's run.c (whose source is not available on
// this machine): float32 weights read as they are, naive row-by-row
// matrix–vector loops (OpenMP over rows), RoPE on pairs, per-head attention
// over the KV cache, SwiGLU, greedy decoding from BOS. It is the stand-in
// peer for issue 5's "≥ 1.2× run.c" goal: build it as run.c is built
// (gcc -Ofast -march=native -fopenmp) and compare it with
// `headlight bench generate` on the same file (bench/peers/decode.sh).
// Its greedy tokens must match Headlight's (the script checks this).
//
//   ref MODEL.bin POSITIONS THREADS  → one JSON line: tokens/s and tokens
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct { int dim, hidden, layers, heads, kv_heads, vocab, seq; } Config;

typedef struct {
	float *emb, *rms_att, *wq, *wk, *wv, *wo, *rms_ffn, *w1, *w2, *w3, *rms_final, *wcls;
} Weights;

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

// out = w·x, w (d, n) row-major.
static void matmul(float *out, const float *x, const float *w, int n, int d) {
	int i;
#pragma omp parallel for private(i)
	for (i = 0; i < d; i++) {
		float v = 0.0f;
		for (int j = 0; j < n; j++) v += w[i * n + j] * x[j];
		out[i] = v;
	}
}

static void rmsnorm(float *o, const float *x, const float *w, int n) {
	float ss = 0.0f;
	for (int j = 0; j < n; j++) ss += x[j] * x[j];
	ss = 1.0f / sqrtf(ss / n + 1e-5f);
	for (int j = 0; j < n; j++) o[j] = w[j] * (ss * x[j]);
}

static void softmax(float *x, int n) {
	float mx = x[0];
	for (int i = 1; i < n; i++) if (x[i] > mx) mx = x[i];
	float s = 0.0f;
	for (int i = 0; i < n; i++) { x[i] = expf(x[i] - mx); s += x[i]; }
	for (int i = 0; i < n; i++) x[i] /= s;
}

int main(int argc, char **argv) {
	if (argc != 4 && argc != 5) { fprintf(stderr, "usage: ref MODEL.bin POSITIONS THREADS [WARMUP_SECONDS]\n"); return 2; }
	double warm = argc == 5 ? atof(argv[4]) : 0; // untimed decodes for this long first (bench/peers/decode.py)
	int steps = atoi(argv[2]);
	omp_set_num_threads(atoi(argv[3]));
	FILE *f = fopen(argv[1], "rb");
	if (!f) { perror(argv[1]); return 1; }
	Config c;
	if (fread(&c, sizeof c, 1, f) != 1) { fprintf(stderr, "short header\n"); return 1; }
	int shared = c.vocab > 0;
	if (c.vocab < 0) c.vocab = -c.vocab;
	fseek(f, 0, SEEK_END);
	long size = ftell(f) - (long)sizeof c;
	fseek(f, sizeof c, SEEK_SET);
	float *data = malloc(size);
	if (!data || fread(data, 1, size, f) != (size_t)size) { fprintf(stderr, "read failed\n"); return 1; }
	fclose(f);
	int hs = c.dim / c.heads, kvd = c.kv_heads * hs, L = c.layers;
	Weights w;
	float *p = data;
	w.emb = p; p += (long)c.vocab * c.dim;
	w.rms_att = p; p += (long)L * c.dim;
	w.wq = p; p += (long)L * c.dim * c.dim;
	w.wk = p; p += (long)L * c.dim * kvd;
	w.wv = p; p += (long)L * c.dim * kvd;
	w.wo = p; p += (long)L * c.dim * c.dim;
	w.rms_ffn = p; p += (long)L * c.dim;
	w.w1 = p; p += (long)L * c.dim * c.hidden;
	w.w2 = p; p += (long)L * c.hidden * c.dim;
	w.w3 = p; p += (long)L * c.dim * c.hidden;
	w.rms_final = p; p += c.dim;
	p += (long)c.seq * hs; // freq_cis_real and freq_cis_imag (seq × hs/2 each): computed below instead
	w.wcls = shared ? w.emb : p;
	if (steps > c.seq) steps = c.seq;

	float *x = calloc(c.dim, 4), *xb = calloc(c.dim, 4), *xb2 = calloc(c.dim, 4), *q = calloc(c.dim, 4);
	float *hb = calloc(c.hidden, 4), *hb2 = calloc(c.hidden, 4), *att = calloc((long)c.heads * c.seq, 4);
	float *logits = calloc(c.vocab, 4);
	float *kc = calloc((long)L * c.seq * kvd, 4), *vc = calloc((long)L * c.seq * kvd, 4);
	int *toks = calloc(steps, sizeof(int));
	int tok;
	double t0 = 0, tw = now();
	int timed;
	do { // untimed passes until warm seconds have passed, then the timed one
	timed = now() - tw >= warm;
	tok = 1; // BOS
	for (int pos = 0; pos < steps; pos++) {
		if (pos == 1) t0 = now(); // as run.c: time from the second step
		memcpy(x, w.emb + (long)tok * c.dim, c.dim * 4);
		for (int l = 0; l < L; l++) {
			rmsnorm(xb, x, w.rms_att + (long)l * c.dim, c.dim);
			float *k = kc + ((long)l * c.seq + pos) * kvd, *v = vc + ((long)l * c.seq + pos) * kvd;
			matmul(q, xb, w.wq + (long)l * c.dim * c.dim, c.dim, c.dim);
			matmul(k, xb, w.wk + (long)l * c.dim * kvd, c.dim, kvd);
			matmul(v, xb, w.wv + (long)l * c.dim * kvd, c.dim, kvd);
			for (int i = 0; i < c.dim; i += 2) { // RoPE on pairs (i, i+1)
				float fr = 1.0f / powf(10000.0f, (i % hs) / (float)hs), a = pos * fr;
				float cr = cosf(a), ci = sinf(a);
				for (int r = 0; r < (i < kvd ? 2 : 1); r++) {
					float *u = r == 0 ? q : k, u0 = u[i], u1 = u[i + 1];
					u[i] = u0 * cr - u1 * ci;
					u[i + 1] = u0 * ci + u1 * cr;
				}
			}
			int h;
#pragma omp parallel for private(h)
			for (h = 0; h < c.heads; h++) {
				const float *qh = q + h * hs;
				float *a = att + (long)h * c.seq;
				int kvh = h / (c.heads / c.kv_heads);
				for (int t = 0; t <= pos; t++) {
					const float *kt = kc + ((long)l * c.seq + t) * kvd + kvh * hs;
					float s = 0.0f;
					for (int i = 0; i < hs; i++) s += qh[i] * kt[i];
					a[t] = s / sqrtf(hs);
				}
				softmax(a, pos + 1);
				float *o = xb + h * hs;
				memset(o, 0, hs * 4);
				for (int t = 0; t <= pos; t++) {
					const float *vt = vc + ((long)l * c.seq + t) * kvd + kvh * hs;
					for (int i = 0; i < hs; i++) o[i] += a[t] * vt[i];
				}
			}
			matmul(xb2, xb, w.wo + (long)l * c.dim * c.dim, c.dim, c.dim);
			for (int i = 0; i < c.dim; i++) x[i] += xb2[i];
			rmsnorm(xb, x, w.rms_ffn + (long)l * c.dim, c.dim);
			matmul(hb, xb, w.w1 + (long)l * c.dim * c.hidden, c.dim, c.hidden);
			matmul(hb2, xb, w.w3 + (long)l * c.dim * c.hidden, c.dim, c.hidden);
			for (int i = 0; i < c.hidden; i++) hb[i] = hb[i] / (1.0f + expf(-hb[i])) * hb2[i];
			matmul(xb, hb, w.w2 + (long)l * c.hidden * c.dim, c.hidden, c.dim);
			for (int i = 0; i < c.dim; i++) x[i] += xb[i];
		}
		rmsnorm(x, x, w.rms_final, c.dim);
		matmul(logits, x, w.wcls, c.dim, c.vocab);
		int best = 0;
		for (int i = 1; i < c.vocab; i++) if (logits[i] > logits[best]) best = i;
		toks[pos] = tok = best;
	}
	} while (!timed);
	double dt = now() - t0;
	printf("{\"positions\": %d, \"threads\": %s, \"tok_s\": %.3f, \"tokens\": [", steps, argv[3], (steps - 1) / dt);
	for (int i = 0; i < steps; i++) printf("%s%d", i ? ", " : "", toks[i]);
	printf("]}\n");
	return 0;
}
