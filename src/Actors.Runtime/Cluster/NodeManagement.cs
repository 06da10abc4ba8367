using System.Collections.Immutable;
using System.Net;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Management.Cluster.Bootstrap;
using static Akka.Management.Cluster.Bootstrap.ContactPoint.HttpBootstrapJsonProtocol;

namespace Actors.Runtime.Cluster;

/// <summary>
/// A node's management endpoint and, with <c>--discovery config|kubernetes</c>, Akka.Management's cluster bootstrap instead
/// of a seed list: the nodes find each other's management endpoints through Akka.Discovery (a contact-point list, or the
/// Kubernetes API by label), probe each other's <c>/bootstrap/seed-nodes</c>, and once the required number of contact
/// points is stable the lowest address forms the cluster and the others join it. The endpoint also serves <c>/alive</c>
/// and <c>/ready</c>.
/// </summary>
/// <remarks>
/// The endpoint is ours (an <see cref="HttpListener"/>), not Akka.Management's HTTP server: that server is built on
/// Ceen.Httpd 0.9.9, which is not served here, and with 0.9.10 (the one served) it fails at start with a missing method.
/// The bootstrap's own probing client, join decider and seed-node route semantics are Akka.Management's; the route's
/// JSON is its <c>HttpBootstrapJsonProtocol.SeedNodes</c> through Newtonsoft, as its client reads it.
/// </remarks>
public static class NodeManagement
{
    /// <summary>Set by <see cref="ClusterConfig"/> when the node serves the management endpoint.</summary>
    public const string EnabledKey = "actors.management.enabled";

    /// <summary>Set by <see cref="ClusterConfig"/> when the node joins through cluster bootstrap rather than seed nodes.</summary>
    public const string BootstrapKey = "actors.management.bootstrap";

    /// <summary>The management and discovery libraries' own defaults, under the node's config.</summary>
    public static Config WithDefaults(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config
            .WithFallback(ClusterBootstrap.DefaultConfiguration())
            .WithFallback(Akka.Discovery.DiscoveryProvider.DefaultConfiguration())
            .WithFallback(Akka.Discovery.KubernetesApi.KubernetesDiscovery.DefaultConfiguration());
    }

    /// <summary>Starts the endpoint and the bootstrap when the config asks for them; the endpoint stops with the system.</summary>
    public static Uri? Start(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        var config = system.Settings.Config;
        if (!config.GetBoolean(EnabledKey, false)) return null;
        string host = config.GetString("akka.management.http.hostname", "127.0.0.1");
        string bind = config.GetString("akka.management.http.bind-hostname", "") is { Length: > 0 } b ? b : host;
        int port = config.GetInt("akka.management.http.port", 8558);
        var server = new ManagementServer(system, bind is "0.0.0.0" or "::" or "*" ? "+" : bind, port);
        system.RegisterOnTermination(server.Dispose);
        var self = new Uri($"http://{host}:{port}/");
        if (config.GetBoolean(BootstrapKey, false))
        {
            var bootstrap = ClusterBootstrap.Get(system);
            // Akka.Management's own HTTP server tells the bootstrap where it listens; ours must too. The setter is internal
            // in 1.5.73 (the bootstrap refuses to start without it), so it is called by name.
            var setter = typeof(ClusterBootstrap).GetMethod("SetSelfContactPoint", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)
                         ?? throw new InvalidOperationException("this Akka.Management has no ClusterBootstrap.SetSelfContactPoint: pin Akka.Management 1.5.73 (Directory.Packages.props)");
            setter.Invoke(bootstrap, [self]);
            bootstrap.Start().GetAwaiter().GetResult();
        }
        return self;
    }

    /// <summary>Up (or weakly up) in the cluster; the reason otherwise.</summary>
    public static (bool Ok, string Text) Ready(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        if (system.WhenTerminated.IsCompleted) return (false, "terminated");
        var cluster = Akka.Cluster.Cluster.Get(system);
        var status = cluster.SelfMember.Status;
        return status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.WeaklyUp
            ? (true, $"up: {cluster.SelfAddress}")
            : (false, status == Akka.Cluster.MemberStatus.Removed && !cluster.IsTerminated ? "not in a cluster yet: joining" : $"not up in the cluster: {status}");
    }

    /// <summary>What <c>/bootstrap/seed-nodes</c> answers: this node and the members a newcomer may join (Akka.Management's rule).</summary>
    public static string SeedNodesJson(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        var cluster = Akka.Cluster.Cluster.Get(system);
        var state = cluster.State;
        var members = state.Members.Except(state.Unreachable)
            .Where(m => m.Status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.WeaklyUp or Akka.Cluster.MemberStatus.Joining)
            .Take(5)
            .Select(m => new ClusterMember(m.Address, m.UniqueAddress.Uid, m.Status, m.Roles))
            .ToImmutableList();
        return Newtonsoft.Json.JsonConvert.SerializeObject(new SeedNodes(cluster.SelfAddress, members));
    }

    /// <summary>The HTTP side: GET /alive, /ready and /bootstrap/seed-nodes; anything else is 404.</summary>
    private sealed class ManagementServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly ActorSystem _system;
        private readonly ILoggingAdapter _log;

        public ManagementServer(ActorSystem system, string bind, int port)
        {
            _system = system;
            _log = Logging.GetLogger(system, "management");
            _listener.Prefixes.Add($"http://{(bind.Contains(':', StringComparison.Ordinal) ? $"[{bind}]" : bind)}:{port}/");
            try
            {
                _listener.Start();
            }
            catch (HttpListenerException e)
            {
                throw new Experiments.UserInputException($"cannot serve the management endpoint on {bind}:{port}: {e.Message} (choose another with --management-port or ACTORS_MANAGEMENT_PORT)", e);
            }
            _ = Task.Run(Serve);
        }

        private async Task Serve()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return; // stopped
                }
                try
                {
                    var (status, type, body) = context.Request.Url?.AbsolutePath.TrimEnd('/') switch
                    {
                        "/alive" => _system.WhenTerminated.IsCompleted ? (503, "text/plain", "terminated\n") : (200, "text/plain", "alive\n"),
                        "/ready" => Ready(_system) is var (ok, text) ? (ok ? 200 : 503, "text/plain", text + "\n") : default,
                        "/bootstrap/seed-nodes" => (200, "application/json", SeedNodesJson(_system)),
                        _ => (404, "text/plain", "not found: /alive, /ready, /bootstrap/seed-nodes\n"),
                    };
                    var bytes = Encoding.UTF8.GetBytes(body);
                    context.Response.StatusCode = status;
                    context.Response.ContentType = type + "; charset=utf-8";
                    context.Response.ContentLength64 = bytes.Length;
                    await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
                {
                    _log.Debug("management request failed: {0}", e.Message); // the client went away
                }
            }
        }

        public void Dispose()
        {
            if (_listener.IsListening) _listener.Stop();
            _listener.Close();
        }
    }
}
