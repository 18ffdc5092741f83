namespace PgVideoChat.Relay.Telemetry;

/// <summary>Presence's log messages (kept next to presence; event ids 40-49).</summary>
internal static partial class Log
{
    [LoggerMessage(40, LogLevel.Warning, "{Count} connection row(s) could not be deleted; retrying in the background (and at the next start)")]
    public static partial void ConnectionRowsNotDeleted(ILogger logger, Exception exception, int count);
}
