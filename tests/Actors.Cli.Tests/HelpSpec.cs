namespace Actors.Cli.Tests;

/// <summary>Every command's --help renders (option descriptions are Spectre markup: a stray [word] used to crash it).</summary>
public sealed class HelpSpec
{
    [Theory]
    [InlineData("run")]
    [InlineData("sweep")]
    [InlineData("conformal")]
    [InlineData("compare")]
    [InlineData("convert-attention")]
    [InlineData("seed")]
    [InlineData("node")]
    [InlineData("up")]
    public void Help_exits_0(string command) => Assert.Equal(0, CliApp.Run([command, "--help"]));

    [Fact]
    public void Top_level_help_exits_0() => Assert.Equal(0, CliApp.Run(["--help"]));
}
