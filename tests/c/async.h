/*
 * Test support for asynchronous calls: a per-call slot that records what its
 * completion callback saw (and how many times it ran), and a batch that
 * counts completions under a mutex so a test can wait for them with a
 * deadline instead of sleeping.
 */
#ifndef ACS_TEST_ASYNC_H
#define ACS_TEST_ASYNC_H

#include "emulator.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "acs_chat.h"

/* Counts completions; wait on it with batch_wait. */
typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int done;
} batch;

static inline void batch_init(batch *b) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&b->mutex, NULL);
    b->done = 0;
}

static inline void batch_destroy(batch *b) {
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->mutex);
}

static inline void batch_add(batch *b) {
    pthread_mutex_lock(&b->mutex);
    b->done++;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->mutex);
}

static inline int batch_done(batch *b) {
    pthread_mutex_lock(&b->mutex);
    int done = b->done;
    pthread_mutex_unlock(&b->mutex);
    return done;
}

/* Waits until `count` completions were counted, at most `timeout_ms`; calls `tick` (if not
   NULL) at least every `tick_ms` while waiting. Returns whether the count was reached. */
static inline bool batch_wait_ticking(batch *b, int count, long timeout_ms, void (*tick)(void *),
                                      void *tick_arg, long tick_ms) {
    long long deadline = now_ms() + timeout_ms, next_tick = now_ms() + tick_ms;
    pthread_mutex_lock(&b->mutex);
    while (b->done < count) {
        long long now = now_ms();
        if (tick != NULL && now >= next_tick) {
            pthread_mutex_unlock(&b->mutex);
            tick(tick_arg);
            pthread_mutex_lock(&b->mutex);
            next_tick = now + tick_ms;
            continue;
        }
        if (now >= deadline) break;
        long long until = deadline;
        if (tick != NULL && next_tick < until) until = next_tick;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long long ns = (long long)ts.tv_nsec + (until - now) * 1000000LL;
        ts.tv_sec += (time_t)(ns / 1000000000LL);
        ts.tv_nsec = (long)(ns % 1000000000LL);
        pthread_cond_timedwait(&b->cond, &b->mutex, &ts);
    }
    bool reached = b->done >= count;
    pthread_mutex_unlock(&b->mutex);
    return reached;
}

static inline bool batch_wait(batch *b, int count, long timeout_ms) {
    return batch_wait_ticking(b, count, timeout_ms, NULL, NULL, 0);
}

/* What one call's completion callback saw. */
typedef struct {
    atomic_int calls; /* how many times the callback ran: must end at exactly 1 */
    acs_result rc;
    bool delivered; /* acs_completion_may_have_been_delivered */
    uint16_t http_status;
    uint64_t retry_after_ms;
    char id[64];   /* acs_completion_message_id, "" when NULL */
    bool id_null;  /* acs_completion_message_id returned NULL */
    char message[256];
    char code[64];
    char request_id[128];
    pthread_t thread; /* the thread the callback ran on */
    batch *batch;
} slot;

static inline void slot_init(slot *s, batch *b) {
    memset(s, 0, sizeof *s);
    atomic_init(&s->calls, 0);
    s->rc = 9999;
    s->batch = b;
}

/* The acs_completion_callback of every slot: records the outcome, then counts it. */
static inline void on_complete(void *user_data, const acs_completion *c) {
    slot *s = (slot *)user_data;
    s->rc = acs_completion_result(c);
    s->delivered = acs_completion_may_have_been_delivered(c);
    s->http_status = acs_completion_http_status(c);
    s->retry_after_ms = acs_completion_retry_after_ms(c);
    const char *id = acs_completion_message_id(c);
    s->id_null = id == NULL;
    snprintf(s->id, sizeof s->id, "%s", id ? id : "");
    acs_completion_error_message(c, s->message, sizeof s->message);
    acs_completion_error_code(c, s->code, sizeof s->code);
    acs_completion_request_id(c, s->request_id, sizeof s->request_id);
    s->thread = pthread_self();
    atomic_fetch_add(&s->calls, 1);
    if (s->batch) batch_add(s->batch);
}

/* Reports a slot whose result is not the expected one. */
#define CHECK_SLOT(s, expected)                                                         \
    do {                                                                                \
        const slot *s_ = (s);                                                           \
        if (atomic_load(&s_->calls) != 1 || s_->rc != (acs_result)(expected)) {         \
            fprintf(stderr, "  %s:%d: %s: %s: %d callback(s), result %s (%u), expected %s [%s]\n", \
                    __FILE__, __LINE__, g_current_name, #s, atomic_load(&s_->calls),    \
                    acs_result_str(s_->rc), (unsigned)s_->rc, #expected, s_->message);  \
            g_current_failed = 1;                                                       \
        }                                                                               \
    } while (0)

#endif
