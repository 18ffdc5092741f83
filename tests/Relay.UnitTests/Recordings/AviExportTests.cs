using System.Runtime.CompilerServices;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Recordings;
using PgVideoChat.Relay.Recordings.Export;
using PgVideoChat.TestSupport.Media;

namespace PgVideoChat.Relay.UnitTests.Recordings;

public sealed class AviExportTests
{
    private const int Rate = 48_000;

    [Fact]
    public async Task Two_senders_get_a_stream_each_with_a_chunk_per_slot_interleaved_with_the_audio_in_time_order()
    {
        // Slots are at n/15 s: 0, 66.7, 133.3, 200, 266.7, 333.3, 400, 466.7 ms for half a second.
        var f0 = Jpeg(101);
        var f1 = Jpeg(50);
        var f2 = Jpeg(60);
        var f3 = Jpeg(70);
        var g0 = Jpeg(80);
        var g1 = Jpeg(90);
        var frames = Merge(
            [Video(10, 0, f0, 64, 48), Video(10, 30_000, f1, 64, 48), Video(10, 40_000, f2, 64, 48), Video(10, 300_000, f3, 32, 24),
             Video(20, 150_000, g0, 32, 24), Video(20, 480_000, g1, 32, 24)],
            ToneFrames(10, 0, 500_000, 440, 4000),
            ToneFrames(20, 150_000, 500_000, 880, 4000),
            ToneFrames(30, 100_000, 300_000, 660, 4000));

        var (plan, avi) = await ExportAsync(frames, 500_000, [20, 10]);

        Assert.Equal(["vids", "vids", "auds"], avi.Streams.Select(s => s.Type));
        Assert.Equal([20L, 10L], plan.VideoStreams.Select(s => s.SenderId));
        Assert.Equal((66_667, 8, 3, 0x110, 32, 24), (avi.MicroSecPerFrame, avi.TotalFrames, avi.StreamCount, avi.Flags, avi.Width, avi.Height));
        foreach (var (stream, width, height) in new[] { (0, 32, 24), (1, 64, 48) })
        {
            var video = avi.Streams[stream];
            Assert.Equal(("MJPG", "MJPG", 1, 15, 8, width, height), (video.Handler, video.Compression, video.Scale, video.Rate, video.Length, video.Width, video.Height));
        }

        var audio = avi.Streams[2];
        Assert.Equal((1, 1, Rate, 16, 2, 24_000, 1, Rate), (audio.FormatTag, audio.Channels, audio.SampleRate, audio.BitsPerSample, audio.BlockAlign, audio.Length, audio.Scale, audio.Rate));

        // Video at 2n thirtieths of a second, audio chunks at 3k; video first at a tie.
        string[] slot = ["00dc", "01dc"];
        string[] expectedOrder =
        [
            .. slot, "02wb", .. slot, "02wb", .. slot, .. slot, "02wb", .. slot, "02wb", .. slot, .. slot, "02wb", .. slot,
        ];
        Assert.Equal(expectedOrder, avi.Chunks.Select(c => c.Id));

        // Sender 20 starts at 150 ms (slot 3); its frame at 480 ms is past the last slot. Sender 10's frame at 30 ms is
        // superseded at 40 ms before slot 1 shows it; the others repeat by empty chunks.
        Assert.Equal([0, 0, 0, 80, 0, 0, 0, 0], avi.ChunksOf(0).Select(c => c.Payload.Length));
        Assert.Equal([101, 60, 0, 0, 0, 70, 0, 0], avi.ChunksOf(1).Select(c => c.Payload.Length));
        Assert.Equal(g0, avi.ChunksOf(0)[3].Payload.ToArray());
        Assert.Equal(f0, avi.ChunksOf(1)[0].Payload.ToArray());
        Assert.Equal(f2, avi.ChunksOf(1)[1].Payload.ToArray());
        Assert.Equal(f3, avi.ChunksOf(1)[5].Payload.ToArray());
        Assert.All(avi.ChunksOf(2), c => Assert.Equal(9600, c.Payload.Length));
        Assert.False(plan.IsShown(frames.FindIndex(f => f.Payload.Equals(f1))));
        Assert.False(plan.IsShown(frames.FindIndex(f => f.Payload.Equals(g1))));

        Assert.True(avi.IndexFromMovi);
        // Every chunk with data is a key frame; an empty one is not, so that a player never seeks to one.
        Assert.All(avi.Index, e => Assert.Equal(e.Size > 0 ? 0x10 : 0, e.Flags));
        Assert.Equal(avi.Bytes.Length, plan.FileLength);
    }

