using Actors.Cli.Commands;
using Spectre.Console.Cli;

namespace Actors.Cli.Tests;

public class ConformalCommandSpec
{
    // The same configuration as CliApp (exceptions propagate to ErrorHandling, which picks the exit code).
    private static int Run(params string[] args)
    {
        var app = new CommandApp();
        app.Configure(c =>
        {
            c.PropagateExceptions();
            c.UseStrictParsing();
            c.AddCommand<ConformalCommand>("conformal");
        });
        return ErrorHandling.Run(() => app.Run(["conformal", .. args]));
    }

    [Fact]
    public void Conformal_command_runs_optimized_and_standard_on_small_data() =>
        Assert.Equal(ErrorHandling.Ok, Run("--dataset", "synthetic", "--ncm", "knn", "--train", "120", "--test", "10", "--features", "pca:8",
            "-k", "3", "--standard", "--standard-test", "2"));

    [Theory]
    [InlineData("--ncm", "svm")]
    [InlineData("--features", "pca:x")]
    [InlineData("--distances", "gpu")]
    [InlineData("--train", "5")] // too few examples for pca:50 (and for k = 15)
    public void Conformal_command_exits_with_2_on_bad_input(string option, string value) =>
        Assert.Equal(ErrorHandling.BadInput, Run("--dataset", "synthetic", "--train", "60", "--test", "5", option, value));
}
