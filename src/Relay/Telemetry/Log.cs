using Microsoft.Extensions.Logging;

namespace PgVideoChat.Relay.Telemetry;

/// <summary>The relay's log events (source-generated).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Schema is at version {Version}; applied {Applied} migration(s)")]
    public static partial void SchemaReady(ILogger logger, int version, int applied);

    [LoggerMessage(2, LogLevel.Information, "Created replication slot {Slot} at {Lsn}")]
    public static partial void SlotCreated(ILogger logger, string slot, string lsn);

    [LoggerMessage(3, LogLevel.Information, "Replication stream started on slot {Slot} (publication {Publication}, pgoutput v{ProtocolVersion}, binary) from {Lsn}")]
    public static partial void StreamStarted(ILogger logger, string slot, string publication, int protocolVersion, string lsn);

    [LoggerMessage(4, LogLevel.Warning, "Replication stream on slot {Slot} failed; reconnecting in {DelayMs} ms")]
    public static partial void StreamFailed(ILogger logger, Exception exception, string slot, int delayMs);

    [LoggerMessage(5, LogLevel.Error, "Replication slot {Slot} cannot be read ({Reason}): rows in between are gone from the stream. Dropping and recreating it; clients will resync from the tables")]
    public static partial void SlotInvalidated(ILogger logger, string slot, string reason);

    [LoggerMessage(6, LogLevel.Information, "Client {ConnectionId} (user {UserId}) connected")]
    public static partial void ClientConnected(ILogger logger, long connectionId, long userId);

    [LoggerMessage(7, LogLevel.Information, "Client {ConnectionId} (user {UserId}) closed with {CloseCode}: {Reason}")]
    public static partial void ClientClosed(ILogger logger, long connectionId, long userId, int closeCode, string reason);

    [LoggerMessage(8, LogLevel.Warning, "Client {ConnectionId} (user {UserId}) sent a malformed message: {Reason}")]
    public static partial void MalformedMessage(ILogger logger, long connectionId, long userId, string reason);

    [LoggerMessage(9, LogLevel.Warning, "WebSocket refused: origin {Origin} is not allowed")]
    public static partial void OriginRefused(ILogger logger, string origin);

    [LoggerMessage(10, LogLevel.Warning, "WebSocket refused: {Reason}")]
    public static partial void TokenRefused(ILogger logger, string reason);

    [LoggerMessage(11, LogLevel.Warning, "Write pipeline failed to store {Frames} frame(s); they are dropped")]
    public static partial void BatchFailed(ILogger logger, Exception exception, int frames);

    [LoggerMessage(12, LogLevel.Error, "Request {Type} from user {UserId} failed")]
    public static partial void RequestFailed(ILogger logger, Exception exception, string type, long userId);

    [LoggerMessage(13, LogLevel.Debug, "Frame partitions: created {Created}, dropped {Dropped}")]
    public static partial void PartitionsRotated(ILogger logger, int created, int dropped);

    [LoggerMessage(14, LogLevel.Warning, "Frame partition maintenance failed")]
    public static partial void PartitionMaintenanceFailed(ILogger logger, Exception exception);

    [LoggerMessage(15, LogLevel.Information, "Removed {Count} stale connection row(s) of relay {RelayId}")]
    public static partial void StaleConnectionsRemoved(ILogger logger, int count, string relayId);

    [LoggerMessage(16, LogLevel.Information, "{Count} ringing call(s) became missed")]
    public static partial void CallsMissed(ILogger logger, int count);

    [LoggerMessage(17, LogLevel.Warning, "Background task {Task} failed")]
    public static partial void BackgroundFailed(ILogger logger, Exception exception, string task);

    [LoggerMessage(18, LogLevel.Warning, "Relay startup (schema, partitions, slot) failed; retrying in {DelayMs} ms")]
    public static partial void StartupRetry(ILogger logger, Exception exception, int delayMs);

    [LoggerMessage(19, LogLevel.Warning, "Replication row from {Table} could not be decoded")]
    public static partial void RowDecodeFailed(ILogger logger, Exception exception, string table);

    [LoggerMessage(20, LogLevel.Warning, "Dropped abandoned replication slot {Slot} of relay instance {RelayId} (no heartbeat for {AbandonedAfter})")]
    public static partial void AbandonedSlotDropped(ILogger logger, string slot, string relayId, TimeSpan abandonedAfter);

    [LoggerMessage(21, LogLevel.Warning, "Client {ConnectionId} (user {UserId}) is flooding: {Refused} requests refused by the {Kind} limit within a second; closing it")]
    public static partial void ControlFlooding(ILogger logger, long connectionId, long userId, int refused, string kind);

    [LoggerMessage(22, LogLevel.Error, "Client {ConnectionId} (user {UserId}): a {MessageType} message could not be handled; closing it with 1011")]
    public static partial void MessageFailed(ILogger logger, Exception exception, long connectionId, long userId, string messageType);

    [LoggerMessage(23, LogLevel.Information, "{Count} participant(s) offline for {OfflineFor} left their active call(s)")]
    public static partial void AbandonedParticipantsLeft(ILogger logger, int count, TimeSpan offlineFor);

    [LoggerMessage(24, LogLevel.Warning, "WebSocket of user {UserId} refused: {Reason}")]
    public static partial void ConnectRefused(ILogger logger, long userId, string reason);

    [LoggerMessage(25, LogLevel.Warning, "{Count} connection row(s) could not be deleted; retrying in the background (and at the next start)")]
    public static partial void ConnectionRowsNotDeleted(ILogger logger, Exception exception, int count);

    [LoggerMessage(26, LogLevel.Information, "Sender {SenderId} in call {CallId} asked to step to video quality level {Level} ({Reason})")]
    public static partial void QualityStepped(ILogger logger, long senderId, long callId, int level, string reason);

    [LoggerMessage(27, LogLevel.Warning, "Quality advice could not be written; the senders keep their current step")]
    public static partial void QualityAdviceFailed(ILogger logger, Exception exception);
}
