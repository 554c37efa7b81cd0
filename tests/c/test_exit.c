/*
 * Process exit with asynchronous calls in flight: no crash, no hang, and no
 * completion callback once the library's exit handler has run.
 *
 *   test_exit            runs every scenario below as a child process (this
 *                        program again, with the scenario's name) and checks
 *                        that each one exits with status 0, by itself, in time
 *   test_exit SCENARIO   one scenario
 *
 * Every scenario registers an atexit handler before its first library call;
 * handlers run in reverse order, so it runs after the library's own, which
 * stops callbacks. A callback that starts after it fails the process with 97.
 * Run by tests/c/run.sh and tests/c/sanitize.sh.
 */
#include "async.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#define CALLS 100

static atomic_int g_finalized;   /* set by the last exit handler */
static atomic_int g_callbacks;   /* callbacks that ran */
static atomic_int g_after_shutdown; /* callbacks that started after acs_shutdown returned */
static atomic_int g_shutdown_done;
static slot g_slots[CALLS];      /* static: callbacks may run after main has returned */
static batch g_batch;
static acs_client *g_client;   /* global, as a program would keep it: reachable at exit */

/* ---- the scenarios (child processes) ----------------------------------------------- */

static void say(const char *text) {
    ssize_t ignored = write(STDOUT_FILENO, text, strlen(text));
    (void)ignored;
}

static void last_exit_handler(void) {
    atomic_store(&g_finalized, 1);
    say("finalized\n");
}
static void guard(void) {
    if (atomic_load(&g_finalized)) {
        say("a callback ran after the library's exit handler\n");
        _exit(97);
    }
    if (atomic_load(&g_shutdown_done)) atomic_fetch_add(&g_after_shutdown, 1);
    atomic_fetch_add(&g_callbacks, 1);
}

static void on_complete_guarded(void *user_data, const acs_completion *c) {
    guard();
    on_complete(user_data, c);
}

static acs_client *scenario_client(void) {
    char *token = emu_token(3600);
    if (acs_client_new(emu_url(), token, NULL, &g_client) != ACS_RESULT_OK) {
        say("acs_client_new failed\n");
        _exit(3);
    }
    free(token);
    return g_client;
}

static atomic_int g_exit_started; /* a callback has called exit() */

static void start_calls(const acs_client *client, const char *thread, acs_completion_callback callback) {
    batch_init(&g_batch);
    for (int i = 0; i < CALLS; i++) {
        slot_init(&g_slots[i], &g_batch);
        if (acs_send_message_async(client, thread, "exit test", NULL, callback, &g_slots[i], NULL) != ACS_RESULT_OK) {
            /* once exit() has begun on another thread, submits are refused: that is expected */
            if (atomic_load(&g_exit_started) && acs_last_error_message(NULL, 0) > 0) return;
            say("submit failed\n");
            _exit(4);
        }
    }
}

/* 100 calls in flight, then exit(0): at once, or (racing) once the first has called back,
   so that callbacks are running while the process exits. */
static int scenario_exit(const char *thread, bool racing) {
    acs_client *client = scenario_client();
    start_calls(client, thread, on_complete_guarded);
    if (racing && !batch_wait(&g_batch, 1, 60000)) return 5;
    exit(0);
}

/* The same, returning from main. */
static int scenario_return(const char *thread, bool racing) {
    acs_client *client = scenario_client();
    start_calls(client, thread, on_complete_guarded);
    if (racing && !batch_wait(&g_batch, 1, 60000)) return 5;
    acs_client_free(client);
    return 0;
}

/* A callback is running when the process exits: exit waits for it (its grace is 2 s). */
static atomic_int g_entered, g_finished;

static void on_complete_slow(void *user_data, const acs_completion *c) {
    guard();
    (void)user_data;
    (void)c;
    if (atomic_exchange(&g_entered, 1) == 0) {
        batch_add(&g_batch); /* tells main that a callback is running */
        sleep_ms(500);
        atomic_store(&g_finished, 1);
        say("callback finished\n");
    }
}

