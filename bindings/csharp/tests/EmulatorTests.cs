using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;

namespace AcsChat.Tests
{
    /// <summary>Marks a method of an <see cref="EmulatorTests"/> group as a test named <see cref="Name"/>.</summary>
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class TestAttribute : Attribute
    {
        internal TestAttribute(string name)
        {
            Name = name;
        }

        internal string Name { get; }
    }

    /// <summary>
    /// A group of tests run against an emulator: its methods marked <see cref="TestAttribute"/>, in the order they
    /// are written, with the setup they share (fresh thread ids, clients with a token the emulator minted, fast
    /// retries, the emulator's stored events).
    /// </summary>
    internal abstract class EmulatorTests
    {
        protected Emulator emulator;

        /// <summary>Put in front of every thread id the group makes, to tell its requests apart.</summary>
        protected virtual string ThreadPrefix
        {
            get { return ""; }
        }

        /// <summary>Adds the group's tests to <paramref name="r"/>, to run against <paramref name="target"/>.</summary>
        internal void Register(Runner r, Emulator target)
        {
            emulator = target;
            MethodInfo[] methods = GetType().GetMethods(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);
            foreach (MethodInfo method in methods.OrderBy(m => m.MetadataToken))
            {
                TestAttribute test = method.GetCustomAttribute<TestAttribute>();
                if (test != null)
                {
                    r.Add(test.Name, (Action)Delegate.CreateDelegate(typeof(Action), this, method));
                }
            }
        }

        /// <summary>A thread id no other test uses.</summary>
        protected string NewThread(string tag)
        {
            return "19:" + ThreadPrefix + tag + "-" + Guid.NewGuid().ToString("N") + "@thread.v2";
        }

        /// <summary>A client of the emulator with a fresh token.</summary>
        protected virtual ChatClient NewClient(ChatClientOptions options = null)
        {
            return new ChatClient(emulator.Url, emulator.Token(), options);
        }

        /// <summary>Options retrying <paramref name="maxRetries"/> times after 10 to 50 ms.</summary>
        protected static ChatClientOptions FastRetries(int maxRetries)
        {
            ChatClientOptions options = new ChatClientOptions();
            options.MaxRetries = maxRetries;
            options.RetryDelay = TimeSpan.FromMilliseconds(10);
            options.MaxRetryDelay = TimeSpan.FromMilliseconds(50);
            return options;
        }

        /// <summary>The events the emulator stored for the thread, of one operation (<c>message</c>, <c>typing</c>, <c>readReceipt</c>).</summary>
        protected List<Dictionary<string, object>> EventsOf(string threadId, string op)
        {
            return emulator.Events(threadId).Where(e => Json.Str(e, "op") == op).ToList();
        }

        /// <summary>The metadata of a stored message event.</summary>
        protected static Dictionary<string, string> Metadata(Dictionary<string, object> ev)
        {
            Dictionary<string, string> result = new Dictionary<string, string>();
            Dictionary<string, object> obj = Json.Get(ev, "metadata") as Dictionary<string, object>;
            if (obj != null)
            {
                foreach (KeyValuePair<string, object> pair in obj)
                {
                    result[pair.Key] = pair.Value as string;
                }
            }
            return result;
        }

        /// <summary>One header, for a scripted fault.</summary>
        protected static Dictionary<string, string> Headers(string name, string value)
        {
            Dictionary<string, string> headers = new Dictionary<string, string>();
            headers[name] = value;
            return headers;
        }
    }
}
