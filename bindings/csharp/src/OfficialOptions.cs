using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;

namespace AcsChat
{
    /// <summary>How the delay between retries grows, as <c>Azure.Core.RetryMode</c>.</summary>
    public enum RetryMode
    {
        /// <summary>The same delay, <see cref="RetryOptions.Delay"/>, before every retry (the library's backoff capped at its base).</summary>
        Fixed = 0,
        /// <summary>The delay doubles from <see cref="RetryOptions.Delay"/> up to <see cref="RetryOptions.MaxDelay"/> (the default).</summary>
        Exponential = 1,
    }

    /// <summary>
    /// The official SDK's retry settings (<c>Azure.Core.RetryOptions</c>), a view of the
    /// <see cref="ChatClientOptions"/> they belong to: setting one sets the matching property there.
    /// </summary>
    public sealed class RetryOptions
    {
        private readonly ChatClientOptions owner;

        internal RetryOptions(ChatClientOptions owner)
        {
            this.owner = owner;
            Mode = RetryMode.Exponential;
        }

        /// <summary><see cref="ChatClientOptions.MaxRetries"/>: retries after the first try (3 by default, at most 10).</summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
        public int MaxRetries
        {
            get { return owner.MaxRetries; }
            set { owner.MaxRetries = value; }
        }

        /// <summary><see cref="ChatClientOptions.RetryDelay"/>: the base delay between retries (800 ms by default).</summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is negative or too large.</exception>
        public TimeSpan Delay
        {
            get { return owner.RetryDelay; }
            set { owner.RetryDelay = value; }
        }

        /// <summary><see cref="ChatClientOptions.MaxRetryDelay"/>: the longest delay between retries (60 s by default).</summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is negative or too large.</exception>
        public TimeSpan MaxDelay
        {
            get { return owner.MaxRetryDelay; }
            set { owner.MaxRetryDelay = value; }
        }

        /// <summary>
        /// Exponential (the default) or fixed delays. <see cref="RetryMode.Fixed"/> sends
        /// <see cref="Delay"/> as both the base and the cap of the library's backoff.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="RetryMode"/>.</exception>
        public RetryMode Mode
        {
            get { return mode; }
            set
            {
                if (value != RetryMode.Fixed && value != RetryMode.Exponential)
                {
                    throw new ArgumentOutOfRangeException("value", value, "Unknown retry mode.");
                }
                mode = value;
            }
        }

        private RetryMode mode;

        /// <summary><see cref="ChatClientOptions.Timeout"/>: the time limit of each try (30 s by default; the official SDK's is 100 s).</summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is negative (other than infinite) or too large.</exception>
        public TimeSpan NetworkTimeout
        {
            get { return owner.Timeout; }
            set { owner.Timeout = value; }
        }
    }

    /// <summary>
    /// The official SDK's diagnostics settings (<c>Azure.Core.DiagnosticsOptions</c>). Only
    /// <see cref="ApplicationId"/> (and <see cref="DefaultApplicationId"/>) have an effect: they set the
    /// <c>User-Agent</c> prefix. The other properties are kept and ignored; the library's own logging is
    /// <see cref="AcsChatLogging"/>.
    /// </summary>
    public sealed class DiagnosticsOptions
    {
        private readonly ChatClientOptions owner;
        private readonly List<string> loggedHeaderNames = new List<string>();
        private readonly List<string> loggedQueryParameters = new List<string>();

        internal DiagnosticsOptions(ChatClientOptions owner)
        {
            this.owner = owner;
            IsLoggingEnabled = true;
            IsTelemetryEnabled = true;
            IsDistributedTracingEnabled = true;
            LoggedContentSizeLimit = 4096;
        }

        /// <summary>
        /// The application id used when <see cref="ApplicationId"/> is null, for every client created afterwards
        /// in the process; null by default.
        /// </summary>
        [AllowNull, MaybeNull]
        public static string DefaultApplicationId { get; set; }

        /// <summary><see cref="ChatClientOptions.ApplicationId"/>: the <c>User-Agent</c> prefix (at most 24 printable ASCII characters).</summary>
        [AllowNull, MaybeNull]
        public string ApplicationId
        {
            get { return owner.ApplicationId; }
            set { owner.ApplicationId = value; }
        }

        /// <summary>Accepted; no effect (see <see cref="AcsChatLogging"/>).</summary>
        public bool IsLoggingEnabled { get; set; }

        /// <summary>Accepted; no effect.</summary>
        public bool IsLoggingContentEnabled { get; set; }

        /// <summary>Accepted; no effect (the library always sends its <c>User-Agent</c>).</summary>
        public bool IsTelemetryEnabled { get; set; }

        /// <summary>Accepted; no effect (no tracing).</summary>
        public bool IsDistributedTracingEnabled { get; set; }

        /// <summary>Accepted; no effect.</summary>
        public int LoggedContentSizeLimit { get; set; }

        /// <summary>Accepted; no effect.</summary>
        public IList<string> LoggedHeaderNames
        {
            get { return loggedHeaderNames; }
        }

        /// <summary>Accepted; no effect.</summary>
        public IList<string> LoggedQueryParameters
        {
            get { return loggedQueryParameters; }
        }
    }
}
