/*
 * The asynchronous C API (acs_send_*_async, acs_call, acs_completion) and the
 * delivery verdict (acs_last_error_may_have_been_delivered) end to end
 * against the emulator. Every outcome is checked against what the emulator
 * stored (events) or saw (requests).
 *
 * Environment: ACS_EMULATOR_URL (set by scripts/with-emulator.sh);
 * ACS_ASYNC_N, the size of the burst (default 10000); ACS_TEST_SLOW=1 under
 * valgrind or sanitizers (longer timeouts and latencies).
 * Run by tests/c/run.sh and tests/c/sanitize.sh.
 */
#include "async.h"

static char *g_token; /* valid for an hour, minted once */
static int g_slow;    /* slow_factor() */

/* ---- clients ---------------------------------------------------------------- */

typedef struct {
    uint32_t max_connections; /* 0: default */
    uint32_t total_timeout_ms; /* 0: none */
    uint32_t timeout_ms;       /* per try; 0: default */
    int max_retries;           /* -1: default */
} client_cfg;

static const client_cfg DEFAULTS = {0, 0, 0, -1};

static acs_client *make_client_with_token(client_cfg cfg, const char *token) {
    acs_client_options *o = NULL;
    acs_client *client = NULL;
    CHECK_RC(acs_client_options_new(&o), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_retry_delay_ms(o, 1, 20), ACS_RESULT_OK);
    if (cfg.max_connections) CHECK_RC(acs_client_options_set_max_connections_per_origin(o, cfg.max_connections), ACS_RESULT_OK);
    if (cfg.total_timeout_ms) CHECK_RC(acs_client_options_set_total_timeout_ms(o, cfg.total_timeout_ms), ACS_RESULT_OK);
    if (cfg.timeout_ms) CHECK_RC(acs_client_options_set_timeout_ms(o, cfg.timeout_ms), ACS_RESULT_OK);
    if (cfg.max_retries >= 0) CHECK_RC(acs_client_options_set_max_retries(o, (uint32_t)cfg.max_retries), ACS_RESULT_OK);
    CHECK_RC(acs_client_new(emu_url(), token, o, &client), ACS_RESULT_OK);
    acs_client_options_free(o);
    return client;
}

static acs_client *make_client(client_cfg cfg) { return make_client_with_token(cfg, g_token); }

static long timeout_ms(long ms) { return ms * g_slow; }

/* Sorts strings for bsearch. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* ---- an occupier: a call holding the only connection of a pool ------------------ */

/* A typing notification the emulator holds for ten minutes: with a per-origin limit of 1 it
   occupies the pool's only place until it is cancelled, so later calls on clients of that
   pool wait in line, deterministically, before their request is written. */
typedef struct {
    acs_call *call;
    slot s;
    batch b;
    char *thread;
} occupier;

static void occupy(const acs_client *client, occupier *o) {
    batch_init(&o->b);
    slot_init(&o->s, &o->b);
    o->call = NULL;
    o->thread = unique_thread("occupier");
    emu_fault(o->thread, "\"op\":\"typing\",\"delayMs\":600000,\"status\":200");
    CHECK_RC(acs_send_typing_async(client, o->thread, NULL, on_complete, &o->s, &o->call), ACS_RESULT_OK);
    CHECK(o->call != NULL);
    CHECK(emu_wait_count(o->thread, "requests", "op", "typing", 1, timeout_ms(10000)) == 1);
}

static void release_occupier(occupier *o) {
    acs_call_cancel(o->call);
    CHECK(batch_wait(&o->b, 1, timeout_ms(10000)));
    CHECK_SLOT(&o->s, ACS_RESULT_CANCELLED);
    acs_call_free(o->call);
    batch_destroy(&o->b);
    free(o->thread);
}

/* ---- a burst of concurrent calls ------------------------------------------------ */

typedef struct {
    long max_threads;
    long samples;
} thread_sampler;

static void sample_threads(void *arg) {
    thread_sampler *t = (thread_sampler *)arg;
    long n = proc_threads();
    if (n > t->max_threads) t->max_threads = n;
    t->samples++;
}

static int burst_size(void) {
    const char *v = getenv("ACS_ASYNC_N");
    int n = v ? atoi(v) : 10000;
    return n > 0 ? n : 10000;
}

