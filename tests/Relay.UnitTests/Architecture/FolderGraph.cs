using System.Text;
using System.Text.RegularExpressions;

namespace PgVideoChat.Relay.UnitTests.Architecture;

/// <summary>
/// Which folder of a project uses which, read from its C# sources: a folder uses another when its code names a type
/// declared there (by any spelling: a <c>using</c>, a qualified name or a bare name). Comments and string literals
/// are removed first, so prose and SQL do not count. The project's root files (its composition and options tree) are
/// not a node: every folder may use the options, and only the root composes the folders.
/// </summary>
internal sealed partial class FolderGraph
{
    private FolderGraph(SortedDictionary<string, SortedSet<string>> edges) => Edges = edges;

    /// <summary>Folder → the folders it uses.</summary>
    public SortedDictionary<string, SortedSet<string>> Edges { get; }

    public static FolderGraph Read(string projectDirectory)
    {
        var files = Directory.EnumerateFiles(projectDirectory, "*.cs", SearchOption.AllDirectories)
            .Select(path => (Folder: FolderOf(projectDirectory, path), Code: StripCommentsAndStrings(File.ReadAllText(path))))
            .Where(static f => f.Folder is not null)
            .ToList();

        var declaredIn = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (folder, code) in files)
        {
            foreach (Match match in Declaration().Matches(code))
            {
                declaredIn[match.Groups["name"].Value] = folder!;
            }
        }

        var edges = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var (folder, code) in files.Where(static f => f.Folder!.Length > 0))
        {
            var uses = edges.TryGetValue(folder!, out var set) ? set : edges[folder!] = new SortedSet<string>(StringComparer.Ordinal);
            foreach (Match match in Identifier().Matches(code))
            {
                if (declaredIn.TryGetValue(match.Value, out var target) && target.Length > 0 && target != folder)
                {
                    uses.Add(target);
                }
            }
        }

        return new FolderGraph(edges);
    }

    /// <summary>Every cycle's folders (strongly connected components of more than one folder), each in name order.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Cycles()
    {
        // Tarjan's algorithm; the graphs here have a dozen nodes.
        var index = 0;
        var indices = new Dictionary<string, int>();
        var lowLinks = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var cycles = new List<IReadOnlyList<string>>();

        void Visit(string node)
        {
            indices[node] = lowLinks[node] = index++;
            stack.Push(node);
            foreach (var next in Edges.GetValueOrDefault(node) ?? [])
            {
                if (!indices.TryGetValue(next, out var nextIndex))
                {
                    Visit(next);
                    lowLinks[node] = Math.Min(lowLinks[node], lowLinks[next]);
                }
                else if (stack.Contains(next))
                {
                    lowLinks[node] = Math.Min(lowLinks[node], nextIndex);
                }
            }

            if (lowLinks[node] == indices[node])
            {
                var component = new List<string>();
                string member;
                do
                {
                    member = stack.Pop();
                    component.Add(member);
                }
                while (member != node);
                if (component.Count > 1)
                {
                    component.Sort(StringComparer.Ordinal);
                    cycles.Add(component);
                }
            }
        }

        foreach (var node in Edges.Keys.Where(n => !indices.ContainsKey(n)))
        {
            Visit(node);
        }

        return cycles;
    }

    /// <summary>The graph as a Mermaid flowchart, one edge per line, sorted (stable for a diff).</summary>
    public string ToMermaid()
    {
        var text = new StringBuilder("flowchart LR\n");
        foreach (var (folder, uses) in Edges)
        {
            if (uses.Count == 0)
            {
                text.Append("    ").Append(folder).Append('\n');
            }

            foreach (var target in uses)
            {
                text.Append("    ").Append(folder).Append(" --> ").Append(target).Append('\n');
            }
        }

        return text.ToString();
    }

    private static string? FolderOf(string projectDirectory, string path)
    {
        var relative = Path.GetRelativePath(projectDirectory, path).Split(Path.DirectorySeparatorChar);
        if (relative[0] is "bin" or "obj")
        {
            return null;
        }

        return relative.Length == 1 ? string.Empty : relative[0];
    }

    private static string StripCommentsAndStrings(string code) => CommentOrString().Replace(code, " ");

    [GeneratedRegex(@"\b(?:class|struct|record|interface|enum)\s+(?:class\s+|struct\s+)?(?<name>[A-Z]\w*)")]
    private static partial Regex Declaration();

    [GeneratedRegex(@"\b[A-Z]\w*\b")]
    private static partial Regex Identifier();

    // Raw strings first (they may hold quotes), then verbatim and regular strings, characters and comments.
    [GeneratedRegex(@"""{3,}[\s\S]*?""{3,}|@""(?:[^""]|"""")*""|\$?""(?:\\.|[^""\\\n])*""|'(?:\\.|[^'\\\n])'|//[^\n]*|/\*[\s\S]*?\*/")]
    private static partial Regex CommentOrString();
}
