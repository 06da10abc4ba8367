using System.ComponentModel;
using Actors.Learning.Conformal;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Actors.Cli.Commands;

/// <summary>
/// <c>actors conformal</c>: exact optimized full conformal prediction on a dataset, optionally side by side with standard
/// full CP. Thin: parsing and printing only; <see cref="ConformalExperiment"/> does the work.
/// </summary>
public sealed class ConformalCommand : Command<ConformalCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--dataset <NAME>")]
        [Description("Dataset: fashion-mnist, mnist or synthetic.")]
        [DefaultValue("fashion-mnist")]
        public string Dataset { get; init; } = "fashion-mnist";

        [CommandOption("--data-path <DIR>")]
        [Description("Folder with the IDX files (default: $ACTORS_DATA, ~/.cache/actors/NAME, /usr/share/datasets/NAME).")]
        public string? DataPath { get; init; }

        [CommandOption("--ncm <MEASURE>")]
        [Description("Nonconformity measure: knn, simplified-knn, kde, lssvm or bootstrap.")]
        [DefaultValue("knn")]
        public string Ncm { get; init; } = "knn";

        [CommandOption("--train <N>")]
        [Description("Training examples (seeded random draw from the training split).")]
        [DefaultValue(1000)]
        public int Train { get; init; } = 1000;

        [CommandOption("--test <M>")]
        [Description("Test points (seeded random draw from the test split).")]
        [DefaultValue(100)]
        public int Test { get; init; } = 100;

        [CommandOption("--features <MAP>")]
        [Description("Feature map: pca:D (D principal components fitted on the training draw) or raw (all pixels).")]
        [DefaultValue("pca:50")]
        public string Features { get; init; } = "pca:50";

        [CommandOption("--standard")]
        [Description("Also run standard full CP (slow: l * (n + 1) retrainings per test point), check the p-values match and print the speed-up.")]
        public bool Standard { get; init; }

        [CommandOption("--standard-test <S>")]
        [Description("How many of the test points the standard predictor runs on.")]
        [DefaultValue(5)]
        public int StandardTest { get; init; } = 5;

        [CommandOption("-k|--neighbours <K>")]
        [Description("Neighbours for knn and simplified-knn.")]
        [DefaultValue(KnnMeasure.DefaultK)]
        public int K { get; init; } = KnnMeasure.DefaultK;

        [CommandOption("--labels <L>")]
        [Description("Use only labels 0..L-1 (e.g. 2 for the LS-SVM setting of the paper).")]
        [DefaultValue(10)]
        public int Labels { get; init; } = 10;

        [CommandOption("--bandwidth <H>")]
        [Description("KDE bandwidth h.")]
        [DefaultValue(KdeMeasure.DefaultBandwidth)]
        public double Bandwidth { get; init; } = KdeMeasure.DefaultBandwidth;

        [CommandOption("--rho <RHO>")]
        [Description("LS-SVM / bootstrap ridge regularization rho.")]
        [DefaultValue(LsSvmMeasure.DefaultRho)]
        public double Rho { get; init; } = LsSvmMeasure.DefaultRho;

        [CommandOption("--bootstrap-models <B>")]
        [Description("Bootstrap models in the shared pool.")]
        [DefaultValue(BootstrapMeasure.DefaultModels)]
        public int BootstrapModels { get; init; } = BootstrapMeasure.DefaultModels;

        [CommandOption("--distances <BACKEND>")]
        [Description("Distance computation: naive (C# SIMD loops) or torch (batched torch.cdist); same p-values.")]
        [DefaultValue("naive")]
        public string Distances { get; init; } = "naive";

        [CommandOption("--seed <SEED>")]
        [Description("Seed of every random choice (data draws, bootstrap pool, ICP split).")]
        [DefaultValue(1L)]
        public long Seed { get; init; } = 1;

        /// <summary>The first problem with the options, or null.</summary>
        public string? Problem()
        {
            if (!ConformalPredictors.Measures.Contains(Ncm))
                return $"--ncm '{Ncm}' is not valid (valid: {string.Join(", ", ConformalPredictors.Measures)})";
            if (Distances is not ("naive" or "torch"))
                return $"--distances '{Distances}' is not valid (valid: naive, torch)";
            if (Train < 2 || Test < 1 || StandardTest < 1 || K < 1 || Labels < 2 || BootstrapModels < 1)
                return "--train >= 2, --test >= 1, --standard-test >= 1, -k >= 1, --labels >= 2 and --bootstrap-models >= 1 are required";
            if (!(Bandwidth > 0) || !(Rho > 0))
                return "--bandwidth and --rho must be positive";
            return null;
        }

        public ConformalExperimentSettings ToExperiment() => new()
        {
            Dataset = Dataset, DataPath = DataPath, Measure = Ncm, Train = Train, Test = Test, Features = Features,
            Labels = Labels, RunStandard = Standard, StandardTest = StandardTest,
            Options = new ConformalOptions
            {
                K = K, Bandwidth = Bandwidth, Rho = Rho, BootstrapModels = BootstrapModels, Seed = Seed,
                Backend = Distances == "torch" ? DistanceBackend.Torch : DistanceBackend.Naive,
            },
        };
    }

    /// <summary>Bad options throw <see cref="Runtime.Experiments.UserInputException"/>; <see cref="ErrorHandling"/> turns that into exit code 2.</summary>
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Problem() is { } problem) throw new Runtime.Experiments.UserInputException(problem);
        ConformalReport report;
        try
        {
            report = ConformalExperiment.Run(settings.ToExperiment(), ErrorHandling.Warn);
        }
        catch (ArgumentException e)
        {
            // The experiment checks what it is given against the data (features spec, enough examples for k): the options' fault.
            throw new Runtime.Experiments.UserInputException(e.Message, e);
        }
        foreach (var line in report.Lines()) AnsiConsole.WriteLine(line);
        return ErrorHandling.Ok;
    }
}
