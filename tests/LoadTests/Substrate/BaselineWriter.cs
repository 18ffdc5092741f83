using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using PgVideoChat.LoadTests.Media;
using PgVideoChat.LoadTests.Stats;
using PgVideoChat.Relay.Schema;

namespace PgVideoChat.LoadTests.Substrate;

/// <summary>
/// One baseline writer: the relay's frame statements (<see cref="FrameSql"/>) as single-row INSERTs, NpgsqlBatches or
/// binary COPY, rows mixed 15 video : 25 audio like a call, as fast as the connection takes them.
/// </summary>
internal static class BaselineWriter
{
    // 15 video : 25 audio frames per second per participant, interleaved.
    private static readonly bool[] Mix = [true, false, false, true, false, true, false, false];

    public static async Task WriteAsync(string connectionString, MediaLibrary media, PhaseCounters counters, int batchSize, bool copy, int writer, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "pgvideochat-loadtests-baseline", Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(CancellationToken.None);
        long sequence = writer * 1_000_000_000L;
        var senderId = writer + 1;
        try
        {
            if (batchSize <= 1)
            {
                await using var video = Command(connection, FrameSql.InsertVideo);
                await using var audio = Command(connection, FrameSql.InsertAudio);
                await video.PrepareAsync(CancellationToken.None);
                await audio.PrepareAsync(CancellationToken.None);
                while (!cancellationToken.IsCancellationRequested)
                {
                    var isVideo = Mix[(int)(sequence % Mix.Length)];
                    var command = isVideo ? video : audio;
                    var payload = isVideo ? media.VideoFrames[(int)(sequence % media.VideoFrames.Count)] : media.AudioFrames[(int)(sequence % media.AudioFrames.Count)];
                    Fill(command.Parameters, counters.CallId, senderId, sequence, payload, isVideo);
                    var started = Stopwatch.GetTimestamp();
                    await command.ExecuteNonQueryAsync(CancellationToken.None);
                    counters.InsertLatency.Record((long)(Stopwatch.GetElapsedTime(started).TotalMilliseconds * 1000));
                    counters.OnWritten(isVideo, payload.Length, 1);
                    sequence++;
                }
            }
            else if (copy)
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    var started = Stopwatch.GetTimestamp();
                    var first = sequence;
                    await using (var transaction = await connection.BeginTransactionAsync(CancellationToken.None))
                    {
                        await CopyAsync(connection, media, counters, first, batchSize, senderId, video: true);
                        await CopyAsync(connection, media, counters, first, batchSize, senderId, video: false);
                        await transaction.CommitAsync(CancellationToken.None);
                    }

                    long bytes = 0;
                    var videoRows = 0;
                    for (var i = 0; i < batchSize; i++, sequence++)
                    {
                        var isVideo = Mix[(int)(sequence % Mix.Length)];
                        var payload = Payload(media, sequence, isVideo);
                        videoRows += isVideo ? 1 : 0;
                        bytes += payload.Length;
                        counters.Track(payload.Length);
                    }

                    counters.InsertLatency.Record((long)(Stopwatch.GetElapsedTime(started).TotalMilliseconds * 1000));
                    counters.OnBatchWritten(batchSize, videoRows, bytes);
                }
            }
            else
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    await using var batch = new NpgsqlBatch(connection);
                    var videoRows = 0;
                    long bytes = 0;
                    for (var i = 0; i < batchSize; i++, sequence++)
                    {
                        var isVideo = Mix[(int)(sequence % Mix.Length)];
                        var payload = isVideo ? media.VideoFrames[(int)(sequence % media.VideoFrames.Count)] : media.AudioFrames[(int)(sequence % media.AudioFrames.Count)];
                        var command = new NpgsqlBatchCommand(isVideo ? FrameSql.InsertVideo : FrameSql.InsertAudio);
                        AddParameters(command.Parameters);

                        Fill(command.Parameters, counters.CallId, senderId, sequence, payload, isVideo);
                        batch.BatchCommands.Add(command);
                        videoRows += isVideo ? 1 : 0;
                        bytes += payload.Length;
                        counters.Track(payload.Length);
                    }

