using Actors.Cli.Commands;
using Spectre.Console.Cli;

namespace Actors.Cli.Tests;

public class ConformalCommandSpec
{
    [Fact]
    public void Conformal_command_runs_optimized_and_standard_on_small_data()
    {
        var app = new CommandApp<ConformalCommand>();
        int rc = app.Run(["--dataset", "synthetic", "--ncm", "knn", "--train", "120", "--test", "10", "--features", "pca:8",
            "-k", "3", "--standard", "--standard-test", "2"]);
        Assert.Equal(0, rc);
    }

    [Theory]
    [InlineData("--ncm", "svm")]
    [InlineData("--features", "pca:x")]
    [InlineData("--distances", "gpu")]
    public void Conformal_command_exits_with_2_on_bad_input(string option, string value)
    {
        var app = new CommandApp<ConformalCommand>();
        Assert.Equal(2, app.Run(["--dataset", "synthetic", "--train", "60", "--test", "5", option, value]));
    }
}
