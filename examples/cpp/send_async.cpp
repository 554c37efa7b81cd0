/*
 * The asynchronous C++ wrappers of acs_chat (acs_chat.hpp): a typing notification and a
 * message in flight at once (futures), then a read receipt for the message (a callback).
 *
 *   ACS_ENDPOINT=https://<resource>.communication.azure.com \
 *   ACS_TOKEN=<user access token> ACS_THREAD_ID='19:...@thread.v2' ./send_async [text]
 */
#include <chrono>
#include <cstdlib>
#include <future>
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
    const std::string text = argc > 1 ? argv[1] : "Hello from C++, asynchronously!";

    try {
        acs_chat::client client(endpoint, token,
                                acs_chat::client_options().application_id("cpp-async-example").total_timeout(
                                    std::chrono::seconds(30)));

        // Both calls are in flight at once; neither holds a thread while it waits.
        acs_chat::message_options options;
        options.sender_display_name("C++ async example");
        acs_chat::call message_call;  // could cancel the message: message_call.cancel()
        std::future<void> typing = client.send_typing_async(thread_id, "C++ async example");
        std::future<std::string> message = client.send_message_async(thread_id, text, options, &message_call);

        typing.get();  // throws acs_chat::error if the call failed
        std::cout << "typing notification sent\n";
        const std::string id = message.get();
        std::cout << "message sent: id " << id << '\n';

        // A callback runs on one of the library's threads: keep it short, never block in it.
        std::promise<acs_chat::completion> receipt;
        client.send_read_receipt_async(thread_id, id, [&receipt](const acs_chat::completion &done) {
            receipt.set_value(done);
        });
        const acs_chat::completion done = receipt.get_future().get();
        done.throw_if_failed();
        std::cout << "read receipt sent for " << id << '\n';
    } catch (const acs_chat::error &e) {
        std::cerr << "failed: " << e.what() << " (" << e.result_str() << ", HTTP " << e.http_status()
                  << ", code \"" << e.code() << "\", request id " << e.request_id() << ")\n";
        if (e.may_have_been_delivered())
            std::cerr << "the request may still have been delivered\n";
        return 1;
    }
    return 0;
}
