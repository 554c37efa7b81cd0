/* The three blocking sends, acs_client_new and acs_client_set_token answered at once without
 * any I/O: a library for measuring what a binding adds to a call. Every other function
 * resolves from the real libacs_chat, which this library links to (dlsym on this library's
 * handle searches it first, then its dependencies). Used by benches/python/bench_binding.py. */
#include <stddef.h>

#include "acs_chat.h"

struct acs_client {
    int unused;
};

static struct acs_client stub_client;
static char stub_message_id[] = "stub-message-id";

acs_result acs_client_new(const char *endpoint, const char *token, const acs_client_options *options,
                          acs_client **client_out) {
    (void)endpoint;
    (void)token;
    (void)options;
    *client_out = &stub_client;
    return ACS_RESULT_OK;
}

void acs_client_free(acs_client *client) { (void)client; }

acs_result acs_client_set_token(const acs_client *client, const char *token) {
    (void)client;
    (void)token;
    return ACS_RESULT_OK;
}

acs_result acs_send_message(const acs_client *client, const char *thread_id, const char *content,
                            const acs_message_options *options, char **message_id_out) {
    (void)client;
    (void)thread_id;
    (void)content;
    (void)options;
    *message_id_out = stub_message_id;
    return ACS_RESULT_OK;
}

/* Only ever given stub_message_id back. */
void acs_string_free(char *s) { (void)s; }

acs_result acs_send_typing(const acs_client *client, const char *thread_id, const char *sender_display_name) {
    (void)client;
    (void)thread_id;
    (void)sender_display_name;
    return ACS_RESULT_OK;
}

acs_result acs_send_read_receipt(const acs_client *client, const char *thread_id, const char *chat_message_id) {
    (void)client;
    (void)thread_id;
    (void)chat_message_id;
    return ACS_RESULT_OK;
}
