using System.Globalization;
using System.Text;
using Actors.Runtime.Experiments;
using Actors.Runtime.Transport;
using Akka.Configuration;

namespace Actors.Runtime.Cluster;

/// <summary>What a node was asked to be, from its command line; everything optional.</summary>
public sealed record ClusterConfigOptions
{
    /// <summary>Role names; each with a <c>ROLE.hocon</c> in the config directory is layered over the base.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary><c>--host</c>: Akka remoting and the bulk listener bind here.</summary>
    public string? Host { get; init; }

    /// <summary><c>--port</c>: Akka remoting port (0 = ephemeral).</summary>
    public int? Port { get; init; }

    /// <summary><c>--seed</c>: <c>host:port</c> or <c>akka.tcp://actors@host:port</c>.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    /// <summary><c>--set key=value</c>, applied last (highest precedence), in order.</summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];

    /// <summary><c>--discovery</c>: <c>config</c> or <c>kubernetes</c> forms the cluster by Akka's cluster bootstrap instead of seed nodes; null = seeds.</summary>
    public string? Discovery { get; init; }

    /// <summary><c>--contact-point</c>: management endpoints (<c>host:port</c>) that config discovery lists.</summary>
    public IReadOnlyList<string> ContactPoints { get; init; } = [];

    /// <summary><c>--management-port</c>: serve the management endpoint (bootstrap, <c>/alive</c>, <c>/ready</c>) here.</summary>
    public int? ManagementPort { get; init; }

    /// <summary>Environment variables to read; null = the process environment.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>Folder with akka.hocon and the role files; null = <c>ACTORS_CONFIG_DIR</c>, or searched.</summary>
    public string? ConfigDirectory { get; init; }
}

/// <summary>
/// Builds a node's Akka <see cref="Config"/>, lowest precedence first: <c>cluster-config/akka.hocon</c>
/// &lt; role files &lt; environment variables &lt; command-line flags &lt; <c>--set key=value</c>.
/// </summary>
/// <remarks>
/// Environment variables: <c>ACTORS_HOST</c>, <c>ACTORS_PUBLIC_HOST</c>, <c>ACTORS_PORT</c>,
/// <c>ACTORS_TRANSPORT_PORT</c>, <c>ACTORS_PUBLIC_PORT</c> and <c>ACTORS_TRANSPORT_PUBLIC_PORT</c> (the ports other nodes dial, when a
/// mapping or proxy sits in front of the bound ones), <c>ACTORS_SEEDS</c> (comma separated), <c>ACTORS_ROLES</c> (comma
/// separated, added to the roles), <c>ACTORS_TLS_CERT</c> and <c>ACTORS_TLS_CERT_PASSWORD</c> (enable
/// TLS between nodes), <c>ACTORS_LOGLEVEL</c>, <c>ACTORS_CONFIG_DIR</c>; for the management endpoint and bootstrap
/// (<see cref="NodeManagement"/>): <c>ACTORS_MANAGEMENT_PORT</c>, <c>ACTORS_DISCOVERY</c> (config | kubernetes),
/// <c>ACTORS_CONTACT_POINTS</c> (comma separated management <c>host:port</c>s, config discovery),
/// <c>ACTORS_SERVICE_NAME</c> (the bootstrap's service, and the pods' <c>app</c> label on Kubernetes; default actors),
/// <c>ACTORS_REQUIRED_CONTACT_POINTS</c> (how many to find before forming a cluster; default: all listed, or 2).
/// </remarks>
public static class ClusterConfig
{
    public const string SystemName = "actors";

    /// <summary>Every environment variable a node reads (here, and ACTORS_TORCH_THREADS in <see cref="ClusterNode"/>): what deployment files may set.</summary>
    public static readonly IReadOnlyList<string> EnvironmentVariables =
    [
        "ACTORS_HOST", "ACTORS_PUBLIC_HOST", "ACTORS_PORT", "ACTORS_TRANSPORT_PORT", "ACTORS_PUBLIC_PORT", "ACTORS_TRANSPORT_PUBLIC_PORT", "ACTORS_SEEDS", "ACTORS_ROLES", "ACTORS_TLS_CERT",
        "ACTORS_TLS_CERT_PASSWORD", "ACTORS_LOGLEVEL", "ACTORS_CONFIG_DIR", "ACTORS_MANAGEMENT_PORT", "ACTORS_DISCOVERY", "ACTORS_CONTACT_POINTS",
        "ACTORS_SERVICE_NAME", "ACTORS_REQUIRED_CONTACT_POINTS", "ACTORS_TORCH_THREADS",
    ];
    public const string BaseFile = "akka.hocon";
    public const string DirectoryName = "cluster-config";

