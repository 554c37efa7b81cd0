/*
 * The asynchronous C++ wrappers of include/acs_chat.hpp end to end against the
 * emulator: futures, callbacks (move-only ones too), acs_chat::call
 * cancellation, acs_chat::error's details, and client lifetime.
 * Run by tests/c/run.sh and tests/c/sanitize.sh.
 */
#include "emulator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "acs_chat.hpp"

using namespace std::chrono_literals;

static std::string g_token;
static int g_slow;

static std::chrono::milliseconds limit(long ms) { return std::chrono::milliseconds(ms * g_slow); }

static acs_chat::client_options fast_retries() {
    acs_chat::client_options o;
    o.retry_delay(1ms, 20ms);
    return o;
}

static std::string thread_id(const char *tag) {
    char *t = unique_thread(tag);
    std::string s(t);
    free(t);
    return s;
}

static int count(const std::string &thread, const char *what, const char *key, const std::string &value) {
    return emu_count(thread.c_str(), what, key, value.c_str());
}

template <typename T>
static bool ready(std::future<T> &f, std::chrono::milliseconds within) {
    return f.wait_for(within) == std::future_status::ready;
}

/* Runs `f` and returns the acs_chat::error it throws; CHECKs that it throws one. */
template <typename F>
static acs_chat::error error_of(F &&f) {
    try {
        f();
    } catch (const acs_chat::error &e) {
        return e;
    } catch (const std::exception &e) {
        fprintf(stderr, "  %s: unexpected exception: %s\n", g_current_name, e.what());
    }
    fprintf(stderr, "  %s: no acs_chat::error was thrown\n", g_current_name);
    g_current_failed = 1;
    return acs_chat::error(ACS_RESULT_INTERNAL);
}

/* ---- futures ---------------------------------------------------------------------- */

static void test_futures() {
    acs_chat::client client(emu_url(), g_token, fast_retries());
    const std::string thread = thread_id("cpp-futures");
    acs_chat::message_options options;
    options.sender_display_name("C++ async").metadata("k", "v");

    std::future<std::string> id = client.send_message_async(thread, "hello from a future", options);
    std::future<void> typing = client.send_typing_async(thread, "C++ typist");
    CHECK(ready(id, limit(10000)));
    CHECK(ready(typing, limit(10000)));
    const std::string message_id = id.get();
    typing.get();
    CHECK(!message_id.empty());
    std::future<void> receipt = client.send_read_receipt_async(thread, message_id);
    CHECK(ready(receipt, limit(10000)));
    receipt.get();

    CHECK(count(thread, "events", "id", message_id) == 1);
    CHECK(count(thread, "events", "content", "hello from a future") == 1);
    CHECK(count(thread, "events", "senderDisplayName", "C++ async") == 1);
    CHECK(count(thread, "events", "k", "v") == 1);
    CHECK(count(thread, "events", "senderDisplayName", "C++ typist") == 1);
    CHECK(count(thread, "events", "chatMessageId", message_id) == 1);
    /* no name: typing sends none */
    client.send_typing_async(thread).get();
    CHECK(count(thread, "events", "op", "typing") == 2);
}

static void test_future_failure_carries_details() {
    acs_chat::client client(emu_url(), g_token, fast_retries().max_retries(0));
    const std::string thread = thread_id("cpp-fail");
    emu_fault(thread.c_str(), "\"op\":\"messages\",\"status\":503,\"headers\":{\"Retry-After\":\"2\"},"
                              "\"body\":\"{\\\"error\\\":{\\\"code\\\":\\\"ServiceUnavailable\\\",\\\"message\\\":\\\"down for now\\\"}}\"");
    std::future<std::string> id = client.send_message_async(thread, "x");
    CHECK(ready(id, limit(10000)));
    acs_chat::error e = error_of([&] { id.get(); });
    CHECK(e.result() == ACS_RESULT_SERVICE_ERROR);
    CHECK(e.http_status() == 503);
    CHECK_STR(e.code().c_str(), "ServiceUnavailable");
    CHECK(!e.request_id().empty());
    CHECK(e.retry_after() == 2000ms);
    CHECK(!e.may_have_been_delivered());
    CHECK(std::string(e.what()).find("down for now") != std::string::npos);
    CHECK(std::string(e.what()).find(g_token) == std::string::npos);
    CHECK(count(thread, "events", "op", "message") == 0);
}

/* ---- callbacks ---------------------------------------------------------------------- */