    [Fact]
    public async Task Two_senders_tones_are_mixed_each_at_its_own_time()
    {
        var frames = Merge(ToneFrames(1, 0, 1_000_000, 440, 8000), ToneFrames(2, 500_000, 1_500_000, 880, 8000));

        var (_, avi) = await ExportAsync(frames, 1_500_000, [1, 2]);

        var mix = Tone.Samples(avi.DataOf(0));
        Assert.Equal(72_000, mix.Length);
        AssertTones(Window(mix, 0.1, 0.4), loud: [440], quiet: [880]);
        AssertTones(Window(mix, 0.6, 0.9), loud: [440, 880], quiet: []);
        AssertTones(Window(mix, 1.1, 1.4), loud: [880], quiet: [440]);
        // Sender 2 starts at 0.5 s, not at the mix's start.
        Assert.Equal(0, Tone.Goertzel(Window(mix, 0.4, 0.5), 880, Rate), 1);
    }

    [Fact]
    public async Task A_pause_of_a_sender_is_silence_and_its_sound_resumes_at_the_frames_time()
    {
        var frames = Merge(ToneFrames(1, 0, 500_000, 440, 8000), ToneFrames(1, 1_000_000, 1_500_000, 440, 8000));

        var (_, avi) = await ExportAsync(frames, 1_600_000, [1]);

        var mix = Tone.Samples(avi.DataOf(0));
        Assert.True(Tone.Goertzel(Window(mix, 0.05, 0.45), 440, Rate) > 7000);
        Assert.Equal(0, Tone.Rms(Window(mix, 0.5, 1.0)));
        Assert.True(Tone.Rms(Window(mix, 1.0, 1.01)) > 1000);
        Assert.True(Tone.Goertzel(Window(mix, 1.05, 1.45), 440, Rate) > 7000);
        Assert.Equal(0, Tone.Rms(Window(mix, 1.5, 1.6)));
    }

    [Fact]
    public async Task A_backlog_more_than_100_ms_behind_the_sender_s_samples_is_dropped_and_the_sender_stays_within_100_ms()
    {
        // 20-ms frames, each a constant 100·(k+1) so that the mix shows which frame went where. Frames 10-24 were held
        // up and arrived together at 480 ms; from 25 on they come on time again (frame k at 20k ms).
        var frames = new List<RecordedFrame>();
        for (var k = 0; k < 50; k++)
        {
            var at = k is >= 10 and < 25 ? 480_000 : k * 20_000L;
            frames.Add(Audio(1, at, Enumerable.Repeat((short)(100 * (k + 1)), 960).ToArray()));
        }

        var (_, avi) = await ExportAsync(frames, 1_100_000, [1]);

        // 0-200 ms frames 0-9; a gap of 280 ms, so frame 10 starts at its own 480 ms; 10-15 follow each other to 600 ms,
        // where the sender is 120 ms ahead of frame 16's time: 16-24 are dropped. Frame 25 (500 ms) is then exactly
        // 100 ms behind and follows on, as does the rest, 100 ms late.
        var expected = new short[52_800];
        void Put(int frame, int atMillis) => Array.Fill(expected, (short)(100 * (frame + 1)), atMillis * 48, 960);
        for (var k = 0; k < 10; k++)
        {
            Put(k, 20 * k);
        }

        for (var k = 10; k < 16; k++)
        {
            Put(k, 480 + (20 * (k - 10)));
        }

        for (var k = 25; k < 50; k++)
        {
            Put(k, (20 * k) + 100);
        }

        Assert.Equal(expected, Tone.Samples(avi.DataOf(0)));
    }

