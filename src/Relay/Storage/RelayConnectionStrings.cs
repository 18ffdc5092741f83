using System.Data.Common;
using Npgsql;

namespace PgVideoChat.Relay.Storage;

/// <summary>
/// The relay's connection strings, derived from <c>ConnectionStrings:videochat</c>. Npgsql's 8 KB buffers cost
/// several socket calls per 25 KB video frame (syscalls are the relay's largest cost on a virtualised host, see
/// docs/benchmarks.md), so unless the connection string sets them, buffers are sized for frames: a write buffer that
/// holds a whole group-commit batch's worth of sends, and a replication read buffer that takes several frames per read.
/// </summary>
internal static class RelayConnectionStrings
{
    public const int DataSourceReadBufferSize = 64 * 1024;
    public const int DataSourceWriteBufferSize = 256 * 1024;
    public const int ReplicationReadBufferSize = 512 * 1024;

    public static string ForDataSource(string connectionString)
        => WithBuffers(connectionString, DataSourceReadBufferSize, DataSourceWriteBufferSize);

    public static string ForReplication(string connectionString)
        => WithBuffers(connectionString, ReplicationReadBufferSize, writeBufferSize: null);

    private static string WithBuffers(string connectionString, int readBufferSize, int? writeBufferSize)
    {
        // Npgsql's builder reports every keyword it knows as present, so what the user wrote is read with the base
        // class (keywords compared without spaces: "Read Buffer Size" and "ReadBufferSize" are the same setting).
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(static key => key.Replace(" ", string.Empty, StringComparison.Ordinal).ToLowerInvariant())
            .ToHashSet();
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.Contains("readbuffersize"))
        {
            builder.ReadBufferSize = readBufferSize;
        }

        if (writeBufferSize is { } write && !given.Contains("writebuffersize"))
        {
            builder.WriteBufferSize = write;
        }

        return builder.ConnectionString;
    }
}
