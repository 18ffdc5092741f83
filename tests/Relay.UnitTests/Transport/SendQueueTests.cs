using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Telemetry;
using PgVideoChat.Relay.Transport;

namespace PgVideoChat.Relay.UnitTests.Transport;

/// <summary>A connection's send queue: control first and never dropped, media bounded by dropping the oldest.</summary>
public sealed class SendQueueTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly RelayState _state = new();
    private readonly FrameDropTally _drops = new();

    private ClientSendQueue NewQueue(int control = 3) => new(
        new FanOutOptions { VideoQueueFrames = 2, AudioQueueFrames = 3, ControlQueueMessages = control },
        new RelayMetrics(_services.GetRequiredService<IMeterFactory>(), _state),
        _state,
        _drops);

    [Fact]
    public void A_dropped_frame_is_tallied_under_its_call_and_sender_from_its_header()
    {
        using var queue = NewQueue();
        for (uint i = 0; i < 4; i++)
        {
            var frame = new OutboundFrame(MediaKind.Video, MediaFrameHeader.Size + 4);
            MediaFrameHeader.Video(i, callId: 7, captureTimeMicros: 1, width: 640, height: 360, senderId: 9).Write(frame.Memory.Span);
            queue.EnqueueFrame(frame);
            frame.Release();
        }

        // Two of four fit: the two oldest were dropped, and taking the tally empties it.
        Assert.Equal(new Dictionary<(long, long), int> { [(7, 9)] = 2 }, _drops.TakeAll());
        Assert.Empty(_drops.TakeAll());
    }

    [Fact]
    public async Task Control_comes_before_audio_before_video_and_video_keeps_only_the_newest()
    {
        using var queue = NewQueue();
        var frames = Enumerable.Range(0, 4).Select(_ => new OutboundFrame(MediaKind.Video, 10)).ToList();
        foreach (var frame in frames)
        {
            queue.EnqueueFrame(frame);
        }

        var audio = new OutboundFrame(MediaKind.Audio, 10);
        queue.EnqueueFrame(audio);
        Assert.True(queue.EnqueueControl([1]));
        Assert.True(queue.EnqueueControl([0], first: true));

        var order = new List<object>();
        for (var i = 0; i < 5; i++)
        {
            var item = (await queue.DequeueAsync(CancellationToken.None))!.Value;
            order.Add(item.Control is { } c ? c[0] : item.Frame!);
        }

        Assert.Equal([(byte)0, (byte)1, audio, frames[2], frames[3]], order);
        Assert.Equal(0, _state.QueuedMessages);
        queue.Complete();
    }

    [Fact]
    public void Control_overflow_marks_the_client_too_slow_instead_of_dropping()
    {
        using var queue = NewQueue(control: 2);
        Assert.True(queue.EnqueueControl([1]));
        Assert.True(queue.EnqueueControl([2]));
        Assert.False(queue.EnqueueControl([3]));
        Assert.True(queue.Overflowed);
    }

    [Fact]
    public void Completing_the_queue_releases_every_frame_it_held()
    {
        using var queue = NewQueue();
        var frame = new OutboundFrame(MediaKind.Video, 10);
        queue.EnqueueFrame(frame);
        frame.Release(); // the reader's reference
        queue.Complete();
        Assert.Throws<InvalidOperationException>(frame.Release);
        Assert.Equal(0, _state.QueuedMessages);
    }

    public void Dispose() => _services.Dispose();
}
