using Npgsql;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Calls;
using PgVideoChat.Relay.Chat;

namespace PgVideoChat.Relay.Presence;

/// <summary>Builds the <c>hello</c> a client gets on connect: online users, its open calls, recent chat.</summary>
internal sealed class HelloSnapshot(NpgsqlDataSource dataSource)
{
    private const int RecentChat = 100;

    public async Task<HelloMessage> BuildAsync(string relayId, UserSummary user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot for all three reads, so they agree with each other.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);

        var online = new List<UserSummary>();
        await using (var command = new NpgsqlCommand(
            "SELECT user_id, display_name FROM presence WHERE online AND user_id <> $1 ORDER BY display_name, user_id", connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = user.UserId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                online.Add(new UserSummary(reader.GetInt64(0), reader.GetString(1)));
            }
        }

        var calls = new List<CallSnapshot>();
        await using (var command = new NpgsqlCommand($"""
            SELECT {CallRows.SelectColumns} FROM calls
            WHERE state IN ('ringing', 'active') AND id IN (SELECT call_id FROM call_participants WHERE user_id = $1)
            ORDER BY id
            """, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = user.UserId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                calls.Add(CallRows.Read(reader));
            }
        }

        var chat = new List<ChatEntry>();
        await using (var command = new NpgsqlCommand($"""
            SELECT {ChatStore.SelectColumns} FROM (
                SELECT * FROM chat_messages WHERE call_id = ANY($2)
                UNION ALL
                SELECT * FROM chat_messages WHERE to_user IS NOT NULL AND (to_user = $1 OR from_user = $1)
                ORDER BY id DESC LIMIT {RecentChat}) recent
            ORDER BY id
            """, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = user.UserId });
            command.Parameters.Add(new NpgsqlParameter { Value = calls.Select(static c => c.CallId).ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                chat.Add(ChatStore.Read(reader));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return new HelloMessage(ProtocolLimits.ProtocolVersion, relayId, user, online, calls, chat, RelayLimits.Default);
    }
}
