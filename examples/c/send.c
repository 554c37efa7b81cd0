/*
 * Sends a chat message, a typing notification and a read receipt to one
 * ACS Chat thread through the acs_chat C API.
 *
 *   ACS_ENDPOINT=https://<resource>.communication.azure.com \
 *   ACS_TOKEN=<user access token> ACS_THREAD_ID=<thread id> ./send [text]
 *
 * or, with the resource's connection string instead of an endpoint and a token
 * (the client gets its own tokens; ACS_USER_ID, if set, names the user to act as,
 * otherwise a new user is created and its id printed):
 *
 *   ACS_CONNECTION_STRING='endpoint=https://<resource>.communication.azure.com/;accesskey=<key>' \
 *   ACS_THREAD_ID=<thread id> ./send [text]
 */
#include <stdio.h>
#include <stdlib.h>

#include "acs_chat.h"

/* Prints what the last failed call on this thread reported and returns 1. */
static int report(const char *what, acs_result rc) {
    char message[512], code[128], request_id[128];
    acs_last_error_message(message, sizeof message);
    acs_last_error_code(code, sizeof code);
    acs_last_error_request_id(request_id, sizeof request_id);
    fprintf(stderr, "%s failed: %s (%u)\n", what, acs_result_str(rc), (unsigned)rc);
    fprintf(stderr, "  %s\n", message);
    if (acs_last_error_http_status() != 0)
        fprintf(stderr, "  HTTP %u, service code \"%s\"\n", (unsigned)acs_last_error_http_status(), code);
    if (request_id[0] != '\0')
        fprintf(stderr, "  request id %s\n", request_id);
    return 1;
}

static const char *require_env(const char *name) {
    const char *value = getenv(name);
    if (value == NULL || value[0] == '\0') {
        fprintf(stderr, "set %s (see README: \"Talking to a real ACS resource\")\n", name);
        exit(2);
    }
    return value;
}

/* A client from ACS_CONNECTION_STRING (and ACS_USER_ID) if set, else from ACS_ENDPOINT and ACS_TOKEN. */
static acs_result new_client(acs_client **client) {
    const char *connection_string = getenv("ACS_CONNECTION_STRING");
    if (connection_string == NULL || connection_string[0] == '\0') {
        const char *endpoint = require_env("ACS_ENDPOINT");
        const char *token = require_env("ACS_TOKEN");
        printf("acs_chat %s -> %s\n", acs_version(), endpoint);
        acs_result rc = acs_client_new(endpoint, token, NULL, client);
        if (rc != ACS_RESULT_OK)
            report("acs_client_new", rc);
        return rc;
    }
    const char *user_id = getenv("ACS_USER_ID");
    if (user_id != NULL && user_id[0] == '\0')
        user_id = NULL;
    /* The connection string holds the access key: never print it. */
    printf("acs_chat %s -> the resource of ACS_CONNECTION_STRING\n", acs_version());
    acs_result rc = acs_client_new_from_connection_string(connection_string, user_id, NULL, client);
    if (rc != ACS_RESULT_OK) {
        report("acs_client_new_from_connection_string", rc);
        return rc;
    }
    char *user = NULL;
    if (acs_client_user_id(*client, &user) == ACS_RESULT_OK) {
        printf("acting as user      %s%s\n", user, user_id ? "" : " (new: set ACS_USER_ID to reuse it)");
        acs_string_free(user);
    }
    return rc;
}

int main(int argc, char **argv) {
    const char *thread_id = require_env("ACS_THREAD_ID");
    const char *text = argc > 1 ? argv[1] : "Hello from acs_chat";
    int failed = 0;

    acs_client *client = NULL;
    acs_result rc = new_client(&client);
    if (rc != ACS_RESULT_OK)
        return 1;

    acs_message_options *options = NULL;
    if ((rc = acs_message_options_new(&options)) != ACS_RESULT_OK ||
        (rc = acs_message_options_set_sender_display_name(options, "acs_chat demo")) != ACS_RESULT_OK ||
        (rc = acs_message_options_add_metadata(options, "origin", "examples/c/send.c")) != ACS_RESULT_OK) {
        acs_message_options_free(options);
        acs_client_free(client);
        return report("building message options", rc);
    }

    char *message_id = NULL;
    rc = acs_send_message(client, thread_id, text, options, &message_id);
    acs_message_options_free(options);
    if (rc == ACS_RESULT_OK) {
        printf("sent message        id=%s  text=\"%s\"\n", message_id, text);
    } else {
        failed |= report("acs_send_message", rc);
    }

    rc = acs_send_typing(client, thread_id, "acs_chat demo");
    if (rc == ACS_RESULT_OK)
        printf("sent typing notification\n");
    else
        failed |= report("acs_send_typing", rc);

    if (message_id != NULL) {
        rc = acs_send_read_receipt(client, thread_id, message_id);
        if (rc == ACS_RESULT_OK)
            printf("sent read receipt   for message %s\n", message_id);
        else
            failed |= report("acs_send_read_receipt", rc);
    }

    acs_string_free(message_id);
    acs_client_free(client);
    return failed;
}
