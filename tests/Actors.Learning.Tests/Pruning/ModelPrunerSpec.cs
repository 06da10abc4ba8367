using Actors.Learning.Aggregation;
using Actors.Learning.Compression;
using Actors.Learning.Models;
using Actors.Learning.Pruning;
using Actors.Learning.Training;
using Actors.Learning.Wire;
using TorchSharp;

namespace Actors.Learning.Tests.Pruning;

public class ModelPrunerSpec
{
    // A 2x2 weight matrix (prunable) and a bias of 2 (never pruned).
    private static readonly ParameterLayout Layout = new([("w", [2, 2], 0, 4), ("b", [2], 4, 2)]);

    private static AggregationContext Ctx => new(1, 0, 0, new Random(1));

    private static ServerModel Server(PruningType type, float[] x, double sparsity)
    {
        var pruner = new ModelPruner(new PruningSettings(type, sparsity, Every: 1000), Layout, totalSteps: 100);
        using var initial = torch.tensor(x);
        var server = new ServerModel(initial, new Mean(), lr: 0.1, pruner: pruner);
        pruner.Recompute(server.Parameters, sparsity);
        return server;
    }

    [Fact]
    public void Dpf_moves_a_pruned_weight_by_its_gradient_at_the_pruned_model_and_magnitude_pruning_does_not()
    {
        // The trap (ALGORITHMS.md section 8): masking inside the gradient is plain pruning. DPF applies the gradient taken at
        // m * w to the dense w, pruned coordinates included.
        float[] x = [0.1f, 2f, 3f, 4f, 0.5f, 0.5f];
        using var gradient = torch.tensor(new[] { -1f, 1f, 1f, 1f, 1f, 1f }); // non-zero at the pruned weight 0
        using var dpf = Server(PruningType.Dpf, x, sparsity: 0.25);
        using var magnitude = Server(PruningType.Magnitude, x, sparsity: 0.25);
        Assert.Equal([0f, 2f, 3f, 4f, 0.5f, 0.5f], dpf.Published.data<float>().ToArray()); // workers see the pruned model
        dpf.Step([gradient], Ctx);
        magnitude.Step([gradient], Ctx);
        Assert.Equal(0.2f, dpf.Parameters[0].item<float>(), 6);       // 0.1 - 0.1 * (-1): the pruned weight moved
        Assert.Equal(0f, magnitude.Parameters[0].item<float>());       // pruned stays 0 and gets no update
        Assert.Equal(1.9f, dpf.Parameters[1].item<float>(), 6);        // kept weights move alike in both
        Assert.Equal(1.9f, magnitude.Parameters[1].item<float>(), 6);
        Assert.Equal(0f, dpf.Published[0].item<float>());              // still pruned until the next recomputation
    }

    [Fact]
    public void A_pruned_weight_that_grows_back_re_enters_the_mask_under_dpf()
    {
        using var server = Server(PruningType.Dpf, [0.1f, 2f, 3f, 4f, 0.5f, 0.5f], sparsity: 0.25);
        using var gradient = torch.tensor(new[] { -30f, 0f, 0f, 0f, 0f, 0f }); // pushes the pruned weight to 3.1
        server.Step([gradient], Ctx);
        server.Pruner!.Recompute(server.Parameters, 0.25);
        Assert.Equal(1, server.Pruner.LastReentries);            // weight 0 is back ...
        Assert.Equal(0f, server.Published[1].item<float>());     // ... and weight 1 (2.0, now the smallest) is out
        Assert.Equal(0.25, server.Pruner.Sparsity, 12);
    }

    [Fact]
    public void Sparsity_is_exact_over_the_prunable_weights_and_biases_are_never_pruned()
    {
        var layout = new ParameterLayout([("w1", [10, 100], 0, 1000), ("b1", [10], 1000, 10), ("w2", [3, 10], 1010, 30), ("b2", [3], 1040, 3)]);
        using var g = new torch.Generator(3);
        using var x = torch.randn(1043, generator: g);
        foreach (var scope in new[] { PruningScope.Global, PruningScope.Layer })
        {
            using var pruner = new ModelPruner(new PruningSettings(PruningType.Dpf, 0.9, Scope: scope), layout, 100);
            pruner.Recompute(x, 0.9);
            Assert.Equal(0.9, pruner.Sparsity, 3);
            Assert.Equal(20, pruner.Mask.narrow(0, 1000, 10).sum().item<float>() + pruner.Mask.narrow(0, 1040, 3).sum().item<float>() + 7); // all 13 biases kept
            if (scope == PruningScope.Layer) Assert.Equal(3f, pruner.Mask.narrow(0, 1010, 30).sum().item<float>()); // 10% of each layer
            using var kept = pruner.Mask.narrow(0, 0, 1000).to(torch.ScalarType.Bool);
            using var absKept = x.narrow(0, 0, 1000).abs().masked_select(kept);
            using var absPruned = x.narrow(0, 0, 1000).abs().masked_select(kept.logical_not());
            if (scope == PruningScope.Layer) Assert.True(absKept.min().item<float>() >= absPruned.max().item<float>(), "layer scope keeps each layer's largest");
        }
    }

