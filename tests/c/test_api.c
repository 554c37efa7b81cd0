/*
 * The C API end to end against the emulator: every function, every result
 * code the library can produce from C, hostile input and shared clients.
 * Run by tests/c/run.sh (under valgrind in the test command).
 */
#include "emulator.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "acs_chat.h"

static char *g_token; /* valid for an hour, minted once */

/* A client on the emulator with fast retries; extra settings through `tweak`. */
static acs_client *new_client_with(void (*tweak)(acs_client_options *)) {
    acs_client_options *options = NULL;
    acs_client *client = NULL;
    CHECK_RC(acs_client_options_new(&options), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_retry_delay_ms(options, 1, 20), ACS_RESULT_OK);
    if (tweak) tweak(options);
    CHECK_RC(acs_client_new(emu_url(), g_token, options, &client), ACS_RESULT_OK);
    acs_client_options_free(options);
    return client;
}

static acs_client *new_client(void) { return new_client_with(NULL); }

static size_t last_message(char *buf, size_t len) { return acs_last_error_message(buf, len); }

static int count_requests(const char *thread_id, const char *op) {
    emu_response r = emu_thread(thread_id, "requests");
    int n = json_count(r.body ? r.body : "", "op", op);
    emu_free(&r);
    return n;
}

/* ---- version, result strings, last error buffers ---------------------- */

static void test_version_matches_header(void) {
    CHECK_STR(acs_version(), ACS_CHAT_VERSION);
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", ACS_CHAT_VERSION_MAJOR, ACS_CHAT_VERSION_MINOR,
             ACS_CHAT_VERSION_PATCH);
    CHECK_STR(acs_version(), expected);
}

static void test_result_strings(void) {
    const acs_result codes[] = {ACS_RESULT_OK,        ACS_RESULT_NULL_PARAMETER, ACS_RESULT_INVALID_ARGUMENT,
                                ACS_RESULT_INSECURE_ENDPOINT, ACS_RESULT_UNAUTHORIZED, ACS_RESULT_FORBIDDEN,
                                ACS_RESULT_NOT_FOUND, ACS_RESULT_BAD_REQUEST,    ACS_RESULT_THROTTLED,
                                ACS_RESULT_SERVICE_ERROR, ACS_RESULT_CONNECT,    ACS_RESULT_TIMEOUT,
                                ACS_RESULT_IO,        ACS_RESULT_PROTOCOL,       ACS_RESULT_TOKEN,
                                ACS_RESULT_PANIC,     ACS_RESULT_INTERNAL};
    const unsigned values[] = {0, 1, 2, 3, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 90, 91};
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        CHECK(codes[i] == values[i]);
        const char *s = acs_result_str(codes[i]);
        CHECK(s != NULL && s[0] != '\0');
        for (size_t j = 0; j < i; j++) CHECK(strcmp(s, acs_result_str(codes[j])) != 0);
    }
    const char *unknown = acs_result_str(12345);
    CHECK(unknown != NULL && unknown[0] != '\0');
    CHECK(acs_result_str(12345) == unknown); /* static text */
}

static void test_last_error_buffers(void) {
    acs_client *client = NULL;
    CHECK_RC(acs_client_new(NULL, g_token, NULL, &client), ACS_RESULT_NULL_PARAMETER);
    CHECK(client == NULL);
    size_t full = acs_last_error_message(NULL, 0);
    CHECK(full > 0);
    char small[5];
    memset(small, 'x', sizeof small);
    CHECK(acs_last_error_message(small, sizeof small) == full);
    CHECK(strlen(small) == 4); /* len-1 bytes and a NUL */
    char *big = malloc(full + 1);
    CHECK(acs_last_error_message(big, full + 1) == full);
    CHECK(strlen(big) == full);
    CHECK(strchr(big, '\n') == NULL); /* one line */
    free(big);
    CHECK(acs_last_error_http_status() == 0);

    /* a success clears it */
    acs_client_options *options = NULL;
    CHECK_RC(acs_client_options_new(&options), ACS_RESULT_OK);
    char buf[16] = "junk";
    CHECK(acs_last_error_message(buf, sizeof buf) == 0);
    CHECK_STR(buf, "");
    CHECK(acs_last_error_code(buf, sizeof buf) == 0);
    CHECK(acs_last_error_request_id(buf, sizeof buf) == 0);
    CHECK(acs_last_error_retry_after_ms() == 0);
    acs_client_options_free(options);
}

/* ---- NULLs, frees, invalid input ---------------------------------------- */