    [Fact]
    public async Task Jitter_within_100_ms_keeps_a_sender_s_samples_consecutive()
    {
        int[] jitterMillis = [0, 30, -20, 90, 60, -90, 10, 0, 95, -5];
        var frames = jitterMillis
            .Select((jitter, k) => Audio(1, Math.Max(0, (k * 20_000L) + (jitter * 1000L)), Enumerable.Repeat((short)(k + 1), 960).ToArray()))
            .OrderBy(f => f.Info.TimeMicros)
            .ToList();

        var (_, avi) = await ExportAsync(frames, 200_000, [1]);

        var expected = frames.SelectMany(f => Enumerable.Repeat(Tone.Samples(f.Payload.Span)[0], 960)).ToArray();
        Assert.Equal(expected, Tone.Samples(avi.DataOf(0)));
    }

    [Fact]
    public async Task Stereo_is_averaged_and_other_rates_are_resampled_to_the_first_frame_s_rate()
    {
        var frames = Merge(
            ToneFrames(1, 0, 1_000_000, 440, 8000),
            ToneFrames(2, 0, 1_000_000, 1000, 8000, rate: 16_000),
            ToneFrames(3, 0, 1_000_000, 880, 8000, rate: 24_000, leftOnly: true));

        var (plan, avi) = await ExportAsync(frames, 1_200_000, [1, 2, 3]);

        Assert.Equal(Rate, plan.SampleRate);
        var mix = Tone.Samples(avi.DataOf(0));
        var middle = Window(mix, 0.2, 0.8);
        Assert.InRange(Tone.Goertzel(middle, 440, Rate), 7800, 8200);
        Assert.InRange(Tone.Goertzel(middle, 1000, Rate), 7500, 8200);
        Assert.InRange(Tone.Goertzel(middle, 880, Rate), 3800, 4200);
        Assert.True(Tone.Goertzel(middle, 2000, Rate) < 200, "no image of the resampled tones");
        Assert.Equal(0, Tone.Rms(Window(mix, 1.001, 1.2)));
    }

    [Fact]
    public void Audio_chunks_are_a_tenth_of_a_second_even_at_a_rate_not_divisible_by_ten()
    {
        var plan = new AviExportPlan([Audio(1, 0, new short[441]).Info with { B = 11_025 }], 1_000_000, [1]);

        var sizes = plan.Chunks.ToArray().Select(c => c.Size / 2).ToArray();
        Assert.Equal(10, sizes.Length);
        Assert.Equal(11_025, sizes.Sum());
        Assert.All(sizes, s => Assert.InRange(s, 1102, 1103));
    }

