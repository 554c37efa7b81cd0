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
 * Strings holding a NUL character throw std::invalid_argument; durations
 * beyond UINT32_MAX milliseconds or below zero throw std::out_of_range.
 */
#ifndef ACS_CHAT_HPP
#define ACS_CHAT_HPP

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "acs_chat.h"

namespace acs_chat {

/* A failed acs_* call: its result and the details the library recorded. */
class error : public std::runtime_error {
public:
    /* Reads this thread's last error: call right after the failed function. */
    explicit error(acs_result result)
        : std::runtime_error(describe(result)),
          result_(result),
          http_status_(acs_last_error_http_status()),
          code_(read(acs_last_error_code)),
          request_id_(read(acs_last_error_request_id)),
          retry_after_(acs_last_error_retry_after_ms()) {}

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

private:
    static std::string read(std::size_t (*getter)(char *, std::size_t)) {
        std::vector<char> buf(getter(nullptr, 0) + 1);
        getter(buf.data(), buf.size());
        return std::string(buf.data());
    }
    static std::string describe(acs_result result) {
        std::string message = read(acs_last_error_message);
        return message.empty() ? acs_result_str(result) : message;
    }

    acs_result result_;
    std::uint16_t http_status_;
    std::string code_;
    std::string request_id_;
    std::chrono::milliseconds retry_after_;
};

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

}  // namespace detail

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
    /* Called on the thread making a call, one refresh at a time per client. */
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
public:
    client(const std::string &endpoint, const std::string &token) : client(endpoint, token, nullptr) {}
    client(const std::string &endpoint, const std::string &token, const client_options &options)
        : client(endpoint, token, options.get()) {}

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

    acs_client *get() const noexcept { return h_.get(); }

private:
    client(const std::string &endpoint, const std::string &token, const acs_client_options *options) {
        acs_client *raw = nullptr;
        detail::check(acs_client_new(detail::c_str(endpoint), detail::c_str(token), options, &raw));
        h_.reset(raw);
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

}  // namespace acs_chat

#endif /* ACS_CHAT_HPP */
