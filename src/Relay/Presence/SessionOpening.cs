using Npgsql;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Calls;
using PgVideoChat.Relay.Chat;
using PgVideoChat.Relay.Sharding;

namespace PgVideoChat.Relay.Presence;

/// <summary>What a connect wrote and read: the <c>connections</c> row (to delete at disconnect) and the <c>hello</c>.</summary>
internal sealed record OpenedSession(long ConnectionRowId, HelloMessage Hello);

/// <summary>
/// A connect in one round trip: the <c>connections</c> row (with the user's display name) and the <c>hello</c> a
/// client gets first: online users, its open calls, recent chat.
/// </summary>
internal sealed class SessionOpening(NpgsqlDataSource dataSource, ShardPublications publications)
{
    private const int RecentChat = ProtocolLimits.MaxChatHistoryPage;

    // Its own transaction (an error barrier follows it), committed before the snapshot is taken; read committed, so
    // the presence trigger never fails with a serialization error when the user connects twice at once.
    // No row when the user does not exist.
    private const string InsertConnection = """
        WITH u AS (SELECT id, display_name FROM users WHERE id = $1),
             c AS (INSERT INTO connections (user_id, relay_id, relay_shard) SELECT id, $2, $3 FROM u RETURNING id)
        SELECT c.id, u.display_name FROM c CROSS JOIN u
        """;

    private const string SelectOnline = "SELECT user_id, display_name FROM presence WHERE online AND user_id <> $1 ORDER BY display_name, user_id";

    private const string OpenCalls = "state IN ('ringing', 'active') AND id IN (SELECT call_id FROM call_participants WHERE user_id = $1)";

    private static readonly string SelectCalls = $"SELECT {CallRows.SelectColumns} FROM calls WHERE {OpenCalls} ORDER BY id";

    private static readonly string SelectChat = $"""
        SELECT {ChatStore.SelectColumns} FROM (
            SELECT * FROM chat_messages WHERE call_id IN (SELECT id FROM calls WHERE {OpenCalls})
            UNION ALL
            SELECT * FROM chat_messages WHERE to_user IS NOT NULL AND (to_user = $1 OR from_user = $1)
            ORDER BY id DESC LIMIT {RecentChat}) recent
        ORDER BY id
        """;

    /// <summary>
    /// Writes the connection row, then reads the <c>hello</c> in one repeatable-read snapshot (so its three parts
    /// agree), all in one round trip; <see langword="null"/> when the user does not exist (nothing is written).
    /// </summary>
    public async Task<OpenedSession?> OpenAsync(string relayId, long userId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection);
        var insert = Command(InsertConnection, userId);
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = relayId });
        // The shard tells the other sharded relays to address this user's frames to this relay (NULL: to every relay).
        insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer, Value = (object?)publications.Shard ?? DBNull.Value });
        insert.AppendErrorBarrier = true;
        batch.BatchCommands.Add(insert);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"));
        batch.BatchCommands.Add(Command(SelectOnline, userId));
        batch.BatchCommands.Add(Command(SelectCalls, userId));
        batch.BatchCommands.Add(Command(SelectChat, userId));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        // Prepared once per pooled connection (a no-op afterwards): no parsing or planning per connect, and Npgsql then
        // resets a returned connection without DISCARD ALL, so the trigger's cached plans survive too.
        await batch.PrepareAsync(cancellationToken);

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var rowId = reader.GetInt64(0);
        var user = new UserSummary(userId, reader.GetString(1));

        // NextResult moves between result sets: BEGIN and COMMIT have none and are skipped.
        var online = new List<UserSummary>();
        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            online.Add(new UserSummary(reader.GetInt64(0), reader.GetString(1)));
        }

        var calls = new List<CallSnapshot>();
        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            calls.Add(CallRows.Read(reader));
        }

        var chat = new List<ChatEntry>();
        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            chat.Add(ChatStore.Read(reader));
        }

        // Reads COMMIT's completion (a read-only transaction: no WAL flush); a failure there throws here.
        await reader.NextResultAsync(cancellationToken);
        return new OpenedSession(rowId, new HelloMessage(ProtocolLimits.ProtocolVersion, relayId, user, online, calls, chat, RelayLimits.Default));
    }

    private static NpgsqlBatchCommand Command(string sql, long userId)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = userId });
        return command;
    }
}
