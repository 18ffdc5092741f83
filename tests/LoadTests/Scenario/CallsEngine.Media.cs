using System.Diagnostics;
using PgVideoChat.LoadTests.Client;
using PgVideoChat.LoadTests.Media;
using PgVideoChat.LoadTests.Stats;
using PgVideoChat.Protocol;

namespace PgVideoChat.LoadTests.Scenario;

internal sealed partial class CallsEngine
{
    /// <summary>
    /// One participant's media: video at the profile's fps and audio every interval, on one absolute schedule from a
    /// random phase, each frame stamped with its capture time just before it is sent.
    /// </summary>
    private async Task SendLoopAsync(SimCall call, int index, CancellationToken cancellationToken)
    {
        var participant = call.Participants[index]!;
        var sender = call.Senders[index];
        var profile = _options.Media;
        var recipients = call.Participants.Length - 1;
        var buffer = new byte[MediaFrameHeader.Size + Math.Max(_media.MaxVideoBytes, _media.AudioFrameBytes)];
        var frequency = Stopwatch.Frequency;
        var origin = Stopwatch.GetTimestamp();
        var video = new MediaSchedule(origin, profile.Video && profile.VideoFps > 0 ? (long)(frequency / profile.VideoFps) : MediaSchedule.Never, sender.VideoBase);
        var audio = new MediaSchedule(origin, profile.Audio && profile.AudioInterval > TimeSpan.Zero ? (long)(frequency * profile.AudioInterval.TotalSeconds) : MediaSchedule.Never, sender.AudioBase);
        var videoOffset = index * 3;

        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var due = Math.Min(video.Next, audio.Next);
                await _pacer.WaitUntil(due);
                if (cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                var now = Stopwatch.GetTimestamp();
                var lateMicros = (now - due) * 1_000_000 / frequency;
                _lateness.Record(Math.Max(1, lateMicros));
                _totalLateness.Record(Math.Max(1, lateMicros));

                if (video.Next <= now)
                {
                    Interlocked.Add(ref _skippedFrames, video.SkipMissed(now));
                    var payload = _media.VideoFrames[(int)((video.Index + videoOffset) % _media.VideoFrames.Count)];
                    var capture = Clock.NowMicros;
                    var header = MediaFrameHeader.Video(video.Sequence, call.CallId, capture, MediaLibrary.VideoWidth, MediaLibrary.VideoHeight);
                    await SendFrameAsync(participant, buffer, header, payload, capture, recipients, sender.VideoLog, unchecked(video.Sequence - sender.VideoBase), cancellationToken);
                    video.Advance();
                }

                if (audio.Next <= Stopwatch.GetTimestamp())
                {
                    Interlocked.Add(ref _skippedFrames, audio.SkipMissed(Stopwatch.GetTimestamp()));
                    var payload = _media.AudioFrames[(int)(audio.Index % _media.AudioFrames.Count)];
                    var capture = Clock.NowMicros;
                    var header = MediaFrameHeader.Audio(audio.Sequence, call.CallId, capture, MediaLibrary.AudioChannels, MediaLibrary.AudioSampleRate);
                    await SendFrameAsync(participant, buffer, header, payload, capture, recipients, sender.AudioLog, unchecked(audio.Sequence - sender.AudioBase), cancellationToken);
                    audio.Advance();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException)
        {
            Interlocked.Increment(ref _sendFailures);
            CountError(participant.CloseStatus is { } status ? $"closed_{(int)status}" : "send_failed");
            if (Interlocked.Increment(ref _loggedFailures) <= 5)
            {
                _log($"call {call.Index}: {participant} stopped sending: {Participant.Describe(ex)} {participant.CloseDescription}");
            }
        }
    }

    private ValueTask SendFrameAsync(Participant participant, byte[] buffer, in MediaFrameHeader header, byte[] payload, long captureMicros, int recipients,
        SentLog log, uint offset, CancellationToken cancellationToken)
    {
        header.Write(buffer);
        payload.CopyTo(buffer, MediaFrameHeader.Size);
        return SendAsync(participant, buffer.AsMemory(0, MediaFrameHeader.Size + payload.Length), header.Kind, captureMicros, payload.Length, recipients, log, offset, cancellationToken);
    }

    /// <summary>
    /// Decides the frame's window (by capture time, against the windows open now), records the decision where the
    /// receivers read it, counts the frame as sent, then sends it; a send cancelled at stop takes the count back.
    /// </summary>
    private async ValueTask SendAsync(Participant participant, ReadOnlyMemory<byte> message, MediaKind kind, long captureMicros, int payloadBytes, int recipients,
        SentLog log, uint offset, CancellationToken cancellationToken)
    {
        MeasurementWindow? window = null;
        foreach (var open in Volatile.Read(ref _windows))
        {
            if (!open.Frozen && open.Contains(captureMicros))
            {
                window = open;
                break;
            }
        }

        log.Set(offset, window?.Id ?? 0);
        window?.For(kind).OnSent(payloadBytes, recipients);
        Interlocked.Increment(ref kind == MediaKind.Video ? ref _videoSent : ref _audioSent);
        try
        {
            await participant.SendBinaryAsync(message, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Cancelling an in-flight send aborts it: the frame never reached the relay whole.
            log.Set(offset, 0);
            window?.For(kind).OnSendCancelled(payloadBytes, recipients);
            Interlocked.Decrement(ref kind == MediaKind.Video ? ref _videoSent : ref _audioSent);
            throw;
        }
    }

    public void OnFrame(Participant receiver, in MediaFrameHeader header, int payloadBytes, long receivedMicros)
    {
        if (!receiver.Flows.TryGetValue(header.SenderId, out var trackers))
        {
            Interlocked.Increment(ref _unexpectedFrames);
            return;
        }

        var video = header.Kind == MediaKind.Video;
        var verdict = trackers[video ? 0 : 1].Record(header.Sequence);
        if (verdict == FrameVerdict.Unexpected)
        {
            Interlocked.Increment(ref _unexpectedFrames);
            return;
        }

        var latency = receivedMicros - header.CaptureTimeMicros;
        if (verdict != FrameVerdict.Duplicate)
        {
            Interlocked.Increment(ref video ? ref _videoDelivered : ref _audioDelivered);
            (video ? _videoInterval : _audioInterval).Record(latency);
            Interlocked.Exchange(ref _lastDeliveryMicros, receivedMicros);
        }

        // The sender decided the frame's window before sending it.
        if (trackers[video ? 0 : 1].WindowOf(header.Sequence) is var id and > 0 && Volatile.Read(ref _windowsById[id]) is { Frozen: false } window)
        {
            var stats = window.For(header.Kind);
            if (verdict == FrameVerdict.Duplicate)
            {
                stats.OnDuplicate();
            }
            else
            {
                stats.OnDelivered(latency, payloadBytes, verdict == FrameVerdict.NewOutOfOrder);
            }
        }
    }

    public void OnError(Participant receiver, string code) => CountError(code);

    private void CountError(string code) => _errors.AddOrUpdate(code, 1, static (_, n) => n + 1);

    /// <summary>Stops every sender (the calls stay connected, so frames in flight still arrive).</summary>
    public async Task StopSendingAsync()
    {
        List<SimCall> calls;
        lock (_gate)
        {
            calls = [.. _calls];
        }

        foreach (var call in calls)
        {
            await call.SendStop.CancelAsync();
        }

        await Task.WhenAll(calls.SelectMany(c => c.SendLoops)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
