using System;
using System.Diagnostics.CodeAnalysis;

namespace AcsChat
{
    /// <summary>
    /// Process-wide logging of the native library. Without a handler, the environment variable
    /// <c>ACS_CHAT_LOG</c> (<c>error</c>, <c>warn</c>, <c>info</c>, <c>debug</c>, <c>trace</c>) logs to
    /// standard error. Log lines never contain the access token.
    /// </summary>
    public static class AcsChatLogging
    {
        private static readonly NativeLogCallback Callback = OnLog;
        private static readonly object Gate = new object();
        private static volatile Action<AcsLogLevel, string> handler;

        /// <summary>
        /// Sends the library's log lines up to <paramref name="maxLevel"/> to <paramref name="logHandler"/>,
        /// or turns logging off when it is null. The handler may be called on any thread, including the
        /// library's I/O threads, and must be quick; exceptions it throws are ignored. Once the process exits
        /// (<see cref="AppDomain.ProcessExit"/>) it is no longer called.
        /// </summary>
        /// <param name="logHandler">Receives the level and the one-line message; null turns logging off.</param>
        /// <param name="maxLevel">The most detailed level delivered.</param>
        public static void SetHandler([AllowNull] Action<AcsLogLevel, string> logHandler, AcsLogLevel maxLevel = AcsLogLevel.Info)
        {
            if (maxLevel < AcsLogLevel.Off || maxLevel > AcsLogLevel.Trace)
            {
                throw new ArgumentOutOfRangeException("maxLevel", maxLevel, "Unknown log level.");
            }
            lock (Gate)
            {
                if (logHandler == null || maxLevel == AcsLogLevel.Off)
                {
                    Ensure.Success(NativeMethods.acs_set_log_callback(null, AcsLogLevel.Off, IntPtr.Zero), "logHandler");
                    handler = null;
                }
                else
                {
                    // Log lines come from the library's I/O threads too: stop them at exit.
                    ProcessExitHook.Install();
                    handler = logHandler;
                    Ensure.Success(NativeMethods.acs_set_log_callback(Callback, maxLevel, IntPtr.Zero), "maxLevel");
                }
            }
        }

        private static void OnLog(IntPtr userData, AcsLogLevel level, IntPtr message)
        {
            try
            {
                LibraryThreads.AdoptIfLibraryThread();
                Action<AcsLogLevel, string> current = handler;
                if (current != null)
                {
                    current(level, Utf8.Decode(message) ?? string.Empty);
                }
            }
            catch (Exception)
            {
                // Nothing may escape into native code.
            }
        }
    }
}
