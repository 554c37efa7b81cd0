using System;
using System.IO;

namespace AcsChat.Tests
{
    internal static class Program
    {
        private static int Main(string[] args)
        {
            string filter = args.Length > 0 ? args[0] : null;
            string root = Environment.GetEnvironmentVariable("ACS_REPO_ROOT");
            if (string.IsNullOrEmpty(root))
            {
                root = Directory.GetCurrentDirectory();
            }
            string emulatorBin = Environment.GetEnvironmentVariable("ACS_EMULATOR_BIN");
            if (string.IsNullOrEmpty(emulatorBin))
            {
                emulatorBin = Path.Combine(root, "target/debug/acs-chat-emulator");
            }
            int passed = 0;
            int failed;
            try
            {
                using (Emulator emulator = Emulator.Start(emulatorBin, null))
                using (Emulator slow = Emulator.Start(emulatorBin, null))
                {
                    emulator.Limits(false);
                    slow.Limits(false);
                    Console.WriteLine("emulator at " + emulator.Url + " (async tests: " + slow.Url + "), library " + ChatClient.Version);
                    Runner runner = new Runner();
                    new ChatTests(emulator, root).Register(runner);
                    // The async tests change the service latency: they get an emulator of their own.
                    new DropInTests(emulator).Register(runner);
                    new ConnectionStringTests(emulator).Register(runner);
                    new AsyncTests(slow).Register(runner);
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
