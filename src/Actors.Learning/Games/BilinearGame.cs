using Actors.Learning.Models;
using Actors.Learning.Util;
using TorchSharp;

namespace Actors.Learning.Games;

/// <summary>
/// `game.type = bilinear`: min_x max_y x*y, whose only equilibrium is (0, 0) (ALGORITHMS.md section 9). The field is
/// (y, -x), plus N(0, noise^2) per coordinate for the stochastic variant. GDA spirals out by sqrt(1 + lr^2) per step;
/// lookahead and extragradient converge. Reported: the distance to the equilibrium.
/// </summary>
public sealed class BilinearGame(double noise, torch.ScalarType dtype = torch.ScalarType.Float64) : IGame
{
    public ParameterLayout Layout { get; } = new([("generator.x", [1], 0, 1), ("discriminator.y", [1], 1, 1)]);

    public IReadOnlyList<string> FigureNames => ["distance_to_equilibrium"];

    public torch.Tensor Initial(long seed) => torch.tensor(new[] { 1.0, 1.0 }, dtype: dtype);

    public (torch.Tensor Field, double Loss) Field(torch.Tensor z, torch.Generator generator, int batch)
    {
        ArgumentNullException.ThrowIfNull(z);
        using var scope = torch.NewDisposeScope();
        var field = torch.stack([z[1], z[0].neg()]);
        if (noise > 0) field.add_(torch.randn(2, generator: generator, dtype: z.dtype).MulBy_(noise / Math.Sqrt(Math.Max(1, batch))));
        double loss = (z[0] * z[1]).item<double>();
        return (field.MoveToOuterDisposeScope(), loss);
    }

    public GameScore Evaluate(torch.Tensor z)
    {
        ArgumentNullException.ThrowIfNull(z);
        double distance = z.to(torch.ScalarType.Float64).norm().item<double>();
        return new GameScore(distance, double.NaN, [distance]);
    }

    public void Dispose()
    {
    }
}