static void test_burst_of_async_sends(void) {
    const int n = burst_size();
    const uint32_t connections = 256;
    emu_limits(0);
    acs_client *client = make_client((client_cfg){connections, 0, 0, -1});
    char *thread = unique_thread("burst");
    char *warm_thread = unique_thread("burst-warm");

    /* warm up: the runtime, the pool and a connection exist before the baseline */
    char *id = NULL;
    CHECK_RC(acs_send_message(client, warm_thread, "warm-up", NULL, &id), ACS_RESULT_OK);
    acs_string_free(id);
    batch wb;
    slot ws;
    batch_init(&wb);
    slot_init(&ws, &wb);
    CHECK_RC(acs_send_typing_async(client, warm_thread, NULL, on_complete, &ws, NULL), ACS_RESULT_OK);
    CHECK(batch_wait(&wb, 1, timeout_ms(10000)));
    CHECK_SLOT(&ws, ACS_RESULT_OK);
    batch_destroy(&wb);

    const long threads_before = proc_threads(), rss_before = proc_rss_kib();
    emu_latency(50);
    slot *slots = (slot *)calloc((size_t)n, sizeof *slots);
    batch b;
    batch_init(&b);
    thread_sampler sampler = {threads_before, 0};
    int submit_failures = 0;
    const long long started = now_ms();
    for (int i = 0; i < n; i++) {
        slot_init(&slots[i], &b);
        char text[32];
        snprintf(text, sizeof text, "burst %d", i);
        if (acs_send_message_async(client, thread, text, NULL, on_complete, &slots[i], NULL) != ACS_RESULT_OK)
            submit_failures++;
        if (i % 500 == 0) sample_threads(&sampler);
    }
    const long long submitted = now_ms();
    const int pending_after_submit = n - batch_done(&b);
    const bool all = batch_wait_ticking(&b, n, timeout_ms(180000), sample_threads, &sampler, 20);
    const long long finished = now_ms();
    const long threads_after = proc_threads(), rss_after = proc_rss_kib();
    printf("  burst: %d sends, submitted in %lld ms (%d still pending then), all completed in %lld ms;\n"
           "         threads %ld before, at most %ld during (%ld samples), %ld after; "
           "RSS %ld KiB before, %ld KiB after\n",
           n, submitted - started, pending_after_submit, finished - started, threads_before,
           sampler.max_threads, sampler.samples, threads_after, rss_before, rss_after);
    CHECK(submit_failures == 0);
    CHECK(all);
    /* in flight, a call costs memory and a socket, never a thread */
    CHECK(sampler.max_threads <= threads_before);
    CHECK(threads_after <= threads_before);
    CHECK(rss_after - rss_before < 200L * 1024);

    /* every callback ran exactly once, with a message id of its own */
    int not_once = 0, not_ok = 0;
    char **ids = (char **)malloc((size_t)n * sizeof *ids);
    for (int i = 0; i < n; i++) {
        if (atomic_load(&slots[i].calls) != 1) not_once++;
        if (slots[i].rc != ACS_RESULT_OK || slots[i].id[0] == '\0') {
            if (not_ok++ < 3) fprintf(stderr, "  call %d: %s: %s\n", i, acs_result_str(slots[i].rc), slots[i].message);
        }
        ids[i] = slots[i].id;
    }
    CHECK(not_once == 0);
    CHECK(not_ok == 0);
    qsort(ids, (size_t)n, sizeof *ids, cmp_str);
    int duplicates = 0;
    for (int i = 1; i < n; i++)
        if (strcmp(ids[i - 1], ids[i]) == 0) duplicates++;
    CHECK(duplicates == 0);

    /* every returned id is one the emulator stored for this thread, and nothing else was */
    emu_response r = emu_thread(thread, "events");
    CHECK(r.status == 200);
    size_t stored_count = 0;
    char **stored = json_strings(r.body, "id", &stored_count);
    CHECK(json_count(r.body, "op", "message") == n);
    CHECK(stored_count == (size_t)n);
    qsort(stored, stored_count, sizeof *stored, cmp_str);
    int missing = 0;
    for (int i = 0; i < n; i++) {
        char *key = slots[i].id;
        if (bsearch(&key, stored, stored_count, sizeof *stored, cmp_str) == NULL) missing++;
    }
    CHECK(missing == 0);
    strings_free(stored, stored_count);
    emu_free(&r);

    /* still exactly once after the emulator was read (no late second callback) */
    for (int i = 0; i < n; i++) CHECK(atomic_load(&slots[i].calls) == 1);

    emu_latency(0);
    free(ids);
    free(slots);
    batch_destroy(&b);
    free(thread);
    free(warm_thread);
    acs_client_free(client);
}

/* ---- the three operations, and what a completion says ------------------------------ */

static void test_async_operations_and_completion(void) {
    acs_client *client = make_client(DEFAULTS);
    char *thread = unique_thread("ops");
    batch b;
    batch_init(&b);
    slot msg, typing, receipt;
    slot_init(&msg, &b);
    slot_init(&typing, &b);
    slot_init(&receipt, &b);

    acs_message_options *m = NULL;
    CHECK_RC(acs_message_options_new(&m), ACS_RESULT_OK);
    CHECK_RC(acs_message_options_set_type(m, ACS_MESSAGE_TYPE_HTML), ACS_RESULT_OK);
    CHECK_RC(acs_message_options_set_sender_display_name(m, "Async Ada"), ACS_RESULT_OK);
    CHECK_RC(acs_message_options_add_metadata(m, "k", "v"), ACS_RESULT_OK);
    char content[] = "<b>async</b>";
    CHECK_RC(acs_send_message_async(client, thread, content, m, on_complete, &msg, NULL), ACS_RESULT_OK);
    /* inputs are copied at submit: change and free them right away */
    acs_message_options_free(m);
    content[0] = 'X';
    CHECK(acs_last_error_message(NULL, 0) == 0); /* a successful submit clears the last error */
    CHECK_RC(acs_send_typing_async(client, thread, "Async Grace", on_complete, &typing, NULL), ACS_RESULT_OK);
    CHECK(batch_wait(&b, 2, timeout_ms(10000)));
    CHECK_SLOT(&msg, ACS_RESULT_OK);
    CHECK_SLOT(&typing, ACS_RESULT_OK);
    CHECK(!msg.id_null && msg.id[0] != '\0');
    CHECK(typing.id_null); /* no message id unless a message was sent */
    CHECK(msg.http_status == 201 && typing.http_status == 200); /* the answer, on success too */
    CHECK(msg.message[0] == '\0' && msg.code[0] == '\0' && msg.retry_after_ms == 0);
    CHECK(!msg.delivered && !typing.delivered); /* false after a success */

    CHECK_RC(acs_send_read_receipt_async(client, thread, msg.id, on_complete, &receipt, NULL), ACS_RESULT_OK);
    CHECK(batch_wait(&b, 3, timeout_ms(10000)));
    CHECK_SLOT(&receipt, ACS_RESULT_OK);
    CHECK(receipt.id_null);

    emu_response r = emu_thread(thread, "events");
    CHECK(json_count(r.body, "op", "message") == 1);
    CHECK(json_count(r.body, "id", msg.id) == 1);
    CHECK(json_count(r.body, "content", "<b>async</b>") == 1);
    CHECK(json_count(r.body, "type", "html") == 1);
    CHECK(json_count(r.body, "senderDisplayName", "Async Ada") == 1);
    CHECK(json_count(r.body, "k", "v") == 1);
    CHECK(json_count(r.body, "op", "typing") == 1);
    CHECK(json_count(r.body, "senderDisplayName", "Async Grace") == 1);
    CHECK(json_count(r.body, "op", "readReceipt") == 1);
    CHECK(json_count(r.body, "chatMessageId", msg.id) == 1);
    emu_free(&r);

    /* NULL handles and completions are harmless */
    acs_call_cancel(NULL);
    acs_call_free(NULL);
    CHECK(acs_completion_result(NULL) == ACS_RESULT_NULL_PARAMETER);
    CHECK(acs_completion_message_id(NULL) == NULL);
    CHECK(acs_completion_http_status(NULL) == 0);
    CHECK(acs_completion_retry_after_ms(NULL) == 0);
    CHECK(!acs_completion_may_have_been_delivered(NULL));
    char buf[8] = "junk";
    CHECK(acs_completion_error_message(NULL, buf, sizeof buf) == 0);
    CHECK(acs_completion_error_code(NULL, NULL, 0) == 0);
    CHECK(acs_completion_request_id(NULL, NULL, 0) == 0);

    batch_destroy(&b);
    free(thread);
    acs_client_free(client);
}

