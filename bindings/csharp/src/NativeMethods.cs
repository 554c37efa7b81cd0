using System;
using System.Runtime.InteropServices;

namespace AcsChat
{
    /// <summary>Severity of a library log line, with the values of the C enum <c>acs_log_level</c>.</summary>
    public enum AcsLogLevel : uint
    {
        /// <summary>No logging (<c>ACS_LOG_LEVEL_OFF</c>).</summary>
        Off = 0,
        /// <summary>Failures (<c>ACS_LOG_LEVEL_ERROR</c>).</summary>
        Error = 1,
        /// <summary>Retries and recoverable problems (<c>ACS_LOG_LEVEL_WARN</c>).</summary>
        Warn = 2,
        /// <summary>One line per operation (<c>ACS_LOG_LEVEL_INFO</c>).</summary>
        Info = 3,
        /// <summary>Request and response details, token redacted (<c>ACS_LOG_LEVEL_DEBUG</c>).</summary>
        Debug = 4,
        /// <summary>Everything (<c>ACS_LOG_LEVEL_TRACE</c>).</summary>
        Trace = 5,
    }

    /// <summary>acs_token_refresher: returns OK after acs_token_sink_set, anything else on failure.</summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate AcsResult NativeTokenRefresher(IntPtr userData, IntPtr sink);

    /// <summary>acs_user_data_free.</summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void NativeUserDataFree(IntPtr userData);

    /// <summary>
    /// acs_completion_callback: runs once per started asynchronous call, on one of the library's I/O
    /// threads; <paramref name="completion"/> is an <c>acs_completion*</c> valid only during the call.
    /// </summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void NativeCompletionCallback(IntPtr userData, IntPtr completion);

    /// <summary>acs_log_callback; <paramref name="message"/> is a NUL-terminated UTF-8 string owned by the library.</summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void NativeLogCallback(IntPtr userData, AcsLogLevel level, IntPtr message);

    /// <summary>
    /// Every function of include/acs_chat.h. Input strings are NUL-terminated UTF-8 byte arrays made by
    /// <see cref="Utf8.Encode"/> (null passes NULL); returned <c>char*</c> are read as <see cref="IntPtr"/>,
    /// decoded by <see cref="Utf8.Decode(IntPtr)"/>, and released with <see cref="acs_string_free"/> when the
    /// library allocated them. Handles travel as <see cref="SafeHandle"/> subclasses, so a handle cannot
    /// be freed while a call that uses it is running.
    /// </summary>
    internal static class NativeMethods
    {
        internal const string Lib = "acs_chat";

        // Client.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_new(byte[] endpoint, byte[] token, ClientOptionsHandle options, out ClientHandle client_out);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_new_from_connection_string(byte[] connection_string, byte[] user_id, ClientOptionsHandle options, out ClientHandle client_out);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_user_id(ClientHandle client, out IntPtr user_id_out);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void acs_client_free(IntPtr client);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_set_token(ClientHandle client, byte[] token);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_send_message(ClientHandle client, byte[] thread_id, byte[] content, MessageOptionsHandle options, out IntPtr message_id_out);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_send_typing(ClientHandle client, byte[] thread_id, byte[] sender_display_name);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_send_read_receipt(ClientHandle client, byte[] thread_id, byte[] chat_message_id);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void acs_string_free(IntPtr s);

        // Asynchronous calls. call_out is written before the callback can run, but the managed side
        // sees it only once the submit returns, after which the callback may already have run.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_send_message_async(ClientHandle client, byte[] thread_id, byte[] content, MessageOptionsHandle options,
            NativeCompletionCallback callback, IntPtr user_data, out IntPtr call_out);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_send_typing_async(ClientHandle client, byte[] thread_id, byte[] sender_display_name,
            NativeCompletionCallback callback, IntPtr user_data, out IntPtr call_out);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_send_read_receipt_async(ClientHandle client, byte[] thread_id, byte[] chat_message_id,
            NativeCompletionCallback callback, IntPtr user_data, out IntPtr call_out);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void acs_call_cancel(IntPtr call);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void acs_call_free(IntPtr call);

