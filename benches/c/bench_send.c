/* Single-thread send-message latency: acs_send_message next to libcurl (one
 * reused easy handle, keep-alive) sending the same request bytes.
 *
 *   bench_send --url URL --token TOKEN [--ca FILE] [--label http|https]
 *              [--iters N] [--warmup N] [--rounds N] [--thread ID]
 *              [--only ours|curl] [--no-check] [--round-base K]
 *
 * Before measuring, both clients send one request to an in-process capture
 * socket; the libcurl request is built from the headers and body the library
 * wrote (only x-ms-client-request-id changes per call, as it does for the
 * library), and the two captured requests are compared. Prints RESULT lines
 * (see bench_common.h) and one CHECK line. Rounds are numbered K+1..K+N
 * (--round-base, default 0), and which side goes first alternates with the
 * round number, so that separate runs can make up one alternating series. */
#include "bench_common.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acs_chat.h"

#define CONTENT "Hello from the acs_chat benchmark"
#define MAX_HEADERS 32

/* ---- capture socket -------------------------------------------------- */

typedef struct {
    int listen_fd;
    char raw[16384];
    size_t len;
} capture;

static void *capture_one(void *arg) {
    capture *c = arg;
    c->len = 0;
    int fd = accept(c->listen_fd, NULL, NULL);
    if (fd < 0) return NULL;
    size_t want = 0;
    for (;;) {
        ssize_t n = read(fd, c->raw + c->len, sizeof c->raw - 1 - c->len);
        if (n <= 0) break;
        c->len += (size_t)n;
        c->raw[c->len] = 0;
        char *end = strstr(c->raw, "\r\n\r\n");
        if (end && !want) {
            size_t body = 0;
            for (char *p = c->raw; p < end; p++) {
                if ((p == c->raw || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0)
                    body = strtoul(p + 15, NULL, 10);
            }
            want = (size_t)(end + 4 - c->raw) + body;
        }
        if (want && c->len >= want) break;
    }
    static const char answer[] =
        "HTTP/1.1 201 Created\r\nContent-Type: application/json; charset=utf-8\r\n"
        "Content-Length: 13\r\nConnection: close\r\n\r\n{\"id\":\"cap1\"}";
    if (write(fd, answer, sizeof answer - 1) < 0) { /* the client reports it */ }
    close(fd);
    return NULL;
}

static int capture_listen(int *port_out) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        die("capture socket: %m");
    *port_out = ntohs(a.sin_port);
    return fd;
}

/* A parsed request: request line, header lines (as written), body. */
typedef struct {
    char line[1024];
    char *headers[MAX_HEADERS];
    int nheaders;
    char body[4096];
    size_t body_len;
} request;

static void parse_request(const capture *c, request *r) {
    memset(r, 0, sizeof *r);
    const char *p = c->raw, *end = strstr(c->raw, "\r\n\r\n");
    if (!end) die("capture: no complete request head");
    const char *eol = strstr(p, "\r\n");
    snprintf(r->line, sizeof r->line, "%.*s", (int)(eol - p), p);
    p = eol + 2;
    while (p < end + 2 && r->nheaders < MAX_HEADERS) {
        eol = strstr(p, "\r\n");
        r->headers[r->nheaders++] = strndup(p, (size_t)(eol - p));
        p = eol + 2;
    }
    r->body_len = c->len - (size_t)(end + 4 - c->raw);
    if (r->body_len >= sizeof r->body) die("capture: body too large");
    memcpy(r->body, end + 4, r->body_len);
}

static void free_request(request *r) {
    for (int i = 0; i < r->nheaders; i++) free(r->headers[i]);
    r->nheaders = 0;
}

