using System.Collections;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Recordings.Export;

/// <summary>
/// The whole layout of a recording's AVI export, decided from the frames' metadata before a payload is read, so that
/// the response can announce its Content-Length and <see cref="MjpegAviWriter"/> can stream the file.
/// <list type="bullet">
/// <item>Video: one Motion-JPEG stream per sender with any video, the participants' order first (then senders not in
/// it, by their first frame), at a constant 15 fps for the whole duration. Slot n (n/15 s) shows the sender's newest
/// frame by then: the first slot it is the newest carries its JPEG, later ones are empty chunks (players repeat the
/// previous picture), as are the slots before the sender's first frame; a frame superseded before any slot shows it is
/// left out. The stream header has the sender's first picture size; a JPEG of another size plays as itself in players
/// that take the size from each JPEG (ffmpeg, VLC), others scale it.</item>
/// <item>Audio: one mono PCM s16le stream at the first audio frame's rate (48 kHz without audio), the sum of every
/// sender clamped to 16 bits, placed by <see cref="AudioTimeline"/> (consecutive samples, silence over a pause of
/// more than 100 ms, overlap dropped past 100 ms of drift); stereo is averaged to mono and other rates are
/// interpolated linearly. Chunks of 100 ms, the last one shorter, exactly the duration long.</item>
/// <item>Chunks in time order (slot n at n/15 s, audio chunk k at k/10 s; video first at a tie), an <c>idx1</c> index
/// with offsets from the <c>movi</c> fourcc, every chunk a key frame, odd sizes padded.</item>
/// </list>
/// AVI 1.0 only (no OpenDML): RIFF sizes are 32-bit, so a file over 4 GiB throws <see cref="NotSupportedException"/>.
/// Files over 1 GiB are valid and play in ffmpeg-based players and VLC, but some old Video for Windows tools stop at
/// the first GiB. Memory: the frames' metadata (40 bytes a frame, plus a bit for "shown": the writer checks each frame
/// it reads against it) and 16 bytes a chunk (15 a second a video stream plus 10 a second), e.g. about 7 MB for
/// 10 minutes of 4 senders (156,000 frames, 42,000 chunks); building it also takes a transient 8 bytes a frame and
/// 4 bytes a slot. The caller's list is copied, so it can be let go.
/// </summary>
internal sealed class AviExportPlan
{
    public const int FramesPerSecond = 15;
    public const int AudioChunksPerSecond = 10;
    public const int DefaultSampleRate = 48_000;

    /// <summary>Chunk ids number streams with two digits; one of them is the audio.</summary>
    public const int MaxStreams = 100;

    private const long MicrosPerSecond = 1_000_000;

    private readonly RecordedFrameInfo[] _frames;
    private readonly BitArray _shown;
    private readonly AviChunk[] _chunks;

    /// <param name="frames">Every frame of the recording, in timeline order, as the writer will read them.</param>
    /// <param name="durationMicros">The recording's length: the export is exactly this long (video rounded up to a slot).</param>
    /// <param name="senderIds">The participants in the order their video streams should have.</param>
    public AviExportPlan(IReadOnlyList<RecordedFrameInfo> frames, long durationMicros, IReadOnlyList<long> senderIds)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(senderIds);
        ArgumentOutOfRangeException.ThrowIfNegative(durationMicros);
        _frames = Validated(frames);
        DurationMicros = durationMicros;
        SampleRate = DefaultSampleRate;
        foreach (var frame in _frames)
        {
            if (frame.Kind == MediaKind.Audio)
            {
                SampleRate = frame.B;
                break;
            }
        }

        VideoSlots = checked((int)CeilingDivide(durationMicros * FramesPerSecond, MicrosPerSecond));
        AudioSamples = ((durationMicros * SampleRate) + (MicrosPerSecond / 2)) / MicrosPerSecond;
        AudioChunks = checked((int)CeilingDivide(AudioSamples * AudioChunksPerSecond, SampleRate));
        _shown = new BitArray(_frames.Length);

        var (streams, slotFrames) = PlanVideo(senderIds);
        VideoStreams = streams;
        var (audioReadUpTo, keptEnds) = PlanAudio();
        (_chunks, MaxBytesPerSecond) = Interleave(slotFrames, audioReadUpTo);

        long movi = 0;
        foreach (var chunk in _chunks)
        {
            movi += 8L + chunk.Size + (chunk.Size & 1);
            MaxChunkBytes = Math.Max(MaxChunkBytes, chunk.Size);
            if (chunk.Stream == AudioStream)
            {
                MaxAudioChunkBytes = Math.Max(MaxAudioChunkBytes, chunk.Size);
            }
        }

        MoviDataLength = movi;
        FileLength = AviHeader.Length(VideoStreams.Count) + movi + 8 + (16L * _chunks.Length);
        if (FileLength - 8 > uint.MaxValue)
        {
            throw new NotSupportedException(
                $"The export would be {FileLength} bytes; an AVI 1.0 file holds at most 4 GiB (OpenDML is not written): export a shorter part.");
        }

