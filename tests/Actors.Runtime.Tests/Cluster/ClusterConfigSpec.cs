using Actors.Runtime.Cluster;
using Actors.Runtime.Experiments;
using Actors.Runtime.Transport;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Runtime.Tests.Cluster;

public sealed class ClusterConfigSpec
{
    private static readonly Dictionary<string, string?> NoEnvironment = [];

    [Fact]
    public void Role_file_layers_over_the_base()
    {
        var config = ClusterConfig.Load(new ClusterConfigOptions { Roles = ["aggregator"], Environment = NoEnvironment });

        Assert.Equal("cluster", config.GetString("akka.actor.provider"));
        Assert.Equal(["aggregator"], config.GetStringList("akka.cluster.roles"));
        Assert.Equal("keep-oldest", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.False(config.GetBoolean("akka.actor.serialization-settings.allow-unregistered-types"));
        Assert.Equal(4L << 30, BulkTransportSettings.FromConfig(config).MaxBufferedBytes);
        Assert.Equal(256L << 20, BulkTransportSettings.FromConfig(config).MaxTransferBytes);
    }

    [Fact]
    public void Environment_beats_role_files_flags_beat_environment_and_set_beats_everything()
    {
        var env = new Dictionary<string, string?>
        {
            ["ACTORS_HOST"] = "10.0.0.5",
            ["ACTORS_PORT"] = "5000",
            ["ACTORS_SEEDS"] = "10.0.0.1:4053, akka.tcp://actors@10.0.0.2:4053",
            ["ACTORS_TRANSPORT_PORT"] = "6000",
        };
        var fromEnv = ClusterConfig.Load(new ClusterConfigOptions { Roles = ["worker"], Environment = env });
        Assert.Equal("10.0.0.5", fromEnv.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal("10.0.0.5", fromEnv.GetString("actors.transport.host"));
        Assert.Equal(5000, fromEnv.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(6000, fromEnv.GetInt("actors.transport.port"));
        Assert.Equal(["akka.tcp://actors@10.0.0.1:4053", "akka.tcp://actors@10.0.0.2:4053"], fromEnv.GetStringList("akka.cluster.seed-nodes"));

        var withFlags = ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = ["worker"],
            Environment = env,
            Port = 5001,
            Seeds = ["127.0.0.1:4053"],
            Overrides =
            [
                "akka.remote.dot-netty.tcp.port=5002",
                "akka.loglevel=DEBUG",
                "akka.cluster.seed-nodes=[\"akka.tcp://actors@h:1\"]",
                "akka.remote.dot-netty.tcp.public-hostname=akka.tcp://not-a-comment",
                "actors.transport.max-transfer-bytes=64MiB",
            ],
        });
        Assert.Equal(5002, withFlags.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal("DEBUG", withFlags.GetString("akka.loglevel"));
        Assert.Equal(["akka.tcp://actors@h:1"], withFlags.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal("akka.tcp://not-a-comment", withFlags.GetString("akka.remote.dot-netty.tcp.public-hostname"));
        Assert.Equal(64L << 20, BulkTransportSettings.FromConfig(withFlags).MaxTransferBytes);
        Assert.Equal("10.0.0.5", withFlags.GetString("actors.transport.host"));

        var flagsOnly = ClusterConfig.Load(new ClusterConfigOptions { Roles = ["worker"], Environment = env, Port = 5001, Seeds = ["127.0.0.1:4053"] });
        Assert.Equal(5001, flagsOnly.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(["akka.tcp://actors@127.0.0.1:4053"], flagsOnly.GetStringList("akka.cluster.seed-nodes"));
    }

    [Fact]
    public void Several_roles_get_the_union_and_a_seed_without_seeds_joins_itself()
    {
        var both = ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = ["worker", "aggregator", "coordinator"],
            Environment = new Dictionary<string, string?> { ["ACTORS_ROLES"] = "evaluator" },
        });
        Assert.Equal(["worker", "aggregator", "coordinator", "evaluator"], both.GetStringList("akka.cluster.roles"));

        var seed = ClusterConfig.Load(new ClusterConfigOptions { Roles = ["seed"], Environment = NoEnvironment });
        Assert.Equal(["akka.tcp://actors@127.0.0.1:4053"], seed.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(["seed"], seed.GetStringList("akka.cluster.roles"));
    }

    [Fact]
    public void Tls_is_switched_on_by_a_certificate_path()
    {
        var config = ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = ["worker"],
            Environment = new Dictionary<string, string?> { ["ACTORS_TLS_CERT"] = "/etc/actors/node.pfx", ["ACTORS_TLS_CERT_PASSWORD"] = "s3cret" },
        });
        Assert.True(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal("/etc/actors/node.pfx", config.GetString("akka.remote.dot-netty.tcp.ssl.certificate.path"));
        Assert.Equal("s3cret", config.GetString("akka.remote.dot-netty.tcp.ssl.certificate.password"));
        Assert.False(ClusterConfig.Load(new ClusterConfigOptions { Roles = ["worker"], Environment = NoEnvironment })
            .GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
    }

    [Theory]
    [InlineData("no-equals-sign")]
    [InlineData("=value")]
    [InlineData("bad key=1")]
    public void Bad_overrides_are_refused_with_the_offending_text(string assignment)
    {
        var e = Assert.Throws<UserInputException>(() => ClusterConfig.ParseOverride(assignment));
        Assert.Contains(assignment, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.1:4053", "akka.tcp://actors@10.0.0.1:4053")]
    [InlineData("node-a:1", "akka.tcp://actors@node-a:1")]
    [InlineData("akka.tcp://actors@h:4053", "akka.tcp://actors@h:4053")]
    public void Seeds_accept_host_port_or_full_addresses(string given, string expected) =>
        Assert.Equal(expected, ClusterConfig.NormalizeSeed(given));

    [Theory]
    [InlineData("h")]
    [InlineData("h:0")]
    [InlineData("h:port")]
    [InlineData("akka.tcp://actors@h")]
    public void Bad_seeds_are_refused(string given) =>
        Assert.Throws<UserInputException>(() => ClusterConfig.NormalizeSeed(given));

    [Fact]
    public async Task Loaded_config_starts_a_cluster_node_with_dispatcher_side_channel_and_hyperion_allow_list()
    {
        var config = ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = ["worker"],
            Environment = NoEnvironment,
            Overrides =
            [
                "akka.loglevel=WARNING",
                "akka.actor.serialization-settings.hyperion.allowed-types=[\"Actors.Runtime.Transport.BulkHandle, Actors.Runtime\", \"Actors.Runtime.Transport.BulkEndpoint, Actors.Runtime\", \"Akka.Actor.ActorRefBase+Surrogate, Akka\", \"Actors.Runtime.Tests.Cluster.ClusterConfigSpec+AllowedWithRef, Actors.Runtime.Tests\"]",
            ],
        });
        using var system = ActorSystem.Create(ClusterConfig.SystemName, config);
        try
        {
            Assert.NotNull(system.Dispatchers.Lookup("actors.tensor-dispatcher"));
            var transport = BulkTransport.Get(system);
            Assert.True(transport.LocalEndpoint.Port > 0);

            // allow-unregistered-types = false: an unbound type has no serializer (no silent JSON fallback).
            Assert.ThrowsAny<Exception>(() => system.Serialization.FindSerializerForType(typeof(NotAllowed)));
            Assert.IsType<BulkTransportSerializer>(system.Serialization.FindSerializerForType(typeof(BulkHandle)));

            var hyperion = new AllowListHyperionSerializer((ExtendedActorSystem)system);
            var handle = new BulkHandle(new BulkEndpoint("h", 1), Guid.NewGuid(), 42, 0);
            Assert.Equal(handle, hyperion.FromBinary(hyperion.ToBinary(handle), typeof(object)));
            var withRef = new AllowedWithRef(system.DeadLetters, [1, 2]);
            var back = (AllowedWithRef)hyperion.FromBinary(hyperion.ToBinary(withRef), typeof(object));
            Assert.Equal(withRef.Ref, back.Ref);

            // A type outside the allow-list is refused when sent, and never instantiated when received.
            Assert.ThrowsAny<Exception>(() => hyperion.ToBinary(new NotAllowed("x")));
            var unfiltered = new Akka.Serialization.HyperionSerializer((ExtendedActorSystem)system);
            var smuggled = unfiltered.ToBinary(new NotAllowed("x"));
            Assert.ThrowsAny<Exception>(() => (object)hyperion.FromBinary(smuggled, typeof(object)));
        }
        finally
        {
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(15));
        }
    }

    [Fact]
    public void Discovery_replaces_the_seed_list_with_the_bootstrap_and_serves_the_management_endpoint()
    {
        var config = ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = ["seed"], Port = 4053, Discovery = "config", ContactPoints = ["10.0.0.1:8558", "10.0.0.2:8558"], Environment = NoEnvironment,
        });
        Assert.Empty(config.GetStringList("akka.cluster.seed-nodes", [])); // not even the seed's own address: the bootstrap decides
        Assert.True(config.GetBoolean(NodeManagement.BootstrapKey));
        Assert.Equal(8558, config.GetInt("akka.management.http.port"));
        Assert.Equal("config", config.GetString("akka.discovery.method"));
        Assert.Equal(["10.0.0.1:8558", "10.0.0.2:8558"], config.GetStringList("akka.discovery.config.services.actors.endpoints"));
        Assert.Equal(2, config.GetInt("akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr"));

        var k8s = ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = ["worker"],
            Environment = new Dictionary<string, string?> { ["ACTORS_DISCOVERY"] = "kubernetes", ["ACTORS_SERVICE_NAME"] = "actors-train", ["ACTORS_REQUIRED_CONTACT_POINTS"] = "3" },
        });
        Assert.Equal("kubernetes-api", k8s.GetString("akka.discovery.method"));
        Assert.Equal("actors-train", k8s.GetString("akka.management.cluster.bootstrap.contact-point-discovery.service-name"));
        Assert.Equal("management", k8s.GetString("akka.management.cluster.bootstrap.contact-point-discovery.port-name"));
        Assert.Equal(3, k8s.GetInt("akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr"));

        // A management port alone serves /alive and /ready beside a seed list.
        var probed = ClusterConfig.Load(new ClusterConfigOptions { Roles = ["worker"], Seeds = ["127.0.0.1:4053"], ManagementPort = 9000, Environment = NoEnvironment });
        Assert.True(probed.GetBoolean(NodeManagement.EnabledKey));
        Assert.False(probed.GetBoolean(NodeManagement.BootstrapKey, false));
        Assert.False(ClusterConfig.Load(new ClusterConfigOptions { Roles = ["worker"], Environment = NoEnvironment }).GetBoolean(NodeManagement.EnabledKey, false));
    }

    [Theory]
    [InlineData("dns", new string[0], new string[0], "not valid")]
    [InlineData("config", new string[0], new string[0], "--contact-point")]
    [InlineData("config", new[] { "10.0.0.1" }, new string[0], "expected host:port")]
    [InlineData("config", new[] { "10.0.0.1:8558" }, new[] { "127.0.0.1:4053" }, "without seed nodes")]
    public void Bad_discovery_settings_say_what_to_do(string discovery, string[] contacts, string[] seeds, string expected)
    {
        var e = Assert.Throws<UserInputException>(() => ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = ["worker"], Discovery = discovery, ContactPoints = contacts, Seeds = seeds, Environment = NoEnvironment,
        }));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_config_directory_is_reported()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() =>
            ClusterConfig.Load(new ClusterConfigOptions { ConfigDirectory = "/nonexistent", Environment = NoEnvironment }));
        Assert.Contains("/nonexistent", e.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<Config>(ClusterConfig.Load(new ClusterConfigOptions { Environment = NoEnvironment }));
    }

    public sealed record NotAllowed(string Value);

    public sealed record AllowedWithRef(IActorRef Ref, int[] Values);
}