                    var started = Stopwatch.GetTimestamp();
                    await batch.ExecuteNonQueryAsync(CancellationToken.None);
                    counters.InsertLatency.Record((long)(Stopwatch.GetElapsedTime(started).TotalMilliseconds * 1000));
                    counters.OnBatchWritten(batchSize, videoRows, bytes);
                }
            }
        }
        catch (NpgsqlException)
        {
            Interlocked.Increment(ref counters.FailedCount);
            throw;
        }
    }

    // The same COPY the relay's write pipeline issues (Relay:Ingest:WriteMethod=Copy, FrameSql): one per table and batch.
    private static async Task CopyAsync(NpgsqlConnection connection, MediaLibrary media, PhaseCounters counters, long first, int batchSize, long senderId, bool video)
    {
        await using var importer = await connection.BeginBinaryImportAsync(video ? FrameSql.CopyVideo : FrameSql.CopyAudio, CancellationToken.None);
        for (var sequence = first; sequence < first + batchSize; sequence++)
        {
            var isVideo = Mix[(int)(sequence % Mix.Length)];
            if (isVideo != video)
            {
                continue;
            }

            var now = Clock.NowMicros;
            await importer.StartRowAsync();
            await importer.WriteAsync(counters.CallId, NpgsqlDbType.Bigint);
            await importer.WriteAsync(senderId, NpgsqlDbType.Bigint);
            await importer.WriteAsync(sequence, NpgsqlDbType.Bigint);
            await importer.WriteAsync(now, NpgsqlDbType.Bigint);
            await importer.WriteAsync(now, NpgsqlDbType.Bigint);
            await importer.WriteAsync(isVideo ? MediaLibrary.VideoWidth : MediaLibrary.AudioChannels, NpgsqlDbType.Integer);
            await importer.WriteAsync(isVideo ? MediaLibrary.VideoHeight : MediaLibrary.AudioSampleRate, NpgsqlDbType.Integer);
            await importer.WriteAsync(Payload(media, sequence, isVideo), NpgsqlDbType.Bytea);
            await importer.WriteAsync(FrameSql.EveryShard, NpgsqlDbType.Bigint);
        }

        await importer.CompleteAsync();
    }

    private static byte[] Payload(MediaLibrary media, long sequence, bool isVideo)
        => isVideo ? media.VideoFrames[(int)(sequence % media.VideoFrames.Count)] : media.AudioFrames[(int)(sequence % media.AudioFrames.Count)];

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql)
    {
        var command = new NpgsqlCommand(sql, connection);
        AddParameters(command.Parameters);
        return command;
    }

    private static void Fill(NpgsqlParameterCollection parameters, long callId, long senderId, long sequence, byte[] payload, bool isVideo)
    {
        var now = Clock.NowMicros;
        ((NpgsqlParameter<long>)parameters[0]).TypedValue = callId;
        ((NpgsqlParameter<long>)parameters[1]).TypedValue = senderId;
        ((NpgsqlParameter<long>)parameters[2]).TypedValue = sequence;
        ((NpgsqlParameter<long>)parameters[3]).TypedValue = now;
        ((NpgsqlParameter<long>)parameters[4]).TypedValue = now;
        ((NpgsqlParameter<int>)parameters[5]).TypedValue = isVideo ? MediaLibrary.VideoWidth : MediaLibrary.AudioChannels;
        ((NpgsqlParameter<int>)parameters[6]).TypedValue = isVideo ? MediaLibrary.VideoHeight : MediaLibrary.AudioSampleRate;
        ((NpgsqlParameter<byte[]>)parameters[7]).TypedValue = payload;
        ((NpgsqlParameter<long>)parameters[8]).TypedValue = FrameSql.EveryShard;
    }

    private static void AddParameters(NpgsqlParameterCollection parameters)
    {
        for (var p = 0; p < FrameSql.Columns; p++)
        {
            parameters.Add(p switch { 7 => new NpgsqlParameter<byte[]>(), 5 or 6 => new NpgsqlParameter<int>(), _ => new NpgsqlParameter<long>() });
        }
    }
}
