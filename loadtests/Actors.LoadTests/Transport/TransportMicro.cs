using System.Diagnostics;
using Actors.Runtime.Transport;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.LoadTests.Transport;

/// <summary>`transport-micro`: the side channel alone (no Akka hops), two systems in this process.</summary>
internal static class TransportMicro
{
    public static async Task<int> RunAsync(string[] args)
    {
        var window = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 4;
        var config = ConfigurationFactory.ParseString($"akka.loglevel = WARNING\nactors.transport.connections-per-endpoint = {window}").WithFallback(BulkTransportSettings.AkkaConfig);
        using var a = ActorSystem.Create("a", config);
        using var b = ActorSystem.Create("b", config);
        var sender = BulkTransport.Get(a);
        var receiver = BulkTransport.Get(b);
        var payloads = new[] { new byte[4 << 20], new byte[25 << 20] };
        for (var pass = 0; pass < 5; pass++)
        {
            var watch = Stopwatch.StartNew();
            long bytes = 0;
            var sem = new SemaphoreSlim(window);
            var tasks = new List<Task>();
            for (var i = 0; i < 28; i++)
            {
                var p = payloads[i % 2];
                await sem.WaitAsync();
                tasks.Add(Task.Run(async () =>
                {
                    var h = await sender.SendAsync(receiver.LocalEndpoint, p);
                    using var got = await receiver.ReceiveAsync(h);
                    Interlocked.Add(ref bytes, got.Length);
                    sem.Release();
                }));
            }

            await Task.WhenAll(tasks);
            Console.WriteLine($"pass {pass}: {bytes / 1048576.0 / watch.Elapsed.TotalSeconds:F0} MiB/s (window {window}, gen2 GCs so far {GC.CollectionCount(2)})");
        }

        await Task.WhenAll(a.Terminate(), b.Terminate());
        return 0;
    }
}
