/*
 * acs_chat::client::from_connection_string and client::user_id of include/acs_chat.hpp
 * against the emulator (its connection string: ACS_EMULATOR_CONNECTION_STRING).
 * Run by tests/c/run.sh.
 */
#include "emulator.h"

#include <string>

#include "acs_chat.hpp"

static std::string g_conn;

template <typename F>
static acs_result result_of(F &&f) {
    try {
        f();
    } catch (const acs_chat::error &e) {
        return e.result();
    }
    return ACS_RESULT_OK;
}

static void test_from_connection_string(void) {
    const acs_chat::client created = acs_chat::client::from_connection_string(g_conn);
    const std::string user = created.user_id();
    CHECK(user.rfind("8:acs:", 0) == 0);
    char *thread = unique_thread("cpp-identity");
    created.send_typing(thread);

    acs_chat::client_options options;
    options.application_id("cpp-identity");
    const acs_chat::client again = acs_chat::client::from_connection_string(g_conn, user, options);
    CHECK(again.user_id() == user);
    const std::string id = again.send_message(thread, "hello");
    CHECK(!id.empty());
    CHECK(emu_count(thread, "events", "user", user.c_str() + 2) == 2);
    emu_response events = emu_thread(thread, "events");
    CHECK(events.body != NULL && strstr(events.body, "\"userAgent\":\"cpp-identity ") != NULL);
    emu_free(&events);
    free(thread);
}

static void test_failures_throw(void) {
    const std::string wrong = std::string("endpoint=") + emu_url() + "/;accesskey=d3Jvbmcta2V5";
    CHECK(result_of([&] { acs_chat::client::from_connection_string(wrong); }) == ACS_RESULT_UNAUTHORIZED);
    CHECK(result_of([&] { acs_chat::client::from_connection_string(g_conn, "8:acs:nobody"); }) ==
          ACS_RESULT_NOT_FOUND);
    CHECK(result_of([&] { acs_chat::client::from_connection_string("endpoint=x"); }) ==
          ACS_RESULT_INVALID_ARGUMENT);
    char *token = emu_token(3600);
    const acs_chat::client plain(emu_url(), token);
    free(token);
    CHECK(result_of([&] { (void)plain.user_id(); }) == ACS_RESULT_INVALID_ARGUMENT);
}

int main() {
    const char *conn = getenv("ACS_EMULATOR_CONNECTION_STRING");
    if (conn == NULL || conn[0] == '\0') {
        fprintf(stderr, "ACS_EMULATOR_CONNECTION_STRING must be set (scripts/with-emulator.sh)\n");
        return 2;
    }
    g_conn = conn;
    RUN(test_from_connection_string);
    RUN(test_failures_throw);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
