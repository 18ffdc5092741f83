using Npgsql;

namespace PgVideoChat.LoadTests.Monitoring;

/// <summary>
/// The recordings of a run once they are complete (<c>--record</c>): how many, how many seconds they cover
/// (<c>stopped_at - started_at</c>), the disk their partitions hold and the frames in them. Complete means every
/// recording is stopped and the rotation has copied it up to its stop (<c>*_copied_until &gt;= stopped_at</c>), which
/// takes one retention window plus one partition width after the last call hung up.
/// </summary>
public sealed record RecordingTotals(int Recordings, int Incomplete, double RecordedSeconds, long PartitionBytes, long VideoFrames, long AudioFrames)
{
    /// <summary>The disk one minute of a recorded call holds.</summary>
    public double? BytesPerRecordedMinute => RecordedSeconds > 0 ? Math.Round(PartitionBytes / RecordedSeconds * 60, 0) : null;
}

internal static class RecordingProbe
{
    /// <summary>Waits up to <paramref name="wait"/> for every recording to be complete, then reads the totals (null on a schema without recordings).</summary>
    public static async Task<RecordingTotals?> TotalsAsync(string connectionString, TimeSpan wait, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "pgvideochat-loadtests-recordings", Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('recordings') IS NOT NULL", connection))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return null;
            }
        }

        var deadline = DateTime.UtcNow + wait;
        int recordings, incomplete;
        double seconds;
        while (true)
        {
            await using (var command = new NpgsqlCommand("""
                SELECT count(*)::int,
                       count(*) FILTER (WHERE stopped_at IS NULL OR video_copied_until < stopped_at OR audio_copied_until < stopped_at)::int,
                       coalesce(sum(extract(epoch FROM coalesce(stopped_at, now()) - started_at)), 0)::float8
                FROM recordings
                """, connection))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                await reader.ReadAsync(cancellationToken);
                (recordings, incomplete, seconds) = (reader.GetInt32(0), reader.GetInt32(1), reader.GetDouble(2));
            }

            if (incomplete == 0 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }

        long video, audio;
        await using (var frames = new NpgsqlCommand("SELECT (SELECT count(*) FROM recorded_video_frames), (SELECT count(*) FROM recorded_audio_frames)", connection))
        await using (var reader = await frames.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            (video, audio) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        var bytes = await PostgresProbe.RecordedBytesAsync(connection, cancellationToken);
        return new RecordingTotals(recordings, incomplete, Math.Round(seconds, 3), bytes, video, audio);
    }
}
