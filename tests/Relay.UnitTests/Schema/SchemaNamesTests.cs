using System.Reflection;
using System.Text.RegularExpressions;
using PgVideoChat.Relay.Schema;
using PgVideoChat.Relay.UnitTests.Architecture;

namespace PgVideoChat.Relay.UnitTests.Schema;

/// <summary>The names the relay's code uses are the ones its migrations create.</summary>
public sealed partial class SchemaNamesTests
{
    private static readonly string Migrations = string.Join('\n',
        Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "src", "Relay", "Storage", "Migrations"), "*.sql").Order().Select(File.ReadAllText));

    [Fact]
    public void Every_table_the_code_names_is_created_by_a_migration_and_every_created_table_has_a_name()
    {
        var named = Constants(typeof(Tables)).ToHashSet();
        var created = CreateTable().Matches(Migrations).Select(m => m.Groups[1].Value).ToHashSet();

        Assert.Equal(created.Order(), named.Order());
    }

    [Fact]
    public void The_publications_a_relay_reads_are_created_by_the_migrations()
    {
        var created = CreatePublication().Matches(Migrations).Select(m => m.Groups[1].Value).ToList();

        Assert.Equal([Publications.All, Publications.Control], created);
    }

    public static TheoryData<string, string> NamedColumns()
    {
        var data = new TheoryData<string, string>();
        (Type Columns, string[] Tables)[] owners =
        [
            (typeof(FrameColumns), Tables.Frames),
            (typeof(VideoFrameColumns), [Tables.VideoFrames]),
            (typeof(AudioFrameColumns), [Tables.AudioFrames]),
            (typeof(ChatColumns), [Tables.ChatMessages]),
            (typeof(CallColumns), [Tables.Calls]),
            (typeof(PresenceColumns), [Tables.Presence]),
            (typeof(ConnectionColumns), [Tables.Connections]),
            (typeof(RecordingColumns), [Tables.Recordings]),
        ];
        foreach (var (columns, tables) in owners)
        {
            foreach (var table in tables)
            {
                foreach (var column in Constants(columns))
                {
                    data.Add(table, column);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(NamedColumns))]
    public void Every_column_the_code_names_is_created_in_its_table_by_a_migration(string table, string column)
        => Assert.Contains(column, ColumnsOf(table));

    [Fact]
    public void The_column_lists_find_the_columns_of_a_table_and_of_its_later_additions()
    {
        // Guards the parser above: a test that finds no columns would let every name pass.
        Assert.Equal(["id", "display_name", "created_at"], ColumnsOf(Tables.Users));
        Assert.Contains(FrameColumns.RecipientShardMask, ColumnsOf(Tables.VideoFrames));
        Assert.DoesNotContain(VideoFrameColumns.Width, ColumnsOf(Tables.AudioFrames));
    }

    [Fact]
    public void Advisory_lock_keys_are_distinct()
    {
        var keys = typeof(AdvisoryLocks).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (long)f.GetRawConstantValue()!).ToList();

        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    private static IEnumerable<string> Constants(Type type)
        => type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(static f => f.IsLiteral).Select(static f => (string)f.GetRawConstantValue()!);

    private static List<string> ColumnsOf(string table)
    {
        var body = Regex.Match(Migrations, $@"CREATE TABLE {table} \((.*?)\n\)", RegexOptions.Singleline);
        Assert.True(body.Success, $"no CREATE TABLE {table} in the migrations");
        var created = body.Groups[1].Value.Split('\n').Select(static line => line.Trim()).Where(static line => line.Length > 0)
            .Select(static line => line.Split(' ')[0]).Where(static word => word.All(static c => char.IsAsciiLetterLower(c) || c == '_'));
        var added = Regex.Matches(Migrations, $@"ALTER TABLE {table} ADD COLUMN (\w+)").Select(static m => m.Groups[1].Value);
        return [.. created, .. added];
    }

    [GeneratedRegex(@"CREATE TABLE (\w+) \(")]
    private static partial Regex CreateTable();

    [GeneratedRegex(@"CREATE PUBLICATION (\w+) ")]
    private static partial Regex CreatePublication();
}
