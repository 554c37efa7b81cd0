using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace AcsChat.Tests
{
    /// <summary>The binding against <c>include/acs_chat.h</c>: version, every function imported, the values of its enums and constants.</summary>
    internal sealed class HeaderTests : EmulatorTests
    {
        /// <summary>The function list every binding declares (spec/API.md).</summary>
        private static readonly string[] ApiFunctions =
        {
            "acs_client_new", "acs_client_free", "acs_client_set_token", "acs_send_message", "acs_send_typing",
            "acs_send_read_receipt", "acs_string_free", "acs_client_options_new", "acs_client_options_free",
            "acs_client_options_set_api_version", "acs_client_options_set_timeout_ms",
            "acs_client_options_set_connect_timeout_ms", "acs_client_options_set_max_retries",
            "acs_client_options_set_retry_delay_ms", "acs_client_options_set_application_id",
            "acs_client_options_set_ca_file", "acs_client_options_set_allow_insecure_http",
            "acs_client_options_set_token_refresher", "acs_client_options_set_proactive_refresh",
            "acs_token_sink_set", "acs_message_options_new", "acs_message_options_free",
            "acs_message_options_set_type", "acs_message_options_set_sender_display_name",
            "acs_message_options_add_metadata", "acs_result_str", "acs_last_error_message",
            "acs_last_error_http_status", "acs_last_error_code", "acs_last_error_request_id",
            "acs_last_error_retry_after_ms", "acs_version", "acs_set_log_callback",
            // 0.2: asynchronous calls and the delivery verdict.
            "acs_last_error_may_have_been_delivered", "acs_send_message_async", "acs_send_typing_async",
            "acs_send_read_receipt_async", "acs_call_cancel", "acs_call_free", "acs_completion_result",
            "acs_completion_message_id", "acs_completion_http_status", "acs_completion_error_message",
            "acs_completion_error_code", "acs_completion_request_id", "acs_completion_retry_after_ms",
            "acs_completion_may_have_been_delivered", "acs_shutdown", "acs_client_options_set_total_timeout_ms",
            "acs_client_options_set_max_connections_per_origin",
            // 0.3: the answer to a successful blocking call (Response.Status and the request id).
            "acs_last_call_http_status", "acs_last_call_request_id",
        };

        private string Header()
        {
            string path = Path.Combine(Program.Root, "include/acs_chat.h");
            Assert.True(File.Exists(path), path + " exists");
            return File.ReadAllText(path);
        }

        private static string StripComments(string c)
        {
            c = Regex.Replace(c, @"/\*.*?\*/", " ", RegexOptions.Singleline);
            return Regex.Replace(c, @"//[^\n]*", " ");
        }

        [Test("version_matches_header")]
        private void VersionMatchesHeader()
        {
            string version = ChatClient.Version;
            Assert.True(Regex.IsMatch(version, @"^\d+\.\d+\.\d+"), "version looks like x.y.z: " + version);
            string header = Header();
            Match m = Regex.Match(header, "#define\\s+ACS_CHAT_VERSION\\s+\"([^\"]+)\"");
            Assert.True(m.Success, "header defines ACS_CHAT_VERSION");
            Assert.Equal(m.Groups[1].Value, version, "ChatClient.Version == ACS_CHAT_VERSION");
            string[] parts = new string[3];
            string[] names = { "MAJOR", "MINOR", "PATCH" };
            for (int i = 0; i < 3; i++)
            {
                Match part = Regex.Match(header, @"#define\s+ACS_CHAT_VERSION_" + names[i] + @"\s+(\d+)");
                Assert.True(part.Success, "header defines ACS_CHAT_VERSION_" + names[i]);
                parts[i] = part.Groups[1].Value;
            }
            Assert.Equal(string.Join(".", parts), version.Split('-', '+')[0], "ACS_CHAT_VERSION_MAJOR.MINOR.PATCH == ChatClient.Version");
            Assert.Equal(version, ChatClient.Version, "Version is stable across reads");
        }

        [Test("every_header_function_has_dllimport")]
        private void EveryHeaderFunctionHasDllImport()
        {
            string code = StripComments(Header());
            HashSet<string> declared = new HashSet<string>();
            foreach (Match m in Regex.Matches(code, @"(?<!\w)(acs_[a-z0-9_]+)\s*\((?!\s*\*)"))
            {
                declared.Add(m.Groups[1].Value);
            }
            foreach (string name in ApiFunctions)
            {
                Assert.True(declared.Contains(name), "the header declares " + name);
            }
            Type native = typeof(ChatClient).Assembly.GetType("AcsChat.NativeMethods", true);
            Dictionary<string, MethodInfo> imports = new Dictionary<string, MethodInfo>();
            foreach (MethodInfo method in native.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public))
            {
                DllImportAttribute attr = (DllImportAttribute)Attribute.GetCustomAttribute(method, typeof(DllImportAttribute));
                if (attr == null)
                {
                    // A runtime that does not surface the [DllImport] pseudo-attribute: use the method flags.
                    if ((method.Attributes & MethodAttributes.PinvokeImpl) == 0)
                    {
                        continue;
                    }
                    imports[method.Name] = method;
                    continue;
                }
                Assert.Equal("acs_chat", attr.Value, method.Name + " imports from acs_chat");
                Assert.Equal(CallingConvention.Cdecl, attr.CallingConvention, method.Name + " calling convention");
                imports[string.IsNullOrEmpty(attr.EntryPoint) ? method.Name : attr.EntryPoint] = method;
            }
            List<string> missing = declared.Where(n => !imports.ContainsKey(n)).OrderBy(n => n).ToList();
            Assert.True(missing.Count == 0, "every header function has a [DllImport]; missing: " + string.Join(", ", missing));
            List<string> extra = imports.Keys.Where(n => !declared.Contains(n)).OrderBy(n => n).ToList();
            Assert.True(extra.Count == 0, "every [DllImport] exists in the header; unknown: " + string.Join(", ", extra));
            foreach (MethodInfo method in imports.Values)
            {
                foreach (ParameterInfo p in method.GetParameters())
                {
                    Assert.True(p.ParameterType != typeof(string), method.Name + "(" + p.Name + ") marshals strings explicitly");
                    if (p.ParameterType == typeof(bool))
                    {
                        MarshalAsAttribute ma = (MarshalAsAttribute)Attribute.GetCustomAttribute(p, typeof(MarshalAsAttribute));
                        Assert.True(ma != null && ma.Value == UnmanagedType.U1, method.Name + "(" + p.Name + ") bool is marshalled as U1");
                    }
                }
                Assert.True(method.ReturnType != typeof(string), method.Name + " returns no string");
                if (method.ReturnType == typeof(bool))
                {
                    MarshalAsAttribute ma = (MarshalAsAttribute)Attribute.GetCustomAttribute(method.ReturnParameter, typeof(MarshalAsAttribute));
                    Assert.True(ma != null && ma.Value == UnmanagedType.U1, method.Name + " returns a bool marshalled as U1");
                }
            }
        }

        /// <summary>
        /// The header's <c>ACS_*</c> integers (<c>#define</c>s and enumerators) whose name after <c>ACS_</c> matches
        /// <paramref name="name"/>, by that name.
        /// </summary>
        private Dictionary<string, ulong> HeaderValues(string name)
        {
            Dictionary<string, ulong> values = new Dictionary<string, ulong>();
            string pattern = @"(?:#define\s+|\b)ACS_(" + name + @")(?:\s+|\s*=\s*)\(?\s*(?:\([a-z0-9_ ]+\)\s*)?(\d+)";
            foreach (Match m in Regex.Matches(StripComments(Header()), pattern))
            {
                values[m.Groups[1].Value] = ulong.Parse(m.Groups[2].Value);
            }
            return values;
        }

        private static string Pascal(string upperSnake)
        {
            return string.Concat(upperSnake.ToLowerInvariant().Split('_').Select(w => char.ToUpperInvariant(w[0]) + w.Substring(1)));
        }

        [Test("result_and_log_level_values_match_header")]
        private void ResultValuesMatchHeader()
        {
            Dictionary<string, ulong> values = HeaderValues("RESULT_[A-Z0-9_]+");
            Assert.True(values.Count >= 17, "the header defines the ACS_RESULT_* values (found " + values.Count + ")");
            foreach (KeyValuePair<string, ulong> pair in values)
            {
                string pascal = Pascal(pair.Key.Substring("RESULT_".Length));
                Assert.True(Enum.IsDefined(typeof(AcsResult), pascal), "AcsResult." + pascal + " exists for ACS_" + pair.Key);
                Assert.Equal(pair.Value, (ulong)(AcsResult)Enum.Parse(typeof(AcsResult), pascal), "AcsResult." + pascal);
            }
            Assert.Equal(values.Count, Enum.GetValues(typeof(AcsResult)).Length, "AcsResult has exactly the header's values");
            Dictionary<string, ulong> levels = HeaderValues("LOG_LEVEL_[A-Z]+");
            foreach (AcsLogLevel level in Enum.GetValues(typeof(AcsLogLevel)))
            {
                string name = "LOG_LEVEL_" + level.ToString().ToUpperInvariant();
                Assert.True(levels.ContainsKey(name), "header has ACS_" + name);
                Assert.Equal(levels[name], (ulong)level, "AcsLogLevel." + level);
            }
            Assert.Equal(levels.Count, Enum.GetValues(typeof(AcsLogLevel)).Length, "AcsLogLevel has exactly the header's levels");
            Assert.Equal(HeaderValues("MESSAGE_TYPE_HTML")["MESSAGE_TYPE_HTML"], (ulong)ChatMessageType.Html, "ChatMessageType.Html matches the header");
        }

        [Test("native_constants_match_header")]
        private void NativeConstantsMatchHeader()
        {
            Dictionary<string, ulong> limits = HeaderValues("(?:DEFAULT|MAX)_[A-Z0-9_]+");
            Assert.True(limits.ContainsKey("MAX_RETRIES") && limits.ContainsKey("DEFAULT_TIMEOUT_MS"), "the header defines the defaults and limits");
            Type constants = typeof(ChatClient).Assembly.GetType("AcsChat.NativeConstants", true);
            Dictionary<string, ulong> fields = new Dictionary<string, ulong>();
            foreach (FieldInfo field in constants.GetFields(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public))
            {
                fields[Regex.Replace(field.Name, "(?<=[a-z0-9])([A-Z])", "_$1").ToUpperInvariant()] = Convert.ToUInt64(field.GetRawConstantValue());
            }
            List<string> differ = limits.Where(p => !fields.ContainsKey(p.Key) || fields[p.Key] != p.Value).Select(p => "ACS_" + p.Key).ToList();
            Assert.True(differ.Count == 0, "NativeConstants has the header's values (run bindings/gen_constants.py); differ: " + string.Join(", ", differ));
            Assert.Equal(limits.Count, fields.Count, "NativeConstants has exactly the header's defaults and limits");
            ChatClientOptions defaults = new ChatClientOptions();
            Assert.Equal(TimeSpan.FromMilliseconds(limits["DEFAULT_TIMEOUT_MS"]), defaults.Timeout, "Timeout default from the header");
            Assert.Equal((int)limits["DEFAULT_MAX_RETRIES"], defaults.MaxRetries, "MaxRetries default from the header");
            Assert.Equal((int)limits["DEFAULT_MAX_CONNECTIONS_PER_ORIGIN"], defaults.MaxConnectionsPerOrigin, "MaxConnectionsPerOrigin default from the header");
        }
    }
}
