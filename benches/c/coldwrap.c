/* Runs a command N times and reports the time from just before its exec to
 * the moment it reports its first completed send (a line `FIRST_SEND_NS <t>`
 * on stdout, where t is CLOCK_MONOTONIC in ns), to `CLIENT_READY_NS <t>` if
 * it prints one (imports done, client created), and to its exit.
 *
 *   coldwrap --case NAME --impl NAME [--runs N] -- COMMAND [ARGS...] */
#include "bench_common.h"

#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *bench_case = "cold", *impl = "?";
    int runs = 20, i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
        if (i + 1 >= argc) die("missing value for %s", argv[i]);
        if (!strcmp(argv[i], "--case")) bench_case = argv[i + 1];
        else if (!strcmp(argv[i], "--impl")) impl = argv[i + 1];
        else if (!strcmp(argv[i], "--runs")) runs = atoi(argv[i + 1]);
        else die("unknown argument %s", argv[i]);
    }
    if (i + 1 >= argc) die("usage: coldwrap --case C --impl I [--runs N] -- command...");
    char **cmd = argv + i + 1;
    uint64_t *first = calloc((size_t)runs, sizeof *first);
    uint64_t *total = calloc((size_t)runs, sizeof *total);
    uint64_t *ready = calloc((size_t)runs, sizeof *ready);
    int have_ready = 1;
    uint64_t wall0 = now_ns();
    for (int r = 0; r < runs; r++) {
        int fds[2];
        if (pipe(fds) != 0) die("pipe: %m");
        uint64_t t0 = now_ns();
        pid_t pid = fork();
        if (pid == 0) {
            dup2(fds[1], 1);
            close(fds[0]);
            close(fds[1]);
            execvp(cmd[0], cmd);
            _exit(127);
        }
        close(fds[1]);
        FILE *f = fdopen(fds[0], "r");
        char line[256];
        uint64_t at = 0, rd = 0;
        while (fgets(line, sizeof line, f)) {
            unsigned long long v;
            if (sscanf(line, "FIRST_SEND_NS %llu", &v) == 1) at = v;
            if (sscanf(line, "CLIENT_READY_NS %llu", &v) == 1) rd = v;
        }
        fclose(f);
        int status = 0;
        waitpid(pid, &status, 0);
        total[r] = now_ns() - t0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || at < t0)
            die("run %d of %s failed (status %d)", r + 1, cmd[0], status);
        first[r] = at - t0;
        if (rd >= t0) ready[r] = rd - t0; else have_ready = 0;
    }
    uint64_t wall = now_ns() - wall0;
    lat_stats tot = summarize(total, (size_t)runs, wall);
    lat_stats rdy = summarize(ready, (size_t)runs, wall);
    lat_stats s = summarize(first, (size_t)runs, wall);
    char extra[192];
    snprintf(extra, sizeof extra, ",\"exit_p50_us\":%.1f,\"exit_p99_us\":%.1f,\"ready_p50_us\":%.1f",
             tot.p50_us, tot.p99_us, have_ready ? rdy.p50_us : -1.0);
    emit_latency("cold", bench_case, impl, 1, &s, extra);
    return 0;
}