static void test_callbacks() {
    acs_chat::client client(emu_url(), g_token, fast_retries());
    const std::string thread = thread_id("cpp-callbacks");

    /* a move-only callable: the wrapper keeps it on the heap, not in a std::function */
    auto message_promise = std::make_unique<std::promise<acs_chat::completion>>();
    std::future<acs_chat::completion> message = message_promise->get_future();
    acs_chat::call handle = client.send_message_async(
        thread, "hello from a callback",
        [p = std::move(message_promise)](const acs_chat::completion &c) { p->set_value(c); });
    CHECK(ready(message, limit(10000)));
    const acs_chat::completion sent = message.get();
    CHECK(sent.ok() && static_cast<bool>(sent));
    CHECK(sent.result() == ACS_RESULT_OK);
    CHECK(!sent.message_id().empty());
    CHECK(sent.http_status() == 201 && !sent.request_id().empty()); /* the answer, on success too */
    CHECK(sent.error_message().empty() && !sent.may_have_been_delivered());
    sent.throw_if_failed(); /* no-op on success */
    handle.cancel();        /* after completion: no-op */
    CHECK(count(thread, "events", "id", sent.message_id()) == 1);

    /* options, typing with and without a name, a receipt; by-value parameters work too */
    acs_chat::message_options options;
    options.type(ACS_MESSAGE_TYPE_HTML);
    std::promise<std::string> html_id;
    client.send_message_async(thread, "<i>html</i>", options,
                              [&html_id](acs_chat::completion c) { html_id.set_value(c.message_id()); });
    std::promise<acs_result> typed, typed_named, receipt;
    client.send_typing_async(thread, [&typed](const acs_chat::completion &c) { typed.set_value(c.result()); });
    client.send_typing_async(thread, "named", [&typed_named](const acs_chat::completion &c) { typed_named.set_value(c.result()); });
    client.send_read_receipt_async(thread, sent.message_id(),
                                   [&receipt](const acs_chat::completion &c) { receipt.set_value(c.result()); });
    auto html = html_id.get_future();
    auto t1 = typed.get_future(), t2 = typed_named.get_future(), r = receipt.get_future();
    CHECK(ready(html, limit(10000)) && ready(t1, limit(10000)) && ready(t2, limit(10000)) && ready(r, limit(10000)));
    const std::string html_message = html.get();
    CHECK(t1.get() == ACS_RESULT_OK);
    CHECK(t2.get() == ACS_RESULT_OK);
    CHECK(r.get() == ACS_RESULT_OK);
    CHECK(count(thread, "events", "id", html_message) == 1);
    CHECK(count(thread, "events", "type", "html") == 1);
    CHECK(count(thread, "events", "op", "typing") == 2);
    CHECK(count(thread, "events", "senderDisplayName", "named") == 1);
    CHECK(count(thread, "events", "chatMessageId", sent.message_id()) == 1);
}

static void test_callback_failure_and_throw_if_failed() {
    acs_chat::client client(emu_url(), g_token, fast_retries().max_retries(0));
    const std::string thread = thread_id("cpp-cb-fail");
    emu_fault(thread.c_str(), "\"op\":\"typing\",\"status\":429,\"headers\":{\"retry-after-ms\":\"1500\"}");
    std::promise<acs_chat::completion> done;
    client.send_typing_async(thread, [&done](const acs_chat::completion &c) { done.set_value(c); });
    auto f = done.get_future();
    CHECK(ready(f, limit(10000)));
    const acs_chat::completion c = f.get();
    CHECK(!c.ok());
    CHECK(c.result() == ACS_RESULT_THROTTLED);
    CHECK(c.http_status() == 429);
    CHECK(c.retry_after() == 1500ms);
    CHECK(!c.error_message().empty());
    acs_chat::error e = error_of([&] { c.throw_if_failed(); });
    CHECK(e.result() == ACS_RESULT_THROTTLED);
    CHECK(e.http_status() == 429);
    CHECK(e.retry_after() == 1500ms);
    CHECK(e.request_id() == c.request_id());
}

/* A blocking call inside a callback throws (and the callback must not let it escape). */
static void test_blocking_call_in_callback_throws() {
    acs_chat::client client(emu_url(), g_token, fast_retries());
    const std::string thread = thread_id("cpp-cb-block");
    std::promise<acs_result> refused;
    client.send_message_async(thread, "outer", [&](const acs_chat::completion &) {
        try {
            client.send_typing(thread);
            refused.set_value(ACS_RESULT_OK);
        } catch (const acs_chat::error &e) {
            refused.set_value(e.result());
        }
    });
    auto f = refused.get_future();
    CHECK(ready(f, limit(10000)));
    CHECK(f.get() == ACS_RESULT_INVALID_ARGUMENT);
    CHECK(count(thread, "requests", "op", "typing") == 0);
}

