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
// Each model has one worker goroutine (scheduler.go) running one batch
// continuously: requests join it between decode steps instead of waiting
// for the sequences before them to finish. Its queue is bounded by
// --max-queue. Between two steps the worker admits, first come first
// served, the oldest queued generation request plus those whose prompt
// lengths are closest to it, while the batch has at most --max-batch live
// sequences and the step's padded tokens (live sequences × longest new
// prompt) stay within --max-batch-tokens; if the oldest cannot join, no
// one does, so it gets in at the latest when the batch drains. With
// --max-queue-wait > 0 (default 0) an idle worker under load (a request
// that arrived while the model was busy) waits up to that long after the
// oldest arrived so that several prompts prefill in one step; a lone request
// starts at once. The default starts at once: requests that arrive later
// join the running batch at its next step, and a fixed wait cost 24 % of
// batch-1 throughput for sequential clients (bench serve).
//
// The batch is a model.State with one KV-cache slot per live sequence.
// When sequences join, and when some have finished, the worker allocates
// the new layout and copies the live sequences' cached keys and values
// into it. Each layout reserves its memory estimate (KV cache
// layers·2·kvHeads·headDim·positions·4 bytes per slot, positions = the
// longest prompt + max tokens, or a live sequence's positions + the
// step's prefill, plus one spare; plus the activations of a step of the
// longest new prompt; see memory.go and batch.go) from the budget shared
// by all models, after the weights, for as long as it lives; while the
// copy is made both layouts are reserved. If other batches hold the
// memory the new requests wait (an idle worker waits for a release; a
// running one keeps decoding and retries at the next step).
//
// A step is one model.Decoder.Forward over the slots (batch.go) with the
// telemetry head probe attached: the sequences that joined prefill their
// prompts (right-padded to the longest, per-sequence lengths), the
// others decode one token (padding to the same length in a step with a
// prefill), finished slots sit out. Prefill is thus fair to decoding: a
// decoding sequence waits at most one step, bounded by the token budget,
// for the prompts that join. Rows do not depend on their batch (the
// kernels are batch-invariant), so a greedy sequence's text is the same
// whichever sequences share its steps. After each step every sequence is
// checked for cancellation and for NaN/Inf in its own attention, sampled,
// and finished at a stop token, a stop string or max_tokens. The metrics
// follow the sequences: headlight_queue_wait_seconds runs until
// admission, the prefill duration is that of the joining step, and
// headlight_batch_size is observed at every step in which sequences
// join, as the number of live sequences in that step. Attention requests
// run alone, one between two steps.
//
// # CPU time and cost
//
// Each step's CPU time is the growth of the process's user + system time
// (getrusage RUSAGE_SELF, not RUSAGE_THREAD, because the kernels run on a
// pool of threads) from the end of the batch's previous step (for its
// first step, or after an attention request ran in between: from before
// its forward pass) to the end of its forward pass; an attention
// request's is that of its forward pass. A step's time is split among its sequences in
// proportion to the tokens each fed (the prompt when joining, else one),
// and a request's total goes, when it finishes, into
// headlight_cpu_seconds_total{model, version}, and,
// with Options.CostPerCPUSecond (--cost-per-cpu-second) > 0, priced into
// headlight_cost_total{model, version} and one headlight_request_cost
// observation per request. Whatever else the process does meanwhile (HTTP,
// tokenising, another model's step, GC) is counted too, so with several
// busy models the figures overlap. Warm-up, NaN-capture recomputation and
// /v1/embeddings are not charged. See cost.go.
//
// # Attention-map capture
//
// Off unless Options.CaptureDB (--capture-db) names a bbolt file; then
// the /v1/captures endpoints answer (404 captures_off otherwise). A
// fraction CaptureSample (default 0.01) of completion requests keeps, from
// the step in which it joins the batch, the maps of the CaptureHeads (default every head of
// the last layer) over its prompt; every completion stopped by the NaN
// guard is captured too (reason "nan", whatever the sample): after the
// step that stopped it, one forward pass alone over its prompt and
// generated tokens recomputes the maps (within its slot's share of the
// batch's memory reservation plus what is free; else it is stored without
// maps, maps_skipped "memory_budget").
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
