using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Actors.Runtime.Cluster;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Actors.Cli.Tests.Deployment;

/// <summary>
/// The container and Kubernetes files (Dockerfile, deploy/docker-compose.yml, deploy/k8s) against the node's own configuration:
/// every variable they set is one a node reads, the ports a node would listen on from that environment are the ports they
/// expose and probe, the probes ask the management endpoint's routes, and kubectl accepts the manifests.
/// </summary>
public sealed class DeploymentSpec
{
    private static readonly string Root = FindRoot();

    [Fact]
    public void The_compose_services_expose_and_probe_the_ports_their_nodes_listen_on()
    {
        var compose = Map(Load(Path.Combine(Root, "deploy", "docker-compose.yml")).Single());
        var services = Map(compose["services"]);
        Assert.Equal(["aggregator", "client", "seed", "worker"], services.Keys.Order(StringComparer.Ordinal));
        foreach (var name in new[] { "seed", "aggregator", "worker" })
        {
            var service = Map(services[name]);
            var env = Map(service["environment"]).ToDictionary(e => e.Key, e => (string?)Convert.ToString(e.Value, CultureInfo.InvariantCulture));
            Assert.All(env.Keys, k => Assert.Contains(k, ClusterConfig.EnvironmentVariables));
            var command = List(service["command"]).Select(c => (string)c).ToList();
            var roles = command[0] == "seed" ? new[] { "seed", "coordinator" } : command[command.IndexOf("--roles") + 1].Split(',');
            env.TryAdd("ACTORS_PUBLIC_HOST", name); // the entrypoint advertises the container's address
            var config = ClusterConfig.Load(new ClusterConfigOptions { Roles = roles, Environment = env });

            var exposed = List(service["expose"]).Select(p => int.Parse((string)p, CultureInfo.InvariantCulture)).ToHashSet();
            int remoting = config.GetInt("akka.remote.dot-netty.tcp.port"), transport = config.GetInt("actors.transport.port"), management = config.GetInt("akka.management.http.port");
            Assert.Equal(new HashSet<int> { remoting, transport, management }, exposed);
            Assert.True(config.GetBoolean(NodeManagement.EnabledKey), $"{name} serves no management endpoint");
            var probe = string.Join(' ', List(Map(service["healthcheck"])["test"]).Select(t => (string)t));
            Assert.Contains($"/dev/tcp/127.0.0.1/{management}", probe, StringComparison.Ordinal);
            Assert.Contains("GET /ready", probe, StringComparison.Ordinal);
            var seeds = config.GetStringList("akka.cluster.seed-nodes", []);
            Assert.Equal(["akka.tcp://actors@seed:4053"], seeds); // the seed joins itself at its advertised name; the others join it
        }
        Assert.Equal("actors:local", (string)Map(services["client"])["image"]);
    }