static void test_null_parameters(void) {
    acs_client *client = new_client();
    acs_client_options *o = NULL;
    acs_message_options *m = NULL;
    char *id = (char *)"untouched";

    CHECK_RC(acs_client_new(emu_url(), NULL, NULL, &client), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_new(emu_url(), g_token, NULL, NULL), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_set_token(NULL, g_token), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_set_token(client, NULL), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_send_message(NULL, "t", "c", NULL, &id), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_send_message(client, NULL, "c", NULL, &id), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_send_message(client, "t", NULL, NULL, &id), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_send_message(client, "t", "c", NULL, NULL), ACS_RESULT_NULL_PARAMETER);
    CHECK_STR(id, "untouched");
    CHECK_RC(acs_send_typing(NULL, "t", NULL), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_send_typing(client, NULL, NULL), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_send_read_receipt(NULL, "t", "1"), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_send_read_receipt(client, NULL, "1"), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_send_read_receipt(client, "t", NULL), ACS_RESULT_NULL_PARAMETER);

    CHECK_RC(acs_client_options_new(NULL), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_options_set_api_version(NULL, "2025-03-15"), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_options_set_timeout_ms(NULL, 1000), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_options_set_connect_timeout_ms(NULL, 1000), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_options_set_max_retries(NULL, 1), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_options_set_retry_delay_ms(NULL, 1, 2), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_options_set_application_id(NULL, "app"), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_options_set_ca_file(NULL, "/x.pem"), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_options_set_allow_insecure_http(NULL, true), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_options_set_proactive_refresh(NULL, true), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_options_set_token_refresher(NULL, NULL, NULL, NULL), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_options_new(&o), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_api_version(o, NULL), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_options_set_application_id(o, NULL), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_client_options_set_ca_file(o, NULL), ACS_RESULT_NULL_PARAMETER);

    CHECK_RC(acs_message_options_new(NULL), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_message_options_set_type(NULL, ACS_MESSAGE_TYPE_HTML), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_message_options_set_sender_display_name(NULL, "n"), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_message_options_add_metadata(NULL, "k", "v"), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_message_options_new(&m), ACS_RESULT_OK);
    CHECK_RC(acs_message_options_set_sender_display_name(m, NULL), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_message_options_add_metadata(m, NULL, "v"), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_message_options_add_metadata(m, "k", NULL), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_token_sink_set(NULL, "x"), ACS_RESULT_NULL_PARAMETER);
    CHECK_RC(acs_set_log_callback(NULL, ACS_LOG_LEVEL_OFF, NULL), ACS_RESULT_OK);

    /* every _free takes NULL */
    acs_client_free(NULL);
    acs_client_options_free(NULL);
    acs_message_options_free(NULL);
    acs_string_free(NULL);

    acs_message_options_free(m);
    acs_client_options_free(o);
    acs_client_free(client);
}

static void test_invalid_arguments(void) {
    const char *bad_utf8 = "\xff\xfe bad";
    acs_client *client = new_client(), *other = NULL;
    char *id = NULL;

    CHECK_RC(acs_client_new(bad_utf8, g_token, NULL, &other), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_new(emu_url(), bad_utf8, NULL, &other), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_new("", g_token, NULL, &other), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_new("not a url", g_token, NULL, &other), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_new("127.0.0.1:99999", g_token, NULL, &other), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_new("ftp://127.0.0.1/", g_token, NULL, &other), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_new("https://user:pw@example.com", g_token, NULL, &other), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_new("https://example.com/?x=1", g_token, NULL, &other), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_new("https://example.com/", "not-a-jwt", NULL, &other), ACS_RESULT_TOKEN);
    CHECK(other == NULL);

    CHECK_RC(acs_send_message(client, "", "content", NULL, &id), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_send_message(client, "19:t@thread.v2", "", NULL, &id), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_send_message(client, bad_utf8, "content", NULL, &id), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_send_message(client, "19:t@thread.v2", bad_utf8, NULL, &id), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_send_message(client, "..", "content", NULL, &id), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_send_message(client, ".", "content", NULL, &id), ACS_RESULT_INVALID_ARGUMENT);
    CHECK(id == NULL);
    CHECK_RC(acs_send_typing(client, "", NULL), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_send_typing(client, "19:t@thread.v2", bad_utf8), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_send_read_receipt(client, "19:t@thread.v2", ""), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_send_read_receipt(client, "19:t@thread.v2", bad_utf8), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_set_token(client, bad_utf8), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_set_token(client, "a.b"), ACS_RESULT_TOKEN);

    acs_client_options *o = NULL;
    CHECK_RC(acs_client_options_new(&o), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_api_version(o, ""), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_options_set_api_version(o, bad_utf8), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_options_set_connect_timeout_ms(o, 0), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_options_set_retry_delay_ms(o, 500, 100), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_client_options_set_application_id(o, bad_utf8), ACS_RESULT_INVALID_ARGUMENT);
    acs_client_options_free(o);

    acs_message_options *m = NULL;
    CHECK_RC(acs_message_options_new(&m), ACS_RESULT_OK);
    CHECK_RC(acs_message_options_set_type(m, (acs_message_type)7), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_message_options_set_sender_display_name(m, bad_utf8), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_message_options_add_metadata(m, bad_utf8, "v"), ACS_RESULT_INVALID_ARGUMENT);
    CHECK_RC(acs_message_options_add_metadata(m, "k", bad_utf8), ACS_RESULT_INVALID_ARGUMENT);
    acs_message_options_free(m);

    char msg[256];
    last_message(msg, sizeof msg);
    CHECK(strlen(msg) > 0);
    acs_client_free(client);
}

