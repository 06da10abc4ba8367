namespace Actors.Cli;

/// <summary>Finds cluster-config/ from the working directory or the installed binary, walking up.</summary>
public static class DefaultExperiment
{
    public static string? Find(string relative = "cluster-config/experiments/default.hocon")
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }
}
