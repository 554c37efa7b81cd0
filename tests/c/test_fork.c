/*
 * fork() and the library: a child may create clients and make blocking and
 * asynchronous calls, with a fresh client or one inherited from the parent,
 * even while the parent has calls in flight; it never uses the parent's
 * connections (checked through the emulator's connection numbers), and the
 * parent's calls are not disturbed.
 * Run by tests/c/run.sh and tests/c/sanitize.sh.
 */
#include "async.h"

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif

static char *g_token;
static int g_slow;

static long timeout_ms(long ms) { return ms * g_slow; }

static acs_client *new_client(void) {
    acs_client_options *o = NULL;
    acs_client *client = NULL;
    CHECK_RC(acs_client_options_new(&o), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_retry_delay_ms(o, 1, 20), ACS_RESULT_OK);
    CHECK_RC(acs_client_new(emu_url(), g_token, o, &client), ACS_RESULT_OK);
    acs_client_options_free(o);
    return client;
}

/* A thread id fixed before fork, so both processes know it. */
static char *fixed_thread(const char *tag) { return unique_thread(tag); }

/* Waits for a child at most `timeout`; kills it when the time is up. Returns its wait
   status, or -1 when it had to be killed. */
static int wait_child(pid_t pid, long timeout) {
    long long deadline = now_ms() + timeout;
    for (;;) {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0) return -2;
        if (now_ms() >= deadline) {
            fprintf(stderr, "  child %d did not finish within %ld ms: killed\n", (int)pid, timeout);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        sleep_ms(5);
    }
}

#define CHECK_CHILD_OK(status)                                                              \
    do {                                                                                    \
        int st_ = (status);                                                                 \
        CHECK(st_ >= 0 && WIFEXITED(st_) && WEXITSTATUS(st_) == 0);                         \
        if (st_ >= 0 && WIFSIGNALED(st_)) fprintf(stderr, "  child killed by signal %d\n", WTERMSIG(st_)); \
        if (st_ >= 0 && WIFEXITED(st_) && WEXITSTATUS(st_) != 0)                            \
            fprintf(stderr, "  child exited with %d\n", WEXITSTATUS(st_));                  \
    } while (0)

static volatile int g_in_child;

/* LeakSanitizer (tests/c/sanitize.sh) calls this at exit: leak checking is off in forked
   children, for the reason given at fork_flushed. Unused without the sanitizer. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void) { return g_in_child; }

/* fork(), with stdio flushed so that the child does not print the parent's buffered output
   again. In the child, leak checking (valgrind's, LeakSanitizer's) is turned off: there the
   parent's generation of the library (its runtime, pools and the tasks of the calls that
   were in flight) is abandoned on purpose and never freed (src/runtime.rs), and would count
   as lost. Memory errors still fail the child (valgrind's --error-exitcode, ASan). */
static pid_t fork_flushed(void) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        g_in_child = 1;
#ifdef VALGRIND_CLO_CHANGE
        VALGRIND_CLO_CHANGE("--leak-check=no");
#endif
    }
    return pid;
}

/* In a child: blocking and asynchronous calls through `inherited` (may be NULL) and a new
   client, all to `thread`. Returns 0 when every call succeeded; also forks a grandchild
   doing the same when `grandchild_thread` is not NULL. */
static int child_calls(const acs_client *inherited, const char *thread, const char *grandchild_thread) {
    g_current_name = "child";
    g_current_failed = 0;
    batch b;
    batch_init(&b);
    slot s[2];
    slot_init(&s[0], &b);
    slot_init(&s[1], &b);
    char *id = NULL;
    int expected = 1;
    if (inherited != NULL) {
        CHECK_RC(acs_send_message(inherited, thread, "child: inherited client, sync", NULL, &id), ACS_RESULT_OK);
        CHECK(id != NULL);
        acs_string_free(id);
        id = NULL;
        CHECK_RC(acs_send_message_async(inherited, thread, "child: inherited client, async", NULL, on_complete, &s[0], NULL),
                 ACS_RESULT_OK);
        expected = 2;
    }
    acs_client *fresh = new_client();
    CHECK_RC(acs_send_typing(fresh, thread, "child"), ACS_RESULT_OK);
    CHECK_RC(acs_send_message_async(fresh, thread, "child: new client, async", NULL, on_complete, &s[1], NULL),
             ACS_RESULT_OK);
    CHECK(batch_wait(&b, expected, timeout_ms(20000)));
    if (inherited != NULL) CHECK_SLOT(&s[0], ACS_RESULT_OK);
    CHECK_SLOT(&s[1], ACS_RESULT_OK);
    CHECK(s[1].id[0] != '\0');
    if (grandchild_thread != NULL) {
        pid_t pid = fork_flushed();
        if (pid == 0) exit(child_calls(fresh, grandchild_thread, NULL));
        CHECK(pid > 0);
        if (pid > 0) CHECK_CHILD_OK(wait_child(pid, timeout_ms(30000)));
    }
    acs_client_free(fresh);
    batch_destroy(&b);
    if (g_current_failed) fprintf(stderr, "  (in child %d)\n", (int)getpid());
    return g_current_failed;
}

