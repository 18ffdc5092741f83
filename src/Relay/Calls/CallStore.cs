using Microsoft.Extensions.Options;
using Npgsql;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Calls;

/// <summary>The result of a call request: an error code, or the call it applied to.</summary>
internal readonly record struct CallOutcome(string? Error, long CallId, string? Message = null)
{
    public static CallOutcome Fail(string code, string message) => new(code, 0, message);
}

/// <summary>
/// Reads and writes calls. Every change runs in one transaction holding the call's row lock, applies
/// <see cref="CallRules"/>, and rewrites the call row (state, version, participants JSON): that UPDATE is
/// the event every participant receives through the slot.
/// </summary>
internal sealed class CallStore(NpgsqlDataSource dataSource, IOptions<RelayOptions> options)
{
    private readonly TimeSpan _recordingRetention = options.Value.Recordings.Retention;

    // The recording's JSON is made here, with the server's clock and the starter's name, in UTC ("Z") so that every
    // reader gets the same instant whatever its time zone.
    private const string StartRecordingSql = """
        WITH r AS (INSERT INTO recordings (call_id, started_by, expires_at) VALUES ($1, $2, now() + $3) RETURNING id, started_at)
        SELECT jsonb_build_object('recordingId', r.id, 'startedBy', u.id, 'startedByName', u.display_name,
            'startedAt', to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text
        FROM r, users u WHERE u.id = $2
        """;

    private const string StopRecordingSql = """
        UPDATE recordings SET stopped_at = now(), stopped_by = $2, expires_at = now() + $3
        WHERE call_id = $1 AND stopped_at IS NULL
        """;

    private const string RefreshSql = """
        UPDATE calls SET kind = $2, state = $3, version = version + 1, updated_at = now(), recording = $4::jsonb,
            ended_at = CASE WHEN $3 IN ('ended', 'declined', 'missed', 'cancelled') THEN now() END,
            participants = COALESCE((
                SELECT jsonb_agg(jsonb_build_object('userId', p.user_id, 'displayName', u.display_name,
                    'state', p.state, 'audio', p.audio, 'video', p.video) ORDER BY p.user_id)
                FROM call_participants p JOIN users u ON u.id = p.user_id WHERE p.call_id = $1), '[]')
        WHERE id = $1
        """;

    public async Task<CallOutcome> InviteAsync(long caller, IReadOnlyList<long> invitees, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invitees);
        if (invitees.Contains(caller))
        {
            return CallOutcome.Fail(ErrorCodes.InvalidMessage, "you cannot invite yourself");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var check = new NpgsqlCommand("SELECT count(*) FROM users WHERE id = ANY($1)", connection, transaction))
        {
            check.Parameters.Add(new NpgsqlParameter { Value = invitees.ToArray() });
            if ((long)(await check.ExecuteScalarAsync(cancellationToken))! != invitees.Count)
            {
                return CallOutcome.Fail(ErrorCodes.NotFound, "one of the invited users does not exist");
            }
        }

