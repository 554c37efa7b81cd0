/* Fan-out: N asynchronous send-message calls in flight at once on one client
 * (acs_send_message_async), against an emulator answering every call
 * LATENCY ms after it arrived.
 *
 *   bench_fanout --url URL --token TOKEN [--counts 1000,10000] [--rounds N]
 *                [--latency-ms 50] [--max-connections N|0] [--label NAME]
 *                [--emulator-pid PID]
 *
 * For each N: a client whose max_connections_per_origin is N (0: N; or the
 * value given), one blocking warm-up send (the runtime and one connection
 * exist), then
 *   - one cold round at the emulator's latency (every connection beyond the
 *     first is opened during the burst);
 *   - ROUNDS warm rounds at that latency and ROUNDS at latency 0 (set through
 *     POST /_emulator/latency; the emulator-bound ceiling), alternating
 *     which goes first.
 * A round submits N calls from this thread as fast as it can, then waits for
 * every callback while sampling /proc/self/status (Threads, VmRSS) every
 * 2 ms. Wall time runs from the first submit to the last callback (each
 * callback stamps its own completion). Every callback must run exactly once;
 * a second run of any callback, or a missing one, fails the benchmark.
 * After a round the emulator's request log of the round's thread gives the
 * connections used, the HTTP version, and when the first and the last
 * request arrived (the client's push-out spread). With --emulator-pid, the
 * emulator's CPU time over the round (/proc/PID/stat) is reported too: the
 * client and the emulator share the machine's cores.
 *
 * Prints RESULT lines (section "fanout"). */
#include "bench_common.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <unistd.h>

#include "acs_chat.h"

#define CONTENT "Hello from the acs_chat benchmark"

typedef struct {
    atomic_int runs;      /* how many times the callback ran */
    int result;           /* acs_result of the first run */
    uint64_t submitted;   /* ns, before the submit */
    uint64_t completed;   /* ns, in the callback */
} slot;

static atomic_long g_done;
static atomic_long g_ok;
static atomic_int g_error_logged;

static void on_complete(void *user_data, const acs_completion *c) {
    slot *s = user_data;
    uint64_t t = now_ns();
    int runs = atomic_fetch_add(&s->runs, 1);
    if (runs == 0) {
        s->completed = t;
        s->result = (int)acs_completion_result(c);
        if (s->result == ACS_RESULT_OK && acs_completion_message_id(c) != NULL)
            atomic_fetch_add(&g_ok, 1);
        else if (atomic_fetch_add(&g_error_logged, 1) < 5) {
            char msg[512];
            acs_completion_error_message(c, msg, sizeof msg);
            fprintf(stderr, "bench: call failed: %s (http %u): %s\n",
                    acs_result_str((acs_result)s->result), acs_completion_http_status(c), msg);
        }
    }
    atomic_fetch_add(&g_done, 1);
}

/* ---- emulator control (libcurl) ------------------------------------ */

typedef struct {
    char *data;
    size_t len, cap;
} growbuf;

static size_t on_data(char *p, size_t s, size_t n, void *u) {
    growbuf *b = u;
    size_t add = s * n;
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (b->len + add + 1 > cap) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = 0;
    return add;
}

/* GET (body NULL) or POST; the answer in *out (caller frees out->data). */
static void control(const char *base, const char *path, const char *body, growbuf *out) {
    CURL *h = curl_easy_init();
    char url[1024];
    snprintf(url, sizeof url, "%s%s", base, path);
    growbuf sink = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, out ? out : &sink);
        CURLcode rc = curl_easy_perform(h);
        curl_slist_free_all(hs);
        if (rc != CURLE_OK) die("emulator control %s: %s", path, curl_easy_strerror(rc));
    } else {
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, out ? out : &sink);
        CURLcode rc = curl_easy_perform(h);
        if (rc != CURLE_OK) die("emulator control %s: %s", path, curl_easy_strerror(rc));
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) die("emulator control %s: status %ld", path, status);
    curl_easy_cleanup(h);
    free(sink.data);
}

static void set_latency(const char *base, int ms) {
    char body[64];
    snprintf(body, sizeof body, "{\"ms\":%d}", ms);
    control(base, "/_emulator/latency", body, NULL);
}