static int header_is(const char *h, const char *name) {
    size_t n = strlen(name);
    return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

/* Same header: the name compared without case, the value exactly. */
static int header_eq(const char *a, const char *b) {
    const char *ca = strchr(a, ':'), *cb = strchr(b, ':');
    return ca && cb && ca - a == cb - b && strncasecmp(a, b, (size_t)(ca - a)) == 0 &&
           strcmp(ca, cb) == 0;
}

static const char *shown(const char *h) {
    return header_is(h, "authorization") ? "authorization: Bearer ..." : h;
}

/* ---- request ids ----------------------------------------------------- */

static uint64_t rng_state[2] = {0x9e3779b97f4a7c15ull, 0xd1b54a32d192ed03ull};

static uint64_t rng_next(void) {
    uint64_t s1 = rng_state[0];
    const uint64_t s0 = rng_state[1];
    rng_state[0] = s0;
    s1 ^= s1 << 23;
    rng_state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return rng_state[1] + s0;
}

/* Writes a random v4 UUID (36 characters, no NUL) to `out`. */
static void uuid_v4(char *out) {
    static const char hex[] = "0123456789abcdef";
    uint64_t a = rng_next(), b = rng_next();
    unsigned char bytes[16];
    memcpy(bytes, &a, 8);
    memcpy(bytes + 8, &b, 8);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[bytes[i] >> 4];
        out[o++] = hex[bytes[i] & 15];
    }
}

/* ---- libcurl client -------------------------------------------------- */

typedef struct {
    char data[65536];
    size_t len;
} buffer;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user) {
    buffer *b = user;
    size_t n = size * nmemb;
    if (b->len + n >= sizeof b->data) return 0;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = 0;
    return n;
}

typedef struct {
    CURL *h;
    struct curl_slist *headers;
    char *crid; /* the 36 characters of the request id inside `headers` */
    buffer body;
    char post[4096];
    size_t post_len;
} curl_client;

/* The message id of a `{"id":"..."}` answer, as a new string. */
static char *parse_id(const char *json) {
    const char *p = strstr(json, "\"id\"");
    if (!p) return NULL;
    p = strchr(p + 4, '"');
    if (!p) return NULL;
    const char *e = strchr(p + 1, '"');
    if (!e) return NULL;
    return strndup(p + 1, (size_t)(e - p - 1));
}

static void curl_client_init(curl_client *c, const char *url, const request *lib, const char *ca) {
    memset(c, 0, sizeof *c);
    c->h = curl_easy_init();
    if (!c->h) die("curl_easy_init failed");
    for (int i = 0; i < lib->nheaders; i++) {
        const char *h = lib->headers[i];
        if (header_is(h, "host") || header_is(h, "content-length")) continue;
        c->headers = curl_slist_append(c->headers, h);
    }
    for (struct curl_slist *s = c->headers; s; s = s->next) {
        if (header_is(s->data, "x-ms-client-request-id")) {
            char *v = strchr(s->data, ':') + 1;
            while (*v == ' ') v++;
            if (strlen(v) != 36) die("the library's x-ms-client-request-id is not a UUID: %s", v);
            c->crid = v;
        }
    }
    if (!c->crid) die("the library sent no x-ms-client-request-id");
    memcpy(c->post, lib->body, lib->body_len);
    c->post_len = lib->body_len;
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, c->post);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)c->post_len);
    curl_easy_setopt(c->h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &c->body);
    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
    if (ca) curl_easy_setopt(c->h, CURLOPT_CAINFO, ca);
}

/* One send-message call: a fresh request id, the POST, status and id checked. */
static int curl_send(curl_client *c, int check) {
    uuid_v4(c->crid);
    c->body.len = 0;
    CURLcode rc = curl_easy_perform(c->h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "bench: libcurl: %s\n", curl_easy_strerror(rc));
        return -1;
    }
    long status = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    char *id = parse_id(c->body.data);
    int ok = status == 201 && id != NULL;
    if (!ok && check) fprintf(stderr, "bench: libcurl: status %ld body %s\n", status, c->body.data);
    free(id);
    return ok ? 0 : -1;
}

static void curl_client_free(curl_client *c) {
    curl_easy_cleanup(c->h);
    curl_slist_free_all(c->headers);
}