/* Connection numbers (the emulator's accept order) of some threads' requests. */
typedef struct {
    long numbers[4096];
    size_t count;
} connection_set;

static void add_connections(connection_set *set, const char *thread) {
    size_t n = 0;
    long *numbers = emu_connections(thread, &n);
    for (size_t i = 0; i < n && set->count < sizeof set->numbers / sizeof set->numbers[0]; i++)
        set->numbers[set->count++] = numbers[i];
    free(numbers);
}

static bool contains(const connection_set *set, long number) {
    for (size_t i = 0; i < set->count; i++)
        if (set->numbers[i] == number) return true;
    return false;
}

/* Checks that no connection of `child` is among `parent`'s; returns how many requests the
   child thread has. */
static size_t check_disjoint(const connection_set *parent, const char *child_thread) {
    connection_set child = {{0}, 0};
    add_connections(&child, child_thread);
    for (size_t i = 0; i < child.count; i++) {
        if (contains(parent, child.numbers[i])) {
            fprintf(stderr, "  the child's request %zu came on the parent's connection %ld\n", i, child.numbers[i]);
            g_current_failed = 1;
        }
    }
    return child.count;
}

/* ---- tests -------------------------------------------------------------------- */

static void test_fork_with_call_in_flight(void) {
    acs_client *client = new_client();
    char *warm = fixed_thread("fork-warm"), *flight = fixed_thread("fork-flight");
    char *child_thread = fixed_thread("fork-child");
    char *id = NULL;
    /* a pooled keep-alive connection */
    CHECK_RC(acs_send_message(client, warm, "parent: before fork", NULL, &id), ACS_RESULT_OK);
    acs_string_free(id);
    id = NULL;

    emu_latency(300 * g_slow);
    batch b;
    batch_init(&b);
    slot s;
    slot_init(&s, &b);
    CHECK_RC(acs_send_message_async(client, flight, "parent: in flight across fork", NULL, on_complete, &s, NULL),
             ACS_RESULT_OK);
    CHECK(emu_wait_count(flight, "requests", "op", "messages", 1, timeout_ms(10000)) == 1);
    const bool in_flight = batch_done(&b) == 0;
    const long long forked_at = now_ms();
    pid_t pid = fork_flushed();
    if (pid == 0) exit(child_calls(client, child_thread, NULL));
    CHECK(pid > 0);
    CHECK(in_flight); /* the emulator answers 300 ms after it logged the request */

    /* the parent's call completes, and the child finishes, both in time */
    CHECK(batch_wait(&b, 1, timeout_ms(10000)));
    CHECK_SLOT(&s, ACS_RESULT_OK);
    CHECK(emu_count(flight, "events", "id", s.id) == 1);
    if (pid > 0) CHECK_CHILD_OK(wait_child(pid, timeout_ms(30000)));
    printf("  parent's call and child done %lld ms after fork\n", now_ms() - forked_at);
    emu_latency(0);

    connection_set parent = {{0}, 0};
    add_connections(&parent, warm);
    add_connections(&parent, flight);
    CHECK(parent.count == 2);
    CHECK(check_disjoint(&parent, child_thread) == 4);
    CHECK(emu_count(child_thread, "events", "op", "message") == 3);
    CHECK(emu_count(child_thread, "events", "op", "typing") == 1);

    /* the parent's client and pool are intact: the next call works on the parent's own connections */
    CHECK_RC(acs_send_message(client, warm, "parent: after the child", NULL, &id), ACS_RESULT_OK);
    acs_string_free(id);
    connection_set after = {{0}, 0};
    add_connections(&after, warm);
    CHECK(after.count == 2);
    if (after.count == 2) CHECK(contains(&parent, after.numbers[1]));

    batch_destroy(&b);
    free(warm);
    free(flight);
    free(child_thread);
    acs_client_free(client);
}

