/* Shared helpers of the C benchmarks: clocks, CPU usage, percentiles, result
 * lines and /proc/self/status readings. Header-only. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Process CPU time (user + system, all threads) and context switches. */
typedef struct {
    uint64_t cpu_ns;
    long vcsw, ivcsw;
} usage_mark;

static inline usage_mark usage_now(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    usage_mark m;
    m.cpu_ns = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
               ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
    m.vcsw = ru.ru_nvcsw;
    m.ivcsw = ru.ru_nivcsw;
    return m;
}

/* `,"cpu_us_per_call":..,"csw_per_call":..` for the calls made since `since`. */
static inline void usage_json(usage_mark since, size_t calls, char *out, size_t len) {
    usage_mark now = usage_now();
    double n = calls ? (double)calls : 1.0;
    snprintf(out, len, ",\"cpu_us_per_call\":%.2f,\"csw_per_call\":%.2f",
             (double)(now.cpu_ns - since.cpu_ns) / 1000.0 / n,
             (double)((now.vcsw - since.vcsw) + (now.ivcsw - since.ivcsw)) / n);
}

static inline void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array, p in 0..100. */
static inline double percentile_us(const uint64_t *sorted, size_t n, double p) {
    if (n == 0) return 0.0;
    size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return (double)sorted[rank - 1] / 1000.0;
}

typedef struct {
    double p50_us, p99_us, mean_us, min_us, max_us, calls_per_s;
    size_t n;
} lat_stats;

/* Sorts `lat` (ns per call) in place. `wall_ns` is the elapsed time of the
 * whole measurement, for calls/s. */
static inline lat_stats summarize(uint64_t *lat, size_t n, uint64_t wall_ns) {
    lat_stats s;
    memset(&s, 0, sizeof s);
    s.n = n;
    if (n == 0) return s;
    qsort(lat, n, sizeof *lat, cmp_u64);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += (double)lat[i];
    s.mean_us = sum / (double)n / 1000.0;
    s.p50_us = percentile_us(lat, n, 50);
    s.p99_us = percentile_us(lat, n, 99);
    s.min_us = (double)lat[0] / 1000.0;
    s.max_us = (double)lat[n - 1] / 1000.0;
    s.calls_per_s = wall_ns ? (double)n * 1e9 / (double)wall_ns : 0.0;
    return s;
}

/* The file the dynamic linker loaded `symbol` from (which libacs_chat.so). */
static inline const char *library_of(const void *symbol) {
    Dl_info info;
    if (symbol && dladdr(symbol, &info) && info.dli_fname) return info.dli_fname;
    return "?";
}

/* The library a result was measured with, set by the program (see library_of). */
static const char *bench_library = NULL;

/* One machine-readable result line: `RESULT {json}` on stdout. `extra` is
 * either "" or more JSON members starting with a comma. The environment can
 * relabel a run: BENCH_SECTION replaces `section` and BENCH_VARIANT adds a
 * "variant" member (benches/run.sh uses them for the before/after runs). */
static inline void emit_latency(const char *section, const char *bench_case, const char *impl,
                                int round, const lat_stats *s, const char *extra) {
    const char *sec = getenv("BENCH_SECTION"), *variant = getenv("BENCH_VARIANT");
    printf("RESULT {\"section\":\"%s\",\"case\":\"%s\",\"impl\":\"%s\",\"round\":%d,"
           "\"n\":%zu,\"p50_us\":%.2f,\"p99_us\":%.2f,\"mean_us\":%.2f,\"min_us\":%.2f,"
           "\"max_us\":%.2f,\"calls_per_s\":%.1f",
           sec && *sec ? sec : section, bench_case, impl, round, s->n, s->p50_us, s->p99_us,
           s->mean_us, s->min_us, s->max_us, s->calls_per_s);
    if (variant && *variant) printf(",\"variant\":\"%s\"", variant);
    if (bench_library) printf(",\"library\":\"%s\"", bench_library);
    printf("%s}\n", extra ? extra : "");
    fflush(stdout);
}

/* A field of /proc/self/status in kB (VmRSS, VmHWM, ...) or as a count (Threads). */
static inline long proc_status(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    size_t len = strlen(field);
    long value = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            value = strtol(line + len + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return value;
}

#endif
