using Actors.Learning.Games;
using TorchSharp;

namespace Actors.Learning.Tests.Optim;

public class FrechetDistanceSpec
{
    [Fact]
    public void Frechet_distance_of_gaussians_matches_the_closed_form()
    {
        // Diagonal covariances: ||mu1 - mu2||^2 + sum (sqrt(a_i) - sqrt(b_i))^2.
        using var mu1 = torch.tensor(new[] { 0.0, 1.0, 2.0 });
        using var mu2 = torch.tensor(new[] { 1.0, 1.0, 0.0 });
        using var s1 = torch.diag(torch.tensor(new[] { 1.0, 4.0, 9.0 }));
        using var s2 = torch.diag(torch.tensor(new[] { 4.0, 4.0, 1.0 }));
        double expected = (1 + 0 + 4) + (1 + 0 + 4);
        Assert.Equal(expected, FrechetDistance.Distance(mu1, s1, mu2, s2), 9);
        Assert.Equal(0, FrechetDistance.Distance(mu1, s1, mu1, s1), 9);
        // A full covariance against itself rotated: same spectrum, distance from the means only.
        using var a = torch.tensor(new[,] { { 2.0, 1.0 }, { 1.0, 2.0 } });
        using var z = torch.zeros(2, dtype: torch.ScalarType.Float64);
        Assert.Equal(0, FrechetDistance.Distance(z, a, z, a), 9);
    }
}