static void test_insecure_endpoint(void) {
    acs_client *client = NULL;
    CHECK_RC(acs_client_new("http://example.com", g_token, NULL, &client), ACS_RESULT_INSECURE_ENDPOINT);
    CHECK(client == NULL);
    acs_client_options *o = NULL;
    CHECK_RC(acs_client_options_new(&o), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_allow_insecure_http(o, true), ACS_RESULT_OK);
    CHECK_RC(acs_client_new("http://example.com", g_token, o, &client), ACS_RESULT_OK);
    acs_client_free(client);
    client = NULL;
    CHECK_RC(acs_client_new("http://localhost:9", g_token, NULL, &client), ACS_RESULT_OK);
    acs_client_free(client);
    client = NULL;
    CHECK_RC(acs_client_new("http://[::1]:9", g_token, NULL, &client), ACS_RESULT_OK);
    acs_client_free(client);
    acs_client_options_free(o);
}

/* ---- the three operations --------------------------------------------- */

static void test_send_message_roundtrip(void) {
    acs_client *client = new_client();
    char *thread = unique_thread("msg");
    acs_message_options *m = NULL;
    CHECK_RC(acs_message_options_new(&m), ACS_RESULT_OK);
    CHECK_RC(acs_message_options_set_type(m, ACS_MESSAGE_TYPE_HTML), ACS_RESULT_OK);
    CHECK_RC(acs_message_options_set_sender_display_name(m, "Ada \"the\" Lovelace"), ACS_RESULT_OK);
    CHECK_RC(acs_message_options_add_metadata(m, "k1", "v1"), ACS_RESULT_OK);
    CHECK_RC(acs_message_options_add_metadata(m, "k2", "v\xc3\xa9"), ACS_RESULT_OK);

    char *id1 = NULL, *id2 = NULL;
    CHECK_RC(acs_send_message(client, thread, "<b>hello</b>", m, &id1), ACS_RESULT_OK);
    CHECK_RC(acs_send_message(client, thread, "plain \xe2\x9c\x93", NULL, &id2), ACS_RESULT_OK);
    CHECK(id1 != NULL && id1[0] != '\0');
    CHECK(id2 != NULL && id1 != NULL && strcmp(id1, id2) != 0);

    emu_response r = emu_thread(thread, "events");
    CHECK(r.status == 200);
    CHECK(json_count(r.body, "op", "message") == 2);
    CHECK(json_count(r.body, "content", "<b>hello</b>") == 1);
    CHECK(json_count(r.body, "type", "html") == 1);
    CHECK(json_count(r.body, "type", "text") == 1);
    CHECK(json_count(r.body, "senderDisplayName", "Ada \\\"the\\\" Lovelace") == 1);
    CHECK(json_count(r.body, "k1", "v1") == 1);
    CHECK(json_count(r.body, "k2", "v\xc3\xa9") == 1);
    if (id1) CHECK(json_count(r.body, "id", id1) == 1);
    emu_free(&r);

    /* on the wire: api-version default, JSON, a User-Agent in the Azure SDK form */
    r = emu_thread(thread, "requests");
    CHECK(json_count(r.body, "apiVersion", "2025-03-15") == 2);
    char *ua = json_string(r.body, "userAgent", NULL);
    const char *prefix = "azsdk-c-acs-chat/" ACS_CHAT_VERSION " (";
    CHECK(ua != NULL && strncmp(ua, prefix, strlen(prefix)) == 0);
    free(ua);
    emu_free(&r);

    acs_string_free(id1);
    acs_string_free(id2);
    acs_message_options_free(m);
    free(thread);
    acs_client_free(client);
}