static void test_async_failure_details(void) {
    acs_client *no_retry = make_client((client_cfg){0, 0, 0, 0});
    acs_client *retrying = make_client((client_cfg){0, 0, 0, 2});
    acs_client *short_try = make_client((client_cfg){0, 0, 200, -1});
    char *thread = unique_thread("async-fail");
    batch b;
    batch_init(&b);
    slot throttled, retried, timed_out;
    slot_init(&throttled, &b);
    slot_init(&retried, &b);
    slot_init(&timed_out, &b);

    /* a service error: every detail reaches the completion */
    emu_fault(thread, "\"op\":\"messages\",\"status\":429,\"headers\":{\"Retry-After\":\"7\"},"
                      "\"body\":\"{\\\"error\\\":{\\\"code\\\":\\\"TooManyRequests\\\",\\\"message\\\":\\\"slow down\\\"}}\"");
    CHECK_RC(acs_send_message_async(no_retry, thread, "x", NULL, on_complete, &throttled, NULL), ACS_RESULT_OK);
    CHECK(batch_wait(&b, 1, timeout_ms(10000)));
    CHECK_SLOT(&throttled, ACS_RESULT_THROTTLED);
    CHECK(throttled.http_status == 429);
    CHECK_STR(throttled.code, "TooManyRequests");
    CHECK(strstr(throttled.message, "slow down") != NULL);
    CHECK(throttled.retry_after_ms == 7000);
    CHECK(throttled.request_id[0] != '\0');
    CHECK(throttled.id_null);
    CHECK(!throttled.delivered); /* an error status: nothing was created */
    CHECK(strstr(throttled.message, g_token) == NULL);

    /* retries run as timers: two 503s, then the typing notification goes through */
    emu_fault(thread, "\"op\":\"typing\",\"count\":2,\"status\":503");
    CHECK_RC(acs_send_typing_async(retrying, thread, NULL, on_complete, &retried, NULL), ACS_RESULT_OK);
    CHECK(batch_wait(&b, 2, timeout_ms(10000)));
    CHECK_SLOT(&retried, ACS_RESULT_OK);
    CHECK(emu_count(thread, "requests", "op", "typing") == 3);
    CHECK(emu_count(thread, "events", "op", "typing") == 1);

    /* a message that may have arrived is never sent again */
    emu_fault(thread, "\"op\":\"messages\",\"delayMs\":3000,\"status\":201,\"body\":\"{\\\"id\\\":\\\"1\\\"}\"");
    CHECK_RC(acs_send_message_async(short_try, thread, "maybe", NULL, on_complete, &timed_out, NULL), ACS_RESULT_OK);
    CHECK(batch_wait(&b, 3, timeout_ms(10000)));
    CHECK_SLOT(&timed_out, ACS_RESULT_TIMEOUT);
    CHECK(timed_out.delivered);
    CHECK(emu_count(thread, "requests", "op", "messages") == 2);

    batch_destroy(&b);
    free(thread);
    acs_client_free(no_retry);
    acs_client_free(retrying);
    acs_client_free(short_try);
}

/* ---- submit errors ---------------------------------------------------------------- */

