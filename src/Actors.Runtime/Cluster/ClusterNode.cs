using Actors.Learning.Util;
using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;

namespace Actors.Runtime.Cluster;

/// <summary>
/// Starts one cluster node (<c>actors seed</c>, <c>actors node</c>): the ActorSystem <c>actors</c> with the node's config,
/// its <see cref="NodeAgent"/>, the coordinator singleton (on <c>coordinator</c> nodes) and a proxy to it on every node.
/// </summary>
public static class ClusterNode
{
    public static ActorSystem Start(ClusterConfigOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Several node processes share the machine's cores: one torch thread each (ACTORS_TORCH_THREADS overrides).
        TorchSetup.Initialize(int.TryParse(Environment.GetEnvironmentVariable("ACTORS_TORCH_THREADS"), out var t) && t > 0 ? t : 1);
        var config = WithClusterTools(ClusterConfig.Load(options));
        var system = ActorSystem.Create(ClusterConfig.SystemName, config);
        system.WithExtension<ClusterInboundRegistration, ClusterInboundProvider>(); // also when a config leaves it out of akka.extensions
        system.ActorOf(Props.Create<NodeAgent>(), NodeAgent.Name);
        var roles = config.GetStringList("akka.cluster.roles", []);
        if (roles.Contains(ClusterCoordinator.Role))
        {
            system.ActorOf(ClusterSingletonManager.Props(ClusterCoordinator.Props(), PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole(ClusterCoordinator.Role).WithSingletonName(ClusterCoordinator.SingletonName)), ClusterCoordinator.SingletonName);
        }
        system.ActorOf(ClusterSingletonProxy.Props($"/user/{ClusterCoordinator.SingletonName}",
            ClusterSingletonProxySettings.Create(system).WithRole(ClusterCoordinator.Role).WithSingletonName(ClusterCoordinator.SingletonName)), ClusterCoordinator.ProxyName);
        return system;
    }

    /// <summary>
    /// Starts the node, reports its address (and again when it is up in the cluster) through <paramref name="say"/>, and
    /// serves until <paramref name="stop"/> fires (then leaves the cluster cleanly) or the node is removed from the cluster.
    /// </summary>
    public static async Task Serve(ClusterConfigOptions options, string what, Action<string> say, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(say);
        var system = Start(options);
        var cluster = Akka.Cluster.Cluster.Get(system);
        say($"{what} {cluster.SelfAddress} roles [{string.Join(",", cluster.SelfRoles.Order(StringComparer.Ordinal))}]");
        cluster.RegisterOnMemberUp(() => say($"{what} up: {cluster.SelfAddress}"));
        using (stop.Register(() => CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance)))
            await system.WhenTerminated.ConfigureAwait(false);
        say($"{what} stopped");
    }

    /// <summary>The node's address as others reach it.</summary>
    public static Address Address(ActorSystem system) => Akka.Cluster.Cluster.Get(system).SelfAddress;

    internal static Config WithClusterTools(Config config) =>
        config.WithFallback(ClusterSingleton.DefaultConfig());
}
