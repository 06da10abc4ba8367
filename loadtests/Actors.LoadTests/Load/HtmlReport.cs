using System.Net;
using System.Text.RegularExpressions;
using Markdig;

namespace Actors.LoadTests.Load;

/// <summary>
/// A report's HTML from its markdown (Markdig, pipe tables): one self-contained file, styles inline and every PNG the
/// markdown shows embedded as a data URI, so it opens anywhere without network access and without its folder.
/// </summary>
public static partial class HtmlReport
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UsePipeTables().UseAutoIdentifiers().Build();

    private const string Style = "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}table{border-collapse:collapse;margin:1em 0}"
        + "td,th{border:1px solid #ccc;padding:3px 8px}img{max-width:49%;border:1px solid #eee}code{background:#f4f4f4}pre{background:#f4f4f4;padding:.5em;overflow-x:auto}";

    public static string FromMarkdown(string title, string markdown, string dir)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        var embedded = LocalImage().Replace(markdown, m =>
        {
            var path = Path.Combine(dir, m.Groups["file"].Value);
            return File.Exists(path) ? $"![{m.Groups["alt"].Value}](data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(path))})" : m.Value;
        });
        return $"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{WebUtility.HtmlEncode(title)}</title><style>{Style}</style></head><body>"
            + Markdown.ToHtml(embedded, Pipeline) + "</body></html>";
    }

    [GeneratedRegex(@"!\[(?<alt>[^\]]*)\]\((?<file>[^)/:]+\.png)\)")]
    private static partial Regex LocalImage();
}