        // Completion getters: valid only inside the completion callback; the message id is borrowed.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_completion_result(IntPtr c);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr acs_completion_message_id(IntPtr c);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern ushort acs_completion_http_status(IntPtr c);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr acs_completion_error_message(IntPtr c, byte[] buf, UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr acs_completion_error_code(IntPtr c, byte[] buf, UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr acs_completion_request_id(IntPtr c, byte[] buf, UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern ulong acs_completion_retry_after_ms(IntPtr c);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        [return: MarshalAs(UnmanagedType.U1)]
        internal static extern bool acs_completion_may_have_been_delivered(IntPtr c);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void acs_shutdown();

        // Client options.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_options_new(out ClientOptionsHandle options_out);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void acs_client_options_free(IntPtr options);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_options_set_api_version(ClientOptionsHandle o, byte[] api_version);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_options_set_timeout_ms(ClientOptionsHandle o, uint per_try_ms);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_options_set_connect_timeout_ms(ClientOptionsHandle o, uint ms);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_options_set_max_retries(ClientOptionsHandle o, uint max_retries);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_options_set_retry_delay_ms(ClientOptionsHandle o, uint base_ms, uint max_ms);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_options_set_application_id(ClientOptionsHandle o, byte[] application_id);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_options_set_ca_file(ClientOptionsHandle o, byte[] pem_path);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_options_set_allow_insecure_http(ClientOptionsHandle o, [MarshalAs(UnmanagedType.U1)] bool allow);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_options_set_token_refresher(ClientOptionsHandle o, NativeTokenRefresher refresher, IntPtr user_data, NativeUserDataFree free_user_data);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_options_set_proactive_refresh(ClientOptionsHandle o, [MarshalAs(UnmanagedType.U1)] bool enabled);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_options_set_total_timeout_ms(ClientOptionsHandle o, uint total_ms);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_client_options_set_max_connections_per_origin(ClientOptionsHandle o, uint max_connections);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_token_sink_set(IntPtr sink, byte[] token);

        // Message options.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_message_options_new(out MessageOptionsHandle options_out);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void acs_message_options_free(IntPtr options);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_message_options_set_type(MessageOptionsHandle o, uint type);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_message_options_set_sender_display_name(MessageOptionsHandle o, byte[] name);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_message_options_add_metadata(MessageOptionsHandle o, byte[] key, byte[] value);

        // Errors, version, logging.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr acs_result_str(AcsResult result);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr acs_last_error_message(byte[] buf, UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern ushort acs_last_error_http_status();

        // This thread's last blocking send, success or failure: its answer's status and request id.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern ushort acs_last_call_http_status();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr acs_last_call_request_id(byte[] buf, UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr acs_last_error_code(byte[] buf, UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr acs_last_error_request_id(byte[] buf, UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern ulong acs_last_error_retry_after_ms();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        [return: MarshalAs(UnmanagedType.U1)]
        internal static extern bool acs_last_error_may_have_been_delivered();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr acs_version();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern AcsResult acs_set_log_callback(NativeLogCallback callback, AcsLogLevel max_level, IntPtr user_data);
    }

    /// <summary>An <c>acs_client*</c>; released with <c>acs_client_free</c>.</summary>
    internal sealed class ClientHandle : SafeHandle
    {
        public ClientHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.acs_client_free(handle);
            return true;
        }
    }

    /// <summary>An <c>acs_client_options*</c>; released with <c>acs_client_options_free</c>.</summary>
    internal sealed class ClientOptionsHandle : SafeHandle
    {
        public ClientOptionsHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.acs_client_options_free(handle);
            return true;
        }
    }

    /// <summary>An <c>acs_message_options*</c>; released with <c>acs_message_options_free</c>.</summary>
    internal sealed class MessageOptionsHandle : SafeHandle
    {
        public MessageOptionsHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.acs_message_options_free(handle);
            return true;
        }
    }
}
