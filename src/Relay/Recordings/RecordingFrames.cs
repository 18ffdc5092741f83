using System.Globalization;
using System.Runtime.CompilerServices;
using Npgsql;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Recordings;

/// <summary>
/// Reads a recording's frames in timeline order: those already copied into its own partitions and those still in
/// the live partitions (stored after its <c>*_copied_until</c>), in one statement per page so that each page sees the
/// copy either done or not done. Pages are short statements on purpose: a replay that holds one snapshot for minutes
/// would hold up the partition rotation's DETACH … CONCURRENTLY, and with it the creation of the partitions that
/// ingest needs.
/// </summary>
internal sealed class RecordingFrames(NpgsqlDataSource dataSource)
{
    private const int PageRows = 256;

    // $1 recording, $2..$5 the last row read (received_us, kind, sender_id, sequence). The timeline's zero is the
    // recording's start by the relay's clock (received_us is microseconds since the Unix epoch).
    private const string PageSql = """
        WITH r AS (SELECT id, call_id, started_at, coalesce(stopped_at, 'infinity') AS stopped_at,
                          video_copied_until, audio_copied_until,
                          (extract(epoch FROM started_at) * 1000000)::bigint AS started_us
                   FROM recordings WHERE id = $1),
        frames AS (
            SELECT 1 AS kind, f.sender_id, f.sequence, f.received_us, f.width AS a, f.height AS b, {payload} AS payload
            FROM recorded_video_frames f, r WHERE f.recording_id = r.id
            UNION ALL
            SELECT 1, f.sender_id, f.sequence, f.received_us, f.width, f.height, {payload}
            FROM video_frames f, r WHERE f.call_id = r.call_id
                AND f.stored_at >= greatest(r.started_at, r.video_copied_until) AND f.stored_at < r.stopped_at
            UNION ALL
            SELECT 2, f.sender_id, f.sequence, f.received_us, f.channels, f.sample_rate, {payload}
            FROM recorded_audio_frames f, r WHERE f.recording_id = r.id
            UNION ALL
            SELECT 2, f.sender_id, f.sequence, f.received_us, f.channels, f.sample_rate, {payload}
            FROM audio_frames f, r WHERE f.call_id = r.call_id
                AND f.stored_at >= greatest(r.started_at, r.audio_copied_until) AND f.stored_at < r.stopped_at)
        SELECT kind, sender_id, sequence, received_us, a, b, payload, greatest(received_us - (SELECT started_us FROM r), 0)
        FROM frames
        WHERE (received_us, kind, sender_id, sequence) > ($2, $3, $4, $5)
        ORDER BY received_us, kind, sender_id, sequence
        LIMIT {limit}
        """;

    private static readonly string WithPayload = Page("f.payload", PageRows);

    // octet_length of an EXTERNAL (uncompressed) value reads its TOAST pointer only, not the value.
    private static readonly string WithLength = Page("octet_length(f.payload)", PageRows * 16);

    private static string Page(string payload, int limit)
        => PageSql.Replace("{payload}", payload, StringComparison.Ordinal).Replace("{limit}", limit.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>The frames from <paramref name="fromMicros"/> on the timeline, with payloads.</summary>
    public IAsyncEnumerable<RecordedFrame> ReadAsync(long recordingId, long fromMicros, CancellationToken cancellationToken)
        => ReadCoreAsync(recordingId, fromMicros, payloads: true, cancellationToken);

    /// <summary>Every frame's place, kind and size, without payloads: what an export plans its file from.</summary>
    public async Task<List<RecordedFrameInfo>> ReadInfoAsync(long recordingId, CancellationToken cancellationToken)
    {
        var list = new List<RecordedFrameInfo>();
        await foreach (var frame in ReadCoreAsync(recordingId, 0, payloads: false, cancellationToken))
        {
            list.Add(frame.Info);
        }

        return list;
    }

    private async IAsyncEnumerable<RecordedFrame> ReadCoreAsync(
        long recordingId, long fromMicros, bool payloads, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The first page starts at the recording's start plus fromMicros: find that instant in received_us terms.
        long startedUs;
        await using (var start = dataSource.CreateCommand("SELECT (extract(epoch FROM started_at) * 1000000)::bigint FROM recordings WHERE id = $1"))
        {
            start.Parameters.Add(new NpgsqlParameter { Value = recordingId });
            if (await start.ExecuteScalarAsync(cancellationToken) is not long value)
            {
                yield break;
            }

            startedUs = value;
        }

        var lastReceived = fromMicros <= 0 ? long.MinValue : startedUs + fromMicros - 1;
        int lastKind = int.MaxValue;
        long lastSender = long.MaxValue, lastSequence = long.MaxValue;
        var page = new List<RecordedFrame>();
        var pageRows = payloads ? PageRows : PageRows * 16;
        while (true)
        {
            // The page is read whole before any of it is handed on: a reader that stops (a paused replay) must not
            // keep a statement, and with it a snapshot, open.
            page.Clear();
            await using (var command = dataSource.CreateCommand(payloads ? WithPayload : WithLength))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = recordingId });
                command.Parameters.Add(new NpgsqlParameter { Value = lastReceived });
                command.Parameters.Add(new NpgsqlParameter { Value = lastKind });
                command.Parameters.Add(new NpgsqlParameter { Value = lastSender });
                command.Parameters.Add(new NpgsqlParameter { Value = lastSequence });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    lastKind = reader.GetInt32(0);
                    lastSender = reader.GetInt64(1);
                    lastSequence = reader.GetInt64(2);
                    lastReceived = reader.GetInt64(3);
                    byte[]? payload = payloads ? (byte[])reader.GetValue(6) : null;
                    var length = payload?.Length ?? reader.GetInt32(6);
                    var info = new RecordedFrameInfo((MediaKind)lastKind, lastSender, reader.GetInt64(7), length, reader.GetInt32(4), reader.GetInt32(5));
                    page.Add(new RecordedFrame(info, payload));
                }
            }

            foreach (var frame in page)
            {
                yield return frame;
            }

            if (page.Count < pageRows)
            {
                yield break;
            }
        }
    }
}