/* What the emulator saw of one round's thread. */
typedef struct {
    long requests, connections, http2, status_ok;
    double first_at_ms, last_at_ms, last_done_ms;
} server_view;

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static server_view request_log(const char *base, const char *thread_enc) {
    char path[512];
    snprintf(path, sizeof path, "/_emulator/threads/%s/requests", thread_enc);
    growbuf b = {0};
    control(base, path, NULL, &b);
    server_view v = {0, 0, 0, 0, 1e18, 0, 0};
    size_t cap = 1024;
    long *conns = malloc(cap * sizeof *conns);
    /* {"requests":[{...},{...}]}: flat objects, keys in any order. */
    char *list = b.data ? strchr(b.data, '[') : NULL;
    for (char *p = list; p && (p = strchr(p, '{')) != NULL; p++) {
        char *end = strchr(p, '}');
        if (!end) break;
        *end = 0; /* searches below stay inside this object */
        char *f;
        v.requests++;
        if ((f = strstr(p, "\"connection\":")) && f < end) {
            if ((size_t)v.requests > cap) {
                cap *= 2;
                conns = realloc(conns, cap * sizeof *conns);
            }
            conns[v.requests - 1] = strtol(f + 13, NULL, 10);
        }
        if ((f = strstr(p, "\"httpVersion\":\"HTTP/2")) && f < end) v.http2++;
        if ((f = strstr(p, "\"atMs\":")) && f < end) {
            double at = strtod(f + 7, NULL);
            if (at < v.first_at_ms) v.first_at_ms = at;
            if (at > v.last_at_ms) v.last_at_ms = at;
        }
        if ((f = strstr(p, "\"doneMs\":")) && f < end) {
            double d = strtod(f + 9, NULL);
            if (d > v.last_done_ms) v.last_done_ms = d;
        }
        if ((f = strstr(p, "\"status\":201")) && f < end) v.status_ok++;
        *end = '}';
        p = end;
    }
    qsort(conns, (size_t)v.requests, sizeof *conns, cmp_long);
    for (long i = 0; i < v.requests; i++)
        if (i == 0 || conns[i] != conns[i - 1]) v.connections++;
    free(conns);
    free(b.data);
    if (v.requests == 0) v.first_at_ms = 0;
    return v;
}

/* ---- one round ------------------------------------------------------ */

static int g_failures;
static long g_emulator_pid;

/* utime + stime of a process in microseconds; -1 when unknown. */
static long long process_cpu_us(long pid) {
    if (pid <= 0) return -1;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command may hold spaces */
    if (!p) return -1;
    unsigned long long ut = 0, st = 0;
    /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return -1;
    return (long long)((ut + st) * 1000000ull / (unsigned long long)sysconf(_SC_CLK_TCK));
}

