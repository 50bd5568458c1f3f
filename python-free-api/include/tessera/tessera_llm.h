/* Tessera LLM generation — public C API, beside tessera.h.
 *
 * Loads a llama-family GGUF model (llama, which covers SmolLM2), builds its
 * graphs with the public graph API, and generates text with a KV cache.
 *
 *   tsr_llm* m;
 *   tsr_llm_options o = {sizeof o};                 // defaults: cpu, n_ctx 2048, f16 KV cache
 *   if (tsr_llm_load(ctx, "SmolLM2.gguf", &o, &m) != TSR_OK) puts(tsr_last_error());
 *   tsr_llm_session* s;
 *   tsr_llm_sampling sp = {sizeof sp, 0.0f};        // temperature 0: greedy
 *   tsr_llm_session_create(m, &sp, &s);
 *   int32_t toks[512]; int32_t n;
 *   tsr_llm_tokenize(m, "Hello", 5, 1, 1, toks, 512, &n);
 *   tsr_llm_generate(s, toks, n, 64, on_token, user, NULL);
 *
 * Several sequences at once (continuous batching): see tsr_llm_batch below.
 *
 * Ownership: the model borrows the context (destroy models first); a session
 * or batch borrows its model. Errors as in tessera.h (status + tsr_last_error()).
 *
 * Threading (the rule of tessera.h, per object):
 *   tsr_llm          shared freely: tokenize, token_to_piece, the chat
 *                    templates, get_info, placement and
 *                    is_end_of_generation read what load built and take no
 *                    lock; free it after every call on it and on its
 *                    sessions and batches has returned.
 *   tsr_llm_session  one thread at a time; sessions of one model (or of
 *   tsr_llm_batch    models of one context) run on different threads at once,
 *                    their evals serialised on the context's lock.
 * tests/api/threads_test.cpp runs these under ThreadSanitizer: sessions of
 * one model generating on two threads, two models of one context, a batch
 * stepping while another thread tokenizes.
 */
#ifndef TESSERA_LLM_H
#define TESSERA_LLM_H

#include "tessera.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tsr_llm_s tsr_llm;
typedef struct tsr_llm_session_s tsr_llm_session;

/* KV cache element type. Not a tsr_dtype: 0 must mean the default. */
enum { TSR_LLM_KV_F16 = 0, TSR_LLM_KV_F32 = 1 };

typedef struct tsr_llm_options {
  uint32_t struct_size;
  const char* const* devices; /* preference order; NULL/0 = {"cpu"} */
  int32_t n_devices;
  uint32_t compile_flags; /* TSR_COMPILE_* */
  int32_t n_ctx;          /* KV cache length; 0 = min(model context, 2048) */
  int32_t kv_type;        /* TSR_LLM_KV_F16 (0, the default) or TSR_LLM_KV_F32 */
  int32_t n_batch;        /* max tokens per prefill step; 0 = 256 */
  /* Called while loading and uploading weights with a fraction in [0, 1]. */
  void (*progress)(float fraction, void* user);
  void* progress_user;
  /* Asked between the weights as they are bound (with progress); non-zero
   * makes tsr_llm_load return TSR_ERR_ABORTED. Compiling for the devices,
   * once the weights are bound, is not interrupted. */
  int32_t (*should_abort)(void* user);
  void* abort_user;
  /* Pipeline split across devices: layer l runs on layer_devices[l] (a name
   * as tsr_device_find takes it; NULL or "" leaves the layer to `devices`);
   * the embedding goes with layer 0, the final norm and output with the last
   * layer, and activations cross devices once per boundary. n_layer_devices
   * is 0 (no split) or the model's layer count (else TSR_ERR_INVALID_ARGUMENT
   * naming both). A node a layer's device cannot run falls back to the CPU
   * (an error with TSR_COMPILE_STRICT). */
  const char* const* layer_devices;
  int32_t n_layer_devices;
  /* Non-zero: tensor parallelism over the context's communicator
   * (tsr_context_open_comm; without one, a world of one rank). This process
   * computes its rank's slice of every layer: attention by KV-head groups,
   * the FFN by its hidden size, the output by vocabulary rows; the
   * embedding and norms stay whole. Every rank must load the same file with
   * the same options (checked at load: TSR_ERR_INVALID_ARGUMENT naming the
   * rank that differs) and then make the same calls in the same order, each
   * getting the whole logits. A model whose slices would split a quantized
   * block, or give a rank no KV head, fails with TSR_ERR_UNSUPPORTED naming
   * the tensor. */
  int32_t tensor_parallel;
} tsr_llm_options;

