using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Hyperion;

namespace Actors.Runtime.Cluster;

/// <summary>
/// Hyperion for control messages, instantiating only the types in
/// <c>akka.actor.serialization-settings.hyperion.allowed-types</c>.
/// </summary>
/// <remarks>
/// Why not Akka.Serialization.Hyperion's own <c>allowed-types</c> filter: Hyperion 0.12.2 asks the
/// filter about a type by its full assembly-qualified name (with Version/Culture/PublicKeyToken) when
/// serializing, but by its short name when deserializing, and the stock filter matches short names
/// exactly, so every allowed type is refused on the sending side. This filter compares names with
/// assembly versions stripped, so both sides agree. An empty allow-list is an error here (the stock
/// serializer would silently switch filtering off).
/// </remarks>
public sealed class AllowListHyperionSerializer : HyperionSerializer
{
    public const string SettingsPath = "akka.actor.serialization-settings.hyperion";

    public AllowListHyperionSerializer(ExtendedActorSystem system)
        : this(system, system.Settings.Config.GetConfig(SettingsPath))
    {
    }

    public AllowListHyperionSerializer(ExtendedActorSystem system, Config config)
        : base(system, WithAllowList(config))
    {
    }

    private static HyperionSerializerSettings WithAllowList(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var names = config.GetStringList("allowed-types", []);
        var filter = AllowListTypeFilter.FromTypeNames(names);
        // Build the stock settings without their filter (it would refuse everything, see remarks).
        var stock = HyperionSerializerSettings.Create(ConfigurationFactory.ParseString("allowed-types = []").WithFallback(config));
        return new HyperionSerializerSettings(
            stock.PreserveObjectReferences,
            stock.VersionTolerance,
            stock.KnownTypesProvider,
            stock.PackageNameOverrides,
            stock.Surrogates,
            disallowUnsafeType: true,
            typeFilter: filter);
    }
}

/// <summary>Allows exactly the listed types, whatever assembly version detail a name carries.</summary>
public sealed partial class AllowListTypeFilter : ITypeFilter
{
    private readonly HashSet<string> _allowed;

    private AllowListTypeFilter(IEnumerable<string> normalizedNames) => _allowed = [.. normalizedNames];

    public IReadOnlyCollection<string> Allowed => _allowed;

    /// <summary>Each name must resolve to a loaded type ("Namespace.Type, Assembly").</summary>
    public static AllowListTypeFilter FromTypeNames(IEnumerable<string> typeNames)
    {
        var normalized = new List<string>();
        foreach (var name in typeNames)
        {
            var type = Type.GetType(name, throwOnError: false)
                ?? throw new ConfigurationException($"{AllowListHyperionSerializer.SettingsPath}.allowed-types: type '{name}' not found");
            normalized.Add(Normalize(type.AssemblyQualifiedName!));
        }

        return normalized.Count > 0
            ? new AllowListTypeFilter(normalized)
            : throw new ConfigurationException(
                $"{AllowListHyperionSerializer.SettingsPath}.allowed-types is empty: list every control message type Hyperion may carry");
    }

    public bool IsAllowed(string typeName) => _allowed.Contains(Normalize(typeName));

    /// <summary>Strips Version/Culture/PublicKeyToken and Hyperion's <c>%core%</c> alias for the core library's.</summary>
    public static string Normalize(string typeName)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        return Spaces().Replace(AssemblyDetail().Replace(typeName.Replace(",%core%", "", StringComparison.Ordinal), ""), ", ");
    }

    [GeneratedRegex(@",\s*(Version|Culture|PublicKeyToken)=[^,\]]*")]
    private static partial Regex AssemblyDetail();

    [GeneratedRegex(@",\s*")]
    private static partial Regex Spaces();
}