static void test_typing_and_read_receipt(void) {
    acs_client *client = new_client();
    char *thread = unique_thread("ops");
    char *id = NULL;
    CHECK_RC(acs_send_message(client, thread, "hi", NULL, &id), ACS_RESULT_OK);
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);
    CHECK_RC(acs_send_typing(client, thread, "Grace"), ACS_RESULT_OK);
    if (id) CHECK_RC(acs_send_read_receipt(client, thread, id), ACS_RESULT_OK);

    emu_response r = emu_thread(thread, "events");
    CHECK(json_count(r.body, "op", "typing") == 2);
    CHECK(json_count(r.body, "senderDisplayName", "Grace") == 1);
    CHECK(json_count(r.body, "op", "readReceipt") == 1);
    if (id) CHECK(json_count(r.body, "chatMessageId", id) == 1);
    /* events come back in the order they were accepted */
    const char *m = strstr(r.body, "\"message\""), *t = strstr(r.body, "\"typing\""),
               *rr = strstr(r.body, "\"readReceipt\"");
    CHECK(m && t && rr && m < t && t < rr);
    emu_free(&r);
    acs_string_free(id);
    free(thread);
    acs_client_free(client);
}

static void set_options_everything(acs_client_options *o) {
    CHECK_RC(acs_client_options_set_api_version(o, "2024-03-07"), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_timeout_ms(o, 20000), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_connect_timeout_ms(o, 5000), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_max_retries(o, 2), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_application_id(o, "contoso-app"), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_allow_insecure_http(o, false), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_proactive_refresh(o, false), ACS_RESULT_OK);
}

static void test_client_options_on_the_wire(void) {
    acs_client *client = new_client_with(set_options_everything);
    char *thread = unique_thread("opts");
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);
    emu_response r = emu_thread(thread, "requests");
    CHECK(json_count(r.body, "apiVersion", "2024-03-07") == 1);
    char *ua = json_string(r.body, "userAgent", NULL);
    CHECK(ua != NULL && strncmp(ua, "contoso-app azsdk-c-acs-chat/", 29) == 0);
    free(ua);
    emu_free(&r);

    /* max_retries 2: a persistent 503 is tried three times */
    emu_fault(thread, "\"op\":\"typing\",\"count\":5,\"status\":503");
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_SERVICE_ERROR);
    CHECK(count_requests(thread, "typing") == 1 + 3);
    free(thread);
    acs_client_free(client);
}

static void test_ca_file_option(void) {
    acs_client_options *o = NULL;
    acs_client *client = NULL;
    CHECK_RC(acs_client_options_new(&o), ACS_RESULT_OK);
    /* a missing file is reported when the client is made, not on the first send */
    CHECK_RC(acs_client_options_set_ca_file(o, "/nonexistent/ca.pem"), ACS_RESULT_OK);
    acs_result rc = acs_client_new("https://127.0.0.1:9", g_token, o, &client);
    CHECK(rc == ACS_RESULT_INVALID_ARGUMENT);
    CHECK(client == NULL);
    acs_client_options_free(o);
}

/* ---- hostile thread ids -------------------------------------------------- */

static void test_hostile_thread_ids(void) {
    acs_client *client = new_client();
    const char *ids[] = {"a/b?c#d e", "../../chat/threads/x", "19:abc@thread.v2", "%2F%00%",
                         "x/../../y", "tab\there", "\xe3\x82\xb9\xe3\x83\xac\xe3\x83\x83\xe3\x83\x89", "..x"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char *id = NULL;
        CHECK_RC(acs_send_message(client, ids[i], "hostile", NULL, &id), ACS_RESULT_OK);
        emu_response r = emu_thread(ids[i], "events");
        if (json_count(r.body ? r.body : "", "op", "message") != 1)
            fprintf(stderr, "  thread id \"%s\" did not land in its own thread\n", ids[i]);
        CHECK(json_count(r.body ? r.body : "", "op", "message") == 1);
        emu_free(&r);
        acs_string_free(id);
    }
    acs_client_free(client);
}

/* ---- each error code ----------------------------------------------------- */

typedef struct {
    const char *fault;     /* fields after threadId */
    acs_result expected;
    uint16_t status;
    const char *code;      /* service error code, "" when none */
} fault_case;

