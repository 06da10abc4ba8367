using TorchSharp;

namespace Actors.Learning.Data;

/// <summary>
/// Finds a MNIST-style dataset (IDX files) in this order: the configured path, $ACTORS_DATA,
/// ~/.cache/actors/NAME, /usr/share/datasets/NAME; then tries a download into the cache (short timeout);
/// then falls back to a synthetic dataset with one warning line saying how to get the real one.
/// </summary>
public static class DatasetLocator
{
    public static readonly string[] FileStems = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    private static readonly Dictionary<string, string[]> Mirrors = new()
    {
        ["fashion-mnist"] = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        ["mnist"] = ["https://ossci-datasets.s3.amazonaws.com/mnist/"],
    };

    // Per-channel normalization used by the papers' reference code.
    private static readonly Dictionary<string, (float Mean, float Std)> Normalization = new()
    {
        ["fashion-mnist"] = (0.2860f, 0.3530f),
        ["mnist"] = (0.1307f, 0.3081f),
    };

    /// <summary>Training examples of a dataset, known before it is loaded (null when unknown).</summary>
    public static int? TrainSize(string dataset, int syntheticTrain) => dataset switch
    {
        "fashion-mnist" or "mnist" => 60_000,
        "synthetic" => syntheticTrain,
        _ => null,
    };

    public static IEnumerable<string> CandidateFolders(string dataset, string? configuredPath)
    {
        if (!string.IsNullOrWhiteSpace(configuredPath)) yield return configuredPath;
        var env = Environment.GetEnvironmentVariable("ACTORS_DATA");
        if (!string.IsNullOrWhiteSpace(env))
        {
            yield return Path.Combine(env, dataset);
            yield return env;
        }
        yield return CacheFolder(dataset);
        yield return Path.Combine("/usr/share/datasets", dataset);
    }

    public static string CacheFolder(string dataset) =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "actors", dataset);

    /// <summary>
    /// The folder that holds all four IDX files (plain or .gz), or null. A configured path is the only candidate: it is
    /// used or it is an error (<see cref="DatasetFormatException"/> listing the missing files), never silently swapped.
    /// </summary>
    public static string? FindFolder(string dataset, string? configuredPath)
    {
        if (!string.IsNullOrWhiteSpace(configuredPath))
        {
            if (!Directory.Exists(configuredPath)) throw new DatasetFormatException($"data.path '{configuredPath}' does not exist");
            var missing = FileStems.Where(s => ResolveFile(configuredPath, s) is null).ToList();
            if (missing.Count > 0)
                throw new DatasetFormatException($"data.path '{configuredPath}' lacks {string.Join(", ", missing.Select(m => m + "(.gz)"))}: " +
                                                 $"put the {dataset} IDX files there, or leave data.path empty to search $ACTORS_DATA, {CacheFolder(dataset)} and /usr/share/datasets/{dataset}");
            return Path.GetFullPath(configuredPath);
        }
        return CandidateFolders(dataset, null).FirstOrDefault(f => FileStems.All(s => ResolveFile(f, s) is not null));
    }

    /// <summary>Where <see cref="Load"/> will read from: a folder, "synthetic" (data.dataset = synthetic), or "synthetic fallback" (not found).</summary>
    public static string Describe(string dataset, string? configuredPath) =>
        dataset == "synthetic" ? "synthetic" : FindFolder(dataset, configuredPath) is { } folder ? Path.GetFullPath(folder) : $"{dataset} not found: synthetic fallback";

    private static string? ResolveFile(string folder, string stem)
    {
        foreach (var name in new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx", StringComparison.Ordinal) })
        {
            var p = Path.Combine(folder, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>
    /// Loads the dataset. <paramref name="warn"/> receives the one warning line when falling back to synthetic data.
    /// A configured path that exists but holds corrupt files is an error, not a fallback.
    /// </summary>
    public static DataBundle Load(string dataset, string? configuredPath, long seed, Action<string> warn, TimeSpan? downloadTimeout = null)
    {
        if (dataset == "synthetic") return SyntheticData.Generate(new SyntheticSpec(), seed);
        if (!Normalization.ContainsKey(dataset))
            throw new ArgumentException($"unknown dataset '{dataset}' (valid: fashion-mnist, mnist, synthetic)");
        var folder = FindFolder(dataset, configuredPath) ?? TryDownload(dataset, downloadTimeout ?? TimeSpan.FromSeconds(3));
        if (folder is null)
        {
            warn($"{dataset} not found (looked in data.path, $ACTORS_DATA, {CacheFolder(dataset)}, /usr/share/datasets/{dataset}; download failed): " +
                 $"using a synthetic dataset instead. To get the real one: 'sudo apt-get install dataset-fashion-mnist' on Debian, " +
                 $"or put the four IDX files in {CacheFolder(dataset)}.");
            return SyntheticData.Generate(new SyntheticSpec(), seed);
        }
        return LoadFolder(folder, dataset);
    }

    public static DataBundle LoadFolder(string folder, string dataset)
    {
        var (mean, std) = Normalization.GetValueOrDefault(dataset, (0.5f, 0.5f));
        Dataset Part(string images, string labels, string name)
        {
            var x = IdxReader.Read(ResolveFile(folder, images) ?? throw new DatasetFormatException($"{folder}: missing {images}"));
            var y = IdxReader.Read(ResolveFile(folder, labels) ?? throw new DatasetFormatException($"{folder}: missing {labels}"));
            if (x.Shape.Length != 3) throw new DatasetFormatException($"{images}: expected rank 3 images, got rank {x.Shape.Length}");
            if (y.Shape.Length != 1) throw new DatasetFormatException($"{labels}: expected rank 1 labels, got rank {y.Shape.Length}");
            if (x.Count != y.Count) throw new DatasetFormatException($"{folder}: {x.Count} images but {y.Count} labels");
            int maxLabel = y.Data.Max();
            if (maxLabel > 9) throw new DatasetFormatException($"{labels}: label {maxLabel} out of range 0..9");
            // Kept as uint8 and normalized as rows are read: no float copy of the whole set at load (~1 s for 60k images).
            using var flat = torch.tensor(x.Data, torch.uint8);
            var pixels = flat.reshape(x.Count, 1, x.Shape[1], x.Shape[2]);
            using var labelBytes = torch.tensor(y.Data, torch.uint8);
            return Dataset.FromPixels(pixels, labelBytes.to_type(torch.int64), 10, name, mean, std);
        }
        return new DataBundle(Part(FileStems[0], FileStems[1], dataset + "/train"), Part(FileStems[2], FileStems[3], dataset + "/test"), folder, false);
    }

    private static string? TryDownload(string dataset, TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero || !Mirrors.TryGetValue(dataset, out var mirrors)) return null;
        var target = CacheFolder(dataset);
        using var http = new HttpClient { Timeout = timeout };
        foreach (var mirror in mirrors)
        {
            try
            {
                Directory.CreateDirectory(target);
                foreach (var stem in FileStems)
                {
                    var dest = Path.Combine(target, stem + ".gz");
                    if (File.Exists(dest)) continue;
                    var bytes = http.GetByteArrayAsync(mirror + stem + ".gz").GetAwaiter().GetResult();
                    File.WriteAllBytes(dest + ".part", bytes);
                    File.Move(dest + ".part", dest, true);
                }
                return target;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or UnauthorizedAccessException)
            {
                // offline or unreachable: fall through to the synthetic fallback
            }
        }
        return null;
    }
}
