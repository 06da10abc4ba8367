using Actors.Learning.Aggregation;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using TorchSharp;

namespace Actors.LoadTests.Robustness;

/// <summary>
/// Every aggregator on n updates of d = 1M floats, relative to the mean (the baseline) in the same run.
/// Targets: cclip (L = 3) under 8x mean; Krum's n^2 d Gram matrix shows as its growth from n = 25 to n = 100.
/// In-process short job: libtorch is loaded once and the run takes minutes. Setting ACTORS_TORCH_THREADS fixes torch's
/// intra-op threads.
/// </summary>
[Config(typeof(ShortInProcess))]
public class AggregatorBenchmarks
{
    private const long D = 1_000_000;
    private List<torch.Tensor> _updates = [];
    private Random _rng = new(1);
    private IAggregator _median = null!, _trimmed = null!, _krum = null!, _multiKrum = null!, _rfa = null!;
    private CenteredClipping _cclip3 = null!, _cclip1 = null!;
    private IAggregator _bucketedCclip = null!;

    [Params(25, 100)]
    public int N { get; set; }

    private int F => N / 5;

    [GlobalSetup]
    public void Setup()
    {
        // ACTORS_TORCH_THREADS=1 measures per-core work: on an oversubscribed machine OpenMP barriers dominate otherwise.
        if (int.TryParse(Environment.GetEnvironmentVariable("ACTORS_TORCH_THREADS"), out int threads) && threads > 0)
        {
            torch.set_num_threads(threads);
        }
        using var gen = new torch.Generator(42);
        _updates = Enumerable.Range(0, N).Select(_ => torch.randn(D, generator: gen).DetachFromDisposeScope()).ToList();
        _rng = new Random(1);
        _median = AggregatorFactory.Create(new AggregatorSettings("median"), N, F);
        _trimmed = AggregatorFactory.Create(new AggregatorSettings("trimmed-mean"), N, F);
        _krum = AggregatorFactory.Create(new AggregatorSettings("krum"), N, F);
        _multiKrum = AggregatorFactory.Create(new AggregatorSettings("krum", M: N - F), N, F);
        _rfa = AggregatorFactory.Create(new AggregatorSettings("rfa"), N, F);
        _cclip3 = new CenteredClipping(tau: 10, iterations: 3);
        _cclip1 = new CenteredClipping(tau: 100, iterations: 1);
        _bucketedCclip = AggregatorFactory.Create(new AggregatorSettings("cclip", BucketSize: 2), N, F);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _updates.ForEach(u => u.Dispose());
        _cclip3.Dispose();
        _cclip1.Dispose();
        (_bucketedCclip as IDisposable)?.Dispose();
    }

    private float Run(IAggregator aggregator)
    {
        using var result = aggregator.Aggregate(_updates, new AggregationContext(N, F, 0, _rng));
        return result[0].item<float>();
    }

    [Benchmark(Baseline = true)]
    public float Mean() => Run(new Mean());

    [Benchmark]
    public float Median() => Run(_median);

    [Benchmark]
    public float TrimmedMean() => Run(_trimmed);

    [Benchmark]
    public float Krum() => Run(_krum);

    [Benchmark]
    public float MultiKrum() => Run(_multiKrum);

    [Benchmark]
    public float Rfa() => Run(_rfa);

    [Benchmark]
    public float CClipL3() => Run(_cclip3);

    [Benchmark]
    public float CClipL1() => Run(_cclip1);

    [Benchmark]
    public float BucketedCClipL3() => Run(_bucketedCclip);

    private sealed class ShortInProcess : ManualConfig
    {
        public ShortInProcess()
        {
            AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
            SummaryStyle = BenchmarkDotNet.Reports.SummaryStyle.Default.WithRatioStyle(BenchmarkDotNet.Columns.RatioStyle.Value);
        }
    }
}
