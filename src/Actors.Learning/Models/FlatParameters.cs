using TorchSharp;

namespace Actors.Learning.Models;

/// <summary>Where each parameter tensor sits in the flat vector (so low-rank compressors can see matrices).</summary>
public sealed record ParameterLayout(IReadOnlyList<(string Name, long[] Shape, long Offset, long Count)> Entries)
{
    public long Size => Entries.Count == 0 ? 0 : Entries[^1].Offset + Entries[^1].Count;

    public static ParameterLayout Of(torch.nn.Module module)
    {
        var list = new List<(string, long[], long, long)>();
        long offset = 0;
        foreach (var (name, p) in module.named_parameters())
        {
            list.Add((name, p.shape, offset, p.numel()));
            offset += p.numel();
        }
        return new ParameterLayout(list);
    }
}

/// <summary>Moves a module's parameters (and gradients) to and from one contiguous vector (parameters_to_vector style).</summary>
public static class FlatParameters
{
    public static torch.Tensor Get(torch.nn.Module module)
    {
        using var _ = torch.no_grad();
        var parts = module.parameters().Select(p => p.detach().reshape(-1)).ToArray();
        var v = torch.cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return v;
    }

    public static void Set(torch.nn.Module module, torch.Tensor vector)
    {
        using var _ = torch.no_grad();
        long offset = 0;
        foreach (var p in module.parameters())
        {
            long n = p.numel();
            if (offset + n > vector.numel())
                throw new ArgumentException($"parameter vector too short: {vector.numel()} values for a model of more");
            using var slice = vector.narrow(0, offset, n).view(p.shape);
            p.copy_(slice);
            offset += n;
        }
        if (offset != vector.numel())
            throw new ArgumentException($"parameter vector has {vector.numel()} values, model has {offset}");
    }

    public static torch.Tensor Gradient(torch.nn.Module module)
    {
        var parts = module.parameters().Select(p => (p.grad ?? torch.zeros_like(p)).reshape(-1)).ToArray();
        var v = torch.cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return v;
    }

    public static long Count(torch.nn.Module module) => module.parameters().Sum(p => p.numel());
}
