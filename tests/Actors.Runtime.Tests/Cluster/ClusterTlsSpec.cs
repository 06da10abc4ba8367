using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Actors.Runtime.Cluster;
using Akka.Actor;

namespace Actors.Runtime.Tests.Cluster;

public sealed class ClusterTlsSpec : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly string _dir = Directory.CreateTempSubdirectory("actors-tls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Two_nodes_with_a_certificate_path_form_a_cluster_over_TLS()
    {
        var pfx = Path.Combine(_dir, "node.pfx");
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=actors-node", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(pfx, cert.Export(X509ContentType.Pfx, "changeit"));
        }

        var env = new Dictionary<string, string?> { ["ACTORS_TLS_CERT"] = pfx, ["ACTORS_TLS_CERT_PASSWORD"] = "changeit" };
        string[] overrides = ["akka.loglevel=WARNING", "akka.remote.dot-netty.tcp.ssl.suppress-validation=on"];
        using var seed = ActorSystem.Create(ClusterConfig.SystemName, ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = ["seed"], Port = 0, Environment = env, Overrides = overrides,
        }));
        var seedCluster = Akka.Cluster.Cluster.Get(seed);
        await seedCluster.JoinAsync(seedCluster.SelfAddress).WaitAsync(Patience);
        Assert.Equal("akka.ssl.tcp", seedCluster.SelfAddress.Protocol);

        // The worker finds the seed from a plain host:port, as `actors node --seed` gives it.
        var workerConfig = ClusterConfig.Load(new ClusterConfigOptions
        {
            Roles = ["worker"], Environment = env, Overrides = overrides, Seeds = [$"127.0.0.1:{seedCluster.SelfAddress.Port}"],
        });
        Assert.Equal([$"akka.ssl.tcp://actors@127.0.0.1:{seedCluster.SelfAddress.Port}"], workerConfig.GetStringList("akka.cluster.seed-nodes"));
        using var worker = ActorSystem.Create(ClusterConfig.SystemName, workerConfig);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Akka.Cluster.Cluster.Get(worker).RegisterOnMemberUp(() => up.TrySetResult());
        // Fires only once the worker is Up in the cluster, i.e. it joined the seed over TLS.
        await up.Task.WaitAsync(Patience);

        await Task.WhenAll(worker.Terminate(), seed.Terminate()).WaitAsync(Patience);
    }
}
