using Actors.Learning.Compression;
using Actors.Learning.Data;
using Actors.Learning.Gossip;
using Actors.Learning.Problems;
using Actors.Learning.Training;
using Actors.Learning.Util;
using Actors.Runtime.Engine;
using Actors.Runtime.Experiments;
using TorchSharp;

namespace Actors.Runtime.Gossip;

/// <summary>
/// The learning objects of one gossip run, built from the spec before any actor exists: the decentralized problem
/// (logreg with a known optimum, or a neural network), the test evaluation of the average model, the topology and one
/// gossip node per peer.
/// </summary>
public sealed class GossipParts : IKindRun
{
    private readonly Func<torch.Tensor, (double Loss, double Accuracy)> _evaluate;
    private readonly IDisposable[] _owned;

    private GossipParts(IDecentralizedProblem problem, bool hasOptimum, Func<torch.Tensor, (double, double)> evaluate, string dataSource,
        ITopology topology, GossipSettings settings, GossipNode[] nodes, IDisposable[] owned)
    {
        Problem = problem;
        HasOptimum = hasOptimum;
        _evaluate = evaluate;
        DataSource = dataSource;
        Topology = topology;
        Settings = settings;
        Nodes = nodes;
        _owned = owned;
        SpectralGap = Learning.Gossip.SpectralGap.Of(topology);
    }

    public IDecentralizedProblem Problem { get; }

    /// <summary>`topology.type`.</summary>
    public string TopologyType { get; private init; } = "";

    long IKindRun.Parameters => Problem.Dimension;

    public Akka.Actor.Props Coordinator(RunContext context) => GossipCoordinator.Props(this, context);

    /// <summary>True when f* is known (logreg), so suboptimality is reported.</summary>
    public bool HasOptimum { get; }

    public string DataSource { get; }
    public ITopology Topology { get; }
    public GossipSettings Settings { get; }
    public IReadOnlyList<GossipNode> Nodes { get; }
    public double SpectralGap { get; }

    /// <summary>Test loss and accuracy of a model (thread-safe with respect to the nodes' gradients).</summary>
    public (double Loss, double Accuracy) Evaluate(torch.Tensor model) => _evaluate(model);

    /// <summary>The topology alone (cheap): what the CLI prints at start.</summary>
    public static ITopology CreateTopology(ExperimentSpec spec, GossipSection section) => TopologyFactory.Create(section.Topology, spec.Seed);

    public static GossipParts Build(ExperimentSpec spec, Action<string> warn)
    {
        var section = GossipSection.Of(spec);
        section.Validate(spec);
        var topology = CreateTopology(spec, section); // bad topology input fails before any data is loaded
        var settings = section.Settings(spec);
        var compression = spec.Compression;
        Compressors.Create(compression, 0);
        int n = section.Topology.Nodes;
        var dtype = spec.Model.DType == "float64" ? torch.ScalarType.Float64 : torch.ScalarType.Float32;
        var owned = new List<IDisposable>();
        try
        {
            IDecentralizedProblem problem;
            bool hasOptimum;
            Func<torch.Tensor, (double, double)> evaluate;
            string source;
            if (spec.Model.Type == "logreg" && spec.Data.Dataset == "synthetic")
            {
                var s = spec.Data.Synthetic;
                var convex = new ConvexSyntheticSpec(Math.Max(1, s.Train / n), s.Features, s.Classes, section.Heterogeneity);
                var logreg = LogisticRegressionProblem.Synthetic(convex, n, spec.Model.L2, dtype, spec.Data.BatchSize, spec.Seed);
                owned.Add(logreg);
                var (tx, ty) = ConvexSyntheticData.GenerateTest(convex, s.Test, spec.Seed);
                owned.Add(tx);
                owned.Add(ty);
                (problem, hasOptimum, source) = (logreg, true, "synthetic-convex");
                evaluate = x => logreg.Evaluate(x, tx, ty);
            }
            else
            {
                var data = spec.LoadData(warn);
                owned.Add(data);
                var labels = data.Train.Labels.ToHostArray<long>().Select(l => (int)l).ToArray();
                var shards = Partitioner.Split(labels, spec.Data.Partition, n, 0, Seeds.Random(spec.Seed, "partition"));
                source = data.Source;
                if (spec.Model.Type == "logreg")
                {
                    var logreg = LogisticRegressionProblem.FromDataset(data.Train, shards, spec.Model.L2, dtype, spec.Data.BatchSize, spec.Seed);
                    (problem, hasOptimum) = (logreg, true);
                    evaluate = x => logreg.Evaluate(x, data.Test.Features, data.Test.Labels);
                }
                else
                {
                    problem = new NeuralNetworkProblem(data.Train, shards, spec.Model.Architecture, spec.Data.BatchSize, spec.Model.L2, spec.Seed);
                    hasOptimum = NeuralNetworkProblem.HasOptimum;
                    var evaluator = new ModelEvaluator(data.Test, spec.Model.Architecture);
                    owned.Add(evaluator);
                    evaluate = evaluator.Evaluate;
                }
                owned.Insert(0, problem);
            }
            // f* once, before the run, so no actor pays for it (or races to compute it).
            if (hasOptimum) _ = problem.OptimalValue;
            using var x0 = problem.InitialModel();
            var nodes = new GossipNode[n];
            for (int i = 0; i < n; i++)
            {
                ICompressor? compressor = GossipAlgorithms.NeedsCompressor(settings.Algorithm)
                    ? Compressors.Create(compression, (long)Seeds.Derive(spec.Seed, "gossip-compressor", i))
                    : null;
                nodes[i] = GossipAlgorithms.Create(settings, i, x0, compressor, problem.Layout);
            }
            if (!owned.Contains(problem)) owned.Insert(0, problem);
            return new GossipParts(problem, hasOptimum, evaluate, source, topology, settings, nodes, [.. owned]) { TopologyType = section.Topology.Type };
        }
        catch
        {
            foreach (var o in owned) o.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var node in Nodes) node.Dispose();
        foreach (var o in _owned) o.Dispose();
    }
}
