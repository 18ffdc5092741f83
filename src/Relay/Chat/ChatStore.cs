using Npgsql;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Calls;

namespace PgVideoChat.Relay.Chat;

/// <summary>The result of sending a chat message: an error, or the stored message's id.</summary>
internal readonly record struct ChatOutcome(string? Error, long Id, string? Message = null);

/// <summary>A page of chat history, oldest first, or an error.</summary>
internal sealed record ChatPage(string? Error, IReadOnlyList<ChatEntry> Messages, string? Message = null);

/// <summary>
/// Stores chat messages. The INSERT is the publish: the row reaches the call's participants (or the direct
/// message's two users) through the slot. A repeated <c>clientMsgId</c> returns the first message's id.
/// </summary>
internal sealed class ChatStore(NpgsqlDataSource dataSource)
{
    public const string SelectColumns = "id, call_id, to_user, from_user, from_name, body, client_msg_id, sent_at";

    public async Task<ChatOutcome> SendAsync(long from, string fromName, ClientRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (request.To is { } to)
        {
            await using var exists = new NpgsqlCommand("SELECT 1 FROM users WHERE id = $1", connection);
            exists.Parameters.Add(new NpgsqlParameter { Value = to });
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                return new ChatOutcome(ErrorCodes.NotFound, 0, $"user {to} does not exist");
            }
        }
        else
        {
            await using var membership = new NpgsqlCommand("""
                SELECT c.state, p.state FROM calls c LEFT JOIN call_participants p ON p.call_id = c.id AND p.user_id = $2
                WHERE c.id = $1
                """, connection);
            membership.Parameters.Add(new NpgsqlParameter { Value = request.CallId });
            membership.Parameters.Add(new NpgsqlParameter { Value = from });
            await using var reader = await membership.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return new ChatOutcome(ErrorCodes.NotFound, 0, $"call {request.CallId} does not exist");
            }

            var callState = reader.GetString(0);
            var participantState = reader.IsDBNull(1) ? null : reader.GetString(1);
            // Somebody who was in the call learns that it is over; a stranger learns nothing more than not_participant.
            if (participantState is not null && CallStates.IsTerminal(callState))
            {
                return new ChatOutcome(ErrorCodes.InvalidState, 0, $"call {request.CallId} has ended");
            }

            if (participantState != ParticipantStates.Joined)
            {
                return new ChatOutcome(ErrorCodes.NotParticipant, 0, $"you are not a joined participant of call {request.CallId}");
            }
        }

        await using var insert = new NpgsqlCommand("""
            INSERT INTO chat_messages (call_id, to_user, from_user, from_name, body, client_msg_id)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (from_user, client_msg_id) WHERE client_msg_id IS NOT NULL DO NOTHING
            RETURNING id
            """, connection);
        insert.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = request.To is null ? request.CallId : null });
        insert.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = request.To });
        insert.Parameters.Add(new NpgsqlParameter { Value = from });
        insert.Parameters.Add(new NpgsqlParameter { Value = fromName });
        insert.Parameters.Add(new NpgsqlParameter { Value = request.Text! });
        insert.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = request.ClientMsgId });
        if (await insert.ExecuteScalarAsync(cancellationToken) is long id)
        {
            return new ChatOutcome(null, id);
        }

        // A retry of a message already stored: answer with the first one's id, store nothing.
        await using var existing = new NpgsqlCommand("SELECT id FROM chat_messages WHERE from_user = $1 AND client_msg_id = $2", connection);
        existing.Parameters.Add(new NpgsqlParameter { Value = from });
        existing.Parameters.Add(new NpgsqlParameter { Value = request.ClientMsgId! });
        return new ChatOutcome(null, (long)(await existing.ExecuteScalarAsync(cancellationToken))!);
    }

    /// <summary>
    /// Up to <see cref="ClientRequest.Limit"/> messages older than <see cref="ClientRequest.Before"/> of a call the user
    /// took part in (joined, then maybe left) or of the user's direct conversation with another user, oldest first.
    /// </summary>
    public async Task<ChatPage> HistoryAsync(long userId, ClientRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        NpgsqlCommand command;
        if (request.To is { } other)
        {
            // Both directions of the conversation, each an index range of chat_messages_direct.
            command = new NpgsqlCommand($"""
                SELECT {SelectColumns} FROM (
                    (SELECT * FROM chat_messages WHERE to_user = $1 AND from_user = $2 AND id < $3 ORDER BY id DESC LIMIT $4)
                    UNION ALL
                    (SELECT * FROM chat_messages WHERE to_user = $2 AND from_user = $1 AND id < $3 ORDER BY id DESC LIMIT $4)
                    ORDER BY id DESC LIMIT $4) page
                ORDER BY id
                """, connection);
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = other });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = userId });
        }
        else
        {
            await using var membership = new NpgsqlCommand("SELECT state FROM call_participants WHERE call_id = $1 AND user_id = $2", connection);
            membership.Parameters.Add(new NpgsqlParameter<long> { TypedValue = request.CallId });
            membership.Parameters.Add(new NpgsqlParameter<long> { TypedValue = userId });
            if (await membership.ExecuteScalarAsync(cancellationToken) is not (ParticipantStates.Joined or ParticipantStates.Left))
            {
                return new ChatPage(ErrorCodes.NotParticipant, [], $"you did not take part in call {request.CallId}");
            }

            command = new NpgsqlCommand($"""
                SELECT {SelectColumns} FROM (
                    SELECT * FROM chat_messages WHERE call_id = $1 AND id < $3 ORDER BY id DESC LIMIT $4) page
                ORDER BY id
                """, connection);
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = request.CallId });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = userId });
        }

        await using (command)
        {
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = request.Before ?? long.MaxValue });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = request.Limit });
            var messages = new List<ChatEntry>(request.Limit);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                messages.Add(Read(reader));
            }

            return new ChatPage(null, messages);
        }
    }

    public static ChatEntry Read(NpgsqlDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new ChatEntry(
            reader.GetInt64(0),
            reader.IsDBNull(1) ? null : reader.GetInt64(1),
            reader.IsDBNull(2) ? null : reader.GetInt64(2),
            reader.GetInt64(3),
            reader.GetString(4),
            reader.GetString(5),
            reader.IsDBNull(6) ? null : reader.GetString(6),
            DateTime.SpecifyKind(reader.GetDateTime(7), DateTimeKind.Utc));
    }
}