static void test_submit_errors(void) {
    acs_client *client = make_client(DEFAULTS);
    const char *bad_utf8 = "\xff\xfe bad";
    const char *thread_ok = "19:never@thread.v2";
    batch b;
    batch_init(&b);
    slot s;
    slot_init(&s, &b);
    acs_call *const sentinel = (acs_call *)&s;
    acs_call *call = sentinel;

#define SUBMIT_FAILS(expr, expected)                                       \
    do {                                                                   \
        CHECK_RC(expr, expected);                                          \
        CHECK(acs_last_error_message(NULL, 0) > 0);                        \
        CHECK(!acs_last_error_may_have_been_delivered());                  \
        CHECK(call == sentinel); /* outputs are written only on success */ \
    } while (0)

    SUBMIT_FAILS(acs_send_message_async(client, thread_ok, "c", NULL, NULL, &s, &call), ACS_RESULT_NULL_PARAMETER);
    SUBMIT_FAILS(acs_send_message_async(NULL, thread_ok, "c", NULL, on_complete, &s, &call), ACS_RESULT_NULL_PARAMETER);
    SUBMIT_FAILS(acs_send_message_async(client, NULL, "c", NULL, on_complete, &s, &call), ACS_RESULT_NULL_PARAMETER);
    SUBMIT_FAILS(acs_send_message_async(client, thread_ok, NULL, NULL, on_complete, &s, &call), ACS_RESULT_NULL_PARAMETER);
    SUBMIT_FAILS(acs_send_message_async(client, bad_utf8, "c", NULL, on_complete, &s, &call), ACS_RESULT_INVALID_ARGUMENT);
    SUBMIT_FAILS(acs_send_message_async(client, thread_ok, bad_utf8, NULL, on_complete, &s, &call), ACS_RESULT_INVALID_ARGUMENT);
    SUBMIT_FAILS(acs_send_message_async(client, "", "c", NULL, on_complete, &s, &call), ACS_RESULT_INVALID_ARGUMENT);
    SUBMIT_FAILS(acs_send_message_async(client, "..", "c", NULL, on_complete, &s, &call), ACS_RESULT_INVALID_ARGUMENT);
    SUBMIT_FAILS(acs_send_message_async(client, thread_ok, "", NULL, on_complete, &s, &call), ACS_RESULT_INVALID_ARGUMENT);
    SUBMIT_FAILS(acs_send_typing_async(client, thread_ok, NULL, NULL, &s, &call), ACS_RESULT_NULL_PARAMETER);
    SUBMIT_FAILS(acs_send_typing_async(NULL, thread_ok, NULL, on_complete, &s, &call), ACS_RESULT_NULL_PARAMETER);
    SUBMIT_FAILS(acs_send_typing_async(client, "", NULL, on_complete, &s, &call), ACS_RESULT_INVALID_ARGUMENT);
    SUBMIT_FAILS(acs_send_typing_async(client, thread_ok, bad_utf8, on_complete, &s, &call), ACS_RESULT_INVALID_ARGUMENT);
    SUBMIT_FAILS(acs_send_read_receipt_async(client, thread_ok, "1", NULL, &s, &call), ACS_RESULT_NULL_PARAMETER);
    SUBMIT_FAILS(acs_send_read_receipt_async(client, thread_ok, NULL, on_complete, &s, &call), ACS_RESULT_NULL_PARAMETER);
    SUBMIT_FAILS(acs_send_read_receipt_async(client, thread_ok, "", on_complete, &s, &call), ACS_RESULT_INVALID_ARGUMENT);
    SUBMIT_FAILS(acs_send_read_receipt_async(client, bad_utf8, "1", on_complete, &s, &call), ACS_RESULT_INVALID_ARGUMENT);
#undef SUBMIT_FAILS

    /* none of those started anything: a valid call (no handle wanted) is the slot's only completion */
    char *thread = unique_thread("submit");
    CHECK_RC(acs_send_message_async(client, thread, "the only one", NULL, on_complete, &s, NULL), ACS_RESULT_OK);
    CHECK(acs_last_error_message(NULL, 0) == 0);
    CHECK(batch_wait(&b, 1, timeout_ms(10000)));
    CHECK_SLOT(&s, ACS_RESULT_OK);
    CHECK(emu_count(thread, "events", "op", "message") == 1);
    CHECK(emu_count(thread_ok, "requests", "method", "POST") == 0);
    CHECK(atomic_load(&s.calls) == 1);
    batch_destroy(&b);
    free(thread);
    acs_client_free(client);
}

/* ---- cancellation ------------------------------------------------------------------ */

static void test_cancel_before_written(void) {
    acs_client *client = make_client((client_cfg){1, 0, 0, -1});
    occupier o;
    occupy(client, &o);
    char *thread = unique_thread("cancel-early");
    batch b;
    batch_init(&b);
    slot s;
    slot_init(&s, &b);
    acs_call *call = NULL;
    CHECK_RC(acs_send_message_async(client, thread, "never sent", NULL, on_complete, &s, &call), ACS_RESULT_OK);
    CHECK(call != NULL);
    /* The pool's only connection is busy: the call waits in line. However long it waits,
       nothing may reach the emulator; 200 ms lets it get well into the line. */
    sleep_ms(200);
    CHECK(batch_done(&b) == 0);
    CHECK(emu_count(thread, "requests", "op", "messages") == 0);

    acs_call_cancel(call);
    acs_call_cancel(call); /* idempotent */
    CHECK(batch_wait(&b, 1, timeout_ms(10000)));
    CHECK_SLOT(&s, ACS_RESULT_CANCELLED);
    CHECK(!s.delivered);
    CHECK(s.id_null);
    CHECK(s.http_status == 0);
    CHECK(s.message[0] != '\0');
    acs_call_cancel(call); /* after completion: a no-op */
    release_occupier(&o);

    /* the line is free again; the cancelled message never goes out, a new one does */
    char *id = NULL;
    CHECK_RC(acs_send_message(client, thread, "after", NULL, &id), ACS_RESULT_OK);
    acs_string_free(id);
    CHECK(emu_count(thread, "requests", "op", "messages") == 1);
    CHECK(emu_count(thread, "events", "content", "never sent") == 0);
    CHECK(emu_count(thread, "events", "content", "after") == 1);
    CHECK(atomic_load(&s.calls) == 1);
    acs_call_free(call);
    batch_destroy(&b);
    free(thread);
    acs_client_free(client);
}

static void test_cancel_after_written(void) {
    acs_client *client = make_client(DEFAULTS);
    char *thread = unique_thread("cancel-late");
    batch b;
    batch_init(&b);
    slot s, typing;
    slot_init(&s, &b);
    slot_init(&typing, &b);
    acs_call *call = NULL, *typing_call = NULL;
    emu_latency(300 * g_slow);
    CHECK_RC(acs_send_message_async(client, thread, "sent, then cancelled", NULL, on_complete, &s, &call), ACS_RESULT_OK);
    /* the emulator logs a request on arrival, after the library marked it written */
    CHECK(emu_wait_count(thread, "requests", "op", "messages", 1, timeout_ms(10000)) == 1);
    acs_call_cancel(call);
    CHECK(batch_wait(&b, 1, timeout_ms(10000)));
    CHECK_SLOT(&s, ACS_RESULT_CANCELLED);
    CHECK(s.delivered); /* it may have been created... */
    CHECK(strstr(s.message, "may") != NULL);
    /* ...and it was: the emulator stores a message on arrival */
    CHECK(emu_wait_count(thread, "events", "content", "sent, then cancelled", 1, timeout_ms(5000)) == 1);
    acs_call_cancel(call);
    acs_call_cancel(call);

    /* typing can be cancelled once written too */
    CHECK_RC(acs_send_typing_async(client, thread, NULL, on_complete, &typing, &typing_call), ACS_RESULT_OK);
    CHECK(emu_wait_count(thread, "requests", "op", "typing", 1, timeout_ms(10000)) == 1);
    acs_call_cancel(typing_call);
    CHECK(batch_wait(&b, 2, timeout_ms(10000)));
    CHECK_SLOT(&typing, ACS_RESULT_CANCELLED);
    emu_latency(0);
    CHECK(atomic_load(&s.calls) == 1);
    acs_call_free(call);
    acs_call_free(typing_call);
    batch_destroy(&b);
    free(thread);
    acs_client_free(client);
}

