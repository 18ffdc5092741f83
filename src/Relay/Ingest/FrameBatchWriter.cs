using Npgsql;
using NpgsqlTypes;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Schema;

namespace PgVideoChat.Relay.Ingest;

/// <summary>
/// Writes one batch of frames in one transaction, the publish of the pattern: either binary COPY (one per table:
/// Postgres sets up partition routing once per table and batch instead of once per row) or one prepared INSERT per
/// frame pipelined in one round trip. Both write the same rows; docs/benchmarks.md measures the difference.
/// </summary>
internal static class FrameBatchWriter
{
    public static Task WriteAsync(IngestWriteMethod method, NpgsqlConnection connection, List<PendingFrame> frames, CancellationToken cancellationToken)
        => method == IngestWriteMethod.Copy ? CopyAsync(connection, frames, cancellationToken) : InsertAsync(connection, frames, cancellationToken);

    private static async Task CopyAsync(NpgsqlConnection connection, List<PendingFrame> frames, CancellationToken cancellationToken)
    {
        var video = 0;
        foreach (var frame in frames)
        {
            video += frame.Header.Kind == MediaKind.Video ? 1 : 0;
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (video > 0)
        {
            await CopyKindAsync(connection, FrameSql.CopyVideo, MediaKind.Video, frames, cancellationToken);
        }

        if (video < frames.Count)
        {
            await CopyKindAsync(connection, FrameSql.CopyAudio, MediaKind.Audio, frames, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task CopyKindAsync(NpgsqlConnection connection, string copy, MediaKind kind, List<PendingFrame> frames, CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync(copy, cancellationToken);
        foreach (var frame in frames)
        {
            if (frame.Header.Kind != kind)
            {
                continue;
            }

            var (a, b) = Dimensions(frame);
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(frame.Header.CallId, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(frame.SenderId, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync((long)frame.Header.Sequence, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(frame.Header.CaptureTimeMicros, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(frame.ReceivedMicros, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(a, NpgsqlDbType.Integer, cancellationToken);
            await importer.WriteAsync(b, NpgsqlDbType.Integer, cancellationToken);
            await importer.WriteAsync(frame.Buffer.AsMemory(0, frame.Length), NpgsqlDbType.Bytea, cancellationToken);
            await importer.WriteAsync(frame.RecipientShards, NpgsqlDbType.Bigint, cancellationToken);
        }

        await importer.CompleteAsync(cancellationToken);
    }

    private static async Task InsertAsync(NpgsqlConnection connection, List<PendingFrame> frames, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection);
        foreach (var frame in frames)
        {
            var (a, b) = Dimensions(frame);
            var command = new NpgsqlBatchCommand(frame.Header.Kind == MediaKind.Video ? FrameSql.InsertVideo : FrameSql.InsertAudio);
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = frame.Header.CallId });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = frame.SenderId });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = frame.Header.Sequence });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = frame.Header.CaptureTimeMicros });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = frame.ReceivedMicros });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = a });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = b });
            command.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = frame.Buffer.AsMemory(0, frame.Length) });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = frame.RecipientShards });
            batch.BatchCommands.Add(command);
        }

        // Prepared once per connection (the lane keeps its connection); later batches find them in Npgsql's prepared set.
        await batch.PrepareAsync(cancellationToken);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    private static (int A, int B) Dimensions(in PendingFrame frame) => frame.Header.Kind == MediaKind.Video
        ? (frame.Header.Width, frame.Header.Height)
        : (frame.Header.Channels, (int)frame.Header.SampleRate);
}
