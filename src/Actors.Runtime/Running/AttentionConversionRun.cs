using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Learning.Models;
using Actors.Learning.Training;
using Actors.Runtime.Experiments;
using Actors.Runtime.Output;
using TorchSharp;

namespace Actors.Runtime.Running;

/// <summary>
/// <c>actors convert-attention RUN_DIR --key-dim D</c>: loads a trained standard-attention transformer from its run
/// directory (config.hocon + model.safetensors), converts every attention layer to collaborative attention of key
/// dimension D without retraining (AttentionConversion), scores both on the test set and writes a new run directory
/// with the converted model, its config, summary.json and summary.md.
/// </summary>
public static class AttentionConversionRun
{
    public sealed record Outcome(string OutDir, int KeyDim, double OriginalAccuracy, double Accuracy, long OriginalParameters, long Parameters,
        IReadOnlyList<AttentionConversion.LayerFit> Fits)
    {
        public double WorstFitError => Fits.Count == 0 ? 0 : Fits.Max(f => f.FitError);
    }

    public static Outcome Run(string runDir, int keyDim, string outDir, bool force, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(runDir);
        ArgumentNullException.ThrowIfNull(log);
        var config = Path.Combine(runDir, "config.hocon");
        var weights = Path.Combine(runDir, "model.safetensors");
        if (!File.Exists(config)) throw new UserInputException($"{runDir} is not a run directory: it has no config.hocon");
        if (!File.Exists(weights))
            throw new UserInputException($"{runDir} has no model.safetensors (runs write it when they finish; was this run interrupted, or made before the file existed?)");
        var spec = ExperimentKinds.Load(config, []);
        var original = spec.Model.Architecture;
        if (!original.IsTransformer || original.Attention != AttentionKind.Standard)
            throw new UserInputException($"{runDir} trained {original}: only a transformer with standard attention converts (model.type = transformer, model.attention = standard)");
        int full = original.Heads * original.HeadDim;
        if (keyDim < 1 || keyDim > full)
            throw new UserInputException($"--key-dim {keyDim} must be in [1, {full}] (heads x head_dim of the trained model; {full} converts exactly)");
        var converted = original with { Attention = AttentionKind.Collaborative, KeyDim = keyDim };

        using var data = spec.LoadData(log);
        long[] shape = data.Test.ItemShape;
        int classes = data.Test.Classes;
        using var source = (VisionTransformer)InitialModel.Unseeded(() => ModelFactory.Create(original, shape, classes));
        try
        {
            SafeTensors.LoadInto(source, weights);
        }
        catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or ArgumentException)
        {
            throw new UserInputException($"{weights} cannot be loaded into the model its config.hocon describes: {e.Message}", e);
        }
        using var target = (VisionTransformer)InitialModel.Unseeded(() => ModelFactory.Create(converted, shape, classes));
        var fits = AttentionConversion.Convert(source, target);
        foreach (var f in fits)
            log($"layer {f.Layer}: rank-{keyDim} CP fit error {f.FitError:0.######} ({f.Iterations} ALS sweeps)");

        double before = Accuracy(data.Test, original, source);
        double after = Accuracy(data.Test, converted, target);
        RunDirectory.Claim(outDir, force); // only now: a model that does not load or convert leaves no directory behind
        var outcome = new Outcome(outDir, keyDim, before, after, FlatParameters.Count(source), FlatParameters.Count(target), fits);
        SafeTensors.Write(Path.Combine(outDir, "model.safetensors"), target, new Dictionary<string, string>
        {
            ["experiment"] = spec.Name, ["kind"] = "convert-attention", ["key_dim"] = keyDim.ToString(CultureInfo.InvariantCulture),
        });
        Write(outcome, spec, runDir);
        return outcome;
    }

    private static double Accuracy(Learning.Data.Dataset test, ModelArchitecture architecture, torch.nn.Module model)
    {
        using var evaluator = new ModelEvaluator(test, architecture);
        using var parameters = FlatParameters.Get(model);
        return evaluator.Evaluate(parameters).Accuracy;
    }

    private static void Write(Outcome o, ExperimentSpec spec, string runDir)
    {
        var config = ExperimentConfig.Load(Path.Combine(runDir, "config.hocon"),
            ["model.attention = collaborative", $"model.key-dim = {o.KeyDim.ToString(CultureInfo.InvariantCulture)}"]);
        RunDirectory.WriteFileAtomic(Path.Combine(o.OutDir, "config.hocon"), ExperimentRunner.Render(config));
        var summary = new JsonObject
        {
            ["name"] = spec.Name + "-collaborative-" + o.KeyDim.ToString(CultureInfo.InvariantCulture),
            ["kind"] = "convert-attention",
            ["source_run"] = Path.GetFullPath(runDir),
            ["final_test_accuracy"] = Math.Round(o.Accuracy, 6),
            ["original_test_accuracy"] = Math.Round(o.OriginalAccuracy, 6),
            ["key_dim"] = o.KeyDim,
            ["original_key_dim"] = spec.Model.Architecture.Heads * spec.Model.Architecture.HeadDim,
            ["parameters"] = o.Parameters,
            ["original_parameters"] = o.OriginalParameters,
            ["cp_fit_error"] = o.WorstFitError,
            ["cp_fit_error_per_layer"] = new JsonArray([.. o.Fits.Select(f => (JsonNode)f.FitError)]),
        };
        RunDirectory.WriteFileAtomic(Path.Combine(o.OutDir, "summary.json"), RunDirectory.ToJson(summary) + "\n");
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"# {summary["name"]}");
        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture,
            $"The standard-attention transformer of `{Path.GetFullPath(runDir)}`, converted to collaborative attention with a shared key dimension of {o.KeyDim} " +
            $"(rank-{o.KeyDim} CP decomposition of each layer's stacked per-head query-key products, no retraining).");
        b.AppendLine();
        b.AppendLine("| | original | converted |");
        b.AppendLine("|---|---|---|");
        b.AppendLine(CultureInfo.InvariantCulture, $"| test accuracy | {o.OriginalAccuracy:0.0000} | {o.Accuracy:0.0000} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| key dimension | {summary["original_key_dim"]} | {o.KeyDim} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| parameters | {o.OriginalParameters:N0} | {o.Parameters:N0} |");
        b.AppendLine();
        b.AppendLine("| layer | CP fit error (relative) | ALS sweeps |");
        b.AppendLine("|---|---|---|");
        foreach (var f in o.Fits) b.AppendLine(CultureInfo.InvariantCulture, $"| {f.Layer} | {f.FitError:0.000000} | {f.Iterations} |");
        RunDirectory.WriteFileAtomic(Path.Combine(o.OutDir, "summary.md"), b.ToString());
    }
}
