using ScottPlot;

namespace Actors.Runtime.Output;

/// <summary>PNG plots of a run (ScottPlot).</summary>
public static class Plots
{
    private static int _warmed;

    /// <summary>
    /// Loads the plotting stack (ScottPlot, SkiaSharp and its native library, fonts) by drawing a tiny image, so the
    /// run's plots at the end do not wait for it: call it on a background thread when a run starts.
    /// </summary>
    public static void Warm()
    {
        if (Interlocked.Exchange(ref _warmed, 1) == 1) return; // once per process (a sweep runs many runs)
        try
        {
            var plot = new Plot();
            plot.Title("warm-up");
            _ = plot.GetImageBytes(32, 32, ImageFormat.Png);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Nothing to warm: drawing the real plots will report the problem.
        }
    }

    /// <summary>Test accuracy (and loss on a second axis) against step.</summary>
    public static void Accuracy(string path, string title, IReadOnlyList<(double Step, double Accuracy, double Loss)> points)
    {
        var plot = new Plot();
        points = points.Where(p => double.IsFinite(p.Accuracy) && double.IsFinite(p.Loss)).ToList(); // a diverged run still gets its plot
        var xs = points.Select(p => p.Step).ToArray();
        var acc = plot.Add.Scatter(xs, points.Select(p => p.Accuracy * 100).ToArray());
        acc.LegendText = "test accuracy (%)";
        acc.LineWidth = 2;
        var loss = plot.Add.Scatter(xs, points.Select(p => p.Loss).ToArray());
        loss.LegendText = "test loss";
        loss.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Right.Label.Text = "test loss";
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("test accuracy (%)");
        plot.ShowLegend(Alignment.MiddleRight);
        plot.SavePng(path, 800, 500);
    }

    /// <summary>A pruning run: the sparsity of the evaluated model (%) and, on a second axis, the weights that re-entered the mask between evaluations.</summary>
    public static void Pruning(string path, string title, IReadOnlyList<(double Step, double Sparsity, double Reentries)> points)
    {
        var plot = new Plot();
        points = points.Where(p => double.IsFinite(p.Sparsity) && double.IsFinite(p.Reentries)).ToList();
        var xs = points.Select(p => p.Step).ToArray();
        var sparsity = plot.Add.Scatter(xs, points.Select(p => p.Sparsity * 100).ToArray());
        sparsity.LegendText = "sparsity (%)";
        sparsity.LineWidth = 2;
        var reentries = plot.Add.Scatter(xs, points.Select(p => p.Reentries).ToArray());
        reentries.LegendText = "re-entries since the previous evaluation";
        reentries.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Right.Label.Text = "weights back in the mask";
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("sparsity (%)");
        plot.ShowLegend(Alignment.MiddleRight);
        plot.SavePng(path, 800, 500);
    }

    /// <summary>A generative model's samples: a square grid of grayscale images, or 2-D points (blue) over the target's modes (red).</summary>
    public static void Samples(string path, string title, Learning.Training.SampleSet s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var plot = new Plot();
        plot.Title(title);
        if (s.Images)
        {
            int side = (int)Math.Ceiling(Math.Sqrt(s.Count));
            var grid = new double[side * s.Height, side * s.Width];
            for (int k = 0; k < s.Count; k++)
                for (int y = 0; y < s.Height; y++)
                    for (int x = 0; x < s.Width; x++)
                        grid[(k / side) * s.Height + y, (k % side) * s.Width + x] = s.Values[(k * s.Height + y) * s.Width + x];
            var hm = plot.Add.Heatmap(grid);
            hm.Colormap = new ScottPlot.Colormaps.Grayscale();
            plot.Axes.Frameless();
            plot.SavePng(path, 600, 620);
            return;
        }
        var xs = Enumerable.Range(0, s.Count).Select(i => (double)s.Values[2 * i]).ToArray();
        var ys = Enumerable.Range(0, s.Count).Select(i => (double)s.Values[2 * i + 1]).ToArray();
        var points = plot.Add.ScatterPoints(xs, ys);
        points.MarkerSize = 3;
        points.LegendText = "generated";
        if (s.Reference is { } modes)
        {
            var mx = Enumerable.Range(0, modes.Length / 2).Select(i => (double)modes[2 * i]).ToArray();
            var my = Enumerable.Range(0, modes.Length / 2).Select(i => (double)modes[2 * i + 1]).ToArray();
            var targets = plot.Add.ScatterPoints(mx, my);
            targets.MarkerSize = 10;
            targets.MarkerShape = MarkerShape.Cross;
            targets.Color = Colors.Red;
            targets.LegendText = "modes";
        }
        plot.Axes.SquareUnits();
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 600, 600);
    }

    /// <summary>Log-scale line plot of several named series against step.</summary>
    public static void LogLines(string path, string title, string yLabel, IReadOnlyDictionary<string, IReadOnlyList<(double X, double Y)>> series)
    {
        var plot = new Plot();
        foreach (var (name, pts) in series)
        {
            var valid = pts.Where(p => p.Y > 0 && double.IsFinite(p.Y)).ToArray();
            if (valid.Length == 0) continue;
            var s = plot.Add.Scatter(valid.Select(p => p.X).ToArray(), valid.Select(p => Math.Log10(p.Y)).ToArray());
            s.LegendText = name;
            s.MarkerSize = 0;
        }
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = y => $"1e{y:0}",
        };
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel(yLabel + " (log10)");
        plot.ShowLegend();
        plot.SavePng(path, 800, 500);
    }
}