TSR_API tsr_status_code tsr_llm_load(tsr_context* ctx, const char* path, const tsr_llm_options* options,
                                     tsr_llm** out_model);
TSR_API void tsr_llm_free(tsr_llm* model); /* accepts NULL */

typedef struct tsr_llm_info {
  uint32_t struct_size;
  char architecture[32];
  int32_t n_vocab, n_ctx_train, n_ctx, n_embd, n_layer, n_head, n_head_kv, n_ff;
  uint64_t weight_bytes;
} tsr_llm_info;

TSR_API tsr_status_code tsr_llm_get_info(const tsr_llm* model, tsr_llm_info* out_info);
/* Where every op of the decode graph runs (see tsr_model_placement). Owned by the model. */
TSR_API const char* tsr_llm_placement(const tsr_llm* model);

/* Text -> tokens. Writes at most capacity ids; *out_n is the full count (a
 * larger count than capacity means the buffer was too small: TSR_ERR_INVALID_ARGUMENT).
 * add_bos prepends BOS when the model asks for it, unless the text (with
 * parse_special) already starts with it. */
TSR_API tsr_status_code tsr_llm_tokenize(const tsr_llm* model, const char* text, int64_t text_len,
                                         int32_t add_bos, int32_t parse_special, int32_t* tokens,
                                         int32_t capacity, int32_t* out_n);
/* Bytes of one token (not NUL-terminated); *out_n as above. */
TSR_API tsr_status_code tsr_llm_token_to_piece(const tsr_llm* model, int32_t token, char* buf,
                                               int32_t capacity, int32_t* out_n);
/* The model's chat template over (role, content) pairs; adds the assistant
 * prompt when add_generation_prompt. Output NUL-terminated; *out_n excludes the NUL.
 * The template is the file's tokenizer.chat_template when Tessera recognises
 * it (ChatML, Gemma, Llama 3), else, when the file has none, the one its
 * architecture determines (gemma3: Gemma; qwen2, qwen3: ChatML). Otherwise
 * TSR_ERR_UNSUPPORTED with a message quoting the template (its first 60
 * characters) or naming the architecture: pass a name to
 * tsr_llm_apply_chat_template_named. A template that writes bos_token (Gemma,
 * Llama 3) writes the BOS text; tsr_llm_tokenize with add_bos and
 * parse_special keeps that one BOS and adds none. */
TSR_API tsr_status_code tsr_llm_apply_chat_template(const tsr_llm* model, const char* const* roles,
                                                    const char* const* contents, int32_t n_messages,
                                                    int32_t add_generation_prompt, char* buf,
                                                    int32_t capacity, int32_t* out_n);
/* As tsr_llm_apply_chat_template, with the template chosen by name: "chatml",
 * "gemma" or "llama3", each as its model family publishes it (ChatML without
 * a default system turn). name NULL or "" is the model's own template, as
 * above. An unknown name fails with TSR_ERR_INVALID_ARGUMENT listing the
 * known ones; so does a conversation the template refuses (Gemma: roles
 * must alternate user/assistant after an optional system message). name is
 * read during the call only; the buffer rules are those above.
 *
 *   const char* roles[] = {"user"}, *contents[] = {"Hi"};
 *   char buf[256]; int32_t n;
 *   tsr_llm_apply_chat_template_named(m, "gemma", roles, contents, 1, 1, buf, sizeof buf, &n);
 *   // buf: "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n" */
TSR_API tsr_status_code tsr_llm_apply_chat_template_named(const tsr_llm* model, const char* name,
                                                          const char* const* roles,
                                                          const char* const* contents, int32_t n_messages,
                                                          int32_t add_generation_prompt, char* buf,
                                                          int32_t capacity, int32_t* out_n);
TSR_API int32_t tsr_llm_is_end_of_generation(const tsr_llm* model, int32_t token);