static void round_run(const char *url, acs_client *client, int n, int latency_ms,
                      const char *phase, int round, const char *label, int io_threads_env) {
    static int seq = 0;
    char thread[128], thread_enc[160];
    seq++;
    snprintf(thread, sizeof thread, "19:fanout-%d-%s-%d@thread.v2", n, phase, seq);
    snprintf(thread_enc, sizeof thread_enc, "19%%3Afanout-%d-%s-%d%%40thread.v2", n, phase, seq);
    control(url, "/_emulator/reset", "", NULL);

    slot *slots = calloc((size_t)n, sizeof *slots);
    atomic_store(&g_done, 0);
    atomic_store(&g_ok, 0);
    atomic_store(&g_error_logged, 0);

    long thr_before = proc_status("Threads"), rss_before = proc_status("VmRSS");
    long long emu0 = process_cpu_us(g_emulator_pid);
    usage_mark mark = usage_now();
    uint64_t start = now_ns();
    int submit_failures = 0;
    for (int i = 0; i < n; i++) {
        slots[i].submitted = now_ns();
        acs_result rc = acs_send_message_async(client, thread, CONTENT, NULL, on_complete, &slots[i], NULL);
        if (rc != ACS_RESULT_OK) {
            char msg[512];
            acs_last_error_message(msg, sizeof msg);
            if (submit_failures++ < 3) fprintf(stderr, "bench: submit failed: %s: %s\n", acs_result_str(rc), msg);
            atomic_fetch_add(&slots[i].runs, 1000); /* never called back: not counted as missing */
            atomic_fetch_add(&g_done, 1);
        }
    }
    uint64_t submitted = now_ns();
    long thr_peak = proc_status("Threads"), rss_peak = proc_status("VmRSS");
    long in_flight_at_submit_end = n - atomic_load(&g_done);
    uint64_t deadline = start + 120ull * 1000000000ull;
    while (atomic_load(&g_done) < n) {
        if (now_ns() > deadline) die("round %s N=%d: only %ld of %d callbacks after 120 s", phase, n, atomic_load(&g_done), n);
        struct timespec d = {0, 2000000};
        nanosleep(&d, NULL);
        long t = proc_status("Threads"), r = proc_status("VmRSS");
        if (t > thr_peak) thr_peak = t;
        if (r > rss_peak) rss_peak = r;
    }
    uint64_t last = start;
    for (int i = 0; i < n; i++)
        if (slots[i].completed > last) last = slots[i].completed;
    uint64_t wall = last - start;
    char usage[128];
    usage_json(mark, (size_t)n, usage, sizeof usage);
    long long emu1 = process_cpu_us(g_emulator_pid);
    double emu_us_per_call = emu0 >= 0 && emu1 >= 0 ? (double)(emu1 - emu0) / n : -1.0;
    long thr_done = proc_status("Threads"), rss_done = proc_status("VmRSS");

    /* Any second run of a callback shows up within a short while. */
    struct timespec settle = {0, 100 * 1000000};
    nanosleep(&settle, NULL);
    long missing = 0, twice = 0;
    uint64_t *lat = malloc(sizeof(uint64_t) * (size_t)n);
    size_t nl = 0;
    for (int i = 0; i < n; i++) {
        int runs = atomic_load(&slots[i].runs);
        if (runs >= 1000) continue;
        if (runs == 0) missing++;
        if (runs > 1) twice++;
        if (runs >= 1) lat[nl++] = slots[i].completed - slots[i].submitted;
    }
    long thr_after = proc_status("Threads"), rss_after = proc_status("VmRSS");
    lat_stats s = summarize(lat, nl, wall);
    s.calls_per_s = (double)n * 1e9 / (double)wall;
    long ok = atomic_load(&g_ok);
    server_view v = request_log(url, thread_enc);

    char extra[1536];
    snprintf(extra, sizeof extra,
             ",\"label\":\"%s\",\"phase\":\"%s\",\"calls\":%d,\"latency_ms\":%d,\"io_threads_env\":%d,"
             "\"wall_ms\":%.2f,\"submit_ms\":%.2f,\"submit_us_per_call\":%.3f,\"in_flight_at_submit_end\":%ld,"
             "\"ok\":%ld,\"missing_callbacks\":%ld,\"repeated_callbacks\":%ld,\"submit_failures\":%d,"
             "\"threads_before\":%ld,\"threads_peak\":%ld,\"threads_done\":%ld,\"threads_after\":%ld,"
             "\"rss_kb_before\":%ld,\"rss_kb_peak\":%ld,\"rss_kb_done\":%ld,\"rss_kb_after\":%ld,"
             "\"server_requests\":%ld,\"server_201\":%ld,\"server_connections\":%ld,\"server_http2\":%ld,"
             "\"server_arrival_spread_ms\":%.2f,\"server_last_done_after_first_arrival_ms\":%.2f,"
             "\"emulator_cpu_us_per_call\":%.2f%s",
             label, phase, n, latency_ms, io_threads_env, (double)wall / 1e6, (double)(submitted - start) / 1e6,
             (double)(submitted - start) / 1e3 / n, in_flight_at_submit_end, ok, missing, twice, submit_failures,
             thr_before, thr_peak, thr_done, thr_after, rss_before, rss_peak, rss_done, rss_after, v.requests,
             v.status_ok, v.connections, v.http2, v.last_at_ms - v.first_at_ms, v.last_done_ms - v.first_at_ms,
             emu_us_per_call, usage);
    char bench_case[64];
    snprintf(bench_case, sizeof bench_case, "N=%d", n);
    emit_latency("fanout", bench_case, phase, round, &s, extra);
    fprintf(stderr, "N=%d %-7s round %d: %.1f ms, %.0f calls/s, ok %ld/%d, threads %ld->%ld->%ld, "
            "rss %+ld kB, %ld connections, push-out %.1f ms\n",
            n, phase, round, (double)wall / 1e6, s.calls_per_s, ok, n, thr_before, thr_peak, thr_after,
            rss_peak - rss_before, v.connections, v.last_at_ms - v.first_at_ms);
    if (ok != n || missing || twice || submit_failures) g_failures++;
    free(lat);
    free(slots);
}

