/*
 * Test support for the C suites: a small HTTP/1.1 client for the emulator's
 * control API (/_emulator/...), JSON field matching good enough for the
 * emulator's compact answers, and a minimal test runner.
 *
 * The emulator's base URL comes from ACS_EMULATOR_URL (http://127.0.0.1:PORT).
 * Also compiles as C++ (tests/c/test_cpp_async.cpp includes it).
 */
#ifndef ACS_TEST_EMULATOR_H
#define ACS_TEST_EMULATOR_H

#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- runner ------------------------------------------------------------ */

static int g_passed, g_failed, g_current_failed;
static const char *g_current_name;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "  %s:%d: %s: check failed: %s\n", __FILE__, __LINE__,    \
                    g_current_name, #cond);                                           \
            g_current_failed = 1;                                                     \
        }                                                                             \
    } while (0)

#define CHECK_RC(expr, expected)                                                      \
    do {                                                                              \
        acs_result rc_ = (expr);                                                      \
        if (rc_ != (expected)) {                                                      \
            char msg_[512];                                                           \
            acs_last_error_message(msg_, sizeof msg_);                                \
            fprintf(stderr, "  %s:%d: %s: %s returned %s (%u), expected %s [%s]\n",  \
                    __FILE__, __LINE__, g_current_name, #expr, acs_result_str(rc_),   \
                    (unsigned)rc_, #expected, msg_);                                  \
            g_current_failed = 1;                                                     \
        }                                                                             \
    } while (0)

#define CHECK_STR(actual, expected)                                                   \
    do {                                                                              \
        const char *a_ = (actual), *e_ = (expected);                                  \
        if (a_ == NULL || strcmp(a_, e_) != 0) {                                      \
            fprintf(stderr, "  %s:%d: %s: %s is \"%s\", expected \"%s\"\n", __FILE__, \
                    __LINE__, g_current_name, #actual, a_ ? a_ : "(null)", e_);       \
            g_current_failed = 1;                                                     \
        }                                                                             \
    } while (0)

typedef void (*test_fn)(void);

static inline void run_test(const char *name, test_fn fn) {
    g_current_name = name;
    g_current_failed = 0;
    fn();
    if (g_current_failed) {
        g_failed++;
        printf("FAIL %s\n", name);
    } else {
        g_passed++;
        printf("ok   %s\n", name);
    }
    fflush(stdout);
}

#define RUN(fn) run_test(#fn, fn)

/* ---- HTTP to the emulator ---------------------------------------------- */

typedef struct {
    int status;
    char *body; /* NUL-terminated; free with free() */
} emu_response;

static inline const char *emu_url(void) {
    const char *url = getenv("ACS_EMULATOR_URL");
    if (url == NULL || strncmp(url, "http://", 7) != 0) {
        fprintf(stderr, "ACS_EMULATOR_URL must be set to the emulator's http:// URL\n");
        exit(2);
    }
    return url;
}

static inline int emu_port(void) {
    const char *colon = strrchr(emu_url() + 7, ':');
    return colon ? atoi(colon + 1) : 80;
}

/* Sends one request with Connection: close and reads the whole answer. */
static inline emu_response emu_request(const char *method, const char *path, const char *body) {
    emu_response out = {0, NULL};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)emu_port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        if (fd >= 0) close(fd);
        return out;
    }
    size_t body_len = body ? strlen(body) : 0;
    size_t head_cap = strlen(path) + 256;
    char *head = (char *)malloc(head_cap);
    int head_len = snprintf(head, head_cap,
                            "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                            "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                            method, path, body_len);
    ssize_t w = write(fd, head, (size_t)head_len);
    free(head);
    if (w != head_len || (body_len && write(fd, body, body_len) != (ssize_t)body_len)) {
        close(fd);
        return out;
    }
    size_t cap = 4096, len = 0;
    char *buf = (char *)malloc(cap);
    for (;;) {
        if (cap - len < 2048) {
            cap *= 2;
            buf = (char *)realloc(buf, cap);
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0) break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    if (len > 12 && strncmp(buf, "HTTP/1.", 7) == 0) out.status = atoi(buf + 9);
    char *start = strstr(buf, "\r\n\r\n");
    const char *payload = start ? start + 4 : "";
    /* the control API answers with a Content-Length body; chunked would start with a size line */
    out.body = strdup(payload);
    free(buf);
    return out;
}

static inline void emu_free(emu_response *r) {
    free(r->body);
    r->body = NULL;
}

/* Finds "key" : and returns a pointer to the value that follows, or NULL. */
static inline const char *json_find(const char *json, const char *key, const char *from) {
    size_t klen = strlen(key);
    const char *p = from ? from : json;
    while (p && (p = strchr(p, '"')) != NULL) {
        if (strncmp(p + 1, key, klen) == 0 && p[1 + klen] == '"') {
            const char *q = p + 2 + klen;
            while (isspace((unsigned char)*q)) q++;
            if (*q == ':') {
                q++;
                while (isspace((unsigned char)*q)) q++;
                return q;
            }
        }
        p++;
    }
    return NULL;
}

/* Copies the string value of "key" (first occurrence at or after `from`), unescaping \" and \\. */
static inline char *json_string(const char *json, const char *key, const char *from) {
    const char *v = json_find(json, key, from);
    if (v == NULL || *v != '"') return NULL;
    v++;
    char *out = (char *)malloc(strlen(v) + 1);
    size_t n = 0;
    while (*v && *v != '"') {
        if (*v == '\\' && v[1]) v++;
        out[n++] = *v++;
    }
    out[n] = '\0';
    return out;
}

/* Counts the objects whose "key" equals the string `value`. */
static inline int json_count(const char *json, const char *key, const char *value) {
    int count = 0;
    size_t vlen = strlen(value);
    const char *p = json;
    while ((p = json_find(json, key, p)) != NULL) {
        if (*p == '"' && strncmp(p + 1, value, vlen) == 0 && p[1 + vlen] == '"') count++;
    }
    return count;
}

/* Percent-encodes a thread id as one path segment for the control API. */
static inline char *path_segment(const char *id) {
    static const char hex[] = "0123456789ABCDEF";
    char *out = (char *)malloc(strlen(id) * 3 + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

/* GET /_emulator/threads/{id}/{what}; what = "events" or "requests". */
static inline emu_response emu_thread(const char *thread_id, const char *what) {
    char *seg = path_segment(thread_id);
    char path[1024];
    snprintf(path, sizeof path, "/_emulator/threads/%s/%s", seg, what);
    free(seg);
    return emu_request("GET", path, NULL);
}

/* A fresh token valid for `seconds` (negative: already expired). Free with free(). */
static inline char *emu_token(long seconds) {
    char path[128];
    snprintf(path, sizeof path, "/_emulator/token?expires_in=%ld", seconds);
    emu_response r = emu_request("GET", path, NULL);
    char *token = r.status == 200 ? json_string(r.body, "token", NULL) : NULL;
    emu_free(&r);
    if (token == NULL) {
        fprintf(stderr, "could not mint a token from the emulator\n");
        exit(2);
    }
    return token;
}

/* Queues a fault; `json_fields` is the inside of the fault object after threadId, e.g.
   "\"op\":\"messages\",\"count\":1,\"status\":503". */
static inline void emu_fault(const char *thread_id, const char *json_fields) {
    size_t cap = strlen(thread_id) * 2 + strlen(json_fields) + 64;
    char *body = (char *)malloc(cap), *o = body;
    o += sprintf(o, "{\"threadId\":\"");
    for (const char *p = thread_id; *p; p++) {
        if (*p == '"' || *p == '\\') *o++ = '\\';
        *o++ = *p;
    }
    sprintf(o, "\",%s}", json_fields);
    emu_response r = emu_request("POST", "/_emulator/faults", body);
    if (r.status < 200 || r.status >= 300) {
        fprintf(stderr, "fault not accepted (%d): %s\n  %s\n", r.status, body, r.body ? r.body : "");
        exit(2);
    }
    emu_free(&r);
    free(body);
}

static inline void emu_limits(int enabled) {
    emu_response r = emu_request("POST", "/_emulator/limits", enabled ? "{\"enabled\":true}" : "{\"enabled\":false}");
    if (r.status < 200 || r.status >= 300) {
        fprintf(stderr, "limits not accepted (%d)\n", r.status);
        exit(2);
    }
    emu_free(&r);
}

/* A thread id unique to this process and call. */
static inline char *unique_thread(const char *tag) {
    static int counter;
    char buf[128];
    snprintf(buf, sizeof buf, "19:%s-%d-%d@thread.v2", tag, (int)getpid(), ++counter);
    return strdup(buf);
}

/* ---- time, process figures, slow-mode scaling --------------------------- */

/* Milliseconds on the monotonic clock. */
static inline long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ACS_TEST_SLOW=1 (set by run.sh under valgrind and by sanitize.sh): timeouts and the
   latencies that leave room for the test to act are multiplied by this factor. */
static inline int slow_factor(void) {
    const char *v = getenv("ACS_TEST_SLOW");
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0 ? 4 : 1;
}

/* A field of /proc/self/status ("Threads", "VmRSS"...): its first number, or -1. */
static inline long proc_status(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return -1;
    char line[256];
    long value = -1;
    size_t flen = strlen(field);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            value = strtol(line + flen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return value;
}

static inline long proc_threads(void) { return proc_status("Threads"); }
static inline long proc_rss_kib(void) { return proc_status("VmRSS"); }

/* ---- more of the control API ---------------------------------------------- */

/* Every service call is answered `ms` milliseconds after it was handled (and stored). */
static inline void emu_latency(long ms) {
    char body[64];
    snprintf(body, sizeof body, "{\"ms\":%ld}", ms);
    emu_response r = emu_request("POST", "/_emulator/latency", body);
    if (r.status < 200 || r.status >= 300) {
        fprintf(stderr, "latency not accepted (%d): %s\n", r.status, r.body ? r.body : "");
        exit(2);
    }
    emu_free(&r);
}

/* Every number value of "key", in order; *count receives how many. Free with free(). */
static inline long *json_numbers(const char *json, const char *key, size_t *count) {
    size_t n = 0, cap = 16;
    long *out = (long *)malloc(cap * sizeof *out);
    const char *p = json;
    while (json && (p = json_find(json, key, p)) != NULL) {
        if (*p == '-' || isdigit((unsigned char)*p)) {
            if (n == cap) {
                cap *= 2;
                out = (long *)realloc(out, cap * sizeof *out);
            }
            out[n++] = strtol(p, NULL, 10);
        }
    }
    *count = n;
    return out;
}

/* Every string value of "key", in order; *count receives how many. Free with strings_free. */
static inline char **json_strings(const char *json, const char *key, size_t *count) {
    size_t n = 0, cap = 16;
    char **out = (char **)malloc(cap * sizeof *out);
    const char *p = json;
    while (json && (p = json_find(json, key, p)) != NULL) {
        if (*p == '"') {
            if (n == cap) {
                cap *= 2;
                out = (char **)realloc(out, cap * sizeof *out);
            }
            const char *end = strchr(p + 1, '"');
            size_t len = end ? (size_t)(end - p - 1) : strlen(p + 1);
            out[n] = (char *)malloc(len + 1);
            memcpy(out[n], p + 1, len);
            out[n][len] = '\0';
            n++;
        }
    }
    *count = n;
    return out;
}

static inline void strings_free(char **strings, size_t count) {
    for (size_t i = 0; i < count; i++) free(strings[i]);
    free(strings);
}

/* How many entries of a thread's "events" or "requests" have "key" equal to `value`. */
static inline int emu_count(const char *thread_id, const char *what, const char *key, const char *value) {
    emu_response r = emu_thread(thread_id, what);
    int n = r.status == 200 ? json_count(r.body, key, value) : -1;
    emu_free(&r);
    return n;
}

/* Polls until at least `at_least` entries match (see emu_count) or `timeout_ms` passes;
   returns the last count seen. */
static inline int emu_wait_count(const char *thread_id, const char *what, const char *key,
                                 const char *value, int at_least, long timeout_ms) {
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        int n = emu_count(thread_id, what, key, value);
        if (n >= at_least || now_ms() >= deadline) return n;
        sleep_ms(2);
    }
}

/* The emulator's connection numbers (accept order) of a thread's requests. Free with free(). */
static inline long *emu_connections(const char *thread_id, size_t *count) {
    emu_response r = emu_thread(thread_id, "requests");
    long *out = json_numbers(r.status == 200 ? r.body : NULL, "connection", count);
    emu_free(&r);
    return out;
}

#endif