    /// <summary>
    /// A client's config (<c>run --cluster</c>, <c>status</c>): remoting only, on any free ports, whatever a node's environment
    /// says (a client run with <c>kubectl exec</c> inside a node's pod must not take that node's ports or endpoint).
    /// </summary>
    public static Config Client() => Load(new ClusterConfigOptions
    {
        Roles = ["client"],
        Environment = ProcessEnvironment().Where(e => e.Key is not ("ACTORS_PORT" or "ACTORS_TRANSPORT_PORT" or "ACTORS_PUBLIC_PORT" or "ACTORS_TRANSPORT_PUBLIC_PORT" or "ACTORS_SEEDS" or "ACTORS_ROLES"
            or "ACTORS_DISCOVERY" or "ACTORS_CONTACT_POINTS" or "ACTORS_MANAGEMENT_PORT")).ToDictionary(),
        Overrides = ["akka.actor.provider=remote", "akka.loglevel=ERROR", "akka.remote.log-remote-lifecycle-events=off",
            "akka.remote.dot-netty.tcp.port=0", "actors.transport.port=0"],
    });

    /// <summary>Shorthand for one role with <c>--set</c> overrides and the process environment.</summary>
    public static Config Load(string role, params string[] overrides) =>
        Load(new ClusterConfigOptions { Roles = [role], Overrides = overrides });