    [Fact]
    public void The_kubernetes_manifests_bootstrap_by_discovery_and_probe_the_management_endpoint()
    {
        var documents = Directory.GetFiles(Path.Combine(Root, "deploy", "k8s"), "*.yaml").Order(StringComparer.Ordinal).SelectMany(Load).Select(Map).ToList();
        var kinds = documents.Select(d => (string)d["kind"]).ToList();
        Assert.Equal(["ServiceAccount", "Role", "RoleBinding", "Service", "StatefulSet", "StatefulSet"], kinds);

        var role = documents.Single(d => (string)d["kind"] == "Role");
        var rule = Map(List(role["rules"]).Single());
        Assert.Equal(["pods"], List(rule["resources"]).Cast<string>());
        Assert.Equal(["get", "list", "watch"], List(rule["verbs"]).Cast<string>().Order(StringComparer.Ordinal));
        var account = (string)Map(documents.Single(d => (string)d["kind"] == "ServiceAccount")["metadata"])["name"];

        var service = Map(documents.Single(d => (string)d["kind"] == "Service")["spec"]);
        Assert.Equal("None", (string)service["clusterIP"]); // headless
        var servicePorts = List(service["ports"]).Select(Map).ToDictionary(p => (string)p["name"], p => int.Parse((string)p["port"], CultureInfo.InvariantCulture));

        foreach (var set in documents.Where(d => (string)d["kind"] == "StatefulSet"))
        {
            var template = Map(Map(set["spec"])["template"]);
            var labels = Map(Map(template["metadata"])["labels"]);
            var pod = Map(template["spec"]);
            Assert.Equal(account, (string)pod["serviceAccountName"]);
            var container = Map(List(pod["containers"]).Single());
            var env = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var e in List(container["env"]).Select(Map))
                env[(string)e["name"]] = e.TryGetValue("value", out var v) ? (string)v : "10.1.2.3"; // status.podIP
            Assert.All(env.Keys, k => Assert.Contains(k, ClusterConfig.EnvironmentVariables));
            Assert.Equal("kubernetes", env["ACTORS_DISCOVERY"]);
            Assert.Equal(env["ACTORS_SERVICE_NAME"], (string)labels["app"]); // the discovery's label selector is app={service name}

            var args = List(container["args"]).Cast<string>().ToList();
            var config = ClusterConfig.Load(new ClusterConfigOptions { Roles = args[args.IndexOf("--roles") + 1].Split(','), Environment = env });
            Assert.Empty(config.GetStringList("akka.cluster.seed-nodes", []));
            var ports = List(container["ports"]).Select(Map).ToDictionary(p => (string)p["name"], p => int.Parse((string)p["containerPort"], CultureInfo.InvariantCulture));
            Assert.Equal(config.GetInt("akka.remote.dot-netty.tcp.port"), ports["remoting"]);
            Assert.Equal(config.GetInt("actors.transport.port"), ports["transport"]);
            Assert.Equal(config.GetInt("akka.management.http.port"), ports["management"]);
            Assert.Equal("management", config.GetString("akka.management.cluster.bootstrap.contact-point-discovery.port-name"));
            Assert.Equal(ports, servicePorts);
            Assert.Equal("10.1.2.3", config.GetString("akka.remote.dot-netty.tcp.public-hostname"));

            var ready = Map(Map(container["readinessProbe"])["httpGet"]);
            var alive = Map(Map(container["livenessProbe"])["httpGet"]);
            Assert.Equal(("/ready", "management"), ((string)ready["path"], (string)ready["port"]));
            Assert.Equal(("/alive", "management"), ((string)alive["path"], (string)alive["port"]));
        }
    }

    [Fact]
    public void The_image_exposes_the_ports_its_environment_sets_and_runs_as_a_user()
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "Dockerfile"));
        var final = lines.Skip(Array.FindLastIndex(lines, l => l.StartsWith("FROM ", StringComparison.Ordinal))).ToList();
        Assert.Contains(final, l => l.StartsWith("USER ", StringComparison.Ordinal) && !l.Contains("root", StringComparison.Ordinal));
        Assert.Contains(final, l => l.Contains("dataset-fashion-mnist", StringComparison.Ordinal));
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var l in final.Select(l => l.Trim().TrimEnd('\\').Trim()))
            foreach (var assignment in l.Replace("ENV ", "", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(a => a.StartsWith("ACTORS_", StringComparison.Ordinal)))
                env[assignment[..assignment.IndexOf('=', StringComparison.Ordinal)]] = assignment[(assignment.IndexOf('=', StringComparison.Ordinal) + 1)..];
        Assert.All(env.Keys, k => Assert.Contains(k, ClusterConfig.EnvironmentVariables));
        env.Remove("ACTORS_CONFIG_DIR"); // the image's path, not this machine's
        env["ACTORS_PUBLIC_HOST"] = "10.1.2.3";
        var config = ClusterConfig.Load(new ClusterConfigOptions { Roles = ["worker"], Environment = env, Seeds = ["10.1.2.4:4053"] });
        var exposed = final.Single(l => l.StartsWith("EXPOSE ", StringComparison.Ordinal)).Split(' ').Skip(1).Select(int.Parse).ToHashSet();
        Assert.Equal(new HashSet<int> { config.GetInt("akka.remote.dot-netty.tcp.port"), config.GetInt("actors.transport.port"), config.GetInt("akka.management.http.port") }, exposed);
        Assert.True(File.Exists(Path.Combine(Root, "deploy", "docker", "entrypoint.sh")));
    }

    /// <summary>
    /// <c>kubectl apply --dry-run=client --validate=false -f deploy/k8s</c>, offline: kubectl still asks an API server which
    /// kinds exist (discovery) and whether each object exists, so a throwaway listener answers with the built-in kinds' discovery
    /// documents and "not found"; kubectl parses, maps and dry-runs every object. .ci/run installs kubectl.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task Kubectl_accepts_the_manifests_in_a_client_dry_run()
    {
        var kubectl = new[] { "/usr/bin/kubectl", "/usr/local/bin/kubectl" }.FirstOrDefault(File.Exists);
        Assert.True(kubectl is not null, "kubectl is not installed (apt-get install kubernetes-client; .ci/run does)");
        int port = TestProcesses.FreePort();
        using var server = new HttpListener();
        server.Prefixes.Add($"http://127.0.0.1:{port}/");
        server.Start();
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                HttpListenerContext c;
                try
                {
                    c = await server.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                var found = Discovery.TryGetValue(c.Request.Url!.AbsolutePath, out var body);
                var bytes = Encoding.UTF8.GetBytes(found ? body! : """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}""");
                c.Response.StatusCode = found ? 200 : 404;
                c.Response.ContentType = "application/json";
                await c.Response.OutputStream.WriteAsync(bytes);
                c.Response.Close();
            }
        });
        var info = new ProcessStartInfo(kubectl!, ["apply", "--dry-run=client", "--validate=false", "-f", Path.Combine(Root, "deploy", "k8s"), "--server", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["KUBECONFIG"] = Path.Combine(Path.GetTempPath(), $"actors-no-kubeconfig-{Guid.NewGuid():N}");
        using var p = Process.Start(info)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        var error = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        await stop.CancelAsync();
        server.Stop();
        await serving;
        Assert.True(p.ExitCode == 0, output + error);
        foreach (var created in new[] { "serviceaccount/actors", "role.rbac.authorization.k8s.io/actors-pod-reader", "rolebinding.rbac.authorization.k8s.io/actors-pod-reader",
                     "service/actors", "statefulset.apps/actors-aggregator", "statefulset.apps/actors-worker" })
            Assert.Contains($"{created} created (dry run)", output, StringComparison.Ordinal);
    }

    /// <summary>The legacy discovery documents of the built-in kinds the manifests use.</summary>
    private static readonly Dictionary<string, string> Discovery = new(StringComparer.Ordinal)
    {
        ["/version"] = """{"major":"1","minor":"32","gitVersion":"v1.32.0"}""",
        ["/api"] = """{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1"}]}""",
        ["/apis"] = JsonSerializer.Serialize(new
        {
            kind = "APIGroupList", apiVersion = "v1",
            groups = new[] { "apps", "rbac.authorization.k8s.io" }.Select(g => new
            {
                name = g, versions = new[] { new { groupVersion = $"{g}/v1", version = "v1" } }, preferredVersion = new { groupVersion = $"{g}/v1", version = "v1" },
            }),
        }),
        ["/api/v1"] = Resources("v1", ("services", "Service"), ("serviceaccounts", "ServiceAccount"), ("pods", "Pod")),
        ["/apis/apps/v1"] = Resources("apps/v1", ("statefulsets", "StatefulSet"), ("deployments", "Deployment")),
        ["/apis/rbac.authorization.k8s.io/v1"] = Resources("rbac.authorization.k8s.io/v1", ("roles", "Role"), ("rolebindings", "RoleBinding")),
    };

    private static string Resources(string groupVersion, params (string Name, string Kind)[] resources) => JsonSerializer.Serialize(new
    {
        kind = "APIResourceList", apiVersion = "v1", groupVersion,
        resources = resources.Select(r => new { name = r.Name, singularName = "", @namespaced = true, kind = r.Kind, verbs = new[] { "create", "delete", "get", "list", "patch", "update", "watch" } }),
    });

    private static List<object> Load(string path)
    {
        using var reader = new StringReader(File.ReadAllText(path));
        var parser = new MergingParser(new Parser(reader));
        var deserializer = new DeserializerBuilder().Build();
        var documents = new List<object>();
        parser.Consume<YamlDotNet.Core.Events.StreamStart>();
        while (parser.Accept<YamlDotNet.Core.Events.DocumentStart>(out _))
            documents.Add(deserializer.Deserialize(parser) ?? throw new InvalidDataException($"{path}: an empty document"));
        return documents;
    }

    private static Dictionary<string, object> Map(object node) =>
        ((Dictionary<object, object>)node).ToDictionary(e => (string)e.Key, e => e.Value, StringComparer.Ordinal);

    private static List<object> List(object node) => (List<object>)node;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Actors.sln"))) return dir.FullName;
        throw new InvalidOperationException("the repository (Actors.sln) is not above the test binaries");
    }
}
