using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using Actors.Runtime.Running;
using Akka.Configuration;

namespace Actors.Runtime.Tests.Experiments;

public class ExperimentConfigSpec
{
    private static ExperimentSpec Parse(params string[] sets) => ExperimentKinds.Load(null, sets);

    [Fact]
    public void Defaults_parse_to_a_valid_spec()
    {
        var spec = Parse();
        Assert.Equal("simulation", spec.Mode);
        Assert.Equal(TimingMode.Sync, spec.Timing.Mode);
        Assert.Equal(10, spec.Workers.Honest);
    }

    [Fact]
    public void Overrides_take_words_numbers_and_later_wins()
    {
        var spec = Parse("data.dataset=synthetic", "workers.honest=3", "workers.honest=4", "optimizer.lr=0.05", "data.path=/tmp/some dir");
        Assert.Equal("synthetic", spec.Data.Dataset);
        Assert.Equal(4, spec.Workers.Honest);
        Assert.Equal(0.05, spec.Optimizer.Lr);
        Assert.Equal("/tmp/some dir", spec.Data.Path);
    }

    [Fact]
    public void Momentum_at_server_moves_the_momentum_off_the_workers()
    {
        var atWorkers = Parse("optimizer.momentum=0.9");
        Assert.Equal((0.9, 0.0), (atWorkers.Optimizer.WorkerMomentum, atWorkers.Optimizer.ServerMomentumBeta));
        var atServer = Parse("optimizer.momentum=0.9", "optimizer.momentum-at=server");
        Assert.Equal((0.0, 0.9), (atServer.Optimizer.WorkerMomentum, atServer.Optimizer.ServerMomentumBeta));
        Assert.Contains("valid: worker, server", Assert.Throws<ExperimentConfigException>(() => Parse("optimizer.momentum-at=both")).Message);
    }

    [Fact]
    public void Unknown_key_names_the_valid_keys()
    {
        var e = Assert.Throws<ExperimentConfigException>(() => Parse("aggregator.typo=mean"));
        Assert.Contains("unknown key 'aggregator.typo'", e.Message);
        Assert.Contains("type", e.Message);
    }

    [Theory]
    [InlineData("model.type=resnet", "model.type = 'resnet' is not valid (valid: logreg, mlp, cnn, transformer)")]
    [InlineData("timing.mode=sometimes", "valid: sync, deadline, async, buffered")]
    [InlineData("workers.honest=0", "workers.honest = 0 is out of range")]
    [InlineData("experiment.steps=-5", "experiment.steps = -5 is out of range")]
    [InlineData("optimizer.lr=abc", "optimizer.lr = 'abc' is not a finite number")]
    [InlineData("timing.compute-ms=-1", "timing.compute-ms = -1 is out of range")]
    public void Bad_values_name_key_value_and_choices(string set, string expected)
    {
        var e = Assert.Throws<ExperimentConfigException>(() => Parse(set));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Impossible_timing_is_rejected()
    {
        var e = Assert.Throws<ExperimentConfigException>(() => Parse("workers.honest=4", "timing.mode=deadline", "timing.quorum=9"));
        Assert.Contains("timing.quorum = 9 is more than the 4 workers", e.Message);
        e = Assert.Throws<ExperimentConfigException>(() => Parse("workers.honest=4", "timing.mode=buffered", "timing.buffer-size=5"));
        Assert.Contains("buffer-size", e.Message);
    }

    [Fact]
    public void Byzantine_workers_need_an_attack_and_honest_majority_of_count()
    {
        Assert.Contains("needs an attack", Assert.Throws<ExperimentConfigException>(() => Parse("workers.byzantine=2")).Message);
    }

    [Fact]
    public void Bad_hocon_file_is_a_clear_error()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "experiment { name = ");
        try
        {
            var e = Assert.Throws<ExperimentConfigException>(() => ExperimentConfig.Load(path, []));
            Assert.Contains("not valid HOCON", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Contains("not found", Assert.Throws<ExperimentConfigException>(() => ExperimentConfig.Load("/nonexistent.hocon", [])).Message);
    }

    [Fact]
    public void Rendered_config_parses_back_to_the_same_values()
    {
        var original = ExperimentConfig.Load(null, ["data.path=/a b/c", "experiment.name=x y", "optimizer.lr=0.25"]);
        var text = ExperimentRunner.Render(original);
        var back = ConfigurationFactory.ParseString(text);
        ExperimentConfig.CheckKnownKeys(back);
        var a = ExperimentSpec.Parse(original);
        var b = ExperimentSpec.Parse(back.WithFallback(ExperimentConfig.Reference));
        Assert.Equal(a.Data.Path, b.Data.Path);
        Assert.Equal(a.Name, b.Name);
        Assert.Equal(a.Optimizer, b.Optimizer);
        Assert.Equal(a.Timing, b.Timing);
    }

    [Fact]
    public void Includes_resolve_relative_to_the_including_file_and_a_missing_one_is_named()
    {
        var dir = Path.Combine(Path.GetTempPath(), "actors-include-test", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "shared"));
        try
        {
            File.WriteAllText(Path.Combine(dir, "shared", "base.hocon"), "optimizer.lr = 0.25\ninclude \"more.hocon\"\n");
            File.WriteAllText(Path.Combine(dir, "shared", "more.hocon"), "workers.honest = 7\n");
            File.WriteAllText(Path.Combine(dir, "exp.hocon"), "include \"shared/base.hocon\"\nexperiment.steps = 11\n");
            var spec = ExperimentSpec.Parse(ExperimentConfig.Load(Path.Combine(dir, "exp.hocon"), []));
            Assert.Equal((0.25, 7, 11), (spec.Optimizer.Lr, spec.Workers.Honest, spec.Steps));

            File.WriteAllText(Path.Combine(dir, "bad.hocon"), "include \"nope.hocon\"\n");
            var e = Assert.Throws<ExperimentConfigException>(() => ExperimentConfig.Load(Path.Combine(dir, "bad.hocon"), []));
            Assert.Contains("include \"nope.hocon\" not found", e.Message, StringComparison.Ordinal);
            Assert.Contains(Path.Combine(dir, "nope.hocon"), e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("data.dataset=fashion-mnist", "fashion-mnist")]
    [InlineData("data.path=/tmp/a b", "/tmp/a b")]
    [InlineData("akka.loglevel=DEBUG", "DEBUG")]
    public void One_set_parser_serves_experiments_and_nodes(string assignment, string value)
    {
        var key = assignment[..assignment.IndexOf('=', StringComparison.Ordinal)];
        Assert.Equal(value, HoconOverrides.Parse(assignment).GetString(key));
        Assert.Equal(value, Actors.Runtime.Cluster.ClusterConfig.ParseOverride(assignment).GetString(key));
    }
}
