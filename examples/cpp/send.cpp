/*
 * Sends a message, a typing notification and a read receipt to one chat thread
 * through the C++ wrappers of acs_chat (acs_chat.hpp).
 *
 *   ACS_ENDPOINT=https://<resource>.communication.azure.com \
 *   ACS_TOKEN=<user access token> ACS_THREAD_ID='19:...@thread.v2' ./send [text]
 */
#include <cstdlib>
#include <iostream>
#include <string>

#include <acs_chat.hpp>

static std::string require_env(const char *name) {
    const char *value = std::getenv(name);
    if (value == nullptr || *value == '\0') {
        std::cerr << "set " << name << " (and ACS_ENDPOINT, ACS_TOKEN, ACS_THREAD_ID)\n";
        std::exit(2);
    }
    return value;
}

int main(int argc, char **argv) {
    const std::string endpoint = require_env("ACS_ENDPOINT");
    const std::string token = require_env("ACS_TOKEN");
    const std::string thread_id = require_env("ACS_THREAD_ID");
    const std::string text = argc > 1 ? argv[1] : "Hello from C++!";

    try {
        acs_chat::client client(endpoint, token, acs_chat::client_options().application_id("cpp-example"));

        client.send_typing(thread_id, "C++ example");
        std::cout << "typing notification sent\n";

        acs_chat::message_options options;
        options.sender_display_name("C++ example").metadata("source", "examples/cpp/send.cpp");
        const std::string id = client.send_message(thread_id, text, options);
        std::cout << "message sent: id " << id << '\n';

        client.send_read_receipt(thread_id, id);
        std::cout << "read receipt sent for " << id << '\n';
    } catch (const acs_chat::error &e) {
        std::cerr << "failed: " << e.what() << " (" << e.result_str() << ", HTTP " << e.http_status()
                  << ", code \"" << e.code() << "\", request id " << e.request_id() << ")\n";
        return 1;
    }
    return 0;
}