/* ---- cancellation and the call handle ------------------------------------------------- */

static void test_cancel_through_call_handle() {
    acs_chat::client client(emu_url(), g_token, fast_retries());
    const std::string thread = thread_id("cpp-cancel");
    emu_latency(300 * g_slow);
    acs_chat::call handle;
    CHECK(!handle);
    handle.cancel(); /* empty: a no-op */
    std::future<std::string> id = client.send_message_async(thread, "cancelled in flight", &handle);
    CHECK(static_cast<bool>(handle));
    CHECK(emu_wait_count(thread.c_str(), "requests", "op", "messages", 1, 10000 * g_slow) == 1);
    handle.cancel();
    handle.cancel();
    CHECK(ready(id, limit(10000)));
    acs_chat::error e = error_of([&] { id.get(); });
    CHECK(e.result() == ACS_RESULT_CANCELLED);
    CHECK(e.may_have_been_delivered()); /* it was sent... */
    CHECK(emu_wait_count(thread.c_str(), "events", "content", "cancelled in flight", 1, 5000 * g_slow) == 1); /* ...and stored */
    emu_latency(0);

    /* the handle moves; a moved-from one is empty */
    acs_chat::call moved = std::move(handle);
    CHECK(static_cast<bool>(moved));
    CHECK(!handle); /* NOLINT: checking the moved-from state on purpose */
    moved.cancel();

    /* cancelling before the request goes out: the only connection is held by a slow call */
    acs_chat::client one(emu_url(), g_token, fast_retries().max_connections_per_origin(1));
    const std::string slow_thread = thread_id("cpp-occupier");
    emu_fault(slow_thread.c_str(), "\"op\":\"typing\",\"delayMs\":600000,\"status\":200");
    acs_chat::call occupier;
    std::future<void> slow = one.send_typing_async(slow_thread, "", &occupier);
    CHECK(emu_wait_count(slow_thread.c_str(), "requests", "op", "typing", 1, 10000 * g_slow) == 1);
    acs_chat::call queued_handle;
    std::future<std::string> queued = one.send_message_async(thread, "never sent", &queued_handle);
    queued_handle.cancel();
    CHECK(ready(queued, limit(10000)));
    acs_chat::error early = error_of([&] { queued.get(); });
    CHECK(early.result() == ACS_RESULT_CANCELLED);
    CHECK(!early.may_have_been_delivered());
    occupier.cancel();
    CHECK(ready(slow, limit(10000)));
    CHECK(error_of([&] { slow.get(); }).result() == ACS_RESULT_CANCELLED);
    CHECK(count(thread, "events", "content", "never sent") == 0);
}

/* ---- submit errors -------------------------------------------------------------------- */

static void test_submit_errors_throw_at_once() {
    acs_chat::client client(emu_url(), g_token, fast_retries());
    std::atomic<int> called{0};
    auto on_done = [&called](const acs_chat::completion &) { called++; };

    CHECK(error_of([&] { (void)client.send_message_async("", "x"); }).result() == ACS_RESULT_INVALID_ARGUMENT);
    CHECK(error_of([&] { client.send_message_async("", "x", on_done); }).result() == ACS_RESULT_INVALID_ARGUMENT);
    CHECK(error_of([&] { client.send_message_async("19:t@thread.v2", "", on_done); }).result() == ACS_RESULT_INVALID_ARGUMENT);
    CHECK(error_of([&] { client.send_typing_async("", on_done); }).result() == ACS_RESULT_INVALID_ARGUMENT);
    CHECK(error_of([&] { (void)client.send_read_receipt_async("19:t@thread.v2", ""); }).result() == ACS_RESULT_INVALID_ARGUMENT);
    CHECK(error_of([&] { client.send_message_async("19:t@thread.v2", "\xff", on_done); }).result() == ACS_RESULT_INVALID_ARGUMENT);
    acs_chat::error e = error_of([&] { client.send_message_async("..", "x", on_done); });
    CHECK(std::string(e.what()).size() > 0);
    CHECK(!e.may_have_been_delivered());

    bool invalid = false;
    try {
        client.send_message_async(std::string("19:a\0b@thread.v2", 16), "x", on_done);
    } catch (const std::invalid_argument &) {
        invalid = true;
    }
    CHECK(invalid);

    /* none of those ever calls back: the next call is the only completion */
    const std::string thread = thread_id("cpp-submit");
    std::promise<void> done;
    client.send_message_async(thread, "the only one", [&](const acs_chat::completion &c) {
        on_done(c);
        done.set_value();
    });
    auto f = done.get_future();
    CHECK(ready(f, limit(10000)));
    CHECK(called.load() == 1);
    CHECK(count(thread, "events", "op", "message") == 1);
}

