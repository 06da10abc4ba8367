using System.Globalization;
using System.Text.Json.Nodes;

namespace Actors.Cli.Tests;

public sealed class RunCommandSpec : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "actors-cli-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    [Fact]
    public void Run_on_synthetic_data_writes_the_run_directory_and_beats_chance()
    {
        var code = CliApp.Run(["run", "--quiet", "--out", _dir,
            "--set", "data.dataset=synthetic", "--set", "data.synthetic.train=2000", "--set", "data.synthetic.test=500",
            "--set", "model.type=mlp", "--set", "workers.honest=4", "--set", "experiment.steps=40", "--set", "experiment.eval-every=10",
            "--set", "experiment.name=e2e"]);
        Assert.Equal(0, code);
        foreach (var f in new[] { "config.hocon", "metrics.csv", "summary.json", "summary.md", "accuracy.png" })
            Assert.True(File.Exists(Path.Combine(_dir, f)), $"{f} missing");

        var lines = File.ReadAllLines(Path.Combine(_dir, "metrics.csv"));
        Assert.StartsWith("step,test_loss,test_accuracy", lines[0]);
        Assert.Equal(6, lines.Length); // header + steps 0, 10, 20, 30, 40

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "summary.json")))!.AsObject();
        foreach (var key in new[] { "final_test_accuracy", "final_test_loss", "steps", "wall_time_s", "messages_sent", "bytes_sent", "seed" })
            Assert.True(summary.ContainsKey(key), $"summary.json lacks {key}");
        var accuracy = double.Parse(summary["final_test_accuracy"]!.ToJsonString(), CultureInfo.InvariantCulture);
        Assert.True(accuracy > 0.3, $"accuracy {accuracy} is not better than chance (0.1)");
        Assert.Equal(40, summary["steps"]!.GetValue<long>());
        Assert.Equal(4 * 40 * 2, summary["messages_sent"]!.GetValue<long>()); // one update up and one model down per worker per step

        var png = File.ReadAllBytes(Path.Combine(_dir, "accuracy.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.Contains("experiment {", File.ReadAllText(Path.Combine(_dir, "config.hocon")));
    }

    [Theory]
    [InlineData("aggregator.type=nonsense")]
    [InlineData("workers.honest=-1")]
    [InlineData("no-equals-sign")]
    [InlineData("aggregator.typo=mean")]
    public void Bad_input_exits_2_without_a_run_directory(string set)
    {
        var code = CliApp.Run(["run", "--quiet", "--out", _dir, "--set", "data.dataset=synthetic", "--set", set]);
        Assert.Equal(2, code);
        Assert.False(Directory.Exists(_dir));
    }

    [Fact(Timeout = 120_000)]
    public async Task Sigterm_cancels_a_run_cleanly_and_keeps_the_rows_written_so_far()
    {
        var info = Actors.Cli.Commands.UpCommand.SelfStartInfo(["run", "--quiet", "--out", _dir,
            "--set", "data.dataset=synthetic", "--set", "model.type=logreg", "--set", "experiment.steps=10000000", "--set", "experiment.eval-every=5"]);
        info.RedirectStandardError = true;
        info.RedirectStandardOutput = true;
        using var run = System.Diagnostics.Process.Start(info)!;
        var stderr = run.StandardError.ReadToEndAsync();
        var stdout = run.StandardOutput.ReadToEndAsync();
        var metrics = Path.Combine(_dir, "metrics.csv");
        for (int i = 0; i < 600 && !(File.Exists(metrics) && ReadShared(metrics).Length >= 3); i++) await Task.Delay(100);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", run.Id.ToString(CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60))) await run.WaitForExitAsync(cts.Token);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("cancelled (Ctrl-C or SIGTERM)", await stderr, StringComparison.Ordinal);
        _ = await stdout;
        Assert.True(ReadShared(metrics).Length >= 3, "the evaluations written before the signal stay");
        Assert.True(File.Exists(Path.Combine(_dir, "config.hocon")));
    }

    private static string[] ReadShared(string path)
    {
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(s);
        return r.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static readonly string[] Tiny = ["--set", "data.dataset=synthetic", "--set", "data.synthetic.train=400", "--set", "data.synthetic.test=100",
        "--set", "model.type=logreg", "--set", "experiment.steps=4", "--set", "experiment.eval-every=2"];

    [Fact]
    public void A_run_directory_that_holds_a_run_is_refused_and_force_replaces_it()
    {
        Assert.Equal(0, CliApp.Run(["run", "--quiet", "--out", _dir, .. Tiny]));
        var first = File.ReadAllText(Path.Combine(_dir, "summary.json"));
        Assert.Equal(2, CliApp.Run(["run", "--quiet", "--out", _dir, .. Tiny, "--set", "experiment.seed=5"]));
        Assert.Equal(first, File.ReadAllText(Path.Combine(_dir, "summary.json"))); // nothing of the earlier run was touched
        Assert.Equal(0, CliApp.Run(["run", "--quiet", "--force", "--out", _dir, .. Tiny, "--set", "experiment.seed=5"]));
        Assert.Contains("\"seed\": 5", File.ReadAllText(Path.Combine(_dir, "summary.json")), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void An_out_directory_that_cannot_be_created_is_bad_input_named_before_anything_runs()
    {
        Assert.Equal(2, CliApp.Run(["run", "--quiet", "--out", "/proc/actors-cannot-be-here", .. Tiny]));
        var e = Assert.Throws<Runtime.Experiments.ExperimentConfigException>(() => Runtime.Output.RunDirectory.Claim("/proc/actors-cannot-be-here/run", false));
        Assert.Contains("/proc/actors-cannot-be-here/run", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_diverged_run_is_a_result_exit_0()
    {
        Assert.Equal(0, CliApp.Run(["run", "--quiet", "--out", _dir, .. Tiny, "--set", "optimizer.lr=1e38"]));
        Assert.Contains("\"diverged\": true", File.ReadAllText(Path.Combine(_dir, "summary.json")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("workers.honest=1000000", "1000000 workers but the training set (synthetic) has 400 examples")]
    [InlineData("experiment.steps=99999999999999", "experiment.steps = 99999999999999 is too large (maximum 2147483647)")]
    public void Impossible_sizes_say_what_is_wrong(string set, string message)
    {
        var e = Assert.Throws<Runtime.Experiments.ExperimentConfigException>(() =>
            Runtime.Running.ExperimentKinds.Load(null, ["data.dataset=synthetic", "data.synthetic.train=400", set]));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_spec_whose_memory_estimate_exceeds_the_machine_is_refused_naming_the_keys()
    {
        Assert.Equal(2, CliApp.Run(["run", "--quiet", "--out", _dir, "--set", "workers.honest=59000", "--set", "model.type=cnn"]));
        Assert.False(Directory.Exists(_dir));
        var spec = Runtime.Running.ExperimentKinds.Load(null, ["workers.honest=20000"]);
        long estimate = Runtime.Running.ExperimentKinds.Of(spec).EstimateBytes(spec)!.Value;
        Assert.InRange(estimate, 15L << 30, 80L << 30); // 20,000 mlp workers: more than a model-sized vector each
        var e = Assert.Throws<Runtime.Experiments.ExperimentConfigException>(() => Runtime.Engine.MemoryBudget.Check(spec, estimate, 4L << 30, force: false));
        Assert.Contains("workers.honest (now 20000)", e.Message, StringComparison.Ordinal);
        Assert.Contains("--force", e.Message, StringComparison.Ordinal);
        Runtime.Engine.MemoryBudget.Check(spec, estimate, 4L << 30, force: true);
    }

    [Fact]
    public void Cuda_without_a_cuda_libtorch_exits_2_naming_the_build_switch_and_auto_runs_on_the_cpu_saying_so()
    {
        Assert.False(Learning.Util.TorchSetup.CudaAvailable()); // this build references the CPU libtorch only
        var error = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            Assert.Equal(2, CliApp.Run(["run", "--quiet", "--out", _dir, .. Tiny, "--set", "compute.device=cuda"]));
            Assert.False(Directory.Exists(_dir));
            Assert.Contains("-p:TorchBackend=cuda", captured.ToString(), StringComparison.Ordinal);
            Assert.Equal(0, CliApp.Run(["run", "--quiet", "--out", _dir, .. Tiny, "--set", "compute.device=auto"]));
            Assert.Contains("compute.device = auto: no CUDA device", new Runtime.Experiments.ComputeSpec("auto").Apply(), StringComparison.Ordinal); // the run's warning line
        }
        finally
        {
            Console.SetError(error);
        }
        Assert.Equal(TorchSharp.DeviceType.CPU, Learning.Util.TorchSetup.Device.type);
        // compute.threads is read (not applied here: the thread count is process-wide and other tests share this process)
        Assert.Equal(new Runtime.Experiments.ComputeSpec("auto", 3), Runtime.Running.ExperimentKinds.Load(null, ["compute.device=auto", "compute.threads=3"]).Compute);
        Assert.True(File.Exists(Path.Combine(_dir, "summary.json")));
        Assert.Equal(2, CliApp.Run(["run", "--quiet", "--out", _dir + "-gpu", .. Tiny, "--set", "compute.device=gpu"]));
    }

    [Fact]
    public void Unknown_option_exits_2() => Assert.Equal(2, CliApp.Run(["run", "--bogus"]));

    [Fact]
    public void Missing_experiment_file_exits_2() => Assert.Equal(2, CliApp.Run(["run", "/nonexistent/experiment.hocon"]));
}
