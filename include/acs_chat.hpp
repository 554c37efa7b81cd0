/*
 * acs_chat.hpp: C++17 wrappers over the acs_chat C API (acs_chat.h).
 *
 * Header-only. Each handle has one owner that frees it (movable, not copyable);
 * a failed call throws acs_chat::error, which carries the acs_result and this
 * thread's last-error details; message ids are std::string.
 *
 *   acs_chat::client client(endpoint, token);
 *   std::string id = client.send_message(thread_id, "Hello");
 *   client.send_read_receipt(thread_id, id);
 *
 * Asynchronous twins return a std::future, or take a callable that receives an
 * acs_chat::completion on one of the library's I/O threads; an acs_chat::call
 * cancels one:
 *
 *   acs_chat::call handle;
 *   std::future<std::string> id = client.send_message_async(thread_id, "Hello", &handle);
 *   client.send_typing_async(thread_id, [](const acs_chat::completion &c) { ... });
 *
 * Strings holding a NUL character throw std::invalid_argument; durations
 * beyond UINT32_MAX milliseconds or below zero throw std::out_of_range.
 */
#ifndef ACS_CHAT_HPP
#define ACS_CHAT_HPP

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "acs_chat.h"

namespace acs_chat {

class completion;

/* A failed acs_* call: its result and the details the library recorded. */
class error : public std::runtime_error {
public:
    /* Reads this thread's last error: call right after the failed function. */
    explicit error(acs_result result)
        : error(result, read(acs_last_error_message), acs_last_error_http_status(), read(acs_last_error_code),
                read(acs_last_error_request_id), std::chrono::milliseconds(acs_last_error_retry_after_ms()),
                acs_last_error_may_have_been_delivered()) {}
    /* The failure of an asynchronous call (defined after acs_chat::completion). */
    explicit error(const completion &failed);

    acs_result result() const noexcept { return result_; }
    /* Static description of the result, e.g. "the service is throttling requests (429)". */
    const char *result_str() const noexcept { return acs_result_str(result_); }
    /* HTTP status of the service's answer; 0 when there was none. */
    std::uint16_t http_status() const noexcept { return http_status_; }
    /* The service's error code ("TooManyRequests"); empty when none. */
    const std::string &code() const noexcept { return code_; }
    /* MS-CV / x-ms-request-id, else the client request id; empty when no request was made. */
    const std::string &request_id() const noexcept { return request_id_; }
    /* The delay the service asked for; zero when none. */
    std::chrono::milliseconds retry_after() const noexcept { return retry_after_; }
    /* Whether the request may have reached the service and been applied (a message created)
       although the call failed: a timeout or broken connection after it was sent, an unusable
       2xx, a cancellation after it was sent. Decide from this whether to send again. */
    bool may_have_been_delivered() const noexcept { return may_have_been_delivered_; }

private:
    error(acs_result result, const std::string &message, std::uint16_t http_status, std::string code,
          std::string request_id, std::chrono::milliseconds retry_after, bool may_have_been_delivered)
        : std::runtime_error(message.empty() ? std::string(acs_result_str(result)) : message),
          result_(result),
          http_status_(http_status),
          code_(std::move(code)),
          request_id_(std::move(request_id)),
          retry_after_(retry_after),
          may_have_been_delivered_(may_have_been_delivered) {}

    static std::string read(std::size_t (*getter)(char *, std::size_t)) {
        std::vector<char> buf(getter(nullptr, 0) + 1);
        getter(buf.data(), buf.size());
        return std::string(buf.data());
    }

    acs_result result_;
    std::uint16_t http_status_;
    std::string code_;
    std::string request_id_;
    std::chrono::milliseconds retry_after_;
    bool may_have_been_delivered_;
};

/* The outcome of an asynchronous call, as its callback receives it: a copy of the
 * acs_completion, so it stays valid after the callback returns. */
class completion {
public:
    explicit completion(const acs_completion *c)
        : result_(acs_completion_result(c)),
          message_id_(acs_completion_message_id(c) ? acs_completion_message_id(c) : ""),
          http_status_(acs_completion_http_status(c)),
          error_message_(read(c, acs_completion_error_message)),
          code_(read(c, acs_completion_error_code)),
          request_id_(read(c, acs_completion_request_id)),
          retry_after_(acs_completion_retry_after_ms(c)),
          may_have_been_delivered_(acs_completion_may_have_been_delivered(c)) {}