typedef struct tsr_llm_sampling {
  uint32_t struct_size;
  float temperature;    /* 0 = greedy */
  int32_t top_k;        /* 0 = off */
  float top_p;          /* 1 or 0 = off */
  float min_p;          /* 0 = off */
  float repeat_penalty; /* 1 or 0 = off */
  int32_t repeat_last_n;
  uint64_t seed;      /* same seed, same prompt, same settings -> same tokens */
  int32_t ignore_eos; /* 1: generate does not stop at end-of-generation tokens (benchmarks, oracles) */
} tsr_llm_sampling;

TSR_API tsr_status_code tsr_llm_session_create(tsr_llm* model, const tsr_llm_sampling* sampling,
                                               tsr_llm_session** out_session);
TSR_API void tsr_llm_session_free(tsr_llm_session* s); /* accepts NULL */
/* Forgets the KV cache and sampling history. */
TSR_API tsr_status_code tsr_llm_session_reset(tsr_llm_session* s);

/* Feeds tokens (prefill in steps of n_batch). When all_logits, the logits of
 * every fed token are kept ([n_tokens, n_vocab]) for tsr_llm_session_logits;
 * otherwise only the last token's. A prompt past n_ctx fails naming both. */
TSR_API tsr_status_code tsr_llm_session_eval(tsr_llm_session* s, const int32_t* tokens, int32_t n_tokens,
                                             int32_t all_logits);
/* Logits kept by the last eval: *out_rows rows of n_vocab floats. Owned by the session. */
TSR_API tsr_status_code tsr_llm_session_logits(const tsr_llm_session* s, const float** out_logits,
                                               int32_t* out_rows);
/* Callbacks of a session's evaluation (tsr_llm_session_eval, tsr_llm_generate).
 * should_abort is asked before every prefill and decode step and, during a
 * step, between the nodes the CPU backend runs (tsr_model_set_abort_callback),
 * on the evaluating thread: to stop from another thread, return a flag that
 * thread sets. When it returns non-zero, an eval or the prompt of a generate
 * returns TSR_ERR_ABORTED, keeping in the cache the tokens of the steps that
 * completed (tsr_llm_session_n_past says how many) and no logits; a generate
 * that is decoding returns TSR_OK with finish_reason TSR_LLM_FINISH_ABORTED
 * (the last token given to on_token may then be missing from the cache).
 * prefill_progress(done, total, user) follows each prefill step: done of
 * total tokens of this call are in the cache. NULL callbacks clears them. */
typedef struct tsr_llm_callbacks {
  uint32_t struct_size;
  int32_t (*should_abort)(void* user);
  void (*prefill_progress)(int32_t done, int32_t total, void* user);
  void* user;
} tsr_llm_callbacks;
TSR_API tsr_status_code tsr_llm_session_set_callbacks(tsr_llm_session* s, const tsr_llm_callbacks* callbacks);

/* Tokens in the session's KV cache: the position the next token fed takes. */
TSR_API tsr_status_code tsr_llm_session_n_past(const tsr_llm_session* s, int32_t* out_n_past);
/* Keeps the first n_keep tokens of the session's cache and forgets the rest
 * (a rollback: text past a stop string, a rejected speculative draft, an
 * edited turn). 0 <= n_keep <= n_past, else TSR_ERR_INVALID_ARGUMENT naming
 * both. Generating after truncating gives exactly what a session fed only
 * those n_keep tokens would give: the repetition penalty's history is cut
 * too. The kept logits are dropped (they may be a forgotten token's), so
 * feed at least one token (tsr_llm_session_eval or a prompt) before
 * tsr_llm_generate; the sampler's random state is not rewound. */
TSR_API tsr_status_code tsr_llm_session_truncate(tsr_llm_session* s, int32_t n_keep);

/* Strings that end tsr_llm_generate when the text it generates contains one
 * (TSR_LLM_FINISH_STOP_STRING); copied; n 0 clears them. To show streamed
 * text without the stop string, pass the pieces through a
 * tsr_llm_stop_matcher with the same strings. */
TSR_API tsr_status_code tsr_llm_session_set_stop_strings(tsr_llm_session* s, const char* const* strings,
                                                         int32_t n);