static void test_cancel_after_completion_and_free_without_cancel(void) {
    acs_client *client = make_client(DEFAULTS);
    char *thread = unique_thread("cancel-done");
    batch b;
    batch_init(&b);
    slot done, freed;
    slot_init(&done, &b);
    slot_init(&freed, &b);
    acs_call *call = NULL, *dropped = NULL;
    CHECK_RC(acs_send_message_async(client, thread, "completed", NULL, on_complete, &done, &call), ACS_RESULT_OK);
    CHECK(batch_wait(&b, 1, timeout_ms(10000)));
    CHECK_SLOT(&done, ACS_RESULT_OK);
    acs_call_cancel(call); /* no-op: the outcome stays OK and no second callback comes */
    acs_call_cancel(call);
    acs_call_free(call);

    /* freeing the handle never cancels: the call goes on and calls back */
    emu_latency(100);
    CHECK_RC(acs_send_message_async(client, thread, "handle freed", NULL, on_complete, &freed, &dropped), ACS_RESULT_OK);
    acs_call_free(dropped);
    CHECK(batch_wait(&b, 2, timeout_ms(10000)));
    emu_latency(0);
    CHECK_SLOT(&freed, ACS_RESULT_OK);
    CHECK(freed.id[0] != '\0');
    CHECK(emu_count(thread, "events", "id", freed.id) == 1);
    CHECK(emu_count(thread, "events", "op", "message") == 2);
    CHECK(atomic_load(&done.calls) == 1);
    batch_destroy(&b);
    free(thread);
    acs_client_free(client);
}

/* Cancels calls at every stage while they run; whatever the timing, each call completes
   exactly once, OK means stored, and CANCELLED without may_have_been_delivered means the
   message never reached the emulator. */
#define RACERS 200

typedef struct {
    acs_call *calls[RACERS];
    int count;
} racer_set;

static void *cancel_all(void *arg) {
    racer_set *set = (racer_set *)arg;
    for (int i = 0; i < set->count; i++) {
        if (i % 3 == 0) sleep_ms(1);
        acs_call_cancel(set->calls[i]);
    }
    return NULL;
}

static void test_cancel_races(void) {
    emu_limits(0);
    acs_client *client = make_client((client_cfg){8, 0, 0, -1});
    char *thread = unique_thread("race");
    emu_latency(5);
    batch b;
    batch_init(&b);
    static slot slots[RACERS];
    racer_set set;
    set.count = RACERS;
    for (int i = 0; i < RACERS; i++) {
        slot_init(&slots[i], &b);
        char text[32];
        snprintf(text, sizeof text, "race-%d", i);
        CHECK_RC(acs_send_message_async(client, thread, text, NULL, on_complete, &slots[i], &set.calls[i]), ACS_RESULT_OK);
    }
    pthread_t canceller;
    CHECK(pthread_create(&canceller, NULL, cancel_all, &set) == 0);
    CHECK(batch_wait(&b, RACERS, timeout_ms(60000)));
    pthread_join(canceller, NULL);
    emu_latency(0);
    /* let anything still on the wire land before reading the emulator: a longer wait only
       makes the check stricter */
    sleep_ms(300);
    emu_response r = emu_thread(thread, "events");
    int ok = 0, cancelled_unsent = 0, cancelled_maybe = 0, wrong = 0;
    for (int i = 0; i < RACERS; i++) {
        char text[32];
        snprintf(text, sizeof text, "race-%d", i);
        int stored = json_count(r.body, "content", text);
        if (atomic_load(&slots[i].calls) != 1) wrong++;
        if (slots[i].rc == ACS_RESULT_OK) {
            ok++;
            if (stored != 1 || json_count(r.body, "id", slots[i].id) != 1) wrong++;
        } else if (slots[i].rc == ACS_RESULT_CANCELLED && !slots[i].delivered) {
            cancelled_unsent++;
            if (stored != 0) {
                wrong++;
                fprintf(stderr, "  %s: cancelled as never sent, yet stored\n", text);
            }
        } else if (slots[i].rc == ACS_RESULT_CANCELLED) {
            cancelled_maybe++;
            if (stored > 1) wrong++;
        } else {
            wrong++;
            fprintf(stderr, "  %s: %s: %s\n", text, acs_result_str(slots[i].rc), slots[i].message);
        }
        acs_call_free(set.calls[i]);
    }
    emu_free(&r);
    printf("  races: %d OK, %d cancelled before sending, %d cancelled after\n", ok, cancelled_unsent, cancelled_maybe);
    CHECK(wrong == 0);
    CHECK(cancelled_unsent > 0); /* the canceller starts while most are still in line */
    batch_destroy(&b);
    free(thread);
    acs_client_free(client);
}

/* ---- clients and callbacks ----------------------------------------------------------- */