    /* ACS_RESULT_OK, or the failure's code (ACS_RESULT_CANCELLED after acs_chat::call::cancel). */
    acs_result result() const noexcept { return result_; }
    bool ok() const noexcept { return result_ == ACS_RESULT_OK; }
    explicit operator bool() const noexcept { return ok(); }
    /* The new message's id after a successful send_message_async; empty otherwise. */
    const std::string &message_id() const noexcept { return message_id_; }
    /* As acs_chat::error's accessors; empty or zero after a success. */
    std::uint16_t http_status() const noexcept { return http_status_; }
    const std::string &error_message() const noexcept { return error_message_; }
    const std::string &code() const noexcept { return code_; }
    const std::string &request_id() const noexcept { return request_id_; }
    std::chrono::milliseconds retry_after() const noexcept { return retry_after_; }
    bool may_have_been_delivered() const noexcept { return may_have_been_delivered_; }
    /* Throws acs_chat::error unless the call succeeded. */
    void throw_if_failed() const {
        if (!ok())
            throw error(*this);
    }

private:
    using getter = std::size_t (*)(const acs_completion *, char *, std::size_t);
    static std::string read(const acs_completion *c, getter get) {
        std::vector<char> buf(get(c, nullptr, 0) + 1);
        get(c, buf.data(), buf.size());
        return std::string(buf.data());
    }

    acs_result result_;
    std::string message_id_;
    std::uint16_t http_status_;
    std::string error_message_;
    std::string code_;
    std::string request_id_;
    std::chrono::milliseconds retry_after_;
    bool may_have_been_delivered_;
};

inline error::error(const completion &failed)
    : error(failed.result(), failed.error_message(), failed.http_status(), failed.code(), failed.request_id(),
            failed.retry_after(), failed.may_have_been_delivered()) {}

namespace detail {

inline void check(acs_result result) {
    if (result != ACS_RESULT_OK)
        throw error(result);
}

inline const char *c_str(const std::string &s) {
    if (s.find('\0') != std::string::npos)
        throw std::invalid_argument("acs_chat: string contains a NUL character");
    return s.c_str();
}

inline std::uint32_t to_ms(std::chrono::milliseconds d) {
    if (d.count() < 0 || d.count() > std::numeric_limits<std::uint32_t>::max())
        throw std::out_of_range("acs_chat: duration out of range");
    return static_cast<std::uint32_t>(d.count());
}

template <typename T, void (*Free)(T *)>
struct deleter {
    void operator()(T *p) const noexcept { Free(p); }
};

template <typename T, void (*Free)(T *)>
using handle = std::unique_ptr<T, deleter<T, Free>>;

template <typename T, void (*Free)(T *)>
handle<T, Free> make(acs_result (*create)(T **)) {
    T *raw = nullptr;
    check(create(&raw));
    return handle<T, Free>(raw);
}

/* Callables an asynchronous call accepts: invocable with the completion. */
template <typename F>
using if_callback = std::enable_if_t<std::is_invocable_v<std::decay_t<F> &, const completion &>, int>;

/* The acs_completion_callback for a heap-held callable `Fn`: runs it once, then deletes it.
   noexcept: an exception escaping the callable calls std::terminate. */
template <typename Fn>
void run_callback(void *user_data, const acs_completion *c) noexcept {
    const std::unique_ptr<Fn> fn(static_cast<Fn *>(user_data));
    const completion outcome(c);
    (*fn)(outcome);
}

/* Completes a promise from a completion: the message id, nothing, or acs_chat::error. */
template <typename T>
struct promise_callback {
    std::promise<T> promise;

    void operator()(const completion &c) {
        if (!c.ok()) {
            promise.set_exception(std::make_exception_ptr(error(c)));
        } else if constexpr (std::is_same_v<T, std::string>) {
            promise.set_value(c.message_id());
        } else {
            promise.set_value();
        }
    }
};

}  // namespace detail

/* One asynchronous call, to cancel it. Owns an acs_call handle: movable, not copyable.
 * Destroying it (or a default-constructed one) releases the handle only: the call goes on
 * and its callback or future still completes. Thread-safe. */
class call {
public:
    call() noexcept = default;
    /* Takes ownership of a handle from acs_send_*_async. */
    explicit call(acs_call *raw) noexcept : h_(raw) {}

    /* Cancels the call: it completes with ACS_RESULT_CANCELLED unless it had finished;
       may_have_been_delivered() then says whether the request had been sent. Idempotent,
       any thread, also after completion; a no-op on an empty handle. */
    void cancel() const noexcept { acs_call_cancel(h_.get()); }