/* Stop strings over streamed text, for a caller that shows tokens as they
 * come: text is released once it can no longer begin a stop string, so a stop
 * string split across tokens is never shown. feed appends a piece and sets
 * *out_text / *out_len to the text now safe to show (owned by the matcher,
 * valid until its next call) and *out_stopped to 1 when a stop string
 * completed (the text given then ends just before it; feed nothing more).
 * flush gives the text held back when the stream ended without a stop.
 * One thread at a time per matcher. */
typedef struct tsr_llm_stop_matcher_s tsr_llm_stop_matcher;
TSR_API tsr_status_code tsr_llm_stop_matcher_create(const char* const* strings, int32_t n,
                                                    tsr_llm_stop_matcher** out_matcher);
TSR_API void tsr_llm_stop_matcher_free(tsr_llm_stop_matcher* m); /* accepts NULL */
TSR_API tsr_status_code tsr_llm_stop_matcher_feed(tsr_llm_stop_matcher* m, const char* piece, int32_t len,
                                                  const char** out_text, int32_t* out_len,
                                                  int32_t* out_stopped);
TSR_API tsr_status_code tsr_llm_stop_matcher_flush(tsr_llm_stop_matcher* m, const char** out_text,
                                                   int32_t* out_len);

/* Replaces dst's cache and history with the first n tokens of src's, a
 * session of the same model (prefix caching: a system prompt or a shared
 * document evaluated once, then continued by several sessions; parallel
 * sampling from one prompt). 0 <= n <= src's n_past, else
 * TSR_ERR_INVALID_ARGUMENT naming both. dst's logits are dropped: feed it a
 * token before generating. */
TSR_API tsr_status_code tsr_llm_session_copy_prefix(const tsr_llm_session* src, tsr_llm_session* dst,
                                                    int32_t n);
/* Added to these tokens' logits before the session's sampler runs (after
 * this call, until the next; n 0 clears it); -INFINITY bans a token. Token
 * ids outside the vocabulary fail naming the id. */
TSR_API tsr_status_code tsr_llm_session_set_logit_bias(tsr_llm_session* s, const int32_t* tokens,
                                                       const float* bias, int32_t n);

/* A session's state: its KV cache up to n_past, the tokens fed, the last
 * token's logits and the sampler's random state, in a versioned layout
 * tagged with the model's fingerprint (its hyperparameters and samples of
 * its weights). Restoring it into a session of the same model file, in this
 * process or another, continues exactly where the saved one was (the
 * restoring session keeps its own sampling settings). Save writes at most
 * capacity bytes to buf; *out_size is the state's full size (larger than
 * capacity: TSR_ERR_INVALID_ARGUMENT, nothing written; buf may be NULL with
 * capacity 0 to ask the size). Load refuses, naming the field and values, a
 * state of another model, version, KV type or vocabulary, or one longer than
 * the session's n_ctx, and leaves the session unchanged then. */
TSR_API tsr_status_code tsr_llm_session_save_state(const tsr_llm_session* s, void* buf, uint64_t capacity,
                                                   uint64_t* out_size);
TSR_API tsr_status_code tsr_llm_session_load_state(tsr_llm_session* s, const void* buf, uint64_t size);
/* The same through a file (written whole, or not at all on failure; a file
 * larger than the largest state this session can hold is refused before it
 * is read). */
TSR_API tsr_status_code tsr_llm_session_save_file(const tsr_llm_session* s, const char* path);
TSR_API tsr_status_code tsr_llm_session_load_file(tsr_llm_session* s, const char* path);

/* Returns non-zero to stop. piece is the token's bytes (not NUL-terminated). */
typedef int32_t (*tsr_llm_token_fn)(int32_t token, const char* piece, int32_t piece_len, void* user);

/* Why tsr_llm_generate stopped. */
typedef enum tsr_llm_finish_reason {
  TSR_LLM_FINISH_LENGTH = 1,       /* max_new tokens were generated */
  TSR_LLM_FINISH_END_TOKEN = 2,    /* the model sampled an end-of-generation token (not passed to on_token) */
  TSR_LLM_FINISH_CONTEXT_FULL = 3, /* the cache holds n_ctx tokens: the last token generated is not in it */
  TSR_LLM_FINISH_CALLBACK = 4,     /* on_token returned non-zero (its token is in the cache) */
  TSR_LLM_FINISH_ABORTED = 5,      /* the session's should_abort asked to stop while decoding */
  TSR_LLM_FINISH_STOP_STRING = 6   /* the text generated contains one of the session's stop strings
                                      (its last token was passed to on_token and is in the cache) */
} tsr_llm_finish_reason;