/* ---- our client ------------------------------------------------------ */

static acs_client *ours_new(const char *url, const char *token, const char *ca) {
    acs_client_options *o = NULL;
    if (acs_client_options_new(&o)) die("acs_client_options_new");
    if (ca && acs_client_options_set_ca_file(o, ca)) die("acs_client_options_set_ca_file");
    acs_client *c = NULL;
    acs_result rc = acs_client_new(url, token, o, &c);
    acs_client_options_free(o);
    if (rc) {
        char msg[512];
        acs_last_error_message(msg, sizeof msg);
        die("acs_client_new: %s: %s", acs_result_str(rc), msg);
    }
    return c;
}

static int ours_send(acs_client *c, const char *thread) {
    char *id = NULL;
    acs_result rc = acs_send_message(c, thread, CONTENT, NULL, &id);
    if (rc) {
        char msg[512];
        acs_last_error_message(msg, sizeof msg);
        fprintf(stderr, "bench: acs_send_message: %s: %s\n", acs_result_str(rc), msg);
        return -1;
    }
    acs_string_free(id);
    return 0;
}

/* ---- emulator control ------------------------------------------------ */

static void emulator_reset(const char *base, const char *ca) {
    CURL *h = curl_easy_init();
    char url[1024];
    buffer sink;
    sink.len = 0;
    snprintf(url, sizeof url, "%s/_emulator/reset", base);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    if (ca) curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    if (curl_easy_perform(h) != CURLE_OK) die("emulator reset failed");
    curl_easy_cleanup(h);
}

/* ---- main ------------------------------------------------------------ */