static void test_fork_idle_after_calls(void) {
    acs_client *client = new_client();
    char *parent_thread = fixed_thread("idle-parent"), *child_thread = fixed_thread("idle-child");
    char *grandchild_thread = fixed_thread("idle-grandchild");
    char *id = NULL;
    batch b;
    batch_init(&b);
    slot s;
    slot_init(&s, &b);
    CHECK_RC(acs_send_message(client, parent_thread, "parent: sync", NULL, &id), ACS_RESULT_OK);
    acs_string_free(id);
    id = NULL;
    CHECK_RC(acs_send_typing_async(client, parent_thread, NULL, on_complete, &s, NULL), ACS_RESULT_OK);
    CHECK(batch_wait(&b, 1, timeout_ms(10000)));
    CHECK_SLOT(&s, ACS_RESULT_OK);

    /* nothing in flight; the pool holds an idle keep-alive connection */
    pid_t pid = fork_flushed();
    if (pid == 0) exit(child_calls(client, child_thread, grandchild_thread));
    CHECK(pid > 0);
    if (pid > 0) CHECK_CHILD_OK(wait_child(pid, timeout_ms(60000)));

    connection_set parent = {{0}, 0};
    add_connections(&parent, parent_thread);
    CHECK(parent.count == 2);
    CHECK(check_disjoint(&parent, child_thread) == 4);
    CHECK(check_disjoint(&parent, grandchild_thread) == 4);
    /* the grandchild did not use its parent's (the child's) connections either */
    connection_set child = {{0}, 0};
    add_connections(&child, child_thread);
    CHECK(check_disjoint(&child, grandchild_thread) == 4);
    CHECK(emu_count(grandchild_thread, "events", "op", "message") == 3);

    CHECK_RC(acs_send_message(client, parent_thread, "parent: after", NULL, &id), ACS_RESULT_OK);
    acs_string_free(id);
    CHECK(emu_count(parent_thread, "events", "op", "message") == 2);
    batch_destroy(&b);
    free(parent_thread);
    free(child_thread);
    free(grandchild_thread);
    acs_client_free(client);
}

/* Forks repeatedly while the parent's I/O threads are busy with many calls, so that locks
   of the library are likely held at the moment of fork: every child must still finish. */
static void test_fork_while_busy(void) {
    enum { CALLS = 300, CHILDREN = 4 };
    emu_limits(0);
    emu_latency(20);
    acs_client *client = new_client();
    char *thread = fixed_thread("busy-parent");
    char *child_threads[CHILDREN];
    for (int k = 0; k < CHILDREN; k++) child_threads[k] = fixed_thread("busy-child");
    batch b;
    batch_init(&b);
    static slot slots[CALLS];
    for (int i = 0; i < CALLS; i++) {
        slot_init(&slots[i], &b);
        CHECK_RC(acs_send_message_async(client, thread, "parent: busy", NULL, on_complete, &slots[i], NULL), ACS_RESULT_OK);
    }
    pid_t pids[CHILDREN];
    int forked_in_flight = 0;
    for (int k = 0; k < CHILDREN; k++) {
        if (batch_done(&b) < CALLS) forked_in_flight++;
        pids[k] = fork_flushed();
        if (pids[k] == 0) exit(child_calls(k % 2 ? client : NULL, child_threads[k], NULL));
        CHECK(pids[k] > 0);
    }
    printf("  %d of %d forks happened with parent calls in flight\n", forked_in_flight, CHILDREN);
    CHECK(forked_in_flight > 0);
    for (int k = 0; k < CHILDREN; k++)
        if (pids[k] > 0) CHECK_CHILD_OK(wait_child(pids[k], timeout_ms(30000)));
    CHECK(batch_wait(&b, CALLS, timeout_ms(60000)));
    int not_ok = 0;
    for (int i = 0; i < CALLS; i++)
        if (atomic_load(&slots[i].calls) != 1 || slots[i].rc != ACS_RESULT_OK) not_ok++;
    CHECK(not_ok == 0);
    CHECK(emu_count(thread, "events", "op", "message") == CALLS);
    connection_set parent = {{0}, 0};
    add_connections(&parent, thread);
    for (int k = 0; k < CHILDREN; k++) {
        CHECK(check_disjoint(&parent, child_threads[k]) == (k % 2 ? 4u : 2u));
        free(child_threads[k]);
    }
    emu_latency(0);
    batch_destroy(&b);
    free(thread);
    acs_client_free(client);
}

int main(void) {
    g_token = emu_token(3600);
    g_slow = slow_factor();
    RUN(test_fork_with_call_in_flight);
    RUN(test_fork_idle_after_calls);
    RUN(test_fork_while_busy);
    free(g_token);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