/* "length", "end_token", "context_full", "callback", "aborted", "stop_string"; "unknown" for any other
 * value. Static storage, never NULL. */
TSR_API const char* tsr_llm_finish_reason_name(int32_t reason);

typedef struct tsr_llm_stats {
  uint32_t struct_size;
  int32_t n_prompt, n_generated;
  double prefill_seconds, decode_seconds;
  double prefill_tokens_per_second, decode_tokens_per_second;
  int32_t finish_reason; /* tsr_llm_finish_reason */
} tsr_llm_stats;

/* Evaluates the prompt, then samples up to max_new tokens, calling on_token
 * for each; stops at end-of-generation tokens, when on_token returns
 * non-zero or when the context is full, and says which in
 * stats->finish_reason. stats may be NULL. */
TSR_API tsr_status_code tsr_llm_generate(tsr_llm_session* s, const int32_t* prompt, int32_t n_prompt,
                                         int32_t max_new, tsr_llm_token_fn on_token, void* user,
                                         tsr_llm_stats* out_stats);

/* A batch: n_seq independent sequences, each with its own position, over
 * one paged KV cache, evaluated together (continuous batching). Each eval
 * step is ONE compiled graph over a flat list of tokens from any of the
 * sequences: embedding, norms, every matmul and the FFN run over all of them
 * at once (each weight is read once per step for the whole batch), and
 * attention reads each token's own sequence through a block table.
 *
 * Meant for an inference engine: a sequence is a slot a request occupies.
 * Feed each active slot its tokens (a prompt, or one sampled token), leave idle
 * slots empty, sample from tsr_llm_batch_logits yourself, and when a request
 * ends tsr_llm_batch_reset(b, seq) frees its slot for the next one.
 *
 *   tsr_llm_batch* b;
 *   tsr_llm_batch_create(m, 3, &b);
 *   const int32_t* toks[3] = {p0, p1, p2};
 *   int32_t n[3] = {n0, n1, n2};                 // ragged is fine; 0 = idle
 *   tsr_llm_batch_eval(b, toks, n);
 *   const float* logits;                          // n_vocab floats
 *   tsr_llm_batch_logits(b, 1, &logits);
 *
 * Paged KV cache: the sequences take fixed-size blocks (kv_block_size rows
 * of every layer's K and V) from a shared pool as they grow and give them
 * back on reset and truncate, so a pool smaller than n_seq full contexts
 * serves many short requests. copy_prefix shares the source's blocks (a
 * prompt prefilled once for several requests); a shared block is copied only
 * when a sequence writes into it (copy on write).
 *
 * An eval runs in steps of at most n_batch tokens in all (tsr_llm_options),
 * the sequences with fewest tokens first, so decoding sequences are never
 * held up by a long prompt in the same eval (chunked prefill). Step graphs
 * are compiled on first use and cached per token count (rounded up to one of
 * a few sizes; the padding costs compute, never results); a freed batch's
 * slot, with its graphs and cache memory, goes to the next session or batch
 * created. A batch, like a session, is used by one thread at a time. */
typedef struct tsr_llm_batch_s tsr_llm_batch;

typedef struct tsr_llm_batch_options {
  uint32_t struct_size;
  int32_t n_seq;         /* sequences (slots), >= 1 */
  int32_t kv_block_size; /* rows per KV block, in [1, 4096]; 0 = 16 */
  /* blocks in the pool; 0 = n_seq * ceil(n_ctx / kv_block_size), room for
   * every sequence's whole context. Fewer bound the memory; an eval that
   * needs more than are free fails with TSR_ERR_OUT_OF_MEMORY. */
  int32_t n_kv_blocks;
} tsr_llm_batch_options;

/* Invalid values fail with TSR_ERR_INVALID_ARGUMENT naming them. */
TSR_API tsr_status_code tsr_llm_batch_create_ex(tsr_llm* model, const tsr_llm_batch_options* options,
                                                tsr_llm_batch** out_batch);
