namespace PgVideoChat.Hosting.Postgres;

/// <summary>How to start a local PostgreSQL server.</summary>
public sealed class LocalPostgresOptions
{
    /// <summary>The folder of initdb and postgres; null searches the usual places (<see cref="PostgresBinaries.Locate"/>).</summary>
    public string? BinDirectory { get; set; }

    /// <summary>A data directory kept across runs; null uses a throwaway one that is removed at dispose.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>The TCP port on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>The password of the <c>postgres</c> role; null generates one (kept beside a persistent data directory).</summary>
    public string? Password { get; set; }

    /// <summary>Server settings passed as <c>-c name=value</c>; they override the defaults below.</summary>
    public IDictionary<string, string> Settings { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Called for each line the server logs.</summary>
    public Action<string>? OnOutput { get; set; }

    /// <summary>How long to wait for the server to accept connections.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The settings every PgVideoChat server gets: logical decoding, room for one slot and walsender per relay
    /// plus tools, and a bound on the WAL a slot may hold so that an abandoned slot cannot fill the disk.
    /// </summary>
    public static IReadOnlyDictionary<string, string> DefaultSettings { get; } = new Dictionary<string, string>
    {
        ["wal_level"] = "logical",
        ["max_wal_senders"] = "20",
        ["max_replication_slots"] = "20",
        ["max_slot_wal_keep_size"] = "2GB",
        ["wal_sender_timeout"] = "30s",
        ["max_connections"] = "200",
        ["shared_buffers"] = "256MB",
        ["max_wal_size"] = "2GB",
    };
}
