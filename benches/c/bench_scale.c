/* Scale: one client shared by 1, 4 and 16 threads (calls/s, latency), next
 * to libcurl with one easy handle per thread; then 10,000 clients alive at
 * once (resident memory and OS threads from /proc/self/status).
 *
 *   bench_scale threads --url URL --token TOKEN [--seconds S] [--rounds N] [--counts 1,4,16]
 *                       [--round-base K]   (rounds numbered K+1..K+N, as in bench_send)
 *   bench_scale clients --url URL --token TOKEN [--clients N]
 *
 * In `clients` mode each client gets its own token: TOKEN (from the emulator,
 * so of a realistic size) with the end of its signature replaced by the
 * client's number. */
#include "bench_common.h"

#include <curl/curl.h>
#include <pthread.h>

#include "acs_chat.h"

#define CONTENT "Hello from the acs_chat benchmark"
#define MAX_SAMPLES 200000

typedef struct {
    const char *url, *token, *thread, *target;
    acs_client *client; /* shared; NULL means: libcurl, one handle per thread */
    pthread_barrier_t *barrier;
    volatile int *stop;
    uint64_t *lat;
    size_t n, cap, calls;
    int failures;
} worker;

static size_t sink(char *p, size_t s, size_t n, void *u) {
    (void)p;
    (void)u;
    return s * n;
}

static void *run_worker(void *arg) {
    worker *w = arg;
    CURL *h = NULL;
    struct curl_slist *hs = NULL;
    char auth[512];
    if (!w->client) {
        h = curl_easy_init();
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", w->token);
        hs = curl_slist_append(hs, auth);
        hs = curl_slist_append(hs, "Content-Type: application/json");
        hs = curl_slist_append(hs, "Accept: application/json");
        curl_easy_setopt(h, CURLOPT_URL, w->target);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{\"content\":\"" CONTENT "\",\"type\":\"text\"}");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_perform(h);
    }
    pthread_barrier_wait(w->barrier);
    while (!*w->stop) {
        uint64_t t0 = now_ns();
        int ok;
        if (w->client) {
            char *id = NULL;
            ok = acs_send_message(w->client, w->thread, CONTENT, NULL, &id) == ACS_RESULT_OK;
            acs_string_free(id);
        } else {
            long status = 0;
            ok = curl_easy_perform(h) == CURLE_OK &&
                 curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 201;
        }
        uint64_t dt = now_ns() - t0;
        if (!ok) w->failures++;
        w->calls++;
        if (w->n < w->cap) w->lat[w->n++] = dt;
    }
    if (h) {
        curl_easy_cleanup(h);
        curl_slist_free_all(hs);
    }
    return NULL;
}

static int threads_bench(const char *url, const char *token, double seconds, int rounds,
                         const char *counts, int round_base) {
    const char *thread = "19:bench-scale@thread.v2";
    char target[1024];
    snprintf(target, sizeof target, "%s/chat/threads/19%%3Abench-scale%%40thread.v2/messages?api-version=2025-03-15", url);
    acs_client *client = NULL;
    if (acs_client_new(url, token, NULL, &client)) die("acs_client_new failed");
    char *id = NULL;
    for (int i = 0; i < 200; i++) {
        if (acs_send_message(client, thread, CONTENT, NULL, &id)) die("warm-up send failed");
        acs_string_free(id);
    }
    int list[16], nlist = 0;
    char *copy = strdup(counts);
    for (char *tok = strtok(copy, ","); tok && nlist < 16; tok = strtok(NULL, ","))
        list[nlist++] = atoi(tok);
    free(copy);
    uint64_t *all = malloc(sizeof(uint64_t) * MAX_SAMPLES);
    int failures = 0;
    for (int r = round_base + 1; r <= round_base + rounds; r++) {
        for (int li = 0; li < nlist; li++) {
            int nt = list[li];
            for (int k = 0; k < 2; k++) {
                int use_curl = (r % 2 == 1) ? k == 1 : k == 0;
                pthread_barrier_t barrier;
                pthread_barrier_init(&barrier, NULL, (unsigned)nt + 1);
                volatile int stop = 0;
                worker *ws = calloc((size_t)nt, sizeof *ws);
                pthread_t *ts = calloc((size_t)nt, sizeof *ts);
                for (int i = 0; i < nt; i++) {
                    ws[i] = (worker){url, token, thread, target, use_curl ? NULL : client, &barrier,
                                     &stop, malloc(sizeof(uint64_t) * (MAX_SAMPLES / nt)), 0,
                                     (size_t)(MAX_SAMPLES / nt), 0, 0};
                    pthread_create(&ts[i], NULL, run_worker, &ws[i]);
                }
                pthread_barrier_wait(&barrier);
                usage_mark mark = usage_now();
                uint64_t start = now_ns();
                struct timespec d = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
                nanosleep(&d, NULL);
                stop = 1;
                size_t n = 0, calls = 0;
                for (int i = 0; i < nt; i++) {
                    pthread_join(ts[i], NULL);
                    calls += ws[i].calls;
                    memcpy(all + n, ws[i].lat, ws[i].n * sizeof(uint64_t));
                    n += ws[i].n;
                    failures += ws[i].failures;
                    free(ws[i].lat);
                }
                uint64_t wall = now_ns() - start;
                char bench_case[64], extra[192], usage[128];
                usage_json(mark, calls, usage, sizeof usage);
                lat_stats s = summarize(all, n, wall);
                s.calls_per_s = (double)calls * 1e9 / (double)wall;
                snprintf(bench_case, sizeof bench_case, "threads=%d", nt);
                snprintf(extra, sizeof extra, ",\"threads\":%d%s", nt, usage);
                emit_latency("scale", bench_case, use_curl ? "libcurl" : "acs_chat", r, &s, extra);
                free(ws);
                free(ts);
                pthread_barrier_destroy(&barrier);
            }
        }
    }
    free(all);
    acs_client_free(client);
    if (failures) die("%d calls failed", failures);
    return 0;
}