static void test_error_statuses(void) {
    acs_client *client = new_client();
    const fault_case cases[] = {
        {"\"op\":\"messages\",\"status\":401,\"body\":\"{\\\"error\\\":{\\\"code\\\":\\\"Unauthorized\\\",\\\"message\\\":\\\"no\\\"}}\"",
         ACS_RESULT_UNAUTHORIZED, 401, "Unauthorized"},
        {"\"op\":\"messages\",\"status\":403,\"body\":\"{\\\"CommunicationError\\\":{\\\"Code\\\":\\\"Forbidden\\\",\\\"Message\\\":\\\"not a member\\\"}}\"",
         ACS_RESULT_FORBIDDEN, 403, "Forbidden"},
        {"\"op\":\"messages\",\"status\":404,\"body\":\"\"", ACS_RESULT_NOT_FOUND, 404, ""},
        {"\"op\":\"messages\",\"status\":400,\"body\":\"<html><body>bad gateway page</body></html>\"",
         ACS_RESULT_BAD_REQUEST, 400, ""},
        {"\"op\":\"messages\",\"status\":409,\"body\":\"{\\\"error\\\":{\\\"code\\\":\\\"Conflict\\\",\\\"message\\\":\\\"c\\\"}}\"",
         ACS_RESULT_BAD_REQUEST, 409, "Conflict"},
        {"\"op\":\"messages\",\"count\":4,\"status\":429,\"headers\":{\"Retry-After\":\"0\"},\"body\":\"{\\\"error\\\":{\\\"code\\\":\\\"TooManyRequests\\\",\\\"message\\\":\\\"slow down\\\"}}\"",
         ACS_RESULT_THROTTLED, 429, "TooManyRequests"},
        {"\"op\":\"messages\",\"count\":4,\"status\":503,\"body\":\"{\\\"error\\\":{\\\"code\\\":\\\"ServiceUnavailable\\\",\\\"message\\\":\\\"down\\\"}}\"",
         ACS_RESULT_SERVICE_ERROR, 503, "ServiceUnavailable"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *thread = unique_thread("status");
        emu_fault(thread, cases[i].fault);
        char *id = (char *)"untouched";
        CHECK_RC(acs_send_message(client, thread, "x", NULL, &id), cases[i].expected);
        CHECK_STR(id, "untouched");
        CHECK(acs_last_error_http_status() == cases[i].status);
        char code[64], request_id[128], message[512];
        acs_last_error_code(code, sizeof code);
        CHECK_STR(code, cases[i].code);
        CHECK(acs_last_error_request_id(request_id, sizeof request_id) > 0); /* MS-CV */
        CHECK(acs_last_error_message(message, sizeof message) > 0);
        CHECK(strstr(message, g_token) == NULL);
        emu_response r = emu_thread(thread, "events");
        CHECK(json_count(r.body, "op", "message") == 0);
        emu_free(&r);
        free(thread);
    }
    acs_client_free(client);
}

static void test_retry_after_is_reported(void) {
    acs_client *client = new_client_with(NULL);
    char *thread = unique_thread("ra");
    acs_client_options *o = NULL;
    acs_client *no_retry = NULL;
    CHECK_RC(acs_client_options_new(&o), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_max_retries(o, 0), ACS_RESULT_OK);
    CHECK_RC(acs_client_new(emu_url(), g_token, o, &no_retry), ACS_RESULT_OK);
    emu_fault(thread, "\"op\":\"typing\",\"status\":429,\"headers\":{\"Retry-After\":\"7\"}");
    CHECK_RC(acs_send_typing(no_retry, thread, NULL), ACS_RESULT_THROTTLED);
    CHECK(acs_last_error_retry_after_ms() == 7000);
    emu_fault(thread, "\"op\":\"typing\",\"status\":429,\"headers\":{\"retry-after-ms\":\"1500\",\"Retry-After\":\"9\"}");
    CHECK_RC(acs_send_typing(no_retry, thread, NULL), ACS_RESULT_THROTTLED);
    CHECK(acs_last_error_retry_after_ms() == 1500);
    /* retried once, then succeeds: the delay header is honoured, not an error */
    emu_fault(thread, "\"op\":\"typing\",\"status\":429,\"headers\":{\"retry-after-ms\":\"50\"}");
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);
    CHECK(acs_last_error_retry_after_ms() == 0);
    CHECK(count_requests(thread, "typing") == 4);
    acs_client_options_free(o);
    acs_client_free(no_retry);
    acs_client_free(client);
    free(thread);
}

