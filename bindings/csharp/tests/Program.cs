using System;
using System.IO;

namespace AcsChat.Tests
{
    internal static class Program
    {
        /// <summary>The repository (<c>$ACS_REPO_ROOT</c>, else the current directory).</summary>
        internal static string Root { get; private set; }

        /// <summary>The emulator program (<c>$ACS_EMULATOR_BIN</c>, else the debug build).</summary>
        internal static string EmulatorBin { get; private set; }

        private static int Main(string[] args)
        {
            string filter = args.Length > 0 ? args[0] : null;
            Root = Environment.GetEnvironmentVariable("ACS_REPO_ROOT");
            if (string.IsNullOrEmpty(Root))
            {
                Root = Directory.GetCurrentDirectory();
            }
            EmulatorBin = Environment.GetEnvironmentVariable("ACS_EMULATOR_BIN");
            if (string.IsNullOrEmpty(EmulatorBin))
            {
                EmulatorBin = Path.Combine(Root, "target/debug/acs-chat-emulator");
            }
            int passed = 0;
            int failed;
            try
            {
                using (Emulator emulator = Emulator.Start(EmulatorBin, null))
                using (Emulator slow = Emulator.Start(EmulatorBin, null))
                {
                    emulator.Limits(false);
                    slow.Limits(false);
                    Console.WriteLine("emulator at " + emulator.Url + " (async tests: " + slow.Url + "), library " + ChatClient.Version);
                    Runner runner = new Runner();
                    new HeaderTests().Register(runner, emulator);
                    new OperationTests().Register(runner, emulator);
                    new ErrorTests().Register(runner, emulator);
                    new OptionsTests().Register(runner, emulator);
                    new TokenRefresherTests().Register(runner, emulator);
                    new LifetimeTests().Register(runner, emulator);
                    new DropInTests().Register(runner, emulator);
                    // The async tests change the service latency: they get an emulator of their own.
                    new ConnectionStringTests().Register(runner, emulator);
                    new AsyncTests().Register(runner, slow);
                    failed = runner.Run(filter, TimeSpan.FromSeconds(60), out passed);
                }
            }
            catch (Exception e)
            {
                Console.WriteLine("FAIL setup: " + e);
                failed = 1;
            }
            finally
            {
                try
                {
                    AcsChatLogging.SetHandler(null);
                }
                catch (Exception)
                {
                }
            }
            Console.Out.Flush();
            Console.WriteLine(passed + " passed, " + failed + " failed");
            Console.Out.Flush();
            return failed == 0 ? 0 : 1;
        }
    }
}