static void test_client_free_with_calls_in_flight(void) {
    const client_cfg one = {1, 0, 0, -1};
    acs_client *holder = make_client(one);
    acs_client *client = make_client(one); /* equal settings: the same pool and line */
    occupier o;
    occupy(holder, &o);
    char *thread = unique_thread("free-inflight");
    batch b;
    batch_init(&b);
    slot s[5];
    for (int i = 0; i < 5; i++) {
        slot_init(&s[i], &b);
        char text[32];
        snprintf(text, sizeof text, "outlives its client %d", i);
        CHECK_RC(acs_send_message_async(client, thread, text, NULL, on_complete, &s[i], NULL), ACS_RESULT_OK);
    }
    acs_client_free(client);
    acs_client_free(holder);
    /* all five wait behind the occupier, so they are still in flight */
    CHECK(batch_done(&b) == 0);
    release_occupier(&o);
    CHECK(batch_wait(&b, 5, timeout_ms(10000)));
    for (int i = 0; i < 5; i++) CHECK_SLOT(&s[i], ACS_RESULT_OK);
    CHECK(emu_count(thread, "events", "op", "message") == 5);
    batch_destroy(&b);
    free(thread);
}

typedef struct {
    slot s; /* first: the callback records into it */
    atomic_uintptr_t *client;
    atomic_int *frees;
} client_freeing;

static void on_complete_free_client(void *user_data, const acs_completion *c) {
    client_freeing *f = (client_freeing *)user_data;
    acs_client *client = (acs_client *)atomic_exchange(f->client, (uintptr_t)0);
    if (client != NULL) {
        acs_client_free(client);
        atomic_fetch_add(f->frees, 1);
    }
    on_complete(&f->s, c);
}

static void test_callback_frees_client(void) {
    atomic_uintptr_t shared;
    atomic_int frees;
    atomic_init(&frees, 0);
    acs_client *client = make_client(DEFAULTS);
    atomic_init(&shared, (uintptr_t)client);
    char *thread = unique_thread("cb-free");
    batch b;
    batch_init(&b);
    client_freeing f[4];
    emu_latency(20);
    for (int i = 0; i < 4; i++) {
        slot_init(&f[i].s, &b);
        f[i].client = &shared;
        f[i].frees = &frees;
        CHECK_RC(acs_send_message_async(client, thread, "freed by a callback", NULL, on_complete_free_client, &f[i], NULL),
                 ACS_RESULT_OK);
    }
    /* the first callback frees the client; the others still complete */
    CHECK(batch_wait(&b, 4, timeout_ms(10000)));
    emu_latency(0);
    for (int i = 0; i < 4; i++) CHECK_SLOT(&f[i].s, ACS_RESULT_OK);
    CHECK(atomic_load(&frees) == 1);
    CHECK(emu_count(thread, "events", "op", "message") == 4);
    batch_destroy(&b);
    free(thread);
}

typedef struct chain_link {
    slot s;
    const acs_client *client;
    const char *thread;
    struct chain_link *next; /* NULL: the last message; then a read receipt for it */
    slot *receipt;
    acs_result submit_rc;
} chain_link;

static void on_complete_chain(void *user_data, const acs_completion *c) {
    chain_link *link = (chain_link *)user_data;
    const char *id = acs_completion_message_id(c);
    if (link->next != NULL) {
        link->submit_rc = acs_send_message_async(link->client, link->thread, "chained", NULL, on_complete_chain,
                                                 link->next, NULL);
    } else if (id != NULL) {
        /* the borrowed id is copied at submit */
        link->submit_rc = acs_send_read_receipt_async(link->client, link->thread, id, on_complete, link->receipt, NULL);
    }
    on_complete(&link->s, c);
}

static void test_callback_starts_new_calls(void) {
    acs_client *client = make_client(DEFAULTS);
    char *thread = unique_thread("chain");
    batch b;
    batch_init(&b);
    chain_link links[4];
    slot receipt;
    slot_init(&receipt, &b);
    for (int i = 0; i < 4; i++) {
        slot_init(&links[i].s, &b);
        links[i].client = client;
        links[i].thread = thread;
        links[i].next = i < 3 ? &links[i + 1] : NULL;
        links[i].receipt = &receipt;
        links[i].submit_rc = 9999;
    }
    CHECK_RC(acs_send_message_async(client, thread, "first", NULL, on_complete_chain, &links[0], NULL), ACS_RESULT_OK);
    CHECK(batch_wait(&b, 5, timeout_ms(10000)));
    for (int i = 0; i < 4; i++) {
        CHECK_SLOT(&links[i].s, ACS_RESULT_OK);
        CHECK(links[i].submit_rc == ACS_RESULT_OK);
    }
    CHECK_SLOT(&receipt, ACS_RESULT_OK);
    CHECK(emu_count(thread, "events", "op", "message") == 4);
    CHECK(emu_count(thread, "events", "chatMessageId", links[3].s.id) == 1);
    batch_destroy(&b);
    free(thread);
    acs_client_free(client);
}

typedef struct {
    slot s;
    const acs_client *client;
    const char *thread;
    acs_result typing_rc, message_rc, receipt_rc;
    size_t error_len;
    char *id;
} blocking_inside;

static void on_complete_blocking(void *user_data, const acs_completion *c) {
    blocking_inside *x = (blocking_inside *)user_data;
    x->typing_rc = acs_send_typing(x->client, x->thread, NULL);
    x->error_len = acs_last_error_message(NULL, 0);
    x->message_rc = acs_send_message(x->client, x->thread, "from a callback", NULL, &x->id);
    x->receipt_rc = acs_send_read_receipt(x->client, x->thread, "1");
    on_complete(&x->s, c);
}

