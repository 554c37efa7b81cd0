using System;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace AcsChat
{
    /// <summary>
    /// Keeps the library's own threads from blocking the exit of a Mono process.
    /// </summary>
    /// <remarks>
    /// The library's I/O threads (and the threads of its blocking pool, where asynchronous calls run the
    /// token refresher) are native threads named <c>acs-chat-io</c> that never end. When one calls a managed
    /// callback, the runtime attaches it. CoreCLR and .NET Framework then treat it as a background thread
    /// that exit neither waits for nor aborts. Mono attaches it as a background thread too, but at exit
    /// (return from <c>Main</c>, <see cref="Environment.Exit"/>) aborts or suspends every attached thread and
    /// waits until each has come back to managed code or ended: a thread waiting in native code does
    /// neither, and the process hangs. Mono skips threads flagged "don't manage" (its own I/O selector, the
    /// debugger's threads), so on Mono each library thread gets that flag when it first enters managed code;
    /// <see cref="ProcessExitHook"/> has stopped every callback into managed code before Mono tears down.
    /// On other runtimes this class does nothing.
    /// </remarks>
    internal static class LibraryThreads
    {
        /// <summary>MONO_THREAD_FLAG_DONT_MANAGE: "don't wait for or abort this thread" (mono/metadata/object-internals.h).</summary>
        private const long MonoDontManage = 1;
        private const int PrGetName = 16;
        private const string IoThreadName = "acs-chat-io";

        private static readonly FieldInfo InternalThreadField;
        private static readonly FieldInfo FlagsField;
        private static readonly FieldInfo StartDelegateField;

        /// <summary>Whether this thread has been looked at already.</summary>
        [ThreadStatic]
        private static bool checkedThread;

        static LibraryThreads()
        {
            try
            {
                if (Type.GetType("Mono.Runtime") == null)
                {
                    return;
                }
                const BindingFlags instance = BindingFlags.Instance | BindingFlags.NonPublic;
                FieldInfo internalThread = typeof(Thread).GetField("internal_thread", instance);
                FieldInfo flags = internalThread == null ? null : internalThread.FieldType.GetField("flags", instance);
                if (flags != null && flags.FieldType == typeof(IntPtr))
                {
                    InternalThreadField = internalThread;
                    FlagsField = flags;
                    StartDelegateField = typeof(Thread).GetField("m_Delegate", instance);
                }
            }
            catch (Exception)
            {
                // Another Mono layout: leave threads alone.
            }
        }

        /// <summary>For callbacks that only ever run on the library's threads (completion callbacks).</summary>
        internal static void Adopt()
        {
            if (checkedThread)
            {
                return;
            }
            checkedThread = true;
            if (FlagsField != null)
            {
                MarkDontManage();
            }
        }

        /// <summary>
        /// For callbacks that may also run on a managed thread (the log callback, the token refresher of a
        /// blocking call): only a native thread named <c>acs-chat-io</c> is flagged, never a thread the
        /// runtime started (one started from a library thread inherits its name).
        /// </summary>
        internal static void AdoptIfLibraryThread()
        {
            if (checkedThread)
            {
                return;
            }
            checkedThread = true;
            if (FlagsField != null && IsAttachedLibraryThread())
            {
                MarkDontManage();
            }
        }

        private static void MarkDontManage()
        {
            try
            {
                object internalThread = InternalThreadField.GetValue(Thread.CurrentThread);
                if (internalThread != null)
                {
                    long flags = ((IntPtr)FlagsField.GetValue(internalThread)).ToInt64();
                    FlagsField.SetValue(internalThread, new IntPtr(flags | MonoDontManage));
                }
            }
            catch (Exception)
            {
                // Nothing better to do: the process may then hang at exit on this runtime.
            }
        }

        private static bool IsAttachedLibraryThread()
        {
            try
            {
                Thread current = Thread.CurrentThread;
                if (current.IsThreadPoolThread || (StartDelegateField != null && StartDelegateField.GetValue(current) != null))
                {
                    return false;
                }
                byte[] name = new byte[16];
                int result;
                try
                {
                    result = prctl_glibc(PrGetName, name, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero);
                }
                catch (DllNotFoundException)
                {
                    result = prctl_libc(PrGetName, name, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero);
                }
                if (result != 0)
                {
                    return false;
                }
                int length = Array.IndexOf(name, (byte)0);
                return Encoding.ASCII.GetString(name, 0, length < 0 ? name.Length : length) == IoThreadName;
            }
            catch (Exception)
            {
                // Not Linux (no prctl): never change a thread we cannot identify.
                return false;
            }
        }

        // prctl(PR_GET_NAME, char name[16]): the calling thread's name.
        [DllImport("libc.so.6", EntryPoint = "prctl", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        private static extern int prctl_glibc(int option, byte[] arg2, IntPtr arg3, IntPtr arg4, IntPtr arg5);

        [DllImport("libc", EntryPoint = "prctl", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        private static extern int prctl_libc(int option, byte[] arg2, IntPtr arg3, IntPtr arg4, IntPtr arg5);
    }
}