static void check_callback_finished(void) {
    /* runs after the library's handler (registered later, so it runs earlier) */
    if (!atomic_load(&g_finished)) {
        say("exit did not wait for the running callback\n");
        _exit(96);
    }
}

static int scenario_callback_running(const char *thread) {
    atexit(check_callback_finished);
    acs_client *client = scenario_client();
    start_calls(client, thread, on_complete_slow);
    if (!batch_wait(&g_batch, 1, 60000)) return 5;
    exit(0);
}

/* A callback that never returns: exit gives up on it after the grace period. */
static void on_complete_stuck(void *user_data, const acs_completion *c) {
    guard();
    (void)user_data;
    (void)c;
    if (atomic_exchange(&g_entered, 1) == 0) {
        batch_add(&g_batch);
        for (;;) sleep_ms(1000);
    }
}

static int scenario_callback_stuck(const char *thread) {
    acs_client *client = scenario_client();
    start_calls(client, thread, on_complete_stuck);
    if (!batch_wait(&g_batch, 1, 60000)) return 5;
    exit(0);
}

/* A callback calls exit() itself while other calls are in flight (and maybe while main is
   still submitting: those submits are then refused). */
static void on_complete_exit(void *user_data, const acs_completion *c) {
    guard();
    on_complete(user_data, c);
    if (atomic_exchange(&g_entered, 1) == 0) {
        say("exiting from a callback\n");
        atomic_store(&g_exit_started, 1);
        exit(0);
    }
}

static int scenario_exit_from_callback(const char *thread) {
    acs_client *client = scenario_client();
    start_calls(client, thread, on_complete_exit);
    sleep_ms(60000); /* the callback ends the process long before */
    return 6;
}

/* acs_shutdown with calls in flight: no callback afterwards, async submits refused,
   blocking calls still work. */
static int scenario_shutdown(const char *thread) {
    acs_client *client = scenario_client();
    start_calls(client, thread, on_complete_guarded);
    acs_shutdown();
    atomic_store(&g_shutdown_done, 1);
    slot extra;
    slot_init(&extra, NULL);
    if (acs_send_typing_async(client, thread, NULL, on_complete_guarded, &extra, NULL) != ACS_RESULT_INVALID_ARGUMENT) {
        say("an async submit after acs_shutdown was not refused\n");
        return 7;
    }
    if (acs_send_typing(client, thread, NULL) != ACS_RESULT_OK) {
        say("a blocking call after acs_shutdown failed\n");
        return 8;
    }
    /* wait until the emulator has answered every call, and a little more, so that any
       callback that would still come has had its chance (waiting longer only makes the
       check stricter) */
    long long deadline = now_ms() + 5000L * slow_factor();
    for (;;) {
        emu_response r = emu_thread(thread, "requests");
        size_t n = 0;
        long *statuses = json_numbers(r.body, "status", &n);
        int answered = 0;
        for (size_t i = 0; i < n; i++) answered += statuses[i] != 0;
        free(statuses);
        emu_free(&r);
        if (answered >= CALLS + 1 || now_ms() >= deadline) break;
        sleep_ms(10);
    }
    sleep_ms(300);
    if (atomic_load(&g_after_shutdown) != 0) {
        say("a callback started after acs_shutdown returned\n");
        return 9;
    }
    say("shutdown ok\n");
    acs_client_free(client);
    return 0;
}

/* ---- the driver -------------------------------------------------------------------- */

typedef struct {
    const char *name;
    long latency_ms;      /* the emulator's, while the scenario runs */
    const char *expect;   /* in its output, when not NULL */
    long max_ms;          /* it must end within this (times the slow factor) */
} scenario;

static const scenario SCENARIOS[] = {
    {"exit", 300, "finalized", 20000},
    {"exit-racing", 0, "finalized", 20000},
    {"return", 300, "finalized", 20000},
    {"return-racing", 0, "finalized", 20000},
    {"callback-running", 0, "callback finished\nfinalized", 20000},
    {"callback-stuck", 0, "finalized", 20000},
    {"exit-from-callback", 0, "exiting from a callback\nfinalized", 20000},
    {"shutdown", 300, "shutdown ok\nfinalized", 60000},
};