    public static Config Load(ClusterConfigOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var env = options.Environment ?? ProcessEnvironment();
        var directory = FindConfigDirectory(options.ConfigDirectory ?? Get(env, "ACTORS_CONFIG_DIR"));

        var roles = options.Roles
            .Concat(SplitList(Get(env, "ACTORS_ROLES")))
            .Select(r => r.Trim())
            .Where(r => r.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .ToList();

        // Lowest layer first; Config.WithFallback puts the earlier (higher) layer on top.
        var config = ParseFile(Path.Combine(directory, BaseFile)).WithFallback(BulkTransportSettings.AkkaConfig);
        var clusterRoles = new List<string>(roles);
        foreach (var role in roles)
        {
            var file = Path.Combine(directory, role + ".hocon");
            if (!File.Exists(file))
            {
                continue; // a role without settings of its own (e.g. coordinator)
            }

            var layer = ParseFile(file);
            clusterRoles.AddRange(layer.GetStringList("akka.cluster.roles", []));
            config = layer.WithFallback(config);
        }

        // Role files each set akka.cluster.roles; a node with several roles gets their union.
        config = Layer(config, "akka.cluster.roles", Hocon(clusterRoles.Distinct(StringComparer.Ordinal)));

        config = ApplyNodeSettings(config,
            host: Get(env, "ACTORS_HOST"),
            publicHost: Get(env, "ACTORS_PUBLIC_HOST"),
            port: ParsePort(Get(env, "ACTORS_PORT"), "ACTORS_PORT"),
            transportPort: ParsePort(Get(env, "ACTORS_TRANSPORT_PORT"), "ACTORS_TRANSPORT_PORT"),
            seeds: SplitList(Get(env, "ACTORS_SEEDS")));
        // Behind a port mapping or a proxy (NAT, a container's published port, the chaos runner's fault proxy): the ports other
        // nodes dial, while the node binds ACTORS_PORT / ACTORS_TRANSPORT_PORT.
        if (ParsePort(Get(env, "ACTORS_PUBLIC_PORT"), "ACTORS_PUBLIC_PORT") is { } publicPort)
            config = Layer(config, "akka.remote.dot-netty.tcp.public-port", publicPort.ToString(CultureInfo.InvariantCulture));
        if (ParsePort(Get(env, "ACTORS_TRANSPORT_PUBLIC_PORT"), "ACTORS_TRANSPORT_PUBLIC_PORT") is { } transportPublicPort)
            config = Layer(config, "actors.transport.public-port", transportPublicPort.ToString(CultureInfo.InvariantCulture));

        var cert = Get(env, "ACTORS_TLS_CERT");
        if (!string.IsNullOrWhiteSpace(cert))
        {
            config = Layer(config, "akka.remote.dot-netty.tcp.enable-ssl", "true");
            config = Layer(config, "akka.remote.dot-netty.tcp.ssl.certificate.path", Quote(cert));
            config = Layer(config, "akka.remote.dot-netty.tcp.ssl.certificate.password", Quote(Get(env, "ACTORS_TLS_CERT_PASSWORD") ?? ""));
        }

        if (Get(env, "ACTORS_LOGLEVEL") is { Length: > 0 } level)
        {
            config = Layer(config, "akka.loglevel", Quote(level));
        }

        config = ApplyNodeSettings(config, options.Host, publicHost: null, options.Port, transportPort: null, options.Seeds);
        config = ApplyManagement(config, options, env);

        foreach (var assignment in options.Overrides)
        {
            config = ParseOverride(assignment).WithFallback(config);
        }

        // A seed started without seeds forms the cluster by joining itself (with discovery, the bootstrap decides).
        if (roles.Contains("seed") && !config.GetBoolean(NodeManagement.BootstrapKey, false) && config.GetStringList("akka.cluster.seed-nodes", []).Count == 0)
        {
            // The address others reach it by: the advertised host when it binds everywhere (a container).
            var host = config.GetString("akka.remote.dot-netty.tcp.public-hostname", "") is { Length: > 0 } advertised
                ? advertised
                : config.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1");
            var port = config.GetInt("akka.remote.dot-netty.tcp.public-port", 0) is > 0 and var advertisedPort
                ? advertisedPort
                : config.GetInt("akka.remote.dot-netty.tcp.port", 0);
            if (port > 0)
            {
                config = Layer(config, "akka.cluster.seed-nodes", Hocon([NormalizeSeed($"{host}:{port}")]));
            }
        }

        // With TLS on, nodes talk akka.ssl.tcp: seeds given as host:port (or akka.tcp://) follow.
        if (config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl", false))
        {
            var seeds = config.GetStringList("akka.cluster.seed-nodes", []);
            if (seeds.Any(a => a.StartsWith("akka.tcp://", StringComparison.Ordinal)))
            {
                config = Layer(config, "akka.cluster.seed-nodes",
                    Hocon(seeds.Select(a => a.StartsWith("akka.tcp://", StringComparison.Ordinal) ? "akka.ssl.tcp://" + a["akka.tcp://".Length..] : a)));
            }
        }

        return config;
    }

    /// <summary><c>host:port</c> or a full address, as an Akka seed address of the <c>actors</c> system.</summary>
    public static string NormalizeSeed(string address)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        address = address.Trim();
        if (address.Contains("://", StringComparison.Ordinal))
        {
            return Akka.Actor.Address.TryParse(address, out var parsed) && parsed.Host is not null && parsed.Port is > 0
                ? address.TrimEnd('/')
                : throw new UserInputException($"seed '{address}': expected akka.tcp://{SystemName}@host:port or host:port");
        }

        var colon = address.LastIndexOf(':');
        if (colon <= 0
            || !int.TryParse(address[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
        {
            throw new UserInputException($"seed '{address}': expected host:port (port 1..65535) or akka.tcp://{SystemName}@host:port");
        }

        return $"akka.tcp://{SystemName}@{address[..colon]}:{port}";
    }

    /// <summary>One <c>--set key=value</c> (<see cref="HoconOverrides"/>).</summary>
    public static Config ParseOverride(string assignment) => HoconOverrides.Parse(assignment);

    /// <summary>The folder holding akka.hocon: the one given, else next to the binaries, else up from the working directory.</summary>
    public static string FindConfigDirectory(string? directory = null)
    {
        if (!string.IsNullOrWhiteSpace(directory))
        {
            return File.Exists(Path.Combine(directory, BaseFile))
                ? Path.GetFullPath(directory)
                : throw new DirectoryNotFoundException($"no {BaseFile} in '{directory}'");
        }

        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, DirectoryName);
                if (File.Exists(Path.Combine(candidate, BaseFile)))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException(
            $"no {DirectoryName}/{BaseFile} next to the binaries or above '{Directory.GetCurrentDirectory()}'; set ACTORS_CONFIG_DIR");
    }

    private static Config ApplyNodeSettings(Config config, string? host, string? publicHost, int? port, int? transportPort, IReadOnlyList<string> seeds)
    {
        if (!string.IsNullOrWhiteSpace(host))
        {
            config = Layer(config, "akka.remote.dot-netty.tcp.hostname", Quote(host));
            config = Layer(config, "actors.transport.host", Quote(host));
        }

        if (!string.IsNullOrWhiteSpace(publicHost))
        {
            config = Layer(config, "akka.remote.dot-netty.tcp.public-hostname", Quote(publicHost));
            config = Layer(config, "actors.transport.public-hostname", Quote(publicHost));
        }

        if (port is { } p)
        {
            config = Layer(config, "akka.remote.dot-netty.tcp.port", p.ToString(CultureInfo.InvariantCulture));
        }

        if (transportPort is { } tp)
        {
            config = Layer(config, "actors.transport.port", tp.ToString(CultureInfo.InvariantCulture));
        }

        if (seeds.Count > 0)
        {
            config = Layer(config, "akka.cluster.seed-nodes", Hocon(seeds.Select(NormalizeSeed)));
        }

        return config;
    }

    public static readonly string[] DiscoveryMethods = ["config", "kubernetes"];

    /// <summary>The management endpoint (any of the port or discovery asked) and the bootstrap's discovery, as config.</summary>
    private static Config ApplyManagement(Config config, ClusterConfigOptions options, IReadOnlyDictionary<string, string?> env)
    {
        var discovery = options.Discovery ?? Get(env, "ACTORS_DISCOVERY");
        var managementPort = options.ManagementPort ?? ParsePort(Get(env, "ACTORS_MANAGEMENT_PORT"), "ACTORS_MANAGEMENT_PORT");
        if (discovery is null && managementPort is null) return config;
        if (discovery is not null && !DiscoveryMethods.Contains(discovery))
            throw new UserInputException($"--discovery '{discovery}' is not valid (valid: config, kubernetes)");

        var host = config.GetString("akka.remote.dot-netty.tcp.public-hostname", "") is { Length: > 0 } advertised
            ? advertised
            : config.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1");
        config = Layer(config, NodeManagement.EnabledKey, "on");
        config = Layer(config, "akka.management.http.hostname", Quote(host));
        config = Layer(config, "akka.management.http.bind-hostname", Quote(config.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1")));
        config = Layer(config, "akka.management.http.port", (managementPort ?? 8558).ToString(CultureInfo.InvariantCulture));
        if (discovery is null) return config;

        if (config.GetStringList("akka.cluster.seed-nodes", []).Count > 0)
            throw new UserInputException("--discovery forms the cluster without seed nodes: drop --seed/ACTORS_SEEDS (or drop --discovery)");
        var service = Get(env, "ACTORS_SERVICE_NAME") ?? "actors";
        var contacts = options.ContactPoints.Concat(SplitList(Get(env, "ACTORS_CONTACT_POINTS"))).Select(c => c.Trim()).Distinct(StringComparer.Ordinal).ToList();
        config = Layer(config, NodeManagement.BootstrapKey, "on");
        config = Layer(config, "akka.management.cluster.bootstrap.contact-point-discovery.service-name", Quote(service));
        config = Layer(config, "akka.management.cluster.bootstrap.contact-point-discovery.discovery-method", "akka.discovery");
        config = Layer(config, "akka.management.cluster.bootstrap.contact-point-discovery.stable-margin", "3s");
        config = Layer(config, "akka.management.cluster.bootstrap.contact-point.probe-interval", "1s");
        int required;
        if (discovery == "config")
        {
            if (contacts.Count == 0)
                throw new UserInputException("--discovery config needs the management endpoints to look for: --contact-point host:port (repeatable) or ACTORS_CONTACT_POINTS");
            foreach (var c in contacts)
            {
                var colon = c.LastIndexOf(':');
                if (colon <= 0 || !int.TryParse(c[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
                    throw new UserInputException($"--contact-point '{c}': expected host:port of a node's management endpoint (port 1..65535)");
            }
            config = Layer(config, "akka.discovery.method", "config");
            config = Layer(config, $"akka.discovery.config.services.{service}.endpoints", Hocon(contacts));
            // The contact points' management ports differ (several nodes on one host): probe each at its own port.
            config = Layer(config, "akka.management.cluster.bootstrap.contact-point.filter-on-fallback-port", "false");
            required = contacts.Count;
        }
        else
        {
            config = Layer(config, "akka.discovery.method", "kubernetes-api");
            config = Layer(config, "akka.discovery.kubernetes-api.pod-label-selector", Quote("app={0}"));
            config = Layer(config, "akka.management.cluster.bootstrap.contact-point-discovery.port-name", Quote("management"));
            required = 2;
        }
        if (Get(env, "ACTORS_REQUIRED_CONTACT_POINTS") is { } r)
            required = int.TryParse(r, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1
                ? n
                : throw new UserInputException($"ACTORS_REQUIRED_CONTACT_POINTS={r}: expected a count >= 1");
        return Layer(config, "akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr", required.ToString(CultureInfo.InvariantCulture));
    }

    private static int? ParsePort(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535
            ? port
            : throw new UserInputException($"{name}={value}: expected a port 0..65535");
    }

    private static Config ParseFile(string path)
    {
        try
        {
            return ConfigurationFactory.ParseString(File.ReadAllText(path));
        }
        catch (Exception e) when (e is not IOException and not OutOfMemoryException)
        {
            throw new ConfigurationException($"{path}: {e.Message}", e);
        }
    }

    private static Config Layer(Config config, string key, string hoconValue) =>
        ConfigurationFactory.ParseString($"{key} = {hoconValue}").WithFallback(config);

    private static string Hocon(IEnumerable<string> values) => "[" + string.Join(", ", values.Select(Quote)) + "]";

    private static string Quote(string value) => HoconOverrides.Quote(value);

    private static IReadOnlyList<string> SplitList(string? value) =>
        string.IsNullOrWhiteSpace(value)
            ? []
            : value.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string? Get(IReadOnlyDictionary<string, string?> env, string name) =>
        env.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;

    private static Dictionary<string, string?> ProcessEnvironment()
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && key.StartsWith("ACTORS_", StringComparison.Ordinal))
            {
                result[key] = entry.Value as string;
            }
        }

        return result;
    }
}
