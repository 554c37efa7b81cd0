using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace AcsChat.Tests
{
    /// <summary>Minimal JSON reader and writer for the emulator's control API (Mono's base profile has none).</summary>
    internal static class Json
    {
        internal static object Parse(string text)
        {
            int pos = 0;
            object value = ParseValue(text, ref pos);
            SkipSpace(text, ref pos);
            if (pos != text.Length)
            {
                throw new FormatException("Trailing characters in JSON at " + pos);
            }
            return value;
        }

        internal static Dictionary<string, object> Obj(object value)
        {
            Dictionary<string, object> obj = value as Dictionary<string, object>;
            if (obj == null)
            {
                throw new FormatException("Expected a JSON object, got " + Describe(value));
            }
            return obj;
        }

        internal static List<object> Arr(object value)
        {
            List<object> arr = value as List<object>;
            if (arr == null)
            {
                throw new FormatException("Expected a JSON array, got " + Describe(value));
            }
            return arr;
        }

        internal static object Get(Dictionary<string, object> obj, string key)
        {
            object value;
            return obj.TryGetValue(key, out value) ? value : null;
        }

        internal static string Str(Dictionary<string, object> obj, string key)
        {
            return Get(obj, key) as string;
        }

        internal static string Quote(string s)
        {
            StringBuilder sb = new StringBuilder("\"");
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x20)
                        {
                            sb.AppendFormat("\\u{0:x4}", (int)c);
                        }
                        else
                        {
                            sb.Append(c);
                        }
                        break;
                }
            }
            return sb.Append('"').ToString();
        }

        private static string Describe(object value)
        {
            return value == null ? "null" : value.GetType().Name;
        }

        private static void SkipSpace(string s, ref int pos)
        {
            while (pos < s.Length && char.IsWhiteSpace(s[pos]))
            {
                pos++;
            }
        }

        private static object ParseValue(string s, ref int pos)
        {
            SkipSpace(s, ref pos);
            if (pos >= s.Length)
            {
                throw new FormatException("Unexpected end of JSON");
            }
            char c = s[pos];
            if (c == '{')
            {
                Dictionary<string, object> obj = new Dictionary<string, object>();
                pos++;
                SkipSpace(s, ref pos);
                if (s[pos] == '}')
                {
                    pos++;
                    return obj;
                }
                while (true)
                {
                    SkipSpace(s, ref pos);
                    string key = ParseString(s, ref pos);
                    SkipSpace(s, ref pos);
                    Expect(s, ref pos, ':');
                    obj[key] = ParseValue(s, ref pos);
                    SkipSpace(s, ref pos);
                    if (s[pos] == ',')
                    {
                        pos++;
                        continue;
                    }
                    Expect(s, ref pos, '}');
                    return obj;
                }
            }
            if (c == '[')
            {
                List<object> arr = new List<object>();
                pos++;
                SkipSpace(s, ref pos);
                if (s[pos] == ']')
                {
                    pos++;
                    return arr;
                }
                while (true)
                {
                    arr.Add(ParseValue(s, ref pos));
                    SkipSpace(s, ref pos);
                    if (s[pos] == ',')
                    {
                        pos++;
                        continue;
                    }
                    Expect(s, ref pos, ']');
                    return arr;
                }
            }
            if (c == '"')
            {
                return ParseString(s, ref pos);
            }
            if (string.CompareOrdinal(s, pos, "true", 0, 4) == 0)
            {
                pos += 4;
                return true;
            }
            if (string.CompareOrdinal(s, pos, "false", 0, 5) == 0)
            {
                pos += 5;
                return false;
            }
            if (string.CompareOrdinal(s, pos, "null", 0, 4) == 0)
            {
                pos += 4;
                return null;
            }
            int start = pos;
            while (pos < s.Length && "+-0123456789.eE".IndexOf(s[pos]) >= 0)
            {
                pos++;
            }
            if (start == pos)
            {
                throw new FormatException("Unexpected character '" + c + "' in JSON at " + pos);
            }
            return double.Parse(s.Substring(start, pos - start), NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        private static void Expect(string s, ref int pos, char c)
        {
            if (pos >= s.Length || s[pos] != c)
            {
                throw new FormatException("Expected '" + c + "' in JSON at " + pos);
            }
            pos++;
        }

        private static string ParseString(string s, ref int pos)
        {
            Expect(s, ref pos, '"');
            StringBuilder sb = new StringBuilder();
            while (true)
            {
                char c = s[pos++];
                if (c == '"')
                {
                    return sb.ToString();
                }
                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }
                char e = s[pos++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        sb.Append((char)int.Parse(s.Substring(pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        pos += 4;
                        break;
                    default:
                        throw new FormatException("Bad escape in JSON at " + pos);
                }
            }
        }
    }
}