int main(int argc, char **argv) {
    const char *url = NULL, *token = NULL, *ca = NULL, *label = "http", *only = NULL;
    const char *thread = "19:bench-c@thread.v2";
    int iters = 5000, warmup = 500, rounds = 3, check = 1, round_base = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-check")) { check = 0; continue; }
        if (!v) die("missing value for %s", a);
        if (!strcmp(a, "--url")) url = v;
        else if (!strcmp(a, "--token")) token = v;
        else if (!strcmp(a, "--ca")) ca = v;
        else if (!strcmp(a, "--label")) label = v;
        else if (!strcmp(a, "--iters")) iters = atoi(v);
        else if (!strcmp(a, "--warmup")) warmup = atoi(v);
        else if (!strcmp(a, "--rounds")) rounds = atoi(v);
        else if (!strcmp(a, "--thread")) thread = v;
        else if (!strcmp(a, "--only")) only = v;
        else if (!strcmp(a, "--round-base")) round_base = atoi(v);
        else die("unknown argument %s", a);
        i++;
    }
    if (!url || !token) die("usage: bench_send --url URL --token TOKEN [--ca FILE] ...");
    curl_global_init(CURL_GLOBAL_ALL);
    rng_state[0] ^= now_ns();
    bench_library = library_of((const void *)acs_client_new);

    /* What the library writes, captured in-process. */
    int cport = 0;
    capture cap;
    cap.listen_fd = capture_listen(&cport);
    char cap_url[64];
    snprintf(cap_url, sizeof cap_url, "http://127.0.0.1:%d", cport);
    pthread_t t;
    pthread_create(&t, NULL, capture_one, &cap);
    acs_client *probe = ours_new(cap_url, token, NULL);
    if (ours_send(probe, thread)) die("the capture request through acs_chat failed");
    pthread_join(t, NULL);
    acs_client_free(probe);
    request lib;
    parse_request(&cap, &lib);

    /* The request path from the library's request line: "POST /path HTTP/1.1". */
    char path[1024], target[2048];
    if (sscanf(lib.line, "POST %1023s HTTP/1.1", path) != 1) die("unexpected request line %s", lib.line);
    snprintf(target, sizeof target, "%s%s", url, path);

    /* The same request through libcurl, captured and compared. */
    if (check) {
        char cap_target[2048];
        snprintf(cap_target, sizeof cap_target, "%s%s", cap_url, path);
        curl_client probe_curl;
        curl_client_init(&probe_curl, cap_target, &lib, NULL);
        pthread_create(&t, NULL, capture_one, &cap);
        if (curl_send(&probe_curl, 1)) die("the capture request through libcurl failed");
        pthread_join(t, NULL);
        curl_client_free(&probe_curl);
        request cr;
        parse_request(&cap, &cr);
        int same = strcmp(lib.line, cr.line) == 0 && lib.nheaders == cr.nheaders &&
                   lib.body_len == cr.body_len && memcmp(lib.body, cr.body, lib.body_len) == 0;
        for (int i = 0; same && i < lib.nheaders; i++) {
            int found = 0;
            for (int j = 0; j < cr.nheaders; j++) {
                if (header_is(lib.headers[i], "x-ms-client-request-id") &&
                    header_is(cr.headers[j], "x-ms-client-request-id"))
                    found = strlen(lib.headers[i]) == strlen(cr.headers[j]);
                else if (header_eq(lib.headers[i], cr.headers[j]))
                    found = 1;
                if (found) break;
            }
            if (!found) {
                fprintf(stderr, "bench: libcurl request lacks: %s\n", shown(lib.headers[i]));
                same = 0;
            }
        }
        printf("CHECK {\"section\":\"c\",\"case\":\"request bytes\",\"same\":%s,"
               "\"request_line\":\"%s\",\"headers\":%d,\"body_bytes\":%zu}\n",
               same ? "true" : "false", lib.line, lib.nheaders, lib.body_len);
        fprintf(stderr, "library request (token elided):\n  %s\n", lib.line);
        for (int i = 0; i < lib.nheaders; i++)
            fprintf(stderr, "  %s\n", shown(lib.headers[i]));
        fprintf(stderr, "  %.*s\n", (int)lib.body_len, lib.body);
        if (!same) {
            fprintf(stderr, "libcurl request:\n  %s\n", cr.line);
            for (int i = 0; i < cr.nheaders; i++) fprintf(stderr, "  %s\n", shown(cr.headers[i]));
            die("libcurl and acs_chat requests differ");
        }
        free_request(&cr);
    }
    close(cap.listen_fd);

    acs_client *ours = ours_new(url, token, ca);
    curl_client base;
    curl_client_init(&base, target, &lib, ca);

    uint64_t *lat = malloc(sizeof(uint64_t) * (size_t)(iters > 0 ? iters : 1));
    char bench_case[64];
    snprintf(bench_case, sizeof bench_case, "%s send_message", label);
    int failures = 0;
    for (int r = round_base + 1; r <= round_base + rounds; r++) {
        emulator_reset(url, ca);
        for (int k = 0; k < 2; k++) {
            int curl_turn = (r % 2 == 1) ? k == 1 : k == 0; /* alternate who goes first */
            const char *impl = curl_turn ? "libcurl" : "acs_chat";
            if (only && strcmp(only, curl_turn ? "curl" : "ours") != 0) continue;
            for (int i = 0; i < warmup; i++)
                if (curl_turn ? curl_send(&base, 1) : ours_send(ours, thread)) failures++;
            usage_mark mark = usage_now();
            uint64_t start = now_ns();
            for (int i = 0; i < iters; i++) {
                uint64_t t0 = now_ns();
                int rc = curl_turn ? curl_send(&base, 1) : ours_send(ours, thread);
                lat[i] = now_ns() - t0;
                if (rc) failures++;
            }
            uint64_t wall = now_ns() - start;
            char extra[128];
            usage_json(mark, (size_t)iters, extra, sizeof extra);
            lat_stats s = summarize(lat, (size_t)iters, wall);
            emit_latency("c", bench_case, impl, r, &s, extra);
        }
    }
    free(lat);
    curl_client_free(&base);
    acs_client_free(ours);
    free_request(&lib);
    curl_global_cleanup();
    if (failures) die("%d calls failed", failures);
    return 0;
}
