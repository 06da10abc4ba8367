using System.Globalization;
using System.Text;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Actors.Runtime.Experiments;

/// <summary>Renders a resolved configuration as HOCON that parses back to the same values (config.hocon).</summary>
public static class HoconWriter
{
    public static string Write(Config config)
    {
        var b = new StringBuilder();
        WriteObject(b, config.Root.GetObject(), 0);
        return b.ToString();
    }

    /// <summary>Every leaf of <paramref name="config"/> as (dotted key, value as config.hocon writes it), in file order.</summary>
    public static IReadOnlyList<(string Key, string Value)> Flatten(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var result = new List<(string, string)>();
        Flatten(config.Root.GetObject(), "", result);
        return result;
    }

    private static void Flatten(HoconObject obj, string prefix, List<(string, string)> into)
    {
        foreach (var (key, value) in obj.Items)
        {
            string path = prefix.Length == 0 ? key : prefix + "." + key;
            if (value.IsObject()) Flatten(value.GetObject(), path, into);
            else if (value.IsArray()) into.Add((path, "[" + string.Join(", ", value.GetArray().Select(Scalar)) + "]"));
            else into.Add((path, Scalar(value)));
        }
    }

    private static void WriteObject(StringBuilder b, HoconObject obj, int indent)
    {
        foreach (var (key, value) in obj.Items)
        {
            b.Append(' ', indent * 2).Append(QuoteKey(key));
            if (value.IsObject())
            {
                b.Append(" {\n");
                WriteObject(b, value.GetObject(), indent + 1);
                b.Append(' ', indent * 2).Append("}\n");
            }
            else if (value.IsArray())
            {
                b.Append(" = [").Append(string.Join(", ", value.GetArray().Select(Scalar))).Append("]\n");
            }
            else
            {
                b.Append(" = ").Append(Scalar(value)).Append('\n');
            }
        }
    }

    private static string Scalar(HoconValue v)
    {
        if (v.IsObject())
        {
            var inner = new StringBuilder();
            WriteObject(inner, v.GetObject(), 0);
            return "{ " + inner.ToString().Replace("\n", ", ", StringComparison.Ordinal).TrimEnd(',', ' ') + " }";
        }
        var s = v.GetString() ?? "";
        if (s is "true" or "false" || double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return s;
        if (s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.')) return s;
        return "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }

    private static string QuoteKey(string key) =>
        key.All(c => char.IsLetterOrDigit(c) || c is '-' or '_') ? key : "\"" + key.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