    [Theory]
    [InlineData("fewer")]
    [InlineData("more")]
    [InlineData("length")]
    [InlineData("time")]
    public async Task Frames_that_are_not_the_plan_s_throw(string change)
    {
        var frames = Merge([Video(1, 0, Jpeg(40), 8, 8), Video(1, 200_000, Jpeg(41), 8, 8)], ToneFrames(1, 0, 300_000, 440, 1000));
        var plan = new AviExportPlan(frames.Select(f => f.Info).ToList(), 300_000, [1]);
        var last = frames[^1];
        List<RecordedFrame> given = change switch
        {
            "fewer" => frames[..^1],
            "more" => [.. frames, last with { Info = last.Info with { TimeMicros = last.Info.TimeMicros + 20_000 } }],
            "length" => [.. frames[..3], frames[3] with { Payload = frames[3].Payload[..^2] }, .. frames[4..]],
            _ => [.. frames[..3], frames[3] with { Info = frames[3].Info with { TimeMicros = frames[3].Info.TimeMicros + 1 } }, .. frames[4..]],
        };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => MjpegAviWriter.WriteAsync(new MemoryStream(), plan, Reusing(given), CancellationToken.None));
        Assert.Contains("planned", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_jpeg_comes_back_out_of_the_file_with_its_colour_and_size()
    {
        var red = JpegPixels.EncodeSolid(48, 32, (200, 40, 90));
        var blue = JpegPixels.EncodeSolid(24, 16, (20, 60, 220));
        var frames = new List<RecordedFrame> { Video(1, 0, red, 48, 32), Video(1, 200_000, blue, 24, 16) };

        var (_, avi) = await ExportAsync(frames, 400_000, [1]);

        Assert.Equal((48, 32), (avi.Streams[0].Width, avi.Streams[0].Height));
        var shown = avi.ChunksOf(0).Where(c => c.Payload.Length > 0).Select(c => c.Payload.ToArray()).ToList();
        Assert.Equal(2, shown.Count);
        AssertColour((200, 40, 90), JpegPixels.PixelAt(shown[0], 0.5, 0.5));
        AssertColour((20, 60, 220), JpegPixels.PixelAt(shown[1], 0.25, 0.75));
        Assert.Equal((24, 16), JpegPixels.Decode(shown[1]) is var (w, h, _) ? (w, h) : default);
    }

    [Fact]
    public async Task A_recording_without_frames_is_a_valid_file_of_silence()
    {
        var (plan, avi) = await ExportAsync([], 1_000_000, [1, 2]);

        Assert.Equal((1, "auds", 0), (avi.StreamCount, avi.Streams[0].Type, avi.TotalFrames));
        Assert.Equal(DefaultRate(plan), avi.Streams[0].SampleRate);
        Assert.Equal(new short[Rate], Tone.Samples(avi.DataOf(0)));
    }

    [Fact]
    public void An_export_over_4_GiB_is_refused()
    {
        RecordedFrameInfo Huge(long at) => new(MediaKind.Video, 1, at, 1_500_000_000, 640, 360);

        var error = Assert.Throws<NotSupportedException>(() => new AviExportPlan([Huge(0), Huge(100_000), Huge(200_000)], 1_000_000, [1]));
        Assert.Contains("4 GiB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_minute_of_eight_jittery_senders_needs_a_mix_window_of_a_few_hundred_ms_and_a_few_jpegs()
    {
        var random = new Random(7);
        var frames = new List<RecordedFrame>();
        for (var sender = 1; sender <= 8; sender++)
        {
            for (var k = 0; k < 60 * 15; k++)
            {
                frames.Add(Video(sender, Math.Max(0, (k * 66_667L) + random.Next(-30_000, 30_000)), Jpeg(500 + random.Next(100)), 320, 180));
            }

            for (var k = 0; k < 60 * 50; k++)
            {
                frames.Add(Audio(sender, Math.Max(0, (k * 20_000L) + random.Next(-40_000, 40_000)), new short[960]));
            }
        }

        frames = [.. frames.OrderBy(f => f.Info.TimeMicros)];
        var plan = new AviExportPlan(frames.Select(f => f.Info).ToList(), 60_000_000, [.. Enumerable.Range(1, 8).Select(s => (long)s)]);
        var counter = new CountingStream();
        await MjpegAviWriter.WriteAsync(counter, plan, Reusing(frames), CancellationToken.None);

        Assert.Equal(plan.FileLength, counter.Length);
        Assert.InRange(plan.MixWindowSamples, 4800, Rate * 4 / 10);
        Assert.InRange(plan.MaxHeldVideoBytes, 600, 8 * 5 * 600);
        Assert.Equal(40, Unsafe.SizeOf<RecordedFrameInfo>());
        Assert.Equal(16, Unsafe.SizeOf<AviChunk>());
    }

    private static int DefaultRate(AviExportPlan plan) => plan.SampleRate == AviExportPlan.DefaultSampleRate ? Rate : -1;

    private static async Task<(AviExportPlan Plan, AviFile Avi)> ExportAsync(List<RecordedFrame> frames, long durationMicros, long[] senders)
    {
        var plan = new AviExportPlan(frames.Select(f => f.Info).ToList(), durationMicros, senders);
        using var output = new MemoryStream();
        await MjpegAviWriter.WriteAsync(output, plan, Reusing(frames), CancellationToken.None);
        Assert.Equal(plan.FileLength, output.Length);
        return (plan, AviFile.Parse(output.ToArray()));
    }

    // Hands every payload out of one buffer that the next frame overwrites, as a pooled reader may: what the writer
    // keeps past a frame it must copy.
    private static async IAsyncEnumerable<RecordedFrame> Reusing(IEnumerable<RecordedFrame> frames)
    {
        var buffer = new byte[64 * 1024];
        foreach (var frame in frames)
        {
            await Task.Yield();
            frame.Payload.CopyTo(buffer);
            yield return frame with { Payload = buffer.AsMemory(0, frame.Payload.Length) };
            buffer.AsSpan().Fill(0xEE);
        }
    }

    private static List<RecordedFrame> Merge(params IEnumerable<RecordedFrame>[] parts)
        => [.. parts.SelectMany(p => p).OrderBy(f => f.Info.TimeMicros)];

    private static RecordedFrame Video(long sender, long atMicros, byte[] jpeg, int width, int height)
        => new(new RecordedFrameInfo(MediaKind.Video, sender, atMicros, jpeg.Length, width, height), jpeg);

    private static RecordedFrame Audio(long sender, long atMicros, short[] samples, int channels = 1, int rate = Rate)
        => new(new RecordedFrameInfo(MediaKind.Audio, sender, atMicros, samples.Length * 2, channels, rate), Tone.Pcm(samples));

    // 20-ms frames of a continuous sine from one time to another; stereo with the tone on the left only if asked.
    private static IEnumerable<RecordedFrame> ToneFrames(long sender, long fromMicros, long toMicros, double frequency, double amplitude, int rate = Rate, bool leftOnly = false)
    {
        var perFrame = rate / 50;
        for (long at = fromMicros, n = 0; at < toMicros; at += 20_000, n += perFrame)
        {
            var tone = Tone.Sine(frequency, rate, perFrame, amplitude, n);
            if (!leftOnly)
            {
                yield return Audio(sender, at, tone, 1, rate);
                continue;
            }

            var stereo = new short[perFrame * 2];
            for (var i = 0; i < perFrame; i++)
            {
                stereo[2 * i] = tone[i];
            }

            yield return Audio(sender, at, stereo, 2, rate);
        }
    }

    // Not a real JPEG: the layout does not look inside; the bytes tell the frames apart.
    private static byte[] Jpeg(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(length + i))];

    private static short[] Window(short[] samples, double fromSeconds, double toSeconds)
        => samples[(int)(fromSeconds * Rate)..(int)(toSeconds * Rate)];

    private static void AssertTones(short[] window, double[] loud, double[] quiet)
    {
        foreach (var frequency in loud)
        {
            Assert.InRange(Tone.Goertzel(window, frequency, Rate), 7500, 8500);
        }

        foreach (var frequency in quiet)
        {
            Assert.InRange(Tone.Goertzel(window, frequency, Rate), 0, 100);
        }
    }

    private static void AssertColour((int R, int G, int B) expected, (byte R, byte G, byte B) actual)
    {
        Assert.InRange(actual.R, expected.R - 8, expected.R + 8);
        Assert.InRange(actual.G, expected.G - 8, expected.G + 8);
        Assert.InRange(actual.B, expected.B - 8, expected.B + 8);
    }

    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _length += count;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _length += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }
}
