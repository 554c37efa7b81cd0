/* Cold start of the C API: one client, one send, then exit; prints
 * `CLIENT_READY_NS <CLOCK_MONOTONIC ns>` once the client exists and
 * `FIRST_SEND_NS <ns>` when the send has completed.
 *   cold_c URL TOKEN [CA_FILE] */
#include "bench_common.h"

#include "acs_chat.h"

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) die("usage: cold_c URL TOKEN [CA_FILE]");
    acs_client_options *options = NULL;
    acs_client *client = NULL;
    char *id = NULL;
    if (acs_client_options_new(&options)) die("acs_client_options_new failed");
    if (argc == 4 && acs_client_options_set_ca_file(options, argv[3])) die("set_ca_file failed");
    if (acs_client_new(argv[1], argv[2], options, &client)) die("acs_client_new failed");
    acs_client_options_free(options);
    printf("CLIENT_READY_NS %llu\n", (unsigned long long)now_ns());
    if (acs_send_message(client, "19:bench-cold@thread.v2", "Hello from the acs_chat benchmark",
                         NULL, &id))
        die("acs_send_message failed");
    printf("FIRST_SEND_NS %llu\n", (unsigned long long)now_ns());
    acs_string_free(id);
    acs_client_free(client);
    return 0;
}
