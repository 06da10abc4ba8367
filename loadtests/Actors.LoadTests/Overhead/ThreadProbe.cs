using System.Diagnostics;
using Actors.Learning.Util;
using Actors.Runtime.Experiments;
using Actors.Runtime.Running;
using TorchSharp;

namespace Actors.LoadTests.Overhead;

public static class ThreadProbe
{
    public static Task<int> Run(string[] args)
    {
        TorchSetup.Initialize();
        var spec = ExperimentSpec.Parse(ExperimentConfig.Load(null, ["workers.honest=10"]));
        using var parts = ExperimentParts.Build(spec, Console.Error.WriteLine);
        double Time()
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 200; i++)
            {
                using var scope = torch.NewDisposeScope();
                parts.Honest[i % 10].ComputeUpdate(parts.InitialModel);
            }
            return sw.Elapsed.TotalMilliseconds / 200;
        }
        Time();
        Console.WriteLine($"main thread: {Time():0.00} ms/step");
        double t = 0;
        var th = new Thread(() => { Time(); t = Time(); });
        th.Start();
        th.Join();
        Console.WriteLine($"new thread:  {t:0.00} ms/step");
        Console.WriteLine($"main thread: {Time():0.00} ms/step");
        Console.WriteLine($"threads: {torch.get_num_threads()}");
        return Task.FromResult(0);
    }
}