static void test_connect_refused(void) {
    acs_client_options *o = NULL;
    acs_client *client = NULL;
    CHECK_RC(acs_client_options_new(&o), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_max_retries(o, 1), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_retry_delay_ms(o, 1, 5), ACS_RESULT_OK);
    CHECK_RC(acs_client_new("http://127.0.0.1:1", g_token, o, &client), ACS_RESULT_OK);
    char *id = NULL;
    CHECK_RC(acs_send_message(client, "19:x@thread.v2", "x", NULL, &id), ACS_RESULT_CONNECT);
    CHECK(id == NULL);
    CHECK(acs_last_error_http_status() == 0);
    char request_id[128];
    CHECK(acs_last_error_request_id(request_id, sizeof request_id) > 0); /* ours, for support */
    CHECK_RC(acs_send_typing(client, "19:x@thread.v2", NULL), ACS_RESULT_CONNECT);
    CHECK_RC(acs_send_read_receipt(client, "19:x@thread.v2", "1"), ACS_RESULT_CONNECT);
    acs_client_options_free(o);
    acs_client_free(client);
}

static void short_timeout(acs_client_options *o) {
    CHECK_RC(acs_client_options_set_timeout_ms(o, 700), ACS_RESULT_OK);
}

static void test_timeout_and_broken_connection(void) {
    acs_client *client = new_client_with(short_timeout);
    char *thread = unique_thread("to");
    char *id = NULL;

    /* send-message is never retried after the request may have been delivered */
    emu_fault(thread, "\"op\":\"messages\",\"delayMs\":3000,\"status\":201,\"body\":\"{\\\"id\\\":\\\"1\\\"}\"");
    CHECK_RC(acs_send_message(client, thread, "x", NULL, &id), ACS_RESULT_TIMEOUT);
    CHECK(count_requests(thread, "messages") == 1);
    emu_fault(thread, "\"op\":\"messages\",\"action\":\"drop\"");
    CHECK_RC(acs_send_message(client, thread, "x", NULL, &id), ACS_RESULT_IO);
    CHECK(count_requests(thread, "messages") == 2);
    CHECK(id == NULL);
    char message[512];
    acs_last_error_message(message, sizeof message);
    CHECK(strstr(message, "may") != NULL); /* says the message may have been delivered */

    /* typing and read receipts are safe to repeat: retried */
    emu_fault(thread, "\"op\":\"typing\",\"action\":\"drop\"");
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);
    CHECK(count_requests(thread, "typing") == 2);
    emu_fault(thread, "\"op\":\"readReceipts\",\"delayMs\":3000,\"status\":200");
    CHECK_RC(acs_send_read_receipt(client, thread, "123"), ACS_RESULT_OK);
    CHECK(count_requests(thread, "readReceipts") == 2);
    free(thread);
    acs_client_free(client);
}

static void test_protocol_errors(void) {
    acs_client *client = new_client();
    char *thread = unique_thread("proto");
    char *id = NULL;

    /* a 201 without an id but with Location: the id comes from Location */
    emu_fault(thread, "\"op\":\"messages\",\"status\":201,\"headers\":{\"Location\":\"http://127.0.0.1/chat/threads/t/messages/1700000000123\"},\"body\":\"{}\"");
    CHECK_RC(acs_send_message(client, thread, "x", NULL, &id), ACS_RESULT_OK);
    CHECK_STR(id, "1700000000123");
    acs_string_free(id);
    id = NULL;

    emu_fault(thread, "\"op\":\"messages\",\"status\":201,\"body\":\"{\\\"id\\\":\"");
    CHECK_RC(acs_send_message(client, thread, "x", NULL, &id), ACS_RESULT_PROTOCOL);
    CHECK(acs_last_error_http_status() == 201);
    emu_fault(thread, "\"op\":\"messages\",\"status\":302,\"headers\":{\"Location\":\"http://127.0.0.2:9/steal\"}");
    CHECK_RC(acs_send_message(client, thread, "x", NULL, &id), ACS_RESULT_PROTOCOL);
    CHECK(acs_last_error_http_status() == 302);
    emu_fault(thread, "\"op\":\"messages\",\"action\":\"oversize\"");
    CHECK_RC(acs_send_message(client, thread, "x", NULL, &id), ACS_RESULT_PROTOCOL);
    emu_fault(thread, "\"op\":\"typing\",\"action\":\"oversize\"");
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_PROTOCOL);
    CHECK(id == NULL);
    CHECK(count_requests(thread, "messages") == 4); /* none retried */
    free(thread);
    acs_client_free(client);
}

/* ---- tokens -------------------------------------------------------------- */

