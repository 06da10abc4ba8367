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
        var config = NodeManagement.WithDefaults(WithClusterTools(ClusterConfig.Load(options)));
        CheckPortFree(config.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1"), config.GetInt("akka.remote.dot-netty.tcp.port", 0), "--port or ACTORS_PORT");
        CheckPortFree(config.GetString("actors.transport.host", "127.0.0.1"), config.GetInt("actors.transport.port", 0), "ACTORS_TRANSPORT_PORT or --set actors.transport.port=N");
        ActorSystem system;
        try
        {
            system = ActorSystem.Create(ClusterConfig.SystemName, config);
        }
        catch (Exception e) when (AddressInUse(e) is { } inUse)
        {
            throw new Experiments.UserInputException($"cannot listen on {config.GetString("akka.remote.dot-netty.tcp.hostname", "")}:{config.GetInt("akka.remote.dot-netty.tcp.port", 0)}: {inUse.Message} (another node there? choose another with --port or ACTORS_PORT)", e);
        }
        system.WithExtension<ClusterInboundRegistration, ClusterInboundProvider>(); // also when a config leaves it out of akka.extensions
        try
        {
            NodeManagement.Start(system);
        }
        catch
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
            throw;
        }
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
        if (system.Settings.Config.GetBoolean(NodeManagement.EnabledKey, false))
            say($"{what} management http://{system.Settings.Config.GetString("akka.management.http.hostname")}:{system.Settings.Config.GetInt("akka.management.http.port")}/ (/alive, /ready)" +
                (system.Settings.Config.GetBoolean(NodeManagement.BootstrapKey, false) ? $", joining by {system.Settings.Config.GetString("akka.discovery.method")} discovery" : ""));
        cluster.RegisterOnMemberUp(() => say($"{what} up: {cluster.SelfAddress}"));
        using var orphaned = ParentWatch.Start(Environment.GetEnvironmentVariable(ParentWatch.Variable), say);
        using var any = CancellationTokenSource.CreateLinkedTokenSource(stop, orphaned.Token);
        using (any.Token.Register(() => CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance)))
            await system.WhenTerminated.ConfigureAwait(false);
        say($"{what} stopped");
    }

    /// <summary>
    /// A port another process holds is bad input, said in one line before Akka logs a stack trace about it: bind it once
    /// and let go (a race with another process in between still fails, through the catch around the system's start).
    /// </summary>
    private static void CheckPortFree(string host, int port, string setBy)
    {
        if (port <= 0) return; // any free port
        if (!System.Net.IPAddress.TryParse(host, out var ip))
        {
            try
            {
                ip = System.Net.Dns.GetHostAddresses(host).FirstOrDefault();
            }
            catch (System.Net.Sockets.SocketException)
            {
                return; // Akka says what is wrong with the host
            }
            if (ip is null) return;
        }
        var probe = new System.Net.Sockets.TcpListener(ip, port);
        try
        {
            probe.Start();
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
        {
            throw new Experiments.UserInputException($"port {port} on {host} is already in use (another node there?): choose another with {setBy}");
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new Experiments.UserInputException($"cannot listen on {host}:{port}: {e.Message} (set the address with --host/ACTORS_HOST, the port with {setBy})");
        }
        finally
        {
            probe.Stop();
        }
    }

    private static System.Net.Sockets.SocketException? AddressInUse(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is System.Net.Sockets.SocketException s) return s;
            if (x is AggregateException a)
                foreach (var inner in a.InnerExceptions)
                    if (AddressInUse(inner) is { } found) return found;
        }
        return null;
    }

    /// <summary>The node's address as others reach it.</summary>
    public static Address Address(ActorSystem system) => Akka.Cluster.Cluster.Get(system).SelfAddress;

    internal static Config WithClusterTools(Config config) =>
        config.WithFallback(ClusterSingleton.DefaultConfig());
}
