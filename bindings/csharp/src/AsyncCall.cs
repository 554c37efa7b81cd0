using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace AcsChat
{
    /// <summary>Submits one native asynchronous call (<c>acs_send_*_async</c>) with the given callback and user data.</summary>
    internal delegate AcsResult NativeSubmit(NativeCompletionCallback callback, IntPtr userData, out IntPtr call);

    /// <summary>
    /// Turns the native asynchronous calls into tasks. Nothing here holds a thread while a call is in
    /// flight: the library completes each call by calling <see cref="CompletionCallback"/> on one of its I/O
    /// threads, which completes a <see cref="TaskCompletionSource{TResult}"/> made with
    /// <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/>, so no continuation of the caller runs
    /// on that thread.
    /// </summary>
    /// <remarks>
    /// Lifetimes. The per-call <see cref="PendingCall"/> travels to the library as a <see cref="GCHandle"/> in
    /// <c>user_data</c>; the completion callback, which runs exactly once per started call, frees it. The
    /// <c>acs_call*</c> handle is shared by the callback and the cancellation registration, and
    /// <see cref="PendingCall"/> frees it (<c>acs_call_free</c>) when both are done: see there.
    /// </remarks>
    internal static class AsyncCall
    {
        /// <summary>The one completion entry point, rooted here for the life of the process.</summary>
        private static readonly NativeCompletionCallback CompletionCallback = OnCompletion;

        private static int liveStates;
        private static int liveCalls;

        static AsyncCall()
        {
            ProcessExitHook.Install();
        }

        /// <summary>GCHandles of calls whose callback has not run yet (for tests).</summary>
        internal static int LiveStates { get { return Volatile.Read(ref liveStates); } }

        /// <summary>Native <c>acs_call</c> handles not freed yet (for tests).</summary>
        internal static int LiveCalls { get { return Volatile.Read(ref liveCalls); } }

        /// <summary>
        /// A task cancelled by <paramref name="cancellationToken"/> before anything was sent: it ends
        /// <see cref="TaskStatus.Canceled"/>, and awaiting it throws an <see cref="AcsChatCanceledException"/>
        /// whose <see cref="AcsChatCanceledException.MayHaveBeenDelivered"/> is false.
        /// </summary>
        internal static Task<T> Canceled<T>(CancellationToken cancellationToken)
        {
            AcsChatCanceledException e = new AcsChatCanceledException(
                "The call was cancelled before it started; nothing was sent.", false, cancellationToken);
            return AsCanceled(Task.FromException<T>(e));
        }

        /// <summary>
        /// Starts a native asynchronous call. Throws (synchronously) when the library refuses to start it,
        /// exactly as the blocking twin would for the same arguments.
        /// </summary>
        /// <param name="client">The client the call is made on (for the token refresher's failures).</param>
        /// <param name="submit">Calls the <c>acs_send_*_async</c> function.</param>
        /// <param name="readResult">Reads the outcome of a successful call from the completion, inside the callback.</param>
        /// <param name="cancellationToken">Cancels the native call (<c>acs_call_cancel</c>).</param>
        /// <param name="paramName">The parameter named by an <see cref="ArgumentException"/> for a refused argument.</param>
        internal static Task<T> Start<T>(ChatClient client, NativeSubmit submit, Func<IntPtr, T> readResult,
            CancellationToken cancellationToken, [AllowNull] string paramName)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return Canceled<T>(cancellationToken);
            }
            PendingCall<T> state = new PendingCall<T>(client, readResult, cancellationToken);
            GCHandle userData = GCHandle.Alloc(state);
            Interlocked.Increment(ref liveStates);
            AcsResult result;
            IntPtr call;
            try
            {
                result = submit(CompletionCallback, GCHandle.ToIntPtr(userData), out call);
            }
            catch
            {
                // The marshaller refused (a client disposed meanwhile): nothing was started.
                FreeUserData(userData);
                throw;
            }
            if (result != AcsResult.Ok)
            {
                // Refused: the callback will never run, and call_out was not written.
                FreeUserData(userData);
                if (result == AcsResult.InvalidArgument && ProcessExitHook.HasShutDown)
                {
                    throw new InvalidOperationException(
                        "The process is exiting: asynchronous calls can no longer be started.",
                        AcsChatException.FromLastError(result, null));
                }
                Ensure.Success(result, paramName);
            }
            // From here on the GCHandle belongs to the callback, which may already have run.
            Interlocked.Increment(ref liveCalls);
            state.Started(call);
            return cancellationToken.CanBeCanceled ? AsCanceled(state.Task) : state.Task;
        }

        /// <summary>
        /// The same outcome as <paramref name="task"/>, except that an <see cref="OperationCanceledException"/>
        /// makes it <see cref="TaskStatus.Canceled"/> (not faulted) while <c>await</c> still throws that very
        /// exception: an async method's builder completes its task that way.
        /// </summary>
        private static async Task<T> AsCanceled<T>(Task<T> task)
        {
            return await task.ConfigureAwait(false);
        }

        private static void FreeUserData(GCHandle userData)
        {
            userData.Free();
            Interlocked.Decrement(ref liveStates);
        }

        /// <summary>The completion callback. Runs on an I/O thread of the library; nothing may escape it.</summary>
        private static void OnCompletion(IntPtr userData, IntPtr completion)
        {
            try
            {
                LibraryThreads.Adopt();
                GCHandle handle = GCHandle.FromIntPtr(userData);
                PendingCall state = (PendingCall)handle.Target;
                FreeUserData(handle);
                state.Complete(completion);
            }
            catch (Exception)
            {
                // Never across the native boundary. Complete catches everything itself; this is only
                // reached if the user data was not ours, which would be a bug.
            }
        }

        internal static void CallFreed()
        {
            Interlocked.Decrement(ref liveCalls);
        }
    }

    /// <summary>
    /// The state of one asynchronous call.
    /// </summary>
    /// <remarks>
    /// The native <c>acs_call*</c> is used by two parties: the completion callback (which must be able to
    /// dispose the cancellation registration) and the cancellation registration (which calls
    /// <c>acs_call_cancel</c>). It is freed when the last of two references is released:
    /// <list type="number">
    /// <item>the callback's, released when the callback has run;</item>
    /// <item>the starter's, held from the submit until the registration is disposed (or, without a
    /// cancellable token, until the handle is stored). Disposing a registration waits for a cancellation
    /// callback running on another thread, so once it is released no <c>acs_call_cancel</c> can still use
    /// the handle.</item>
    /// </list>
    /// The callback may run before the submit returns, even before the registration exists: whichever of
    /// the starter and the callback comes second disposes the registration, decided by one
    /// compare-exchange on <see cref="registrationState"/>.
    /// </remarks>
    internal abstract class PendingCall
    {
        private const int NotRegistered = 0;
        private const int Registered = 1;
        private const int CompletedFirst = 2;

        private static readonly Action<object> CancelCallback = OnCancel;

        private readonly ChatClient client;
        private readonly CancellationToken cancellationToken;
        private IntPtr call;
        private int references = 2;
        private int registrationState;
        private CancellationTokenRegistration registration;

        protected PendingCall(ChatClient client, CancellationToken cancellationToken)
        {
            this.client = client;
            this.cancellationToken = cancellationToken;
        }

        /// <summary>Runs once the submit returned OK with the call's handle; registers the cancellation.</summary>
        internal void Started(IntPtr handle)
        {
            call = handle;
            if (!cancellationToken.CanBeCanceled)
            {
                Release();
                return;
            }
            CancellationTokenRegistration created;
            try
            {
                // Runs OnCancel at once if the token was cancelled meanwhile.
                created = cancellationToken.Register(CancelCallback, this);
            }
            catch (ObjectDisposedException)
            {
                // The token's source was disposed: it can no longer be cancelled.
                Release();
                return;
            }
            registration = created;
            if (Interlocked.CompareExchange(ref registrationState, Registered, NotRegistered) == CompletedFirst)
            {
                // The call completed before the registration existed: dispose it here.
                created.Dispose();
                Release();
            }
        }

        /// <summary>Reads the completion (valid only now) and completes the task; called once, by the callback.</summary>
        internal abstract void Complete(IntPtr completion);

        /// <summary>The exception for a failed completion, with its delivery verdict.</summary>
        protected Exception Failure(IntPtr completion, AcsResult result)
        {
            AcsChatException details = AcsChatException.FromCompletion(completion, result,
                result == AcsResult.Token ? client.LastRefresherFailure : null);
            if (result == AcsResult.Cancelled)
            {
                return new AcsChatCanceledException(details.Message, details.MayHaveBeenDelivered, cancellationToken, details);
            }
            return details;
        }

        /// <summary>
        /// The callback's part of the cleanup, before the task completes: disposes the registration when
        /// it exists already, and releases the callback's reference to the handle.
        /// </summary>
        protected void Finish()
        {
            if (Interlocked.CompareExchange(ref registrationState, CompletedFirst, NotRegistered) == Registered)
            {
                registration.Dispose();
                Release();
            }
            Release();
        }

        private void Release()
        {
            if (Interlocked.Decrement(ref references) == 0)
            {
                IntPtr handle = call;
                call = IntPtr.Zero;
                NativeMethods.acs_call_free(handle);
                AsyncCall.CallFreed();
            }
        }

        private static void OnCancel(object state)
        {
            // Never after the handle was freed: the starter's reference is released only once the
            // registration is disposed, which waits for this method when it runs on another thread.
            NativeMethods.acs_call_cancel(((PendingCall)state).call);
        }
    }

    /// <summary>A call whose task has a result of type <typeparamref name="T"/>.</summary>
    internal sealed class PendingCall<T> : PendingCall
    {
        private readonly TaskCompletionSource<T> completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Func<IntPtr, T> readResult;

        internal PendingCall(ChatClient client, Func<IntPtr, T> readResult, CancellationToken cancellationToken)
            : base(client, cancellationToken)
        {
            this.readResult = readResult;
        }

        internal Task<T> Task
        {
            get { return completion.Task; }
        }

        internal override void Complete(IntPtr nativeCompletion)
        {
            T value = default(T);
            Exception error;
            try
            {
                AcsResult result = NativeMethods.acs_completion_result(nativeCompletion);
                if (result == AcsResult.Ok)
                {
                    value = readResult(nativeCompletion);
                    error = null;
                }
                else
                {
                    error = Failure(nativeCompletion, result);
                }
            }
            catch (Exception e)
            {
                error = e;
            }
            try
            {
                Finish();
            }
            catch (Exception)
            {
                // A registration that cannot be disposed or a handle that cannot be freed must not
                // keep the task from completing.
            }
            if (error == null)
            {
                completion.TrySetResult(value);
            }
            else
            {
                completion.TrySetException(error);
            }
        }
    }

    /// <summary>
    /// Stops the library's callbacks when the process exits: .NET runs <see cref="AppDomain.ProcessExit"/>
    /// before it tears the runtime down, and a callback entering it afterwards could crash the process
    /// (the library's own <c>atexit</c> handler runs too late for that). Installed by the first asynchronous
    /// call and by <see cref="AcsChatLogging.SetHandler"/>. Afterwards the <c>...Async</c> methods throw
    /// <see cref="InvalidOperationException"/>; the blocking methods keep working.
    /// </summary>
    internal static class ProcessExitHook
    {
        private static int installed;
        private static int shutDown;

        /// <summary>True once the hook has run: the library's completion callbacks are off for good.</summary>
        internal static bool HasShutDown
        {
            get { return Volatile.Read(ref shutDown) != 0; }
        }

        internal static void Install()
        {
            if (Interlocked.Exchange(ref installed, 1) == 0)
            {
                AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
            }
        }

        private static void OnProcessExit(object sender, EventArgs e)
        {
            Volatile.Write(ref shutDown, 1);
            try
            {
                // Stops every callback into managed code (completions, the log callback, token
                // refreshers, free_user_data) and waits (at most 2 s) for those running.
                NativeMethods.acs_shutdown();
            }
            catch (Exception)
            {
            }
        }
    }
}