static void run_scenario(const char *self, const scenario *sc) {
    emu_latency(sc->latency_ms);
    int out[2];
    CHECK(pipe(out) == 0);
    fflush(stdout);
    fflush(stderr);
    const long long started = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execl(self, self, sc->name, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    CHECK(pid > 0);
    fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
    char output[4096];
    size_t len = 0;
    int status = 0;
    bool ended = false;
    const long limit = sc->max_ms * slow_factor();
    while (pid > 0) {
        ssize_t n = read(out[0], output + len, sizeof output - 1 - len);
        if (n > 0) len += (size_t)n;
        if (!ended && waitpid(pid, &status, WNOHANG) == pid) ended = true;
        if (ended && n <= 0) break;
        if (now_ms() - started > limit) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fprintf(stderr, "  %s: still running after %ld ms: killed\n", sc->name, limit);
            g_current_failed = 1;
            break;
        }
        if (n <= 0) sleep_ms(5);
    }
    close(out[0]);
    output[len] = '\0';
    const long long elapsed = now_ms() - started;
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "  %s: killed by signal %d\n", sc->name, WTERMSIG(status));
        g_current_failed = 1;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "  %s: exit status %d; output:\n%s\n", sc->name, WEXITSTATUS(status), output);
        g_current_failed = 1;
    }
    if (sc->expect != NULL && strstr(output, sc->expect) == NULL) {
        fprintf(stderr, "  %s: output lacks \"%s\":\n%s\n", sc->name, sc->expect, output);
        g_current_failed = 1;
    }
    printf("  %-20s exited with status %d in %lld ms\n", sc->name, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
           elapsed);
    emu_latency(0);
}

static const char *g_self;

#define SCENARIO_TEST(fn, index) \
    static void fn(void) { run_scenario(g_self, &SCENARIOS[index]); }
SCENARIO_TEST(test_exit_with_calls_in_flight, 0)
SCENARIO_TEST(test_exit_while_callbacks_run, 1)
SCENARIO_TEST(test_return_from_main_with_calls_in_flight, 2)
SCENARIO_TEST(test_return_from_main_while_callbacks_run, 3)
SCENARIO_TEST(test_exit_waits_for_a_running_callback, 4)
SCENARIO_TEST(test_exit_gives_up_on_a_stuck_callback, 5)
SCENARIO_TEST(test_exit_from_a_callback, 6)
SCENARIO_TEST(test_shutdown_stops_callbacks, 7)

int main(int argc, char **argv) {
    if (argc > 1) {
        atexit(last_exit_handler); /* before any library call: it runs after the library's */
        char thread[128];
        snprintf(thread, sizeof thread, "19:exit-%s-%d@thread.v2", argv[1], (int)getpid());
        if (strcmp(argv[1], "exit") == 0) return scenario_exit(thread, false);
        if (strcmp(argv[1], "exit-racing") == 0) return scenario_exit(thread, true);
        if (strcmp(argv[1], "return") == 0) return scenario_return(thread, false);
        if (strcmp(argv[1], "return-racing") == 0) return scenario_return(thread, true);
        if (strcmp(argv[1], "callback-running") == 0) return scenario_callback_running(thread);
        if (strcmp(argv[1], "callback-stuck") == 0) return scenario_callback_stuck(thread);
        if (strcmp(argv[1], "exit-from-callback") == 0) return scenario_exit_from_callback(thread);
        if (strcmp(argv[1], "shutdown") == 0) return scenario_shutdown(thread);
        fprintf(stderr, "unknown scenario %s\n", argv[1]);
        return 2;
    }
    g_self = argv[0];
    emu_limits(0);
    RUN(test_exit_with_calls_in_flight);
    RUN(test_exit_while_callbacks_run);
    RUN(test_return_from_main_with_calls_in_flight);
    RUN(test_return_from_main_while_callbacks_run);
    RUN(test_exit_waits_for_a_running_callback);
    RUN(test_exit_gives_up_on_a_stuck_callback);
    RUN(test_exit_from_a_callback);
    RUN(test_shutdown_stops_callbacks);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