/* `base` with its last 8 characters replaced by `n` in hex. */
static void numbered_token(const char *base, int n, char *out, size_t len) {
    size_t l = strlen(base);
    if (l + 1 > len || l < 40) die("token too long or too short");
    memcpy(out, base, l + 1);
    snprintf(out + l - 8, 9, "%08x", (unsigned)n);
}

static int clients_bench(const char *url, const char *base_token, int count) {
    long rss0 = proc_status("VmRSS"), thr0 = proc_status("Threads");
    char token[4096];
    numbered_token(base_token, 0, token, sizeof token);
    acs_client *first = NULL;
    char *id = NULL;
    if (acs_client_new(url, token, NULL, &first)) die("acs_client_new failed");
    if (acs_send_message(first, "19:bench-clients@thread.v2", CONTENT, NULL, &id)) die("send failed");
    acs_string_free(id);
    long rss1 = proc_status("VmRSS"), thr1 = proc_status("Threads");

    acs_client **clients = calloc((size_t)count, sizeof *clients);
    uint64_t t0 = now_ns();
    for (int i = 0; i < count; i++) {
        numbered_token(base_token, i + 1, token, sizeof token);
        acs_result rc = acs_client_new(url, token, NULL, &clients[i]);
        if (rc) die("acs_client_new #%d: %s", i, acs_result_str(rc));
    }
    uint64_t created = now_ns() - t0;
    long rss2 = proc_status("VmRSS"), thr2 = proc_status("Threads");

    /* Every client sends once, while all are alive. */
    int failures = 0;
    t0 = now_ns();
    for (int i = 0; i < count; i++) {
        if (acs_send_typing(clients[i], "19:bench-clients@thread.v2", NULL)) failures++;
    }
    uint64_t sent = now_ns() - t0;
    long rss3 = proc_status("VmRSS"), thr3 = proc_status("Threads");
    for (int i = 0; i < count; i++) acs_client_free(clients[i]);
    free(clients);
    acs_client_free(first);
    long rss4 = proc_status("VmRSS"), thr4 = proc_status("Threads");
    printf("RESULT {\"section\":\"scale\",\"case\":\"clients\",\"impl\":\"acs_chat\",\"round\":1,"
           "\"clients\":%d,\"rss_kb_start\":%ld,\"rss_kb_one_client\":%ld,\"rss_kb_all_created\":%ld,"
           "\"rss_kb_all_sent\":%ld,\"rss_kb_freed\":%ld,\"threads_start\":%ld,"
           "\"threads_one_client\":%ld,\"threads_all_created\":%ld,\"threads_all_sent\":%ld,"
           "\"threads_freed\":%ld,\"create_us_per_client\":%.2f,\"send_us_per_client\":%.2f,"
           "\"token_bytes\":%zu,\"failures\":%d}\n",
           count, rss0, rss1, rss2, rss3, rss4, thr0, thr1, thr2, thr3, thr4,
           (double)created / 1000.0 / count, (double)sent / 1000.0 / count, strlen(base_token),
           failures);
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) die("usage: bench_scale threads|clients --url URL ...");
    const char *mode = argv[1], *url = NULL, *token = NULL, *counts = "1,4,16";
    double seconds = 2.0;
    int rounds = 3, clients = 10000, round_base = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--url")) url = v;
        else if (!strcmp(a, "--token")) token = v;
        else if (!strcmp(a, "--seconds")) seconds = atof(v);
        else if (!strcmp(a, "--rounds")) rounds = atoi(v);
        else if (!strcmp(a, "--counts")) counts = v;
        else if (!strcmp(a, "--clients")) clients = atoi(v);
        else if (!strcmp(a, "--round-base")) round_base = atoi(v);
        else die("unknown argument %s", a);
    }
    if (!url) die("--url is required");
    bench_library = library_of((const void *)acs_client_new);
    if (!strcmp(mode, "threads")) {
        if (!token) die("--token is required");
        curl_global_init(CURL_GLOBAL_ALL);
        int rc = threads_bench(url, token, seconds, rounds, counts, round_base);
        curl_global_cleanup();
        return rc;
    }
    if (!strcmp(mode, "clients")) {
        if (!token) die("--token is required");
        return clients_bench(url, token, clients);
    }
    die("unknown mode %s", mode);
    return 2;
}