static void test_set_token(void) {
    acs_client *client = new_client();
    char *thread = unique_thread("tok");
    char *expired = emu_token(-60);
    char *fresh = emu_token(3600);
    /* an expired token without a refresher is sent as is and the service refuses it */
    CHECK_RC(acs_client_set_token(client, expired), ACS_RESULT_OK);
    acs_result rc = acs_send_typing(client, thread, NULL);
    CHECK(rc == ACS_RESULT_UNAUTHORIZED || rc == ACS_RESULT_TOKEN);
    char message[512];
    acs_last_error_message(message, sizeof message);
    CHECK(strstr(message, expired) == NULL);
    CHECK_RC(acs_client_set_token(client, fresh), ACS_RESULT_OK);
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);
    free(expired);
    free(fresh);
    free(thread);
    acs_client_free(client);
}

typedef struct {
    int calls;
    long expires_in;
    int fail;
    int freed;
} refresher_state;

static acs_result refresh(void *user_data, acs_token_sink *sink) {
    refresher_state *st = user_data;
    st->calls++;
    if (st->fail) return ACS_RESULT_TOKEN;
    char *token = emu_token(st->expires_in);
    acs_result rc = acs_token_sink_set(sink, token);
    free(token);
    return rc;
}

static void free_state(void *user_data) { ((refresher_state *)user_data)->freed++; }

static acs_client *client_with_refresher(refresher_state *st, const char *initial) {
    acs_client_options *o = NULL;
    acs_client *client = NULL;
    CHECK_RC(acs_client_options_new(&o), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_retry_delay_ms(o, 1, 5), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_token_refresher(o, refresh, st, free_state), ACS_RESULT_OK);
    CHECK_RC(acs_client_new(emu_url(), initial, o, &client), ACS_RESULT_OK);
    acs_client_options_free(o);
    return client;
}

static void test_token_refresher(void) {
    refresher_state st = {0, 3600, 0, 0};
    char *near_expiry = emu_token(60); /* inside the 2-minute on-demand window */
    char *thread = unique_thread("refresh");
    acs_client *client = client_with_refresher(&st, near_expiry);
    CHECK(st.freed == 0);

    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);
    CHECK(st.calls == 1);
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);
    CHECK(st.calls == 1); /* the new token lasts an hour */

    /* a 401 refreshes once and repeats the call */
    emu_fault(thread, "\"op\":\"readReceipts\",\"status\":401");
    CHECK_RC(acs_send_read_receipt(client, thread, "42"), ACS_RESULT_OK);
    CHECK(st.calls == 2);
    CHECK(count_requests(thread, "readReceipts") == 2);

    acs_client_free(client);
    CHECK(st.freed == 1);
    free(near_expiry);
    free(thread);
}

static void test_token_refresher_failures(void) {
    char *near_expiry = emu_token(30);
    char *thread = unique_thread("refresh-bad");

    refresher_state failing = {0, 3600, 1, 0};
    acs_client *client = client_with_refresher(&failing, near_expiry);
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_TOKEN);
    CHECK(failing.calls >= 1 && failing.calls <= 2);
    acs_client_free(client);

    refresher_state expired = {0, -10, 0, 0};
    client = client_with_refresher(&expired, near_expiry);
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_TOKEN);
    int after_first = expired.calls;
    CHECK(after_first >= 1 && after_first <= 2);
    acs_client_free(client);

    /* a refresher that keeps handing out tokens about to expire: no hot loop */
    refresher_state short_lived = {0, 5, 0, 0};
    client = client_with_refresher(&short_lived, near_expiry);
    for (int i = 0; i < 5; i++) CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);
    CHECK(short_lived.calls >= 1 && short_lived.calls <= 5);
    acs_client_free(client);
    CHECK(failing.freed == 1 && expired.freed == 1 && short_lived.freed == 1);
    free(near_expiry);
    free(thread);
}

/* ---- logging ------------------------------------------------------------- */

typedef struct {
    int lines;
    int leaked_token;
    int bad_level;
} log_state;

static void on_log(void *user_data, acs_log_level level, const char *message) {
    log_state *st = user_data;
    st->lines++;
    if (strstr(message, g_token) != NULL) st->leaked_token++;
    if (level < ACS_LOG_LEVEL_ERROR || level > ACS_LOG_LEVEL_TRACE) st->bad_level++;
}