int main(int argc, char **argv) {
    const char *url = NULL, *token = NULL, *counts = "1000,10000", *label = "default";
    int rounds = 3, latency_ms = 50, max_conns = 0;
    long thr_start = proc_status("Threads"), rss_start = proc_status("VmRSS");
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--url")) url = v;
        else if (!strcmp(a, "--token")) token = v;
        else if (!strcmp(a, "--counts")) counts = v;
        else if (!strcmp(a, "--rounds")) rounds = atoi(v);
        else if (!strcmp(a, "--latency-ms")) latency_ms = atoi(v);
        else if (!strcmp(a, "--max-connections")) max_conns = atoi(v);
        else if (!strcmp(a, "--label")) label = v;
        else if (!strcmp(a, "--emulator-pid")) g_emulator_pid = atol(v);
        else die("unknown argument %s", a);
    }
    if (!url || !token) die("usage: bench_fanout --url URL --token TOKEN ...");
    const char *env = getenv("ACS_CHAT_IO_THREADS");
    int io_env = env ? atoi(env) : 0;
    bench_library = library_of((const void *)acs_send_message_async);
    curl_global_init(CURL_GLOBAL_ALL);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    fprintf(stderr, "open files limit %llu\n", (unsigned long long)rl.rlim_cur);

    char *copy = strdup(counts);
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
        int n = atoi(tok);
        if (n <= 0) continue;
        if ((rlim_t)n + 64 > rl.rlim_cur)
            fprintf(stderr, "bench: warning: N=%d needs more open files than the limit %llu\n", n,
                    (unsigned long long)rl.rlim_cur);
        acs_client_options *o = NULL;
        if (acs_client_options_new(&o)) die("acs_client_options_new");
        uint32_t mc = (uint32_t)(max_conns > 0 ? max_conns : n);
        if (acs_client_options_set_max_connections_per_origin(o, mc)) die("set_max_connections_per_origin(%u)", mc);
        if (acs_client_options_set_total_timeout_ms(o, 60000)) die("set_total_timeout_ms");
        acs_client *client = NULL;
        if (acs_client_new(url, token, o, &client)) die("acs_client_new");
        acs_client_options_free(o);
        long thr_lib0 = proc_status("Threads");
        set_latency(url, 0);
        char *id = NULL;
        if (acs_send_message(client, "19:fanout-warmup@thread.v2", CONTENT, NULL, &id)) die("warm-up send failed");
        acs_string_free(id);
        long thr_warm = proc_status("Threads");
        printf("RESULT {\"section\":\"fanout\",\"case\":\"N=%d\",\"impl\":\"process\",\"round\":0,\"n\":%d,"
               "\"label\":\"%s\",\"threads_process_start\":%ld,\"rss_kb_process_start\":%ld,"
               "\"threads_client_created\":%ld,\"threads_after_warmup\":%ld,\"max_connections\":%u,"
               "\"open_files_limit\":%llu,\"latency_ms\":%d,\"io_threads_env\":%d}\n",
               n, n, label, thr_start, rss_start, thr_lib0, thr_warm, mc, (unsigned long long)rl.rlim_cur,
               latency_ms, io_env);
        fflush(stdout);

        set_latency(url, latency_ms);
        round_run(url, client, n, latency_ms, "cold", 1, label, io_env);
        for (int r = 1; r <= rounds; r++) {
            for (int k = 0; k < 2; k++) {
                int ceiling = (r % 2 == 1) ? k == 1 : k == 0;
                set_latency(url, ceiling ? 0 : latency_ms);
                round_run(url, client, n, ceiling ? 0 : latency_ms, ceiling ? "ceiling" : "warm", r, label, io_env);
            }
        }
        set_latency(url, latency_ms);
        acs_client_free(client);
    }
    free(copy);
    curl_global_cleanup();
    if (g_failures) die("%d rounds had failed, missing or repeated callbacks", g_failures);
    return 0;
}
