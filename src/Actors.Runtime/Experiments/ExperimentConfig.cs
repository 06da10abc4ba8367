using System.Globalization;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Actors.Runtime.Experiments;

/// <summary>
/// Input the user can fix (a command-line argument, a file, an address, a port): the message says what is wrong and what
/// to do. Exit code 2. Anything else that goes wrong is a failure of the program (exit code 1).
/// </summary>
public class UserInputException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Bad experiment input: the message names the key, the bad value and what is valid. Exit code 2.</summary>
public sealed class ExperimentConfigException(string message) : UserInputException(message);

/// <summary>
/// Loads an experiment: the file (HOCON), then <c>--set key=value</c> overrides, over the reference defaults.
/// Rejects keys the reference does not know, so a typo never silently falls back to a default.
/// </summary>
public static class ExperimentConfig
{
    private static readonly Lazy<Config> ReferenceConfig = new(() =>
    {
        using var s = typeof(ExperimentConfig).Assembly.GetManifestResourceStream("Actors.Runtime.reference.hocon")
                      ?? throw new InvalidOperationException("reference.hocon resource missing");
        using var r = new StreamReader(s);
        return ConfigurationFactory.ParseString(r.ReadToEnd());
    });

    public static Config Reference => ReferenceConfig.Value;

    /// <summary>The merged configuration (file and overrides over defaults).</summary>
    public static Config Load(string? file, IEnumerable<string> overrides)
    {
        Config user = Config.Empty;
        if (file is not null)
        {
            if (!File.Exists(file)) throw new ExperimentConfigException($"experiment file not found: {file}");
            user = ParseFile(file);
        }
        foreach (var o in overrides)
        {
            user = ParseOverride(o).WithFallback(user);
        }
        CheckKnownKeys(user);
        return user.WithFallback(Reference);
    }

    /// <summary>One <c>--set key=value</c> (<see cref="HoconOverrides"/>), as bad experiment input when it does not parse.</summary>
    public static Config ParseOverride(string setting)
    {
        try
        {
            return HoconOverrides.Parse(setting);
        }
        catch (UserInputException e)
        {
            throw new ExperimentConfigException(e.Message);
        }
    }

    /// <summary>
    /// The <c>experiment.mode</c> a file or the overrides set explicitly (null when neither does), read before defaults
    /// are merged: <c>run --cluster</c> refuses an explicit simulation.
    /// </summary>
    public static string? ExplicitMode(string? file, IEnumerable<string> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        string? mode = null;
        if (file is not null && File.Exists(file))
        {
            try
            {
                var user = ParseFile(file);
                if (user.HasPath("experiment.mode")) mode = user.GetString("experiment.mode");
            }
            catch (ExperimentConfigException)
            {
                // not valid HOCON: Load reports it with the file name
            }
        }
        foreach (var o in overrides)
        {
            var c = ParseOverride(o);
            if (c.HasPath("experiment.mode")) mode = c.GetString("experiment.mode");
        }
        return mode;
    }

    /// <summary>
    /// Parses one experiment file; <c>include "other.hocon"</c> is resolved relative to the including file (nested includes
    /// too), and an include that does not exist is an error naming both files.
    /// </summary>
    public static Config ParseFile(string file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var full = Path.GetFullPath(file);
        var including = new Stack<string>();
        Akka.Configuration.Hocon.HoconRoot Include(string name)
        {
            var from = including.Peek();
            var target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(from)!, name.Trim('"')));
            if (!File.Exists(target)) throw new ExperimentConfigException($"{from}: include \"{name}\" not found (looked for {target})");
            if (including.Contains(target) || including.Count > 16) throw new ExperimentConfigException($"{from}: include \"{name}\" includes itself");
            return ParseText(target, t => Akka.Configuration.Hocon.Parser.Parse(t, Include));
        }
        return ParseText(full, t => new Config(Akka.Configuration.Hocon.Parser.Parse(t, Include)));

        T ParseText<T>(string path, Func<string, T> parse)
        {
            var text = File.ReadAllText(path);
            CheckBalanced(text, path);
            including.Push(path);
            try
            {
                return parse(text);
            }
            catch (Exception e) when (e is not ExperimentConfigException and not OutOfMemoryException)
            {
                throw new ExperimentConfigException($"{path}: not valid HOCON ({FirstLine(e.Message)})");
            }
            finally
            {
                including.Pop();
            }
        }
    }

    /// <summary>Akka's HOCON parser accepts an unclosed object; a truncated file must be an error, not silent defaults.</summary>
    private static void CheckBalanced(string text, string file)
    {
        var stack = new Stack<char>();
        int line = 1;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\n') line++;
            else if (c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/'))
            {
                while (i + 1 < text.Length && text[i + 1] != '\n') i++;
            }
            else if (c == '"')
            {
                for (i++; i < text.Length && text[i] != '"'; i++)
                {
                    if (text[i] == '\\') i++;
                    else if (text[i] == '\n') throw new ExperimentConfigException($"{file}:{line}: unterminated string");
                }
            }
            else if (c is '{' or '[') stack.Push(c);
            else if (c is '}' or ']')
            {
                if (stack.Count == 0 || stack.Pop() != (c == '}' ? '{' : '['))
                    throw new ExperimentConfigException($"{file}:{line}: not valid HOCON (unbalanced '{c}')");
            }
        }
        if (stack.Count > 0) throw new ExperimentConfigException($"{file}: not valid HOCON (unclosed '{stack.Peek()}' at end of file)");
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();

    /// <summary>Every leaf key of the user config must exist in the reference (sweep blocks are allowed and handled elsewhere).</summary>
    public static void CheckKnownKeys(Config user)
    {
        if (user.IsEmpty) return;
        var root = user.Root.GetObject();
        Walk(root, "");
    }

    private static void Walk(HoconObject obj, string prefix)
    {
        foreach (var (key, value) in obj.Items)
        {
            var path = prefix.Length == 0 ? key : prefix + "." + key;
            if (prefix.Length == 0 && key == "sweep") continue;
            if (!Reference.HasPath(path))
            {
                var parent = prefix.Length == 0 ? null : Reference.GetConfig(prefix);
                var valid = parent is null || parent.IsEmpty
                    ? Reference.Root.GetObject().Items.Keys
                    : parent.Root.GetObject().Items.Keys;
                throw new ExperimentConfigException($"unknown key '{path}' (valid keys{(prefix.Length == 0 ? "" : $" under '{prefix}'")}: {string.Join(", ", valid)})");
            }
            if (value.IsObject()) Walk(value.GetObject(), path);
        }
    }
}