/* ---- many calls, and clients that go away first ------------------------------------------ */

static void test_many_futures_outlive_their_client() {
    emu_limits(0);
    emu_latency(20);
    const int n = g_slow > 1 ? 100 : 1000;
    const std::string thread = thread_id("cpp-many");
    auto client = std::make_shared<acs_chat::client>(emu_url(), g_token, fast_retries());
    std::vector<std::future<std::string>> ids;
    ids.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) ids.push_back(client->send_message_async(thread, "many"));
    client.reset(); /* the calls keep the C client alive */
    std::set<std::string> distinct;
    int failed = 0;
    for (auto &f : ids) {
        if (!ready(f, limit(60000))) {
            failed++;
            continue;
        }
        try {
            distinct.insert(f.get());
        } catch (const acs_chat::error &e) {
            if (failed++ < 3) fprintf(stderr, "  %s\n", e.what());
        }
    }
    emu_latency(0);
    CHECK(failed == 0);
    CHECK(distinct.size() == static_cast<size_t>(n));
    emu_response r = emu_thread(thread.c_str(), "events");
    CHECK(json_count(r.body, "op", "message") == n);
    size_t stored_count = 0;
    char **stored = json_strings(r.body, "id", &stored_count);
    std::set<std::string> stored_ids(stored, stored + stored_count);
    CHECK(stored_ids == distinct);
    strings_free(stored, stored_count);
    emu_free(&r);
}

/* ---- options and the delivery verdict of blocking calls ------------------------------------- */

static void test_total_timeout_and_delivery_verdict() {
    const std::string thread = thread_id("cpp-deadline");
    /* a deadline the request is sure to be sent within, even under valgrind */
    const auto limit_ms = limit(300);
    acs_chat::client deadline(emu_url(), g_token, fast_retries().total_timeout(limit_ms));
    emu_latency(5 * limit_ms.count());
    std::future<std::string> late = deadline.send_message_async(thread, "late");
    CHECK(ready(late, limit(10000)));
    acs_chat::error e = error_of([&] { late.get(); });
    CHECK(e.result() == ACS_RESULT_TIMEOUT);
    CHECK(e.may_have_been_delivered());

    /* blocking: a timeout after the request was sent may have delivered it... */
    acs_chat::client short_try(emu_url(), g_token, fast_retries().timeout(limit(200)).max_retries(0));
    acs_chat::error sync_timeout = error_of([&] { short_try.send_message(thread, "sync late"); });
    CHECK(sync_timeout.result() == ACS_RESULT_TIMEOUT);
    CHECK(sync_timeout.may_have_been_delivered());
    emu_latency(0);
    CHECK(emu_wait_count(thread.c_str(), "events", "content", "sync late", 1, 5000 * g_slow) == 1);
    /* ...an error status did not */
    emu_fault(thread.c_str(), "\"op\":\"messages\",\"status\":503");
    acs_chat::error refused = error_of([&] { short_try.send_message(thread, "refused"); });
    CHECK(refused.result() == ACS_RESULT_SERVICE_ERROR);
    CHECK(!refused.may_have_been_delivered());

    CHECK(error_of([] { acs_chat::client_options().max_connections_per_origin(0); }).result() ==
          ACS_RESULT_INVALID_ARGUMENT);
    bool out_of_range = false;
    try {
        acs_chat::client_options().total_timeout(-1ms);
    } catch (const std::out_of_range &) {
        out_of_range = true;
    }
    CHECK(out_of_range);
}

int main() {
    char *token = emu_token(3600);
    g_token = token;
    free(token);
    g_slow = slow_factor();
    RUN(test_futures);
    RUN(test_future_failure_carries_details);
    RUN(test_callbacks);
    RUN(test_callback_failure_and_throw_if_failed);
    RUN(test_blocking_call_in_callback_throws);
    RUN(test_cancel_through_call_handle);
    RUN(test_submit_errors_throw_at_once);
    RUN(test_many_futures_outlive_their_client);
    RUN(test_total_timeout_and_delivery_verdict);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