    [Fact]
    public void Cubic_schedule_ramps_from_zero_at_start_to_the_target_at_end_fraction()
    {
        var s = new PruningSettings(PruningType.Dpf, 0.8, Start: 100, EndFraction: 0.5);
        Assert.Equal(0, s.TargetAt(50, 1000));
        Assert.Equal(0, s.TargetAt(100, 1000));
        Assert.Equal(0.8 * (1 - Math.Pow(0.5, 3)), s.TargetAt(300, 1000), 12); // halfway through the ramp 100..500
        Assert.Equal(0.8, s.TargetAt(500, 1000), 12);
        Assert.Equal(0.8, s.TargetAt(900, 1000), 12);
        Assert.Equal(0.4, (s with { Schedule = PruningSchedule.Linear }).TargetAt(300, 1000), 12);
        var once = new PruningSettings(PruningType.Static, 0.8, Start: 100);
        Assert.Equal(0, once.TargetAt(99, 1000));
        Assert.Equal(0.8, once.TargetAt(100, 1000));
    }

    [Fact]
    public void Static_pruning_prunes_once_at_start_and_keeps_that_mask()
    {
        var pruner = new ModelPruner(new PruningSettings(PruningType.Static, 0.5, Every: 1, Start: 2), Layout, 100);
        using var server = new ServerModel(torch.tensor(new[] { 1f, 2f, 3f, 4f, 0f, 0f }), new Mean(), lr: 1, pruner: pruner);
        using var zero = torch.zeros(6);
        server.Step([zero], Ctx);
        Assert.Equal(0, pruner.Sparsity);
        server.Step([zero], Ctx); // step 2: the one-shot pruning
        Assert.Equal([0f, 0f, 3f, 4f], server.Parameters.narrow(0, 0, 4).data<float>().ToArray());
        using var grow = torch.tensor(new[] { -10f, 0f, 0f, 0f, 0f, 0f });
        server.Step([grow], Ctx);
        Assert.Equal(0f, server.Parameters[0].item<float>()); // fine-tuning under the fixed mask
        Assert.Equal(0, pruner.TotalReentries);
    }

    [Fact]
    public void Sparse_format_round_trips_exactly_and_shrinks_with_sparsity()
    {
        using var g = new torch.Generator(9);
        using var dense = torch.randn(10_001, generator: g);
        using var mask = torch.rand(10_001, generator: g).gt(0.9);
        using var pruned = dense.mul(mask);
        var codec = new MaskedSparse();
        using var c = codec.Compress(pruned, new CompressionContext(0, 0));
        var payload = TensorPayload.FromCompressed(c);
        var bytes = payload.Encode();
        using var back = TensorPayload.Decode(bytes).ToTensor();
        Assert.True(back.equal(pruned).all().item<bool>());
        long nnz = mask.sum().item<long>();
        Assert.InRange(bytes.Length, 4 * nnz + 10_001 / 8, 4 * nnz + 10_001 / 8 + 128); // d/8 + 4 nnz + headers
        Assert.True(bytes.Length < 0.2 * 4 * 10_001);
    }

    [Fact]
    public void Sparse_payload_whose_mask_disagrees_with_its_values_is_rejected()
    {
        using var x = torch.tensor(new[] { 0f, 1f, 0f, 2f, 0f, 0f, 0f, 0f, 3f });
        using var c = new MaskedSparse().Compress(x, new CompressionContext(0, 0));
        var bytes = TensorPayload.FromCompressed(c).Encode();
        // The mask is the last part: its first byte marks positions 1 and 3 (0b1010); mark one more.
        int maskStart = bytes.Length - 2;
        Assert.Equal(0b1010, bytes[maskStart]);
        bytes[maskStart] |= 1;
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => TensorPayload.Decode(bytes));
        bytes[maskStart] = 0b1010;
        bytes[maskStart + 1] = 0b11; // a bit past the 9th position
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => TensorPayload.Decode(bytes));
    }
}
