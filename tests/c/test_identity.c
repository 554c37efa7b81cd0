/*
 * Clients made from a connection string (acs_client_new_from_connection_string): a user
 * created once and reused by id, tokens refreshed through the identity service on demand,
 * after expiry (blocking and asynchronous calls) and after a 401, and the failures.
 * The connection string is the emulator's second line (ACS_EMULATOR_CONNECTION_STRING).
 */
#include "emulator.h"

#include <stdatomic.h>

#include "acs_chat.h"

static const char *g_conn;

/* Identity requests the emulator answered with `status` for operation `op`. */
static int identity_count(const char *op, int status) {
    emu_response r = emu_request("GET", "/_emulator/identity/requests", NULL);
    int count = 0;
    const char *p = r.body;
    char needle[64];
    snprintf(needle, sizeof needle, "\"op\":\"%s\"", op);
    while (p != NULL && (p = strstr(p, needle)) != NULL) {
        const char *status_at = json_find(r.body, "status", p);
        if (status_at != NULL && atoi(status_at) == status) count++;
        p += strlen(needle);
    }
    emu_free(&r);
    return count;
}

static void token_seconds(const char *seconds) {
    char body[64];
    snprintf(body, sizeof body, "{\"tokenSeconds\":%s}", seconds);
    emu_response r = emu_request("POST", "/_emulator/identity", body);
    if (r.status != 200) {
        fprintf(stderr, "identity control refused (%d): %s\n", r.status, r.body ? r.body : "");
        exit(2);
    }
    emu_free(&r);
}

static char *user_of(const acs_client *client) {
    char *user = NULL;
    CHECK_RC(acs_client_user_id(client, &user), ACS_RESULT_OK);
    return user;
}

static void test_connection_string_is_the_second_line(void) {
    char expected[256];
    snprintf(expected, sizeof expected, "endpoint=%s/;accesskey=", emu_url());
    CHECK(strncmp(g_conn, expected, strlen(expected)) == 0);
}

static void test_a_user_is_created_once_and_reused(void) {
    acs_client *client = NULL;
    CHECK_RC(acs_client_new_from_connection_string(g_conn, NULL, NULL, &client), ACS_RESULT_OK);
    if (client == NULL) return;
    char *user = user_of(client);
    CHECK(user != NULL && strncmp(user, "8:acs:", 6) == 0);
    char *thread = unique_thread("identity");
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);

    acs_client *again = NULL;
    CHECK_RC(acs_client_new_from_connection_string(g_conn, user, NULL, &again), ACS_RESULT_OK);
    char *same = user_of(again);
    CHECK_STR(same, user);
    char *id = NULL;
    CHECK_RC(acs_send_message(again, thread, "hello", NULL, &id), ACS_RESULT_OK);
    CHECK(emu_count(thread, "events", "user", user + 2) == 2);

    /* A client given its token has no user id; the output stays untouched. */
    char *token = emu_token(3600);
    acs_client *plain = NULL;
    CHECK_RC(acs_client_new(emu_url(), token, NULL, &plain), ACS_RESULT_OK);
    char *untouched = (char *)"unchanged";
    CHECK_RC(acs_client_user_id(plain, &untouched), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_STR(untouched, "unchanged");
    CHECK_RC(acs_client_user_id(NULL, &untouched), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_user_id(client, NULL), ACS_RESULT_NULL_PARAMETER);

    acs_client_free(plain);
    free(token);
    acs_string_free(id);
    acs_string_free(same);
    acs_string_free(user);
    acs_client_free(again);
    acs_client_free(client);
    free(thread);
}

static atomic_int g_async_result = -1;

static void on_done(void *user_data, const acs_completion *completion) {
    (void)user_data;
    atomic_store(&g_async_result, (int)acs_completion_result(completion));
}