    /* Whether this object holds a call. */
    explicit operator bool() const noexcept { return h_ != nullptr; }
    acs_call *get() const noexcept { return h_.get(); }

private:
    detail::handle<acs_call, acs_call_free> h_;
};

/* Returns a new token; throwing makes the call fail with ACS_RESULT_TOKEN. */
using token_function = std::function<std::string()>;

/* Settings for a client; read once by the client's constructor. */
class client_options {
public:
    client_options() : h_(detail::make<acs_client_options, acs_client_options_free>(acs_client_options_new)) {}

    client_options &api_version(const std::string &v) {
        detail::check(acs_client_options_set_api_version(get(), detail::c_str(v)));
        return *this;
    }
    /* Per try; zero means no limit. */
    client_options &timeout(std::chrono::milliseconds per_try) {
        detail::check(acs_client_options_set_timeout_ms(get(), detail::to_ms(per_try)));
        return *this;
    }
    client_options &connect_timeout(std::chrono::milliseconds d) {
        detail::check(acs_client_options_set_connect_timeout_ms(get(), detail::to_ms(d)));
        return *this;
    }
    client_options &max_retries(std::uint32_t n) {
        detail::check(acs_client_options_set_max_retries(get(), n));
        return *this;
    }
    client_options &retry_delay(std::chrono::milliseconds base, std::chrono::milliseconds max) {
        detail::check(acs_client_options_set_retry_delay_ms(get(), detail::to_ms(base), detail::to_ms(max)));
        return *this;
    }
    client_options &application_id(const std::string &id) {
        detail::check(acs_client_options_set_application_id(get(), detail::c_str(id)));
        return *this;
    }
    client_options &ca_file(const std::string &pem_path) {
        detail::check(acs_client_options_set_ca_file(get(), detail::c_str(pem_path)));
        return *this;
    }
    client_options &allow_insecure_http(bool allow) {
        detail::check(acs_client_options_set_allow_insecure_http(get(), allow));
        return *this;
    }
    client_options &proactive_refresh(bool enabled) {
        detail::check(acs_client_options_set_proactive_refresh(get(), enabled));
        return *this;
    }
    /* A deadline for a whole call, across attempts, back-off, token refresh and the wait for a
       connection; zero means none (the default). A call that reaches it fails with
       ACS_RESULT_TIMEOUT. */
    client_options &total_timeout(std::chrono::milliseconds total) {
        detail::check(acs_client_options_set_total_timeout_ms(get(), detail::to_ms(total)));
        return *this;
    }
    /* Requests in flight at once to the endpoint over HTTP/1.1 (default 100, 1 to 65536);
       further calls wait in line. */
    client_options &max_connections_per_origin(std::uint32_t n) {
        detail::check(acs_client_options_set_max_connections_per_origin(get(), n));
        return *this;
    }
    /* Called on the thread making a call, one refresh at a time per client (for an
       asynchronous call, on a thread of the library's blocking pool). */
    client_options &token_refresher(token_function refresher) {
        auto owned = std::make_unique<token_function>(std::move(refresher));
        detail::check(acs_client_options_set_token_refresher(get(), &refresh, owned.get(), &release));
        owned.release();  // the library now owns it and calls release()
        return *this;
    }

    acs_client_options *get() const noexcept { return h_.get(); }

private:
    static acs_result refresh(void *user_data, acs_token_sink *sink) noexcept {
        try {
            const std::string token = (*static_cast<token_function *>(user_data))();
            return acs_token_sink_set(sink, detail::c_str(token));
        } catch (...) {
            return ACS_RESULT_TOKEN;
        }
    }
    static void release(void *user_data) noexcept { delete static_cast<token_function *>(user_data); }

    detail::handle<acs_client_options, acs_client_options_free> h_;
};

/* Optional parts of a message; may be reused for several messages. */
class message_options {
public:
    message_options() : h_(detail::make<acs_message_options, acs_message_options_free>(acs_message_options_new)) {}

    message_options &type(acs_message_type t) {
        detail::check(acs_message_options_set_type(get(), t));
        return *this;
    }
    message_options &sender_display_name(const std::string &name) {
        detail::check(acs_message_options_set_sender_display_name(get(), detail::c_str(name)));
        return *this;
    }
    message_options &metadata(const std::string &key, const std::string &value) {
        detail::check(acs_message_options_add_metadata(get(), detail::c_str(key), detail::c_str(value)));
        return *this;
    }

