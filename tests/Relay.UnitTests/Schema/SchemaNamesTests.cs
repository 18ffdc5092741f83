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

    [Fact]
    public void Advisory_lock_keys_are_distinct()
    {
        var keys = typeof(AdvisoryLocks).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (long)f.GetRawConstantValue()!).ToList();

        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    private static IEnumerable<string> Constants(Type type)
        => type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(static f => f.IsLiteral).Select(static f => (string)f.GetRawConstantValue()!);

    [GeneratedRegex(@"CREATE TABLE (\w+) \(")]
    private static partial Regex CreateTable();

    [GeneratedRegex(@"CREATE PUBLICATION (\w+) ")]
    private static partial Regex CreatePublication();
}
