using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace AcsChat
{
    /// <summary>
    /// An asynchronous call stopped by its <see cref="CancellationToken"/>: the native call was cancelled
    /// (<see cref="AcsResult.Cancelled"/>), or the token was already cancelled and nothing was sent. It is an
    /// <see cref="OperationCanceledException"/> carrying that token, and the task of the call ends in the
    /// <see cref="System.Threading.Tasks.TaskStatus.Canceled"/> state; <c>await</c> (or
    /// <c>GetAwaiter().GetResult()</c>) throws this very object. <see cref="System.Threading.Tasks.Task.Wait()"/>
    /// and <c>Task.Result</c> follow a rule of .NET for cancelled tasks and throw a new
    /// <see cref="System.Threading.Tasks.TaskCanceledException"/> instead, without the verdict.
    /// </summary>
    /// <remarks>
    /// <see cref="MayHaveBeenDelivered"/> says whether the request could still take effect: false when the
    /// call was cancelled before its request was written (it waited for a connection, a retry delay, a token
    /// refresh), true when a message had been sent and no answer had come back. The same value is in
    /// <see cref="Exception.Data"/> under <see cref="MayHaveBeenDeliveredKey"/>, for code that catches a plain
    /// <see cref="OperationCanceledException"/>. When the native call was cancelled, <see cref="Exception.InnerException"/>
    /// is the library's <see cref="AcsChatException"/> (<see cref="AcsChatException.Result"/> ==
    /// <see cref="AcsResult.Cancelled"/>, with the request id).
    /// </remarks>
    public class AcsChatCanceledException : OperationCanceledException
    {
        /// <summary>The key of the delivery verdict (a <see cref="bool"/>) in <see cref="Exception.Data"/>.</summary>
        public const string MayHaveBeenDeliveredKey = "MayHaveBeenDelivered";

        /// <summary>Creates the exception for a call stopped by <paramref name="cancellationToken"/>.</summary>
        /// <param name="message">One-line description.</param>
        /// <param name="mayHaveBeenDelivered">Whether the request may still have reached the service and taken effect.</param>
        /// <param name="cancellationToken">The token that cancelled the call.</param>
        /// <param name="innerException">The library's <see cref="AcsChatException"/>, or null.</param>
        public AcsChatCanceledException(string message, bool mayHaveBeenDelivered, CancellationToken cancellationToken,
            [AllowNull] Exception innerException = null)
            : base(message, innerException, cancellationToken)
        {
            MayHaveBeenDelivered = mayHaveBeenDelivered;
            Data[MayHaveBeenDeliveredKey] = mayHaveBeenDelivered;
        }

        /// <summary>
        /// True when the request may have reached the service and taken effect before the cancellation (for a
        /// message: it may have been posted; sending it again could post it twice). False when nothing was sent.
        /// </summary>
        public bool MayHaveBeenDelivered { get; }
    }
}
