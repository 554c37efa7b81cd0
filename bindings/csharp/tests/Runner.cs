using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading.Tasks;

namespace AcsChat.Tests
{
    internal sealed class AssertionException : Exception
    {
        internal AssertionException(string message) : base(message) { }
    }

    /// <summary>Assertions that throw <see cref="AssertionException"/>.</summary>
    internal static class Assert
    {
        internal static void True(bool condition, string what)
        {
            if (!condition)
            {
                throw new AssertionException("expected true: " + what);
            }
        }

        internal static void Equal<T>(T expected, T actual, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
            {
                throw new AssertionException(what + ": expected <" + expected + ">, got <" + actual + ">");
            }
        }

        internal static void NotEmpty(string value, string what)
        {
            if (string.IsNullOrEmpty(value))
            {
                throw new AssertionException(what + ": expected a non-empty string, got <" + (value ?? "null") + ">");
            }
        }

        /// <summary>Runs <paramref name="action"/> and returns the exception, which must be exactly <typeparamref name="T"/>.</summary>
        internal static T Throws<T>(Action action, string what) where T : Exception
        {
            try
            {
                action();
            }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1 && e.InnerException.GetType() == typeof(T))
            {
                return (T)e.InnerException;
            }
            catch (Exception e)
            {
                if (e.GetType() == typeof(T))
                {
                    return (T)e;
                }
                throw new AssertionException(what + ": expected " + typeof(T).Name + ", got " + e.GetType().Name + ": " + e.Message);
            }
            throw new AssertionException(what + ": expected " + typeof(T).Name + ", nothing was thrown");
        }

        /// <summary>Expects an <see cref="AcsChatException"/> with <paramref name="result"/>.</summary>
        internal static AcsChatException Fails(AcsResult result, Action action, string what)
        {
            AcsChatException e = Throws<AcsChatException>(action, what);
            Equal(result, e.Result, what + " (Result; message: " + e.Message + ")");
            return e;
        }
    }

    /// <summary>A tiny test runner: named actions, each with a time limit.</summary>
    internal sealed class Runner
    {
        private readonly List<KeyValuePair<string, Action>> tests = new List<KeyValuePair<string, Action>>();

        internal void Add(string name, Action test)
        {
            tests.Add(new KeyValuePair<string, Action>(name, test));
        }

        /// <summary>Runs the tests whose name contains <paramref name="filter"/> (all when null); returns the failure count.</summary>
        internal int Run(string filter, TimeSpan limit, out int passed)
        {
            passed = 0;
            int failed = 0;
            foreach (KeyValuePair<string, Action> test in tests)
            {
                if (filter != null && test.Key.IndexOf(filter, StringComparison.Ordinal) < 0)
                {
                    continue;
                }
                Stopwatch watch = Stopwatch.StartNew();
                string failure = null;
                Task run = Task.Run(test.Value);
                try
                {
                    if (!run.Wait(limit))
                    {
                        failure = "did not finish within " + limit.TotalSeconds + " s";
                    }
                }
                catch (AggregateException e)
                {
                    Exception inner = e.InnerExceptions.Count == 1 ? e.InnerException : e;
                    failure = inner is AssertionException ? inner.Message : inner.GetType().Name + ": " + inner;
                }
                if (failure == null)
                {
                    passed++;
                    Console.WriteLine("PASS " + test.Key + " (" + watch.ElapsedMilliseconds + " ms)");
                }
                else
                {
                    failed++;
                    Console.WriteLine("FAIL " + test.Key + " (" + watch.ElapsedMilliseconds + " ms): " + failure);
                }
            }
            return failed;
        }
    }
}
