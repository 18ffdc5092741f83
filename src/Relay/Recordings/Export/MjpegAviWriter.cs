using System.Buffers;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Recordings.Export;

/// <summary>
/// Writes an <see cref="AviExportPlan"/> as it reads the recording's frames once, in timeline order: exactly
/// <see cref="AviExportPlan.FileLength"/> bytes. Before each chunk it reads as far as the plan says the chunk needs
/// (its JPEG; for audio, the last frame that lands in those 100 ms, which may be up to about 200 ms of the timeline
/// ahead). What it holds meanwhile is the mix of the samples not yet written (<see cref="AviExportPlan.MixWindowSamples"/>
/// 32-bit sums) and the JPEGs read ahead of their slot (<see cref="AviExportPlan.MaxHeldVideoBytes"/>, usually one
/// or two per sender), in pooled buffers, plus a 64 KiB output buffer: none of it grows with the recording's length.
/// The frames must be the ones the plan was made from; anything else is an <see cref="InvalidOperationException"/>
/// (the bytes written until then are not a valid file: abort the response).
/// </summary>
internal static class MjpegAviWriter
{
    private const int OutputBufferSize = 64 * 1024;

    public static async Task WriteAsync(Stream output, AviExportPlan plan, IAsyncEnumerable<RecordedFrame> frames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(frames);

        using var sink = new AviOutput(output, Math.Max(OutputBufferSize, plan.MaxAudioChunkBytes + 16));
        using var mix = new AudioMixWindow(plan.SampleRate, plan.MixWindowSamples, plan.AudioSamples);
        var timeline = new AudioTimeline(plan.SampleRate);
        var held = new Dictionary<int, byte[]>();
        await using var source = frames.GetAsyncEnumerator(cancellationToken);
        var read = 0;

        // Reads one frame; false at the end of the frames. Audio goes into the mix, a JPEG that a slot shows is kept.
        async ValueTask<bool> ReadAsync()
        {
            if (!await source.MoveNextAsync())
            {
                return false;
            }

            var frame = source.Current;
            if (read >= plan.FrameCount)
            {
                throw new InvalidOperationException($"The frames go on past the {plan.FrameCount} the export was planned from.");
            }

            var expected = plan.Frame(read);
            if (frame.Info != expected || frame.Payload.Length != expected.Length)
            {
                throw new InvalidOperationException(
                    $"Frame {read} is {frame.Info} with {frame.Payload.Length} bytes, but the export was planned with {expected}: the frames must be the plan's, in its order.");
            }

            if (expected.Kind == MediaKind.Audio)
            {
                mix.Add(expected.SenderId, expected.B, expected.A, timeline.Place(expected), frame.Payload.Span);
            }
            else if (plan.IsShown(read))
            {
                // Copied: the source may reuse its buffers once asked for the next frame.
                var copy = ArrayPool<byte>.Shared.Rent(expected.Length);
                frame.Payload.CopyTo(copy);
                held[read] = copy;
            }

            read++;
            return true;
        }

        try
        {
            sink.WriteHeader(plan);
            for (var i = 0; i < plan.Chunks.Length; i++)
            {
                var chunk = plan.Chunks.Span[i];
                while (read < chunk.ReadUpTo)
                {
                    if (!await ReadAsync())
                    {
                        throw new InvalidOperationException($"The frames end after {read}; the export was planned from {plan.FrameCount}.");
                    }
                }

                var video = chunk.Stream != plan.AudioStream;
                await sink.WritePairAsync(AviHeader.ChunkId(chunk.Stream, video), (uint)chunk.Size, cancellationToken);
                if (!video)
                {
                    var room = await sink.ReserveAsync(chunk.Size, cancellationToken);
                    mix.Emit(chunk.Size / 2, room.Span);
                    sink.Advance(chunk.Size);
                }
                else if (chunk.Frame >= 0)
                {
                    if (!held.Remove(chunk.Frame, out var jpeg))
                    {
                        throw new InvalidOperationException($"Frame {chunk.Frame} was not kept for its slot: the plan and the writer disagree.");
                    }

                    await sink.WriteAsync(jpeg.AsMemory(0, chunk.Size), cancellationToken);
                    ArrayPool<byte>.Shared.Return(jpeg);
                    if ((chunk.Size & 1) == 1)
                    {
                        (await sink.ReserveAsync(1, cancellationToken)).Span[0] = 0;
                        sink.Advance(1);
                    }
                }
            }

            // The frames after the last one a chunk needs (past the last slot, audio past the end) are read too, to
            // hold the source to the plan before the file is completed.
            while (await ReadAsync())
            {
            }

            if (read != plan.FrameCount)
            {
                throw new InvalidOperationException($"The frames end after {read}; the export was planned from {plan.FrameCount}.");
            }

            await sink.WritePairAsync(AviHeader.IndexId, (uint)(16 * plan.Chunks.Length), cancellationToken);
            var offset = 4u;
            for (var i = 0; i < plan.Chunks.Length; i++)
            {
                var chunk = plan.Chunks.Span[i];
                // An empty chunk is no key frame: players seek to key frames, and there is no picture in it to show.
                await sink.WritePairAsync(AviHeader.ChunkId(chunk.Stream, chunk.Stream != plan.AudioStream), chunk.Size > 0 ? AviHeader.KeyFrame : 0, cancellationToken);
                await sink.WritePairAsync(offset, (uint)chunk.Size, cancellationToken);
                offset += 8u + (uint)chunk.Size + (uint)(chunk.Size & 1);
            }

            await sink.FlushAsync(cancellationToken);
            if (sink.Written != plan.FileLength)
            {
                throw new InvalidOperationException($"Wrote {sink.Written} bytes where the plan has {plan.FileLength}.");
            }
        }
        finally
        {
            foreach (var buffer in held.Values)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
