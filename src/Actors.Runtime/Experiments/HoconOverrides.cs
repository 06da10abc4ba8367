using System.Text;
using System.Text.RegularExpressions;
using Akka.Configuration;

namespace Actors.Runtime.Experiments;

/// <summary>
/// The one parser of <c>--set key=value</c>, for experiments and for node configuration alike. The value is HOCON when
/// it is a list, an object, a quoted string, or a plain word (numbers, booleans, sizes and durations such as 10s, names
/// such as fashion-mnist); anything else (paths, addresses, text with spaces) is taken as a string.
/// </summary>
public static partial class HoconOverrides
{
    /// <summary>One <c>key=value</c> as a config; throws <see cref="UserInputException"/> naming the setting.</summary>
    public static Config Parse(string assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        var equals = assignment.IndexOf('=', StringComparison.Ordinal);
        var key = equals > 0 ? assignment[..equals].Trim() : "";
        if (!KeyPattern().IsMatch(key))
            throw new UserInputException($"--set '{assignment}': expected key=value with a dotted key, e.g. optimizer.lr=0.01 or akka.loglevel=DEBUG");
        var value = assignment[(equals + 1)..].Trim();
        var hocon = value.Length > 0 && (value[0] is '[' or '{' or '"' || PlainValuePattern().IsMatch(value)) ? value : Quote(value);
        try
        {
            return ConfigurationFactory.ParseString($"{key} = {hocon}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new UserInputException($"--set '{assignment}': {e.Message.Split('\n')[0].Trim()}", e);
        }
    }

    /// <summary>A HOCON string literal of <paramref name="value"/>.</summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var sb = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ => c.ToString(),
            });
        }
        return sb.Append('"').ToString();
    }

    [GeneratedRegex(@"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-""]+)*$")]
    private static partial Regex KeyPattern();

    // Numbers, booleans, sizes and durations (10s, 256MiB), plain words (DEBUG, keep-oldest, fashion-mnist).
    [GeneratedRegex(@"^[A-Za-z0-9_.\-+]+$")]
    private static partial Regex PlainValuePattern();
}