static void test_tokens_expire_and_are_refreshed(void) {
    token_seconds("2");
    acs_client *client = NULL;
    CHECK_RC(acs_client_new_from_connection_string(g_conn, NULL, NULL, &client), ACS_RESULT_OK);
    if (client == NULL) return;
    char *thread = unique_thread("identity-refresh");
    int before = identity_count("issueAccessToken", 200);
    /* Two seconds left: refreshed on demand before the call. */
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);
    CHECK(identity_count("issueAccessToken", 200) == before + 1);
    /* Just refreshed and still valid: not again. */
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);
    CHECK(identity_count("issueAccessToken", 200) == before + 1);
    /* Expired: an asynchronous call refreshes it (on the library's blocking pool). */
    sleep_ms(2100);
    CHECK_RC(acs_send_typing_async(client, thread, NULL, on_done, NULL, NULL), ACS_RESULT_OK);
    for (int i = 0; i < 1000 * slow_factor() && atomic_load(&g_async_result) < 0; i++) sleep_ms(10);
    CHECK(atomic_load(&g_async_result) == (int)ACS_RESULT_OK);
    CHECK(identity_count("issueAccessToken", 200) == before + 2);
    /* Expired again, a long-lived token next; then a 401: one refresh, the call repeated. */
    token_seconds("null");
    sleep_ms(2100);
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);
    CHECK(identity_count("issueAccessToken", 200) == before + 3);
    emu_fault(thread, "\"op\":\"messages\",\"status\":401,"
                      "\"body\":\"{\\\"error\\\":{\\\"code\\\":\\\"Unauthorized\\\",\\\"message\\\":\\\"x\\\"}}\"");
    char *id = NULL;
    CHECK_RC(acs_send_message(client, thread, "after a 401", NULL, &id), ACS_RESULT_OK);
    CHECK(identity_count("issueAccessToken", 200) == before + 4);
    CHECK(emu_count(thread, "requests", "op", "messages") == 2);
    /* An expired token from the identity service: the call fails with ACS_RESULT_TOKEN. */
    token_seconds("-10");
    emu_fault(thread, "\"op\":\"typing\",\"status\":401");
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_TOKEN);
    token_seconds("null");
    acs_string_free(id);
    acs_client_free(client);
    free(thread);
}

static void test_failures(void) {
    acs_client *client = NULL;
    char conn[512], message[512], code[64];
    snprintf(conn, sizeof conn, "endpoint=%s/;accesskey=d3Jvbmcta2V5LXdyb25nLWtleQ==", emu_url());
    CHECK_RC(acs_client_new_from_connection_string(conn, NULL, NULL, &client), ACS_RESULT_UNAUTHORIZED);
    acs_last_error_code(code, sizeof code);
    CHECK_STR(code, "Denied");
    acs_last_error_message(message, sizeof message);
    CHECK(strstr(message, "d3Jvbmcta2V5") == NULL);
    CHECK(acs_last_error_http_status() == 401);
    CHECK_RC(acs_client_new_from_connection_string(g_conn, "8:acs:nobody", NULL, &client),
             ACS_RESULT_NOT_FOUND);
    CHECK_RC(acs_client_new_from_connection_string(g_conn, "", NULL, &client), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_new_from_connection_string("endpoint=https://x.communication.azure.com/", NULL,
                                                   NULL, &client),
             ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_new_from_connection_string(
                 "endpoint=http://example.com/;accesskey=d3Jvbmcta2V5LXdyb25nLWtleQ==", NULL, NULL, &client),
             ACS_RESULT_INSECURE_ENDPOINT);
    CHECK_RC(acs_client_new_from_connection_string(NULL, NULL, NULL, &client), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_new_from_connection_string(g_conn, NULL, NULL, NULL), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_new_from_connection_string("endpoint=\xff", NULL, NULL, &client),
             ACS_RESULT_INVALID_ARGUMENT);
    CHECK(client == NULL);
}

int main(void) {
    g_conn = getenv("ACS_EMULATOR_CONNECTION_STRING");
    if (g_conn == NULL || g_conn[0] == '\0') {
        fprintf(stderr, "ACS_EMULATOR_CONNECTION_STRING must be set (scripts/with-emulator.sh)\n");
        return 2;
    }
    RUN(test_connection_string_is_the_second_line);
    RUN(test_a_user_is_created_once_and_reused);
    RUN(test_tokens_expire_and_are_refreshed);
    RUN(test_failures);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
