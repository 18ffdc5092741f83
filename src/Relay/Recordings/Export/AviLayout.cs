using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Recordings.Export;

/// <summary>One chunk of the AVI's <c>movi</c> list: a video slot (a frame, or empty: repeat the last) or 100 ms of mixed audio.</summary>
internal readonly record struct AviChunk(int Stream, int Size, int FrameIndex, long AudioChunk);

/// <summary>
/// The whole layout of an export, decided from the frames' metadata before a byte is written, so that the response
/// has a Content-Length and the writer streams: one constant-rate Motion-JPEG stream (15 fps) per sender with video,
/// where a slot holds the sender's newest frame by then (an empty chunk repeats the previous one, as players expect),
/// and one mono PCM stream that mixes every sender. 16 bytes of plan per chunk; AVI 1.0, so at most 4 GiB.
/// </summary>
internal sealed class AviLayout
{
    public const int Fps = 15;
    public const int AudioChunkMillis = 100;

    private AviLayout(List<AviChunk> chunks, List<(long SenderId, int Width, int Height, int MaxFrame)> video, int sampleRate, long audioSamples, long durationMicros)
    {
        Chunks = chunks;
        Video = video;
        SampleRate = sampleRate;
        AudioSamples = audioSamples;
        DurationMicros = durationMicros;
        VideoSlots = (int)Math.Ceiling(durationMicros * Fps / 1e6);
    }

    public List<AviChunk> Chunks { get; }

    public List<(long SenderId, int Width, int Height, int MaxFrame)> Video { get; }

    public int AudioStream => Video.Count;

    public int SampleRate { get; }

    public long AudioSamples { get; }

    public long DurationMicros { get; }

    public int VideoSlots { get; }

    public int SamplesPerChunk => SampleRate * AudioChunkMillis / 1000;

    public static AviLayout Plan(IReadOnlyList<RecordedFrameInfo> frames, long durationMicros)
    {
        ArgumentNullException.ThrowIfNull(frames);
        durationMicros = Math.Max(durationMicros, frames.Count == 0 ? 0 : frames[^1].TimeMicros + 1);
        var sampleRate = 48_000;
        var byFrameOrder = new Dictionary<long, List<int>>();
        var video = new List<(long SenderId, int Width, int Height, int MaxFrame)>();
        var foundAudio = false;
        for (var i = 0; i < frames.Count; i++)
        {
            var frame = frames[i];
            if (frame.Kind == MediaKind.Audio)
            {
                if (!foundAudio)
                {
                    sampleRate = frame.B;
                    foundAudio = true;
                }

                continue;
            }

            if (!byFrameOrder.TryGetValue(frame.SenderId, out var list))
            {
                byFrameOrder[frame.SenderId] = list = [];
                video.Add((frame.SenderId, frame.A, frame.B, 0));
            }

            list.Add(i);
        }

        var slots = (int)Math.Ceiling(durationMicros * Fps / 1e6);
        var entries = new List<(long Time, int Order, AviChunk Chunk)>();
        for (var stream = 0; stream < video.Count; stream++)
        {
            var own = byFrameOrder[video[stream].SenderId];
            var next = 0;
            var shown = -1;
            var maxFrame = 0;
            for (var slot = 0; slot < slots; slot++)
            {
                var slotTime = (long)(slot * 1e6 / Fps);
                while (next < own.Count && frames[own[next]].TimeMicros <= slotTime)
                {
                    next++;
                }

                var newest = next - 1;
                if (newest >= 0 && newest != shown)
                {
                    shown = newest;
                    var size = frames[own[newest]].Length;
                    maxFrame = Math.Max(maxFrame, size);
                    entries.Add((slotTime, 0, new AviChunk(stream, size, own[newest], -1)));
                }
                else
                {
                    entries.Add((slotTime, 0, new AviChunk(stream, 0, -1, -1)));
                }
            }

            video[stream] = video[stream] with { MaxFrame = maxFrame };
        }

        var audioSamples = (long)(durationMicros * (double)sampleRate / 1e6);
        var perChunk = sampleRate * AudioChunkMillis / 1000;
        for (long chunk = 0; chunk * perChunk < audioSamples; chunk++)
        {
            var samples = (int)Math.Min(perChunk, audioSamples - (chunk * perChunk));
            entries.Add((chunk * AudioChunkMillis * 1000, 1, new AviChunk(video.Count, samples * 2, -1, chunk)));
        }

        var chunks = entries.OrderBy(static e => e.Time).ThenBy(static e => e.Order).Select(static e => e.Chunk).ToList();
        return new AviLayout(chunks, video, sampleRate, audioSamples, durationMicros);
    }
}
