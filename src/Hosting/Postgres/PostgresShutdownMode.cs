namespace PgVideoChat.Hosting.Postgres;

/// <summary>Postgres' three shutdown modes (see <c>pg_ctl stop -m</c>).</summary>
public enum PostgresShutdownMode
{
    /// <summary>Waits for clients to disconnect (SIGTERM).</summary>
    Smart,

    /// <summary>Disconnects clients, checkpoints, stops (SIGINT). The default.</summary>
    Fast,

    /// <summary>Stops at once; the next start runs crash recovery (SIGQUIT).</summary>
    Immediate,
}