static void test_blocking_call_from_callback(void) {
    acs_client *client = make_client(DEFAULTS);
    char *thread = unique_thread("cb-block");
    batch b;
    batch_init(&b);
    blocking_inside x = {.client = client, .thread = thread, .id = NULL};
    slot_init(&x.s, &b);
    CHECK_RC(acs_send_message_async(client, thread, "async", NULL, on_complete_blocking, &x, NULL), ACS_RESULT_OK);
    CHECK(batch_wait(&b, 1, timeout_ms(10000)));
    CHECK_SLOT(&x.s, ACS_RESULT_OK);
    CHECK(x.typing_rc == ACS_RESULT_INVALID_ARGUMENT);
    CHECK(x.message_rc == ACS_RESULT_INVALID_ARGUMENT);
    CHECK(x.receipt_rc == ACS_RESULT_INVALID_ARGUMENT);
    CHECK(x.error_len > 0);
    CHECK(x.id == NULL);
    /* none of them reached the emulator; outside a callback the same call works */
    CHECK(emu_count(thread, "requests", "op", "typing") == 0);
    CHECK(emu_count(thread, "requests", "op", "messages") == 1);
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);
    CHECK(emu_count(thread, "events", "op", "typing") == 1);
    batch_destroy(&b);
    free(thread);
    acs_client_free(client);
}

/* ---- a blocking token refresher --------------------------------------------------------- */

typedef struct {
    atomic_int calls;
    atomic_int inside; /* 1 while the refresher runs */
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int open; /* the gate the refresher waits on */
} gated_refresher;

static acs_result gated_refresh(void *user_data, acs_token_sink *sink) {
    gated_refresher *g = (gated_refresher *)user_data;
    atomic_fetch_add(&g->calls, 1);
    g->thread = pthread_self();
    atomic_store(&g->inside, 1);
    /* block until the test opens the gate (at most 30 s, so a broken library cannot hang) */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 30;
    pthread_mutex_lock(&g->mutex);
    while (!g->open && pthread_cond_timedwait(&g->cond, &g->mutex, &ts) == 0) {
    }
    pthread_mutex_unlock(&g->mutex);
    char *token = emu_token(3600);
    acs_result rc = acs_token_sink_set(sink, token);
    free(token);
    atomic_store(&g->inside, 0);
    return rc;
}

static void test_blocking_token_refresher(void) {
    const int m = g_slow > 1 ? 50 : 300;
    gated_refresher g;
    atomic_init(&g.calls, 0);
    atomic_init(&g.inside, 0);
    pthread_mutex_init(&g.mutex, NULL);
    pthread_cond_init(&g.cond, NULL);
    g.open = 0;
    emu_limits(0);
    char *near_expiry = emu_token(60); /* inside the 2-minute window: the first call refreshes */
    acs_client_options *o = NULL;
    acs_client *client = NULL, *other = make_client(DEFAULTS);
    CHECK_RC(acs_client_options_new(&o), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_token_refresher(o, gated_refresh, &g, NULL), ACS_RESULT_OK);
    CHECK_RC(acs_client_new(emu_url(), near_expiry, o, &client), ACS_RESULT_OK);
    acs_client_options_free(o);
    char *thread = unique_thread("refresh");

    const long threads_before = proc_threads();
    thread_sampler sampler = {threads_before, 0};
    batch b;
    batch_init(&b);
    slot *slots = (slot *)calloc((size_t)m, sizeof *slots);
    for (int i = 0; i < m; i++) {
        slot_init(&slots[i], &b);
        CHECK_RC(acs_send_message_async(client, thread, "after refresh", NULL, on_complete, &slots[i], NULL), ACS_RESULT_OK);
    }
    /* the refresher runs and blocks; every call waits for it */
    long long deadline = now_ms() + timeout_ms(10000);
    while (!atomic_load(&g.inside) && now_ms() < deadline) sleep_ms(1);
    CHECK(atomic_load(&g.inside) == 1);
    sample_threads(&sampler);

    /* meanwhile the I/O threads are free: another client's call completes */
    char *other_thread = unique_thread("refresh-other");
    batch ob;
    batch_init(&ob);
    slot os;
    slot_init(&os, &ob);
    CHECK_RC(acs_send_message_async(other, other_thread, "not blocked", NULL, on_complete, &os, NULL), ACS_RESULT_OK);
    CHECK(batch_wait(&ob, 1, timeout_ms(10000)));
    CHECK_SLOT(&os, ACS_RESULT_OK);
    CHECK(atomic_load(&g.inside) == 1);
    CHECK(batch_done(&b) == 0);
    sample_threads(&sampler);

    pthread_mutex_lock(&g.mutex);
    g.open = 1;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.mutex);
    CHECK(batch_wait_ticking(&b, m, timeout_ms(60000), sample_threads, &sampler, 20));
    printf("  refresher: %d calls waited for it; threads %ld before, at most %ld during\n", m, threads_before,
           sampler.max_threads);
    int not_ok = 0;
    for (int i = 0; i < m; i++) {
        if (atomic_load(&slots[i].calls) != 1 || slots[i].rc != ACS_RESULT_OK) not_ok++;
        /* the refresher never runs on an I/O thread (where the callbacks run) */
        if (pthread_equal(slots[i].thread, g.thread)) not_ok++;
    }
    CHECK(not_ok == 0);
    CHECK(!pthread_equal(g.thread, pthread_self()));
    CHECK(atomic_load(&g.calls) == 1);
    /* Waiting calls hold no thread: one more at most, the blocking-pool thread where the
       refresher ran. */
    CHECK(sampler.max_threads <= threads_before + 1);
    CHECK(emu_count(thread, "events", "op", "message") == m);

    batch_destroy(&b);
    batch_destroy(&ob);
    free(slots);
    free(thread);
    free(other_thread);
    free(near_expiry);
    acs_client_free(client);
    acs_client_free(other);
    pthread_cond_destroy(&g.cond);
    pthread_mutex_destroy(&g.mutex);
}

/* ---- deadlines --------------------------------------------------------------------------- */

