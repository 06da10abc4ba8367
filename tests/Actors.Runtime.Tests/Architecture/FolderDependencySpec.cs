using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Actors.Runtime.Tests.Architecture;

/// <summary>
/// The folders of Actors.Runtime depend on each other in one direction only (docs/architecture.md). A file's folder is its
/// namespace; a dependency is a using directive or a fully qualified name of another folder's namespace. The test fails on
/// the first cycle and names it.
/// </summary>
public partial class FolderDependencySpec(ITestOutputHelper output)
{
    [Fact]
    public void Runtime_folders_have_no_cycles_and_every_file_lives_in_its_folders_namespace()
    {
        var root = Path.Combine(RepoRoot(), "src", "Actors.Runtime");
        var edges = new Dictionary<string, HashSet<string>>();
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Select(f => (File: f, Relative: Path.GetRelativePath(root, f)))
            .Where(f => !f.Relative.StartsWith("obj", StringComparison.Ordinal) && !f.Relative.StartsWith("bin", StringComparison.Ordinal))
            .Select(f => (f.Relative, Folder: Path.GetDirectoryName(f.Relative)!.Split(Path.DirectorySeparatorChar)[0], Text: File.ReadAllText(f.File)))
            .ToList();
        // Types each folder declares: a relative name such as Cluster.ClusterNetwork (no using, no Actors.Runtime prefix) is a dependency too.
        var declared = files.GroupBy(f => f.Folder).ToDictionary(g => g.Key,
            g => g.SelectMany(f => DeclarationPattern().Matches(f.Text).Select(m => m.Groups[1].Value)).ToHashSet());
        foreach (var (relative, folder, text) in files)
        {
            var ns = NamespacePattern().Match(text).Groups[1].Value;
            Assert.True(ns == "Actors.Runtime." + folder, $"{relative} declares namespace {ns}, not Actors.Runtime.{folder}");
            var deps = edges.TryGetValue(folder, out var d) ? d : edges[folder] = [];
            foreach (Match m in ReferencePattern().Matches(text))
                if (m.Groups[1].Value != folder && declared.ContainsKey(m.Groups[1].Value)) deps.Add(m.Groups[1].Value);
            foreach (Match m in RelativePattern().Matches(text))
                if (m.Groups[1].Value != folder && declared.TryGetValue(m.Groups[1].Value, out var types) && types.Contains(m.Groups[2].Value)) deps.Add(m.Groups[1].Value);
        }
        foreach (var (from, to) in edges.OrderBy(e => e.Key)) output.WriteLine($"{from} -> {string.Join(", ", to.Order())}");

        var state = new Dictionary<string, int>();
        var path = new Stack<string>();
        void Visit(string node)
        {
            state[node] = 1;
            path.Push(node);
            foreach (var next in edges.GetValueOrDefault(node, []).Order())
            {
                if (state.GetValueOrDefault(next) == 1)
                    Assert.Fail($"folder cycle in Actors.Runtime: {string.Join(" -> ", path.Reverse().SkipWhile(n => n != next))} -> {next}");
                if (state.GetValueOrDefault(next) == 0) Visit(next);
            }
            path.Pop();
            state[node] = 2;
        }
        foreach (var node in edges.Keys.Order())
            if (state.GetValueOrDefault(node) == 0) Visit(node);
    }

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex NamespacePattern();

    [GeneratedRegex(@"\bActors\.Runtime\.(\w+)\b")]
    private static partial Regex ReferencePattern();

    [GeneratedRegex(@"(?<![\w.])([A-Z]\w*)\.([A-Z]\w*)")]
    private static partial Regex RelativePattern();

    [GeneratedRegex(@"\b(?:class|record|interface|enum|struct)\s+([A-Z]\w*)")]
    private static partial Regex DeclarationPattern();

    private static string RepoRoot([CallerFilePath] string here = "")
    {
        for (var d = new DirectoryInfo(Path.GetDirectoryName(here)!); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Actors.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("Actors.sln not found");
    }
}