        var call = new CallRecord { Id = 0, Kind = invitees.Count == 1 ? "direct" : "group", State = CallStates.Ringing, CreatedBy = caller };
        long callId;
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO calls (kind, state, created_by, version) VALUES ($1, 'ringing', $2, 0) RETURNING id", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = call.Kind });
            insert.Parameters.Add(new NpgsqlParameter { Value = caller });
            callId = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
        }

        call.Participants[caller] = new ParticipantRecord { State = ParticipantStates.Joined, Changed = true };
        foreach (var invitee in invitees)
        {
            call.Participants[invitee] = new ParticipantRecord { State = ParticipantStates.Invited, Changed = true };
        }

        await SaveAsync(connection, transaction, callId, call, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new CallOutcome(null, callId);
    }

    public Task<CallOutcome> ChangeAsync(long callId, Func<CallRecord, string?> change, CancellationToken cancellationToken)
        => ChangeCoreAsync(callId, change, cancellationToken);

    /// <summary>Turns ringing calls older than <paramref name="ringTimeout"/> into missed ones.</summary>
    public async Task<int> MarkMissedAsync(TimeSpan ringTimeout, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        await using (var select = dataSource.CreateCommand(
            "SELECT id FROM calls WHERE state = 'ringing' AND created_at < now() - $1 ORDER BY id LIMIT 100"))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = ringTimeout });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        var missed = 0;
        foreach (var id in ids)
        {
            var outcome = await ChangeCoreAsync(id, call =>
            {
                if (call.State != CallStates.Ringing)
                {
                    return ErrorCodes.InvalidState;
                }

                CallRules.Miss(call);
                return null;
            }, cancellationToken);
            missed += outcome.Error is null ? 1 : 0;
        }

        return missed;
    }

    /// <summary>
    /// Joined participants of active calls who have been offline (no connection on any relay) for longer than
    /// <paramref name="offlineFor"/> leave, as if they had hung up: a call whose people all closed their tabs ends
    /// instead of staying active forever, and a call whose other side vanished ends for the one left waiting.
    /// </summary>
    public async Task<int> LeaveAbandonedAsync(TimeSpan offlineFor, CancellationToken cancellationToken)
    {
        var abandoned = new List<(long CallId, long UserId)>();
        await using (var select = dataSource.CreateCommand("""
            SELECT p.call_id, p.user_id FROM calls c
            JOIN call_participants p ON p.call_id = c.id AND p.state = 'joined'
            JOIN presence pr ON pr.user_id = p.user_id AND NOT pr.online AND pr.updated_at < now() - $1
            WHERE c.state = 'active'
            ORDER BY p.call_id, p.user_id LIMIT 100
            """))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = offlineFor });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                abandoned.Add((reader.GetInt64(0), reader.GetInt64(1)));
            }
        }

        var left = 0;
        foreach (var (callId, userId) in abandoned)
        {
            // Under the row lock the rules decide again: another relay may have done it, or the user hung up meanwhile.
            var outcome = await ChangeCoreAsync(callId, call => call.State == CallStates.Active ? CallRules.Hangup(call, userId) : ErrorCodes.InvalidState, cancellationToken);
            left += outcome.Error is null ? 1 : 0;
        }

        return left;
    }

    private async Task<CallOutcome> ChangeCoreAsync(long callId, Func<CallRecord, string?> change, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        CallRecord call;
        await using (var select = new NpgsqlCommand("SELECT kind, state, created_by, recording::text FROM calls WHERE id = $1 FOR UPDATE", connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = callId });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return CallOutcome.Fail(ErrorCodes.NotFound, $"call {callId} does not exist");
            }

            call = new CallRecord
            {
                Id = callId,
                Kind = reader.GetString(0),
                State = reader.GetString(1),
                CreatedBy = reader.GetInt64(2),
                RecordingJson = reader.IsDBNull(3) ? null : reader.GetString(3),
            };
        }

        await using (var participants = new NpgsqlCommand(
            "SELECT user_id, state, audio, video FROM call_participants WHERE call_id = $1", connection, transaction))
        {
            participants.Parameters.Add(new NpgsqlParameter { Value = callId });
            await using var reader = await participants.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                call.Participants[reader.GetInt64(0)] = new ParticipantRecord
                {
                    State = reader.GetString(1),
                    Audio = reader.GetBoolean(2),
                    Video = reader.GetBoolean(3),
                };
            }
        }

        var error = change(call);
        if (error is not null)
        {
            return CallOutcome.Fail(error, Describe(error, callId));
        }

        CallRules.StopRecordingIfOver(call);
        await SaveAsync(connection, transaction, callId, call, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new CallOutcome(null, callId);
    }

    private async Task SaveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long callId, CallRecord call, CancellationToken cancellationToken)
    {
        var recording = await SaveRecordingAsync(connection, transaction, callId, call, cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var (userId, participant) in call.Participants)
        {
            if (!participant.Changed)
            {
                continue;
            }

            var upsert = new NpgsqlBatchCommand("""
                INSERT INTO call_participants (call_id, user_id, state, audio, video) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (call_id, user_id) DO UPDATE
                    SET state = EXCLUDED.state, audio = EXCLUDED.audio, video = EXCLUDED.video, updated_at = now()
                """);
            upsert.Parameters.Add(new NpgsqlParameter { Value = callId });
            upsert.Parameters.Add(new NpgsqlParameter { Value = userId });
            upsert.Parameters.Add(new NpgsqlParameter { Value = participant.State });
            upsert.Parameters.Add(new NpgsqlParameter { Value = participant.Audio });
            upsert.Parameters.Add(new NpgsqlParameter { Value = participant.Video });
            batch.BatchCommands.Add(upsert);
        }

        var refresh = new NpgsqlBatchCommand(RefreshSql);
        refresh.Parameters.Add(new NpgsqlParameter { Value = callId });
        refresh.Parameters.Add(new NpgsqlParameter { Value = call.Kind });
        refresh.Parameters.Add(new NpgsqlParameter { Value = call.State });
        refresh.Parameters.Add(new NpgsqlParameter { Value = (object?)recording ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        batch.BatchCommands.Add(refresh);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    // Returns the call row's recording JSON after the change.
    private async Task<string?> SaveRecordingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long callId, CallRecord call, CancellationToken cancellationToken)
    {
        switch (call.RecordingChange)
        {
            case RecordingChange.Start:
                await using (var start = new NpgsqlCommand(StartRecordingSql, connection, transaction))
                {
                    start.Parameters.Add(new NpgsqlParameter { Value = callId });
                    start.Parameters.Add(new NpgsqlParameter { Value = call.RecordingChangedBy!.Value });
                    start.Parameters.Add(new NpgsqlParameter { Value = _recordingRetention });
                    return (string)(await start.ExecuteScalarAsync(cancellationToken))!;
                }

            case RecordingChange.Stop:
                await using (var stop = new NpgsqlCommand(StopRecordingSql, connection, transaction))
                {
                    stop.Parameters.Add(new NpgsqlParameter { Value = callId });
                    stop.Parameters.Add(new NpgsqlParameter { Value = (object?)call.RecordingChangedBy ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
                    stop.Parameters.Add(new NpgsqlParameter { Value = _recordingRetention });
                    await stop.ExecuteNonQueryAsync(cancellationToken);
                }

                return null;
            default:
                return call.RecordingJson;
        }
    }

    private static string Describe(string error, long callId) => error switch
    {
        ErrorCodes.NotParticipant => $"you are not a participant of call {callId} in a state that allows this",
        ErrorCodes.InvalidState => $"call {callId} is not in a state that allows this",
        _ => $"call {callId}: {error}",
    };
}
