using Actors.Learning.Data;
using Actors.Learning.Models;
using Actors.Learning.Training;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Problems;

/// <summary>
/// A non-convex problem split over nodes (mlp, cnn on a dataset): node i's gradient is a minibatch gradient of its own
/// <see cref="LocalTrainer"/> (batches drawn from (seed, node), in call order), plus l2 x. No known optimum:
/// <see cref="Objective"/> and <see cref="OptimalValue"/> are not available (callers check <see cref="HasOptimum"/>).
/// The nodes share one gradient module (locked), so gradients may be asked from any thread.
/// </summary>
public sealed class NeuralNetworkProblem : IDecentralizedProblem
{
    private readonly Dataset[] _shards;
    private readonly LocalTrainer[] _trainers;
    private readonly GradientModel _gradients;
    private readonly torch.Tensor _initial;
    private readonly double _l2;

    public NeuralNetworkProblem(Dataset train, long[][] shards, ModelArchitecture modelType, int batchSize, double l2, long seed)
    {
        _l2 = l2;
        _shards = shards.Select((s, i) => train.View(s, $"node-{i}")).ToArray();
        _gradients = new GradientModel(modelType, train.ItemShape, train.Classes); // shared by the nodes: each holds its own model vector
        _trainers = _shards.Select((shard, i) =>
            new LocalTrainer(shard, modelType, batchSize, 0, Optim.MomentumForm.HeavyBall, Seeds.Random(seed, "gossip-batches", i), model: _gradients)).ToArray();
        _initial = Training.InitialModel.Create(modelType, train.ItemShape, train.Classes, seed).DetachFromDisposeScope();
        using var m = Training.InitialModel.Unseeded(() => ModelFactory.Create(modelType, train.ItemShape, train.Classes));
        Layout = ParameterLayout.Of(m);
    }

    public static bool HasOptimum => false;
    public int Nodes => _trainers.Length;
    public long Dimension => _initial.numel();
    public torch.ScalarType DType => torch.ScalarType.Float32;
    public ParameterLayout Layout { get; }

    public torch.Tensor InitialModel() => _initial.clone();

    public torch.Tensor LocalGradient(int node, torch.Tensor x, long step)
    {
        var (g, _) = _trainers[node].Gradient(x);
        if (_l2 > 0)
        {
            g.AddScaled_(x, _l2);
        }
        return g;
    }

    public double Objective(torch.Tensor x) => throw new NotSupportedException("a neural network problem has no known optimum; use test loss");

    public double OptimalValue => throw new NotSupportedException("a neural network problem has no known optimum");

    public void Dispose()
    {
        foreach (var t in _trainers) t.Dispose();
        _gradients.Dispose();
        foreach (var s in _shards) s.Dispose();
        _initial.Dispose();
    }
}
