namespace PgVideoChat.Relay.UnitTests.Architecture;

public sealed class FolderGraphTests
{
    private const string Begin = "<!-- relay-folders:begin (written by FolderGraphTests; PGVC_UPDATE_DOCS=1 rewrites it) -->";
    private const string End = "<!-- relay-folders:end -->";

    private static string RelayProject => Path.Combine(RepositoryPaths.Root, "src", "Relay");

    [Fact]
    public void The_relay_s_folders_use_each_other_one_way()
    {
        var graph = FolderGraph.Read(RelayProject);

        Assert.True(graph.Edges.Count >= 10, $"expected the relay's folders, read {graph.Edges.Count}: {string.Join(", ", graph.Edges.Keys)}");
        var cycles = graph.Cycles();
        Assert.True(cycles.Count == 0,
            "folders of src/Relay use each other in a circle: " + string.Join("; ", cycles.Select(c => string.Join(" ⇄ ", c)))
            + "\n" + graph.ToMermaid());
    }

    [Fact]
    public void A_cycle_between_folders_is_found()
    {
        var project = Directory.CreateTempSubdirectory("folder-graph-");
        try
        {
            Write(project.FullName, "A/Alpha.cs", "namespace X.A; internal sealed class Alpha { private Beta? _b; }");
            Write(project.FullName, "B/Beta.cs", "namespace X.B; // Alpha in a comment does not count\ninternal sealed class Beta { private string _s = \"Alpha\"; }");
            Write(project.FullName, "C/Gamma.cs", "namespace X.C; internal sealed class Gamma { private X.A.Alpha? _a; }");
            Write(project.FullName, "B/Later.cs", "namespace X.B; internal sealed class Later { private Gamma? _g; }");
            Write(project.FullName, "Root.cs", "internal sealed class Root { private Alpha? _a; private Beta? _b; }");

            var graph = FolderGraph.Read(project.FullName);

            Assert.Equal(["B"], graph.Edges["A"]);
            Assert.Equal(["C"], graph.Edges["B"]);
            Assert.Equal(["A"], graph.Edges["C"]);
            var cycle = Assert.Single(graph.Cycles());
            Assert.Equal(["A", "B", "C"], cycle);
        }
        finally
        {
            project.Delete(recursive: true);
        }
    }

    [Fact]
    public void Docs_architecture_shows_the_current_graph()
    {
        var path = Path.Combine(RepositoryPaths.Root, "docs", "architecture.md");
        var document = File.ReadAllText(path);
        var begin = document.IndexOf(Begin, StringComparison.Ordinal);
        var end = document.IndexOf(End, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"docs/architecture.md must hold the folder graph between '{Begin}' and '{End}'");

        var current = Begin + "\n```mermaid\n" + FolderGraph.Read(RelayProject).ToMermaid() + "```\n";
        var written = document[begin..end];
        if (written != current && Environment.GetEnvironmentVariable("PGVC_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, document[..begin] + current + document[end..]);
            return;
        }

        Assert.True(written == current,
            "docs/architecture.md's folder graph is not the code's; run `PGVC_UPDATE_DOCS=1 bash eng/test.sh Relay.UnitTests` to rewrite it. The code's graph:\n" + current);
    }

    private static void Write(string root, string relative, string code)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, code);
    }
}