    acs_message_options *get() const noexcept { return h_.get(); }

private:
    detail::handle<acs_message_options, acs_message_options_free> h_;
};

/* A client for one endpoint and identity. The calls are thread-safe: share it
 * (e.g. through a std::shared_ptr) rather than creating one per thread. */
class client {
    /* The C submit of each operation, as a callable taking (callback, user_data, call_out);
       the strings are checked for NUL characters before anything is submitted. Declared
       before the public methods, which use their deduced return types. */
    auto message_submit(const std::string &thread_id, const std::string &content,
                        const acs_message_options *options) const {
        const char *thread = detail::c_str(thread_id), *text = detail::c_str(content);
        return [this, thread, text, options](acs_completion_callback cb, void *user_data, acs_call **out) {
            return acs_send_message_async(get(), thread, text, options, cb, user_data, out);
        };
    }
    auto typing_submit(const std::string &thread_id, const std::string &sender_display_name) const {
        const char *thread = detail::c_str(thread_id);
        const char *name = sender_display_name.empty() ? nullptr : detail::c_str(sender_display_name);
        return [this, thread, name](acs_completion_callback cb, void *user_data, acs_call **out) {
            return acs_send_typing_async(get(), thread, name, cb, user_data, out);
        };
    }
    auto receipt_submit(const std::string &thread_id, const std::string &message_id) const {
        const char *thread = detail::c_str(thread_id), *id = detail::c_str(message_id);
        return [this, thread, id](acs_completion_callback cb, void *user_data, acs_call **out) {
            return acs_send_read_receipt_async(get(), thread, id, cb, user_data, out);
        };
    }

    /* Submits with `on_done` moved to the heap; the callback owns it once the submit succeeded. */
    template <typename F, typename Submit>
    call start(F &&on_done, bool want_handle, Submit submit) const {
        using Fn = std::decay_t<F>;
        auto owned = std::make_unique<Fn>(std::forward<F>(on_done));
        acs_call *raw = nullptr;
        const acs_result rc = submit(&detail::run_callback<Fn>, owned.get(), want_handle ? &raw : nullptr);
        if (rc != ACS_RESULT_OK)
            throw error(rc);  // nothing started: `owned` still frees the callable
        owned.release();
        return call(raw);
    }

    template <typename T, typename Submit>
    std::future<T> future_of(call *handle, Submit submit) const {
        detail::promise_callback<T> on_done;
        std::future<T> result = on_done.promise.get_future();
        call started = start(std::move(on_done), handle != nullptr, submit);
        if (handle != nullptr)
            *handle = std::move(started);
        return result;
    }

public:
    client(const std::string &endpoint, const std::string &token) : client(endpoint, token, nullptr) {}
    client(const std::string &endpoint, const std::string &token, const client_options &options)
        : client(endpoint, token, options.get()) {}

    /* A client from an ACS resource's connection string ("endpoint=https://NAME...;accesskey=..."),
     * which gets and refreshes its own chat tokens for `user_id` ("8:acs:..."), or, when
     * `user_id` is empty, for a user it creates now (read its id with user_id()). Blocks for
     * the first token. */
    static client from_connection_string(const std::string &connection_string, const std::string &user_id = {}) {
        return from_connection_string(connection_string, user_id, nullptr);
    }
    static client from_connection_string(const std::string &connection_string, const std::string &user_id,
                                         const client_options &options) {
        return from_connection_string(connection_string, user_id, options.get());
    }

    /* The ACS user of a client made from a connection string; throws acs_chat::error
     * (ACS_RESULT_INVALID_ARGUMENT) for a client given its tokens. */
    std::string user_id() const {
        char *raw = nullptr;
        detail::check(acs_client_user_id(get(), &raw));
        const detail::handle<char, acs_string_free> id(raw);
        return std::string(id.get());
    }

    /* Replaces the token atomically; calls in flight keep the old one. */
    void set_token(const std::string &token) const {
        detail::check(acs_client_set_token(get(), detail::c_str(token)));
    }

    /* Posts a message and returns its id. */
    std::string send_message(const std::string &thread_id, const std::string &content) const {
        return send(thread_id, content, nullptr);
    }
    std::string send_message(const std::string &thread_id, const std::string &content,
                             const message_options &options) const {
        return send(thread_id, content, options.get());
    }

    /* An empty sender display name sends none. */
    void send_typing(const std::string &thread_id, const std::string &sender_display_name = {}) const {
        detail::check(acs_send_typing(get(), detail::c_str(thread_id),
                                      sender_display_name.empty() ? nullptr : detail::c_str(sender_display_name)));
    }

    void send_read_receipt(const std::string &thread_id, const std::string &message_id) const {
        detail::check(acs_send_read_receipt(get(), detail::c_str(thread_id), detail::c_str(message_id)));
    }

