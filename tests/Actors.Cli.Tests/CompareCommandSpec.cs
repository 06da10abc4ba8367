using System.Globalization;
using System.Text.Json.Nodes;

namespace Actors.Cli.Tests;

public sealed class CompareCommandSpec : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "actors-compare-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private string Run(string name, params string[] sets)
    {
        var dir = Path.Combine(_dir, name);
        string[] args = ["run", "--quiet", "--out", dir, "--set", "data.dataset=synthetic", "--set", "data.synthetic.train=500", "--set", "data.synthetic.test=200",
            "--set", "model.type=logreg", "--set", "experiment.steps=10", "--set", "experiment.eval-every=5", .. sets.SelectMany(s => new[] { "--set", s })];
        Assert.Equal(0, CliApp.Run(args));
        return dir;
    }

    [Fact]
    public void Compare_two_runs_writes_curves_a_table_equal_to_their_summaries_and_the_differing_keys()
    {
        var a = Run("a", "optimizer.lr=0.1");
        var b = Run("b", "optimizer.lr=0.01");
        var outDir = Path.Combine(_dir, "cmp");
        Assert.Equal(0, CliApp.Run(["compare", a, b, "--out", outDir]));
        foreach (var f in new[] { "compare.md", "compare.csv", "accuracy.png", "loss.png", "accuracy-time.png", "loss-time.png", "accuracy-bytes.png" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        var csv = File.ReadAllLines(Path.Combine(outDir, "compare.csv"));
        var header = csv[0].Split(',');
        Assert.Contains("optimizer.lr", header);
        Assert.DoesNotContain("experiment.steps", header); // the same in both: not a differing key
        int acc = Array.IndexOf(header, "final_test_accuracy");
        foreach (var (line, dir) in csv.Skip(1).Zip(new[] { a, b }))
        {
            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!;
            Assert.Equal(summary["final_test_accuracy"]!.GetValue<double>(), double.Parse(line.Split(',')[acc], CultureInfo.InvariantCulture), 6);
        }

        // A sweep directory stands for its finished cells.
        var sweep = Path.Combine(_dir, "sweep");
        foreach (var (run, cell) in new[] { (a, "lr=0.1"), (b, "lr=0.01") })
        {
            var target = Directory.CreateDirectory(Path.Combine(sweep, "cells", cell)).FullName;
            foreach (var f in Directory.GetFiles(run)) File.Copy(f, Path.Combine(target, Path.GetFileName(f)));
        }
        Directory.CreateDirectory(Path.Combine(sweep, "cells", "unfinished"));
        Assert.Equal(0, CliApp.Run(["compare", sweep, "--out", Path.Combine(_dir, "cmp-sweep")]));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(_dir, "cmp-sweep", "compare.csv")).Length);
    }

    [Fact]
    public void Compare_a_missing_or_broken_run_directory_is_bad_input_naming_it()
    {
        var a = Run("a");
        Assert.Equal(2, CliApp.Run(["compare", a, Path.Combine(_dir, "nope"), "--out", Path.Combine(_dir, "cmp1")]));
        var broken = Path.Combine(_dir, "broken");
        Directory.CreateDirectory(broken);
        File.WriteAllText(Path.Combine(broken, "summary.json"), "{ \"final_test_acc");
        File.WriteAllText(Path.Combine(broken, "metrics.csv"), "step\n");
        File.WriteAllText(Path.Combine(broken, "config.hocon"), "a = 1\n");
        var e = Assert.Throws<Runtime.Experiments.UserInputException>(() => Runtime.Output.RunComparison.Read(broken));
        Assert.Contains(broken, e.Message, StringComparison.Ordinal);
        Assert.Equal(2, CliApp.Run(["compare", a, broken, "--out", Path.Combine(_dir, "cmp2")]));
    }
}
