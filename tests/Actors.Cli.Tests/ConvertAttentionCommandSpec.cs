using System.Text.Json.Nodes;
using Actors.Learning.Models;
using Actors.Learning.Training;
using TorchSharp;

namespace Actors.Cli.Tests;

/// <summary>`actors convert-attention`: a trained standard transformer, converted to collaborative attention in a new run directory.</summary>
public sealed class ConvertAttentionCommandSpec : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "actors-convert-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private string Train(string name, string model = "transformer")
    {
        var dir = Path.Combine(_dir, name);
        string[] sets = ["data.dataset=synthetic", "data.synthetic.train=600", "data.synthetic.test=300", $"model.type={model}", "model.width=32",
            "experiment.steps=15", "experiment.eval-every=5", "workers.honest=3", "optimizer.momentum=0.9"];
        Assert.Equal(0, CliApp.Run(["run", "--quiet", "--out", dir, .. sets.SelectMany(s => new[] { "--set", s })]));
        return dir;
    }

    private static JsonNode Summary(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!;

    [Fact]
    public void Full_rank_keeps_the_accuracy_and_half_rank_shrinks_the_model_and_the_file_loads_back()
    {
        var run = Train("std");
        double trained = Summary(run)["final_test_accuracy"]!.GetValue<double>();

        var full = Path.Combine(_dir, "full");
        Assert.Equal(0, CliApp.Run(["convert-attention", run, "--key-dim", "32", "--out", full]));
        var s = Summary(full);
        Assert.Equal(trained, s["original_test_accuracy"]!.GetValue<double>(), 9); // the file loaded is the model the run evaluated
        Assert.Equal(trained, s["final_test_accuracy"]!.GetValue<double>(), 9);     // exact at heads x head_dim
        Assert.True(s["cp_fit_error"]!.GetValue<double>() < 1e-6);
        Assert.Equal(32, s["key_dim"]!.GetValue<int>());

        var half = Path.Combine(_dir, "half");
        Assert.Equal(0, CliApp.Run(["convert-attention", run, "--key-dim", "8", "--out", half]));
        var h = Summary(half);
        Assert.True(h["parameters"]!.GetValue<long>() < h["original_parameters"]!.GetValue<long>());
        Assert.InRange(h["cp_fit_error"]!.GetValue<double>(), 1e-6, 1.0);
        Assert.Contains("| test accuracy |", File.ReadAllText(Path.Combine(half, "summary.md")), StringComparison.Ordinal);

        // The converted directory is a run directory of the collaborative model: its config and weights load back to its accuracy.
        var config = File.ReadAllText(Path.Combine(half, "config.hocon"));
        Assert.Contains("collaborative", config, StringComparison.Ordinal);
        var spec = Runtime.Running.ExperimentKinds.Load(Path.Combine(half, "config.hocon"), []);
        var architecture = spec.Model.Architecture;
        Assert.Equal(new ModelArchitecture("transformer", AttentionKind.Collaborative, 8, Width: 32), architecture);
        using var model = ModelFactory.Create(architecture, [1, 28, 28], 10);
        SafeTensors.LoadInto(model, Path.Combine(half, "model.safetensors"));
        using var data = spec.LoadData(_ => { });
        using var evaluator = new ModelEvaluator(data.Test, architecture);
        using var parameters = FlatParameters.Get(model);
        Assert.Equal(h["final_test_accuracy"]!.GetValue<double>(), Math.Round(evaluator.Evaluate(parameters).Accuracy, 6), 9);

        // ... and it converts no further: only standard attention converts.
        Assert.Equal(2, CliApp.Run(["convert-attention", half, "--key-dim", "4", "--out", Path.Combine(_dir, "again")]));
    }

    [Fact]
    public void Bad_inputs_exit_2_and_write_nothing()
    {
        var mlp = Train("mlp", "mlp");
        Assert.Equal(2, CliApp.Run(["convert-attention", mlp, "--key-dim", "8", "--out", Path.Combine(_dir, "x1")]));
        Assert.Equal(2, CliApp.Run(["convert-attention", Path.Combine(_dir, "nope"), "--key-dim", "8", "--out", Path.Combine(_dir, "x2")]));
        Assert.Equal(2, CliApp.Run(["convert-attention", mlp]));  // --key-dim is required
        var run = Train("std");
        Assert.Equal(2, CliApp.Run(["convert-attention", run, "--key-dim", "33", "--out", Path.Combine(_dir, "x3")]));
        File.WriteAllBytes(Path.Combine(run, "model.safetensors"), [1, 2, 3]);
        Assert.Equal(2, CliApp.Run(["convert-attention", run, "--key-dim", "8", "--out", Path.Combine(_dir, "x4")]));
        foreach (var x in new[] { "x1", "x2", "x3", "x4" }) Assert.False(Directory.Exists(Path.Combine(_dir, x)), x);
    }
}