        (MixWindowSamples, MaxHeldVideoBytes) = Rehearse(keptEnds);
    }

    public long DurationMicros { get; }

    /// <summary>The video streams, which are the file's first streams in this order.</summary>
    public IReadOnlyList<AviVideoStream> VideoStreams { get; }

    /// <summary>Slots (chunks) of each video stream: ceil(duration × 15).</summary>
    public int VideoSlots { get; }

    public int SampleRate { get; }

    /// <summary>Samples of the mixed audio: the duration at <see cref="SampleRate"/>.</summary>
    public long AudioSamples { get; }

    public int AudioChunks { get; }

    /// <summary>The audio stream's number: after the video streams.</summary>
    public int AudioStream => VideoStreams.Count;

    public int StreamCount => VideoStreams.Count + 1;

    public int FrameCount => _frames.Length;

    /// <summary>The <c>movi</c> chunks in file order.</summary>
    public ReadOnlyMemory<AviChunk> Chunks => _chunks;

    /// <summary>Bytes of the <c>movi</c> list after its fourcc: the chunks with their headers and padding.</summary>
    public long MoviDataLength { get; }

    public long FileLength { get; }

    public int MaxChunkBytes { get; }

    public int MaxAudioChunkBytes { get; }

    /// <summary>The most bytes of chunks within one second of the timeline (the main header's data rate).</summary>
    public int MaxBytesPerSecond { get; }

    /// <summary>
    /// How many samples past the next audio chunk's start the writer's mix must hold: the frames read ahead of a
    /// chunk (every frame up to the last one that lands in it) reach at most this far. About 0.2-0.35 s for steady
    /// senders: 100 ms chunk, up to 100 ms of drift, a frame.
    /// </summary>
    public int MixWindowSamples { get; }

    /// <summary>The most JPEG bytes the writer holds at once: frames read ahead for the audio before their slot.</summary>
    public long MaxHeldVideoBytes { get; }

    /// <summary>The metadata of frame <paramref name="index"/> as the plan was made from it.</summary>
    public RecordedFrameInfo Frame(int index) => _frames[index];

    /// <summary>Whether some slot shows video frame <paramref name="index"/> (else the writer lets it go).</summary>
    public bool IsShown(int index) => _shown[index];

    /// <summary>The first sample of audio chunk <paramref name="chunk"/> (k·rate/10, so chunks also fit odd rates).</summary>
    public long AudioChunkStart(int chunk) => Math.Min(AudioSamples, chunk * (long)SampleRate / AudioChunksPerSecond);

    private static long CeilingDivide(long value, long divisor) => (value + divisor - 1) / divisor;

    private static RecordedFrameInfo[] Validated(IReadOnlyList<RecordedFrameInfo> frames)
    {
        var copy = new RecordedFrameInfo[frames.Count];
        long previous = 0;
        for (var i = 0; i < copy.Length; i++)
        {
            var frame = copy[i] = frames[i];
            var problem = frame switch
            {
                { TimeMicros: < 0 } => "a negative time",
                _ when frame.TimeMicros < previous => "a time before the previous frame's (frames come in timeline order)",
                { Length: < 0 } => "a negative length",
                { Kind: MediaKind.Video, A: <= 0 or > ushort.MaxValue } or { Kind: MediaKind.Video, B: <= 0 or > ushort.MaxValue } => "no usable picture size",
                { Kind: MediaKind.Audio, A: < 1 or > 8 } => "not 1-8 channels",
                { Kind: MediaKind.Audio, B: < 1000 or > 192_000 } => "a sample rate outside 1-192 kHz",
                { Kind: not (MediaKind.Video or MediaKind.Audio) } => "an unknown kind",
                _ => null,
            };
            if (problem is not null)
            {
                throw new ArgumentException($"Frame {i} ({frame}) has {problem}.", nameof(frames));
            }

            previous = frame.TimeMicros;
        }

        return copy;
    }

    private (List<AviVideoStream> Streams, int[][] SlotFrames) PlanVideo(IReadOnlyList<long> senderIds)
    {
        var first = new Dictionary<long, int>();
        for (var i = 0; i < _frames.Length; i++)
        {
            if (_frames[i].Kind == MediaKind.Video)
            {
                first.TryAdd(_frames[i].SenderId, i);
            }
        }

        var order = senderIds.Where(first.ContainsKey).Distinct().ToList();
        order.AddRange(first.OrderBy(static f => f.Value).Select(static f => f.Key).Where(s => !order.Contains(s)));
        if (order.Count > MaxStreams - 1)
        {
            throw new NotSupportedException($"{order.Count} senders of video; an export holds at most {MaxStreams - 1} video streams.");
        }

        var streamOf = order.Select((sender, stream) => (sender, stream)).ToDictionary(static p => p.sender, static p => p.stream);
        var slotFrames = new int[order.Count][];
        for (var stream = 0; stream < order.Count; stream++)
        {
            slotFrames[stream] = new int[VideoSlots];
            Array.Fill(slotFrames[stream], -1);
        }

        for (var i = 0; i < _frames.Length; i++)
        {
            var frame = _frames[i];
            if (frame.Kind != MediaKind.Video)
            {
                continue;
            }

            // The first slot at or after the frame's time; a later frame for the same slot supersedes it.
            var slot = CeilingDivide(frame.TimeMicros * FramesPerSecond, MicrosPerSecond);
            if (slot < VideoSlots)
            {
                slotFrames[streamOf[frame.SenderId]][slot] = i;
            }
        }

        var streams = new List<AviVideoStream>(order.Count);
        for (var stream = 0; stream < order.Count; stream++)
        {
            var max = 0;
            foreach (var index in slotFrames[stream])
            {
                if (index >= 0)
                {
                    _shown[index] = true;
                    max = Math.Max(max, _frames[index].Length);
                }
            }

            var firstFrame = _frames[first[order[stream]]];
            streams.Add(new AviVideoStream(order[stream], firstFrame.A, firstFrame.B, max));
        }

        return (streams, slotFrames);
    }

    private (int[] ReadUpTo, long[] KeptEnds) PlanAudio()
    {
        var readUpTo = new int[AudioChunks];
        var keptEnds = new long[_frames.Length];
        var timeline = new AudioTimeline(SampleRate);
        for (var i = 0; i < _frames.Length; i++)
        {
            if (_frames[i].Kind != MediaKind.Audio)
            {
                continue;
            }

            var placement = timeline.Place(_frames[i]);
            var from = placement.KeptStart;
            var end = Math.Min(placement.End, AudioSamples);
            if (from >= end)
            {
                continue;
            }

            keptEnds[i] = end;
            for (var chunk = ChunkOf(from); chunk <= ChunkOf(end - 1); chunk++)
            {
                readUpTo[chunk] = i + 1;
            }
        }

        return (readUpTo, keptEnds);
    }

    // The chunk holding sample p: the last k with floor(k·rate/10) <= p.
    private int ChunkOf(long sample) => (int)(CeilingDivide(AudioChunksPerSecond * (sample + 1), SampleRate) - 1);

    // Also the most bytes in one second of the timeline (the main header's data rate).
    private (AviChunk[] Chunks, int MaxBytesPerSecond) Interleave(int[][] slotFrames, int[] audioReadUpTo)
    {
        var videoSlots = VideoStreams.Count > 0 ? VideoSlots : 0;
        var chunks = new AviChunk[(videoSlots * VideoStreams.Count) + AudioChunks];
        var count = 0;
        long second = 0, secondBytes = 0, maxBytes = 0;
        void Add(AviChunk chunk, long at)
        {
            chunks[count++] = chunk;
            if (at != second)
            {
                second = at;
                secondBytes = 0;
            }

            secondBytes += 8L + chunk.Size + (chunk.Size & 1);
            maxBytes = Math.Max(maxBytes, secondBytes);
        }

        for (int slot = 0, audio = 0; slot < videoSlots || audio < AudioChunks;)
        {
            // Slot n is at n/15 s and audio chunk k at k/10 s: compare 2n with 3k (thirtieths of a second).
            if (slot < videoSlots && (audio >= AudioChunks || 2L * slot <= 3L * audio))
            {
                for (var stream = 0; stream < VideoStreams.Count; stream++)
                {
                    var frame = slotFrames[stream][slot];
                    Add(frame < 0 ? new AviChunk(stream, 0, -1, 0) : new AviChunk(stream, _frames[frame].Length, frame, frame + 1), slot / FramesPerSecond);
                }

                slot++;
            }
            else
            {
                var samples = AudioChunkStart(audio + 1) - AudioChunkStart(audio);
                Add(new AviChunk(AudioStream, (int)(2 * samples), -1, audioReadUpTo[audio]), audio / AudioChunksPerSecond);
                audio++;
            }
        }

        return (chunks, (int)Math.Min(int.MaxValue, maxBytes));
    }

    // Runs the writer's reading order over the metadata: how far ahead the mix must reach and how many JPEG bytes
    // wait for their slot at most.
    private (int MixWindow, long HeldVideo) Rehearse(long[] keptEnds)
    {
        long window = MaxAudioChunkBytes / 2, held = 0, maxHeld = 0, emitted = 0;
        var read = 0;
        foreach (var chunk in _chunks)
        {
            for (; read < chunk.ReadUpTo; read++)
            {
                if (_frames[read].Kind == MediaKind.Video && _shown[read])
                {
                    held += _frames[read].Length;
                    maxHeld = Math.Max(maxHeld, held);
                }
                else if (keptEnds[read] > 0)
                {
                    window = Math.Max(window, keptEnds[read] - emitted);
                }
            }

            if (chunk.Stream == AudioStream)
            {
                emitted += chunk.Size / 2;
            }
            else if (chunk.Frame >= 0)
            {
                held -= chunk.Size;
            }
        }

        return (checked((int)Math.Max(window, 1)), maxHeld);
    }
}