public sealed class AllowListTypeFilterSpec
{
    [Fact]
    public void Full_and_short_names_of_an_allowed_type_both_pass_others_do_not()
    {
        var filter = AllowListTypeFilter.FromTypeNames(["Actors.Runtime.Transport.BulkHandle, Actors.Runtime", "System.Collections.Generic.List`1[[System.Int32, System.Private.CoreLib]], System.Private.CoreLib"]);
        Assert.True(filter.IsAllowed(typeof(BulkHandle).AssemblyQualifiedName!));
        Assert.True(filter.IsAllowed("Actors.Runtime.Transport.BulkHandle, Actors.Runtime"));
        Assert.True(filter.IsAllowed(typeof(List<int>).AssemblyQualifiedName!));
        Assert.True(filter.IsAllowed("System.Collections.Generic.List`1[[System.Int32, System.Private.CoreLib,%core%]], System.Private.CoreLib,%core%"));
        Assert.False(filter.IsAllowed(typeof(BulkEndpoint).AssemblyQualifiedName!));
        Assert.False(filter.IsAllowed("System.Diagnostics.Process, System.Diagnostics.Process"));
    }

    [Fact]
    public void Empty_or_unresolvable_allow_lists_are_refused()
    {
        Assert.Throws<ConfigurationException>(() => AllowListTypeFilter.FromTypeNames([]));
        Assert.Throws<ConfigurationException>(() => AllowListTypeFilter.FromTypeNames(["No.Such.Type, Nowhere"]));
    }
}
