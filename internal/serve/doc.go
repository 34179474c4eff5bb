// Package serve is Headlight's inference server: an OpenAI-compatible HTTP
// API over the loaded models, a batching scheduler per model with admission
// control, the explainability endpoint /v1/attention, and Prometheus
// metrics that include every attention head's statistics.
//
// # API (JSON; errors are {"error": {"message", "type", "code"}})
//
//	POST /v1/completions  {model, prompt (string), max_tokens (default 16), temperature (default 1),
//	                       top_p, top_k (extension), seed, stop (string or ≤ 4 strings), stream,
//	                       stream_options.include_usage, user (the canary key)}
//	    → {id, object "text_completion", created, model,
//	       choices [{text, index, logprobs null, finish_reason "stop"|"length"}],
//	       usage {prompt_tokens, completion_tokens, total_tokens}}
//	    With "stream": true, server-sent events: "data: {chunk}\n\n" per piece of
//	    text (the same object with finish_reason null), a last chunk with the
//	    finish reason, a usage chunk if asked, then "data: [DONE]".
//	GET  /v1/models       → {object "list", data [{id, object "model", created, owned_by, family,
//	                         layers, heads, kv_heads, max_seq_len}]}
//	POST /v1/attention    {model, text, maps [{layer, head}], user}
//	    → {object "attention", model, tokens [{id, piece, text, start, end}], layers, heads,
//	       stats [layer][head] {entropy, max_weight, output_norm}, maps [{layer, head, weights [i][j]}]}
//	POST /v1/embeddings   {model, input (string or ≤ 2048 strings), encoding_format "float"}
//	    → {object "list", data [{object "embedding", index, embedding}], model,
//	       usage {prompt_tokens, total_tokens}}   (encoder models only: mean-pooled, L2-normalised;
//	       a decoder here, or an encoder on /v1/completions or /v1/attention, is a 400)
//	GET  /v1/captures     ?limit=N (default 100) → {object "list", data [{id, time, model, version,
//	                       reason "sampled"|"nan", prompt_tokens, tokens, heads [{layer, head}], top_k,
//	                       trace_id, nan {count, layer, head}, maps_skipped}]}, newest first
//	GET  /v1/captures/{id} → the summary plus token_list [{id, hash, text}] and
//	                       maps [{layer, head, rows [{index [], weight [], nan}]}]
//	GET  /healthz         200 while the process runs
//	GET  /readyz          200 once the warm-up pass is done, 503 before and while shutting down
//	GET  /metrics         Prometheus text format
//
// A request that names no model goes to the first one. Several versions of
// one model may be served (Loaded.Name "name@version", the serve command's
// --model name@version=PATH); each has its own worker. /v1/models lists
// every "name@version" ("name" alone when unversioned), and responses
// report the model that answered that way. A request for "name@version"
// is pinned to that version; one for "name" goes to the stable (first
// listed) version, or, with a Canary (--canary name=version:weight), to
// the canary version when FNV-1a 64 of its key, as a fraction of 2^64 (the
// top 53 bits over 2^53), is below the weight. The key is the request's
// "user" field (completions and attention), else its X-Request-Key header,
// else random: the same user always sees the same version. Metrics that
// carry model also carry version ("unversioned" when none was given), so
// canary analysis compares e.g. rate(headlight_errors_total) or the
// latency and head-entropy histograms by version. Embedding models are
// not split. Prompts are encoded
// with BOS in front; generation stops at BOS or EOS ("stop"), at a stop
// string ("stop"; the text ends before it) or after max_tokens ("length").
//
// Statuses: 400 malformed JSON or parameter (code invalid_json,
// invalid_parameter), 404 unknown model or route, 413 prompt over the max
// sequence length (max_seq_len), over --max-batch-tokens (max_batch_tokens)
// or a request whose memory estimate can never fit the budget
// (memory_budget), 422 max_tokens over --max-tokens-cap (max_tokens_cap)
// or prompt + max_tokens over the max sequence length
// (context_length_exceeded), 429 queue full with Retry-After (queue_full),
// 503 warming up or shutting down, 500 NaN/Inf in the request's attention
// (nan_in_attention, naming the first layer and head). A streamed request
// gets its status with the first chunk, so a failure in prefill still has
// its own status; a failure after that arrives as a last "data: {error}"
// event. A client that goes away cancels its sequence at the next decode
// step (recorded with code 499).
//
// # Scheduling
//
// Each model has one worker goroutine (scheduler.go). Its queue is bounded
// by --max-queue. A batch is the oldest queued request plus the generation
// requests whose prompt lengths are closest to it, up to --max-batch
// requests and --max-batch-tokens padded prefill tokens (requests × longest
// prompt); the worker waits up to --max-queue-wait after the oldest arrived
// for the batch to fill. Before it runs, a batch reserves its memory
// estimate (KV cache layers·2·kvHeads·headDim·positions·4 bytes per
// sequence plus prefill activations, see memory.go) from the budget shared
// by all models, after the weights; if other batches hold the memory it
// waits. A batch runs on model.Decoder.Forward directly (batch.go):
// right-padded prefill with per-sequence lengths, then one decode step per
// token in which finished or cancelled sequences sit out, with the
// telemetry head probe attached. Batches are static: requests arriving
// while a batch runs queue for the next one. Attention requests run alone.
//
// # CPU time and cost
//
// Each generation batch's CPU time is the growth of the process's user +
// system time (getrusage RUSAGE_SELF, not RUSAGE_THREAD, because the
// kernels run on a pool of threads) from before its prefill to after its
// last decode step; an attention request's is that of its forward pass.
// It is split among the batch's requests in proportion to their prompt +
// generated tokens into headlight_cpu_seconds_total{model, version}, and,
// with Options.CostPerCPUSecond (--cost-per-cpu-second) > 0, priced into
// headlight_cost_total{model, version} and one headlight_request_cost
// observation per request. Whatever else the process does meanwhile (HTTP,
// tokenising, another model's batch, GC) is counted too, so with several
// busy models the figures overlap. Warm-up, NaN-capture recomputation and
// /v1/embeddings are not charged. See cost.go.
//
// # Attention-map capture
//
// Off unless Options.CaptureDB (--capture-db) names a bbolt file; then
// the /v1/captures endpoints answer (404 captures_off otherwise). A
// fraction CaptureSample (default 0.01) of completion requests keeps, from
// the batched prefill, the maps of the CaptureHeads (default every head of
// the last layer) over its prompt; every completion stopped by the NaN
// guard is captured too (reason "nan", whatever the sample): after its
// batch, one forward pass alone over its prompt and generated tokens
// recomputes the maps (within the batch's memory reservation plus what is
// free; else it is stored without maps, maps_skipped "memory_budget").
// Each query row keeps its CaptureTopK largest weights (zeros left out;
// NaN weights counted in "nan"). Tokens are stored as id and the first 8
// bytes of SHA-256(salt ‖ vocabulary text), the salt random per file and
// never served; CaptureRawTokens keeps the text. Note that the id alone
// reveals the token to anyone with the tokenizer. Captures are written off
// the request path by one goroutine, the newest CaptureMax kept, and
// counted in headlight_attention_captures_total{model, version, reason}.
//
// # Tracing
//
// With Options.TracerProvider (the serve command builds an OTLP/HTTP one
// when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
// set) each API request has a server span "METHOD /route", joined to the
// caller's W3C traceparent, with children tokenize, queue, prefill, decode
// and detokenize (detokenize runs from the first token event to the last,
// alongside decode). Attributes: headlight.model, headlight.model.version,
// headlight.prompt_tokens, headlight.batch_size,
// headlight.completion_tokens (and headlight.padded_prompt_tokens on
// prefill). Log records of a traced request carry trace_id and span_id.
// The warm-up makes no spans.
//
// # Configuration
//
// The serve command (cmd/headlight/serve.go) fills Options from its flags,
// each also settable by a HEADLIGHT_<FLAG> variable and by a key of the
// YAML file --config names (keys are the flag names, e.g. "max-batch: 4",
// "model: [a=PATH, b=PATH]"); a flag beats its variable, which beats the
// file, which beats the default. Unknown keys and values of the wrong type
// are errors naming the key.
//
// Shutdown (Serve's context ends): /readyz and new requests get 503,
// in-flight requests finish (up to Options.ShutdownTimeout, then they are
// cancelled), then the workers stop.
package serve