    /*
     * Asynchronous calls. Each returns at once; the arguments are copied first. A call that
     * cannot start (an empty thread id, say) throws acs_chat::error here and never completes.
     *
     * Future forms: the future holds the message id (or nothing), or acs_chat::error with
     * the failure's details; with `handle` non-null, *handle receives the call to cancel it.
     *
     * Callback forms: `on_done` (any callable, move-only ones included, invocable with a
     * const acs_chat::completion &) runs exactly once, on one of the library's I/O threads,
     * possibly before the method returns; they return the call. Keep it short and never
     * block in it: a blocking call from inside it throws acs_chat::error
     * (ACS_RESULT_INVALID_ARGUMENT), and so must not be waited for there. It may start new
     * asynchronous calls and destroy clients. An exception escaping it calls std::terminate.
     *
     * The calls keep the client alive: it may be destroyed while they are in flight. Once the
     * process exits (or after acs_chat::shutdown()), calls in flight never complete.
     */
    std::future<std::string> send_message_async(const std::string &thread_id, const std::string &content,
                                                call *handle = nullptr) const {
        return future_of<std::string>(handle, message_submit(thread_id, content, nullptr));
    }
    std::future<std::string> send_message_async(const std::string &thread_id, const std::string &content,
                                                const message_options &options, call *handle = nullptr) const {
        return future_of<std::string>(handle, message_submit(thread_id, content, options.get()));
    }
    template <typename F, detail::if_callback<F> = 0>
    call send_message_async(const std::string &thread_id, const std::string &content, F &&on_done) const {
        return start(std::forward<F>(on_done), true, message_submit(thread_id, content, nullptr));
    }
    template <typename F, detail::if_callback<F> = 0>
    call send_message_async(const std::string &thread_id, const std::string &content,
                            const message_options &options, F &&on_done) const {
        return start(std::forward<F>(on_done), true, message_submit(thread_id, content, options.get()));
    }

    /* An empty sender display name sends none. */
    std::future<void> send_typing_async(const std::string &thread_id, const std::string &sender_display_name = {},
                                        call *handle = nullptr) const {
        return future_of<void>(handle, typing_submit(thread_id, sender_display_name));
    }
    template <typename F, detail::if_callback<F> = 0>
    call send_typing_async(const std::string &thread_id, F &&on_done) const {
        return start(std::forward<F>(on_done), true, typing_submit(thread_id, std::string()));
    }
    template <typename F, detail::if_callback<F> = 0>
    call send_typing_async(const std::string &thread_id, const std::string &sender_display_name, F &&on_done) const {
        return start(std::forward<F>(on_done), true, typing_submit(thread_id, sender_display_name));
    }

    std::future<void> send_read_receipt_async(const std::string &thread_id, const std::string &message_id,
                                              call *handle = nullptr) const {
        return future_of<void>(handle, receipt_submit(thread_id, message_id));
    }
    template <typename F, detail::if_callback<F> = 0>
    call send_read_receipt_async(const std::string &thread_id, const std::string &message_id, F &&on_done) const {
        return start(std::forward<F>(on_done), true, receipt_submit(thread_id, message_id));
    }

    acs_client *get() const noexcept { return h_.get(); }

private:
    client(const std::string &endpoint, const std::string &token, const acs_client_options *options) {
        acs_client *raw = nullptr;
        detail::check(acs_client_new(detail::c_str(endpoint), detail::c_str(token), options, &raw));
        h_.reset(raw);
    }

    explicit client(acs_client *raw) { h_.reset(raw); }

    static client from_connection_string(const std::string &connection_string, const std::string &user_id,
                                         const acs_client_options *options) {
        acs_client *raw = nullptr;
        detail::check(acs_client_new_from_connection_string(
            detail::c_str(connection_string), user_id.empty() ? nullptr : detail::c_str(user_id), options, &raw));
        return client(raw);
    }

    std::string send(const std::string &thread_id, const std::string &content,
                     const acs_message_options *options) const {
        char *raw = nullptr;
        detail::check(acs_send_message(get(), detail::c_str(thread_id), detail::c_str(content), options, &raw));
        const detail::handle<char, acs_string_free> id(raw);
        return std::string(id.get());
    }

    detail::handle<acs_client, acs_client_free> h_;
};

/* The loaded library's version; compare with ACS_CHAT_VERSION. */
inline const char *version() noexcept { return acs_version(); }

/* Stops completion callbacks for the rest of the process (acs_shutdown): for a program that
 * tears down what its callbacks use before C's exit handlers run. Pending futures then never
 * become ready; blocking calls keep working. */
inline void shutdown() noexcept { acs_shutdown(); }

}  // namespace acs_chat

#endif /* ACS_CHAT_HPP */
