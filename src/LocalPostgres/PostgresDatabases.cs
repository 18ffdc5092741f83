using Npgsql;

namespace Aspire.Hosting;

/// <summary>What every way of running the server needs of its databases: create one unless it exists.</summary>
public static class PostgresDatabases
{
    /// <summary>Creates <paramref name="database"/> on the server of <paramref name="connection"/>; false when it already exists.</summary>
    public static async Task<bool> CreateIfMissingAsync(NpgsqlConnection connection, string database, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(database);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            return false;
        }
    }
}