static void test_total_timeout(void) {
    /* a deadline the request is sure to be sent within, even under valgrind */
    const long deadline = timeout_ms(300);
    acs_client *client = make_client((client_cfg){0, (int)deadline, 0, -1});
    char *thread = unique_thread("deadline");
    batch b;
    batch_init(&b);
    slot late, queued;
    slot_init(&late, &b);
    slot_init(&queued, &b);

    /* the answer comes five deadlines later: the deadline passes once the request was sent */
    emu_latency((int)(5 * deadline));
    long long started = now_ms();
    CHECK_RC(acs_send_message_async(client, thread, "past the deadline", NULL, on_complete, &late, NULL), ACS_RESULT_OK);
    CHECK(batch_wait(&b, 1, timeout_ms(10000)));
    long long elapsed = now_ms() - started;
    /* the deadline, not the answer (which would have been OK), ended it */
    CHECK_SLOT(&late, ACS_RESULT_TIMEOUT);
    CHECK(late.delivered);
    printf("  deadline of %ld ms: the call completed after %lld ms\n", deadline, elapsed);
    CHECK(emu_wait_count(thread, "events", "content", "past the deadline", 1, timeout_ms(5000)) == 1);
    emu_latency(0);

    /* waiting in line counts against the deadline: never sent, so certainly not delivered */
    acs_client *holder = make_client((client_cfg){1, 0, 0, -1});
    acs_client *one = make_client((client_cfg){1, 100, 0, -1}); /* the same pool and line */
    occupier o;
    occupy(holder, &o);
    CHECK_RC(acs_send_message_async(one, thread, "never left the line", NULL, on_complete, &queued, NULL), ACS_RESULT_OK);
    CHECK(batch_wait(&b, 2, timeout_ms(10000)));
    CHECK_SLOT(&queued, ACS_RESULT_TIMEOUT);
    CHECK(!queued.delivered);
    release_occupier(&o);
    CHECK(emu_count(thread, "requests", "op", "messages") == 1);

    batch_destroy(&b);
    free(thread);
    acs_client_free(one);
    acs_client_free(holder);
    acs_client_free(client);
}

/* ---- the delivery verdict of blocking calls ------------------------------------------------ */

static void test_last_error_may_have_been_delivered(void) {
    acs_client *client = make_client((client_cfg){0, 0, 300, 0});
    char *thread = unique_thread("verdict");
    char *id = NULL;

    emu_fault(thread, "\"op\":\"messages\",\"status\":503");
    CHECK_RC(acs_send_message(client, thread, "x", NULL, &id), ACS_RESULT_SERVICE_ERROR);
    CHECK(!acs_last_error_may_have_been_delivered()); /* an error status: not applied */

    /* written, stored on arrival, answered after the 300 ms per-try timeout */
    emu_latency(1000);
    CHECK_RC(acs_send_message(client, thread, "timed out", NULL, &id), ACS_RESULT_TIMEOUT);
    CHECK(acs_last_error_may_have_been_delivered());
    emu_latency(0);

    CHECK_RC(acs_send_message(client, thread, "fine", NULL, &id), ACS_RESULT_OK);
    CHECK(!acs_last_error_may_have_been_delivered()); /* false after a success */
    acs_string_free(id);
    id = NULL;

    emu_fault(thread, "\"op\":\"messages\",\"action\":\"drop\"");
    CHECK_RC(acs_send_message(client, thread, "x", NULL, &id), ACS_RESULT_IO);
    CHECK(acs_last_error_may_have_been_delivered());

    emu_fault(thread, "\"op\":\"messages\",\"action\":\"oversize\"");
    CHECK_RC(acs_send_message(client, thread, "x", NULL, &id), ACS_RESULT_PROTOCOL);
    CHECK(acs_last_error_may_have_been_delivered()); /* a 2xx the library could not read */

    emu_fault(thread, "\"op\":\"messages\",\"status\":302,\"headers\":{\"Location\":\"http://127.0.0.2:9/x\"}");
    CHECK_RC(acs_send_message(client, thread, "x", NULL, &id), ACS_RESULT_PROTOCOL);
    CHECK(!acs_last_error_may_have_been_delivered()); /* a redirect: not applied */

    CHECK_RC(acs_send_message(client, "", "x", NULL, &id), ACS_RESULT_INVALID_ARGUMENT);
    CHECK(!acs_last_error_may_have_been_delivered());

    acs_client *nowhere = NULL;
    acs_client_options *o = NULL;
    CHECK_RC(acs_client_options_new(&o), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_max_retries(o, 0), ACS_RESULT_OK);
    CHECK_RC(acs_client_new("http://127.0.0.1:1", g_token, o, &nowhere), ACS_RESULT_OK);
    acs_client_options_free(o);
    CHECK_RC(acs_send_message(nowhere, thread, "x", NULL, &id), ACS_RESULT_CONNECT);
    CHECK(!acs_last_error_may_have_been_delivered()); /* never reached the service */
    CHECK(id == NULL);
    acs_client_free(nowhere);

    /* the emulator agrees: the timed-out message was created; faulted calls store nothing */
    CHECK(emu_wait_count(thread, "events", "content", "timed out", 1, timeout_ms(5000)) == 1);
    CHECK(emu_count(thread, "events", "op", "message") == 2);
    free(thread);
    acs_client_free(client);
}

int main(void) {
    g_token = emu_token(3600);
    g_slow = slow_factor();
    RUN(test_burst_of_async_sends); /* first: it measures the process's threads */
    RUN(test_async_operations_and_completion);
    RUN(test_async_failure_details);
    RUN(test_submit_errors);
    RUN(test_cancel_before_written);
    RUN(test_cancel_after_written);
    RUN(test_cancel_after_completion_and_free_without_cancel);
    RUN(test_cancel_races);
    RUN(test_client_free_with_calls_in_flight);
    RUN(test_callback_frees_client);
    RUN(test_callback_starts_new_calls);
    RUN(test_blocking_call_from_callback);
    RUN(test_blocking_token_refresher);
    RUN(test_total_timeout);
    RUN(test_last_error_may_have_been_delivered);
    free(g_token);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