/* tsr_llm_batch_create_ex with n_seq and the defaults. */
TSR_API tsr_status_code tsr_llm_batch_create(tsr_llm* model, int32_t n_seq, tsr_llm_batch** out_batch);
TSR_API void tsr_llm_batch_free(tsr_llm_batch* b); /* accepts NULL */

typedef struct tsr_llm_kv_usage {
  uint32_t struct_size;
  int32_t block_size; /* rows per block */
  int32_t n_blocks;   /* in the pool */
  int32_t n_used;     /* held by at least one sequence */
  int32_t n_shared;   /* held by more than one (shared prefixes) */
} tsr_llm_kv_usage;
/* The pool's state, e.g. for an engine's metrics or admission control. */
TSR_API tsr_status_code tsr_llm_batch_kv_usage(const tsr_llm_batch* b, tsr_llm_kv_usage* out_usage);
/* Forgets sequence seq's KV cache and logits; seq -1: every sequence. */
TSR_API tsr_status_code tsr_llm_batch_reset(tsr_llm_batch* b, int32_t seq);
/* tokens and n_tokens have n_seq entries: sequence s gets tokens[s][0 ..
 * n_tokens[s]) after its n_past (tokens[s] may be NULL when n_tokens[s] is 0).
 * At least one sequence must have tokens. Everything is checked before
 * anything runs; a sequence past n_ctx or a token outside the vocabulary fails
 * with TSR_ERR_INVALID_ARGUMENT naming the sequence index and the values, too
 * few free KV blocks with TSR_ERR_OUT_OF_MEMORY naming the counts, and either
 * leaves every sequence as it was. */
TSR_API tsr_status_code tsr_llm_batch_eval(tsr_llm_batch* b, const int32_t* const* tokens,
                                           const int32_t* n_tokens);
/* The n_vocab logits of sequence seq's last evaluated token, owned by the
 * batch and valid until its next eval or reset. Fails for a sequence that has
 * evaluated nothing since its reset. */
TSR_API tsr_status_code tsr_llm_batch_logits(const tsr_llm_batch* b, int32_t seq, const float** out_logits);
/* Tokens in sequence seq's cache. */
TSR_API tsr_status_code tsr_llm_batch_n_past(const tsr_llm_batch* b, int32_t seq, int32_t* out_n_past);
/* Keeps the first n_keep tokens of sequence seq's cache, as
 * tsr_llm_session_truncate does; its logits are dropped until its next eval. */
TSR_API tsr_status_code tsr_llm_batch_truncate(tsr_llm_batch* b, int32_t seq, int32_t n_keep);
/* Replaces sequence dst's cache with the first n tokens of sequence src's
 * (a shared prompt prefilled once for several requests); dst's logits are
 * dropped until its next eval. */
TSR_API tsr_status_code tsr_llm_batch_copy_prefix(tsr_llm_batch* b, int32_t src, int32_t dst, int32_t n);

/* A sampler on any row of logits: a session's, a batch sequence's, or the
 * caller's own. The same settings as a session (tsr_llm_sampling, with its
 * seed), plus a logit bias. One thread at a time per sampler. */
typedef struct tsr_llm_sampler_s tsr_llm_sampler;
TSR_API tsr_status_code tsr_llm_sampler_create(const tsr_llm_sampling* sampling,
                                               tsr_llm_sampler** out_sampler);
TSR_API void tsr_llm_sampler_free(tsr_llm_sampler* sampler); /* accepts NULL */
/* As tsr_llm_session_set_logit_bias (ids are checked against each row's n_vocab when sampling). */
TSR_API tsr_status_code tsr_llm_sampler_set_logit_bias(tsr_llm_sampler* sampler, const int32_t* tokens,
                                                       const float* bias, int32_t n);
/* Draws a token from n_vocab logits (not modified), with history (the
 * tokens so far, for the repetition penalty; may be NULL when n_history is
 * 0). Advances the random generator unless greedy. */
TSR_API tsr_status_code tsr_llm_sampler_sample(tsr_llm_sampler* sampler, const float* logits, int32_t n_vocab,
                                               const int32_t* history, int32_t n_history, int32_t* out_token);
/* Back to the seed. */
TSR_API tsr_status_code tsr_llm_sampler_reset(tsr_llm_sampler* sampler);

#ifdef __cplusplus
}
#endif

#endif /* TESSERA_LLM_H */