static void test_log_callback(void) {
    log_state st = {0, 0, 0};
    CHECK_RC(acs_set_log_callback(on_log, ACS_LOG_LEVEL_TRACE, &st), ACS_RESULT_OK);
    acs_client *client = new_client();
    char *thread = unique_thread("log");
    CHECK_RC(acs_send_typing(client, thread, "logger"), ACS_RESULT_OK);
    emu_fault(thread, "\"op\":\"typing\",\"status\":500");
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);
    CHECK_RC(acs_set_log_callback(NULL, ACS_LOG_LEVEL_OFF, NULL), ACS_RESULT_OK);
    int seen = st.lines;
    CHECK(seen >= 3);
    CHECK(st.leaked_token == 0);
    CHECK(st.bad_level == 0);
    CHECK_RC(acs_send_typing(client, thread, NULL), ACS_RESULT_OK);
    CHECK(st.lines == seen); /* off means off */
    CHECK_RC(acs_set_log_callback(on_log, (acs_log_level)99, &st), ACS_RESULT_INVALID_ARGUMENT);
    free(thread);
    acs_client_free(client);
}

/* ---- one client, many threads ----------------------------------------- */

#define WORKERS 8
#define PER_WORKER 6

typedef struct {
    const acs_client *client;
    char *thread_id;
    int ok;
    int distinct_ids;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    char *ids[PER_WORKER] = {0};
    for (int i = 0; i < PER_WORKER; i++) {
        char text[32];
        snprintf(text, sizeof text, "m%d", i);
        if (acs_send_message(w->client, w->thread_id, text, NULL, &ids[i]) == ACS_RESULT_OK &&
            acs_send_typing(w->client, w->thread_id, NULL) == ACS_RESULT_OK)
            w->ok++;
    }
    w->distinct_ids = 1;
    for (int i = 0; i < PER_WORKER; i++)
        for (int j = 0; j < i; j++)
            if (!ids[i] || !ids[j] || strcmp(ids[i], ids[j]) == 0) w->distinct_ids = 0;
    for (int i = 0; i < PER_WORKER; i++) acs_string_free(ids[i]);
    return NULL;
}

static void test_many_threads_one_client(void) {
    emu_limits(0);
    acs_client *client = new_client();
    pthread_t threads[WORKERS];
    worker workers[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        workers[i] = (worker){client, unique_thread("mt"), 0, 0};
        CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
    }
    /* swapping the token while others send is safe */
    char *fresh = emu_token(7200);
    CHECK_RC(acs_client_set_token(client, fresh), ACS_RESULT_OK);
    free(fresh);
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(threads[i], NULL);
        CHECK(workers[i].ok == PER_WORKER);
        CHECK(workers[i].distinct_ids == 1);
        emu_response r = emu_thread(workers[i].thread_id, "events");
        CHECK(json_count(r.body, "op", "message") == PER_WORKER);
        emu_free(&r);
        free(workers[i].thread_id);
    }
    acs_client_free(client);
    emu_limits(1);
}

static void test_service_limits_surface_as_throttled(void) {
    acs_client_options *o = NULL;
    acs_client *client = NULL;
    CHECK_RC(acs_client_options_new(&o), ACS_RESULT_OK);
    CHECK_RC(acs_client_options_set_max_retries(o, 0), ACS_RESULT_OK);
    CHECK_RC(acs_client_new(emu_url(), g_token, o, &client), ACS_RESULT_OK);
    char *thread = unique_thread("limits");
    int ok = 0, throttled = 0;
    for (int i = 0; i < 7; i++) {
        acs_result rc = acs_send_typing(client, thread, NULL);
        if (rc == ACS_RESULT_OK) ok++;
        if (rc == ACS_RESULT_THROTTLED) {
            throttled++;
            CHECK(acs_last_error_retry_after_ms() >= 1000);
        }
    }
    CHECK(ok == 5); /* typing: 5 per user per thread per 10 s */
    CHECK(throttled == 2);
    free(thread);
    acs_client_options_free(o);
    acs_client_free(client);
}

int main(void) {
    g_token = emu_token(3600);
    RUN(test_version_matches_header);
    RUN(test_result_strings);
    RUN(test_last_error_buffers);
    RUN(test_null_parameters);
    RUN(test_invalid_arguments);
    RUN(test_insecure_endpoint);
    RUN(test_send_message_roundtrip);
    RUN(test_typing_and_read_receipt);
    RUN(test_client_options_on_the_wire);
    RUN(test_ca_file_option);
    RUN(test_hostile_thread_ids);
    RUN(test_error_statuses);
    RUN(test_retry_after_is_reported);
    RUN(test_connect_refused);
    RUN(test_timeout_and_broken_connection);
    RUN(test_protocol_errors);
    RUN(test_set_token);
    RUN(test_token_refresher);
    RUN(test_token_refresher_failures);
    RUN(test_log_callback);
    RUN(test_many_threads_one_client);
    RUN(test_service_limits_surface_as_throttled);
    free(g_token);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
