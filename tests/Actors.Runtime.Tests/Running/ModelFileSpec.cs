using System.Text.Json.Nodes;
using Actors.Learning.Models;
using Actors.Learning.Training;
using Actors.Runtime.Engine;
using Actors.Runtime.Running;
using TorchSharp;

namespace Actors.Runtime.Tests.Running;

/// <summary>The run directory keeps the final model as model.safetensors, which loads back to the same test accuracy.</summary>
public sealed class ModelFileSpec : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "actors-tests", "model-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    [Fact]
    public async Task Model_safetensors_round_trips_to_the_same_test_accuracy()
    {
        var spec = ExperimentKinds.Load(null, ["data.dataset=synthetic", "data.synthetic.train=1000", "data.synthetic.test=300", "model.type=mlp",
            "experiment.steps=20", "experiment.eval-every=10", "workers.honest=3", "pruning.type=dpf", "pruning.sparsity=0.5", "pruning.every=5"]);
        await ExperimentRunner.Run(spec, _dir, new RunProgress(spec.Steps), _ => { });
        var file = Path.Combine(_dir, "model.safetensors");
        var tensors = SafeTensors.Read(file);
        Assert.Equal(["_fc1.weight", "_fc1.bias", "_fc2.weight", "_fc2.bias"], tensors.Select(t => t.Name));
        Assert.Equal([256L, 784], tensors[0].Shape); // synthetic data has 784 features by default
        Assert.Equal("20", SafeTensors.Metadata(file)["step"]);
        var values = tensors.SelectMany(t => t.Values).ToArray();
        Assert.InRange(values.Take(256 * 784).Count(v => v == 0) / (256.0 * 784), 0.49, 0.51); // the pruned model, as evaluated

        using var data = Learning.Data.SyntheticData.Generate(spec.Data.Synthetic, spec.Seed);
        using var evaluator = new ModelEvaluator(data.Test, "mlp");
        using var parameters = torch.tensor(values);
        var (_, accuracy) = evaluator.Evaluate(parameters);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "summary.json")))!;
        Assert.Equal(summary["final_test_accuracy"]!.GetValue<double>(), Math.Round(accuracy, 6), 9);
    }

    [Fact]
    public async Task A_collaborative_transformer_trained_through_the_actors_loads_back_by_name_to_the_same_accuracy()
    {
        var spec = ExperimentKinds.Load(null, ["data.dataset=synthetic", "data.synthetic.train=600", "data.synthetic.test=300", "model.type=transformer",
            "model.attention=collaborative", "model.key-dim=8", "model.width=32", "experiment.steps=12", "experiment.eval-every=6", "workers.honest=3"]);
        await ExperimentRunner.Run(spec, _dir, new RunProgress(spec.Steps), _ => { });
        var file = Path.Combine(_dir, "model.safetensors");
        Assert.Contains(SafeTensors.Read(file), t => t.Name == "blocks.1.attention.mixing" && t.Shape.SequenceEqual([4L, 8]));
        using var data = spec.LoadData(_ => { });
        using var model = ModelFactory.Create(spec.Model.Architecture, data.Test.ItemShape, data.Test.Classes);
        SafeTensors.LoadInto(model, file);
        using var evaluator = new ModelEvaluator(data.Test, spec.Model.Architecture);
        using var parameters = FlatParameters.Get(model);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "summary.json")))!;
        Assert.Equal(summary["final_test_accuracy"]!.GetValue<double>(), Math.Round(evaluator.Evaluate(parameters).Accuracy, 6), 9);
        Assert.Equal(ModelFactory.ParameterCount(spec.Model.Architecture, 784, 10), summary["parameters"]!.GetValue<long>());
    }
}
