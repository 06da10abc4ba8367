using System.Globalization;
using Akka.Configuration;

namespace Actors.Runtime.Experiments;

/// <summary>Typed reads of config keys, with messages that name the key, the bad value and what is valid (every section parser uses it).</summary>
public sealed class ConfigReader(Config c)
{
    private string Raw(string key) => c.GetString(key) ?? throw new ExperimentConfigException($"missing key '{key}'");

    public Config Config => c;

    public string String(string key) => Raw(key);

    /// <summary>A string, or null when it is empty (an optional setting).</summary>
    public string? OptionalString(string key) => Raw(key) is { Length: > 0 } v ? v : null;

    /// <summary>An integer where <paramref name="unset"/> means "the rule's default" (null).</summary>
    public int? OptionalInt(string key, int unset, int min = int.MinValue) => Int(key, min: Math.Min(min, unset)) is var v && v == unset ? null : v;

    /// <summary>A number where <paramref name="unset"/> means "the rule's default" (null).</summary>
    public double? OptionalDouble(string key, double unset) => Double(key) is var v && v == unset ? null : v;

    public string Choice(string key, string[] valid)
    {
        var v = Raw(key);
        if (!valid.Contains(v)) throw new ExperimentConfigException($"{key} = '{v}' is not valid (valid: {string.Join(", ", valid)})");
        return v;
    }

    /// <summary>A choice parsed into its enum (<see cref="ConfigEnum"/>).</summary>
    public T Enum<T>(string key) where T : struct, System.Enum
    {
        var v = Raw(key);
        return ConfigEnum.TryParse<T>(v, out var value)
            ? value
            : throw new ExperimentConfigException($"{key} = '{v}' is not valid (valid: {string.Join(", ", ConfigEnum.Names<T>())})");
    }

    public bool Bool(string key)
    {
        var v = Raw(key).ToLowerInvariant();
        return v switch
        {
            "on" or "true" or "yes" => true,
            "off" or "false" or "no" => false,
            _ => throw new ExperimentConfigException($"{key} = '{v}' is not valid (valid: on, off)"),
        };
    }

    public long Long(string key)
    {
        var v = Raw(key);
        if (!long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x))
            throw new ExperimentConfigException(System.Numerics.BigInteger.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
                ? $"{key} = {v} is out of range (a 64-bit integer: {long.MinValue} to {long.MaxValue})"
                : $"{key} = '{v}' is not an integer");
        return x;
    }

    public int Int(string key, int min = int.MinValue, int max = int.MaxValue)
    {
        var v = Raw(key);
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x))
        {
            if (long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var big) || System.Numerics.BigInteger.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                throw new ExperimentConfigException(big < 0 || v.TrimStart().StartsWith('-')
                    ? $"{key} = {v} is too small (minimum {Math.Max(min, int.MinValue).ToString(CultureInfo.InvariantCulture)})"
                    : $"{key} = {v} is too large (maximum {max.ToString(CultureInfo.InvariantCulture)})");
            throw new ExperimentConfigException($"{key} = '{v}' is not an integer");
        }
        if (x < min || x > max) throw new ExperimentConfigException($"{key} = {x} is out of range ({Range(min, max)})");
        return x;
    }

    public double Double(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        var v = Raw(key);
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || !double.IsFinite(x))
            throw new ExperimentConfigException($"{key} = '{v}' is not a finite number");
        if (x < min || x > max) throw new ExperimentConfigException($"{key} = {v} is out of range ({Range(min, max)})");
        return x;
    }

    private static string Range(double min, double max) =>
        (double.IsNegativeInfinity(min) || min == int.MinValue, double.IsPositiveInfinity(max) || max == int.MaxValue) switch
        {
            (true, true) => "any",
            (false, true) => $">= {min.ToString(CultureInfo.InvariantCulture)}",
            (true, false) => $"<= {max.ToString(CultureInfo.InvariantCulture)}",
            _ => $"{min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}",
        };
}
