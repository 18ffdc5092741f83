using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using PgVideoChat.Protocol;
using PgVideoChat.TestSupport;
using PgVideoChat.TestSupport.Media;

namespace PgVideoChat.Relay.Tests;

/// <summary>
/// Recording a call: the state change reaches every participant through the slot, the frames outlive the live
/// partitions' retention (copied out by the rotation), the replay returns them in timeline order, and only the
/// call's participants can see, replay, export or delete the recording.
/// </summary>
[Collection(AppModelCollections.PgOutputV2)]
public sealed class RecordingTests(PgOutputV2Fixture fixture)
{
    [Fact]
    public async Task A_recorded_call_keeps_its_frames_past_retention_and_replays_them_in_order_to_its_participants_only()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(2), "Alice", "Bob", "Mallory");
        var (ct, alice, bob, mallory) = (scenario.Token, scenario[0], scenario[1], scenario[2]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);

        // Mallory is not in the call: she can neither start nor stop its recording.
        Assert.Equal(ErrorCodes.NotParticipant, Code(await mallory.RequestAsync(Record("start", callId), ct)));

        await alice.AckedAsync(Record("start", callId), ct);
        var recordedCall = await bob.WaitForAsync(m => IsRecordedCall(m, callId), ct);
        var recording = Recording(recordedCall);
        Assert.Equal(alice.UserId, recording.GetProperty("startedBy").GetInt64());
        Assert.Equal("Alice", recording.GetProperty("startedByName").GetString());
        var recordingId = recording.GetProperty("recordingId").GetInt64();
        Assert.Equal(ErrorCodes.InvalidState, Code(await bob.RequestAsync(Record("start", callId), ct)));

        // Two seconds of both sides: video markers 0..29 from Alice, audio markers from Bob.
        for (var i = 0; i < 30; i++)
        {
            await alice.SendFrameAsync(TestMedia.Video(callId, (uint)i), TestMedia.Jpeg(2_000, i), ct);
            await bob.SendFrameAsync(TestMedia.Audio(callId, (uint)i), TestMedia.Pcm(1000 + i), ct);
            await Task.Delay(66, ct);
        }

        await bob.WaitForFramesAsync(30, f => f.Header.Kind == MediaKind.Video && f.Header.CallId == callId, ct);
        await alice.WaitForFramesAsync(30, f => f.Header.Kind == MediaKind.Audio && f.Header.CallId == callId, ct);
        // Bob withdraws his consent: anyone in the call may stop it, and everyone sees it stop.
        await bob.AckedAsync(Record("stop", callId), ct);
        var recordedVersion = recordedCall.GetProperty("version").GetInt64();
        await alice.WaitForAsync(m => RelayTestClient.Type(m) == "call" && m.GetProperty("callId").GetInt64() == callId
            && m.GetProperty("version").GetInt64() > recordedVersion && m.GetProperty("recording").ValueKind == JsonValueKind.Null, ct);
        // Frames after the stop are not part of it.
        await alice.SendFrameAsync(TestMedia.Video(callId, 99), TestMedia.Jpeg(2_000, 99), ct);

        // Retention (5 s) and the partition width (5 s) pass: the live partitions that held them are dropped, and
        // the recorded call's rows were copied out first.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(40);
        // Both tables: the rotation drops the video partitions first and the audio ones after them.
        while (await fixture.ScalarAsync<long>("SELECT (SELECT count(*) FROM video_frames WHERE call_id = $1) + (SELECT count(*) FROM audio_frames WHERE call_id = $1)", callId) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the frames' live partitions were not dropped within 40 s");
            await Task.Delay(500, ct);
        }

        Assert.Equal(30, await fixture.ScalarAsync<long>("SELECT count(*) FROM recorded_video_frames WHERE recording_id = $1", recordingId));
        Assert.Equal(30, await fixture.ScalarAsync<long>("SELECT count(*) FROM recorded_audio_frames WHERE recording_id = $1", recordingId));

        using var asAlice = Http(alice);
        var listed = await asAlice.GetFromJsonAsync<JsonElement>("/api/recordings", ct);
        var row = listed.GetProperty("recordings").EnumerateArray().Single(r => r.GetProperty("id").GetInt64() == recordingId);
        Assert.False(row.GetProperty("active").GetBoolean());
        Assert.InRange(row.GetProperty("durationMs").GetInt64(), 1_500, 30_000);
        Assert.True(row.GetProperty("bytes").GetInt64() >= 60_000, row.ToString());
        Assert.Equal(["Alice", "Bob"], row.GetProperty("participants").EnumerateArray().Select(p => p.GetProperty("displayName").GetString()));

        // The replay: every frame once, in timeline order, with the sender and the original payload.
        var replay = await ReplayAsync(asAlice, recordingId, 0, ct);
        var video = replay.Where(f => f.Header.Kind == MediaKind.Video).ToList();
        var audio = replay.Where(f => f.Header.Kind == MediaKind.Audio).ToList();
        Assert.Equal(Enumerable.Range(0, 30), video.Select(f => TestMedia.MarkerOf(f.Payload)));
        Assert.Equal(Enumerable.Range(1000, 30), audio.Select(f => BitConverter.ToInt32(f.Payload, 0)));
        Assert.All(video, f => Assert.Equal(alice.UserId, f.Header.SenderId));
        Assert.All(audio, f => Assert.Equal(bob.UserId, f.Header.SenderId));
        var times = replay.Select(f => f.Header.CaptureTimeMicros).ToList();
        Assert.Equal(times.Order(), times);
        Assert.InRange((video[^1].Header.CaptureTimeMicros - video[0].Header.CaptureTimeMicros) / 1000, 1_500, 4_000);

        // A seek starts at the first frame at or after that place.
        var seekMs = video[15].Header.CaptureTimeMicros / 1000;
        var fromSeek = await ReplayAsync(asAlice, recordingId, seekMs, ct);
        Assert.All(fromSeek, f => Assert.True(f.Header.CaptureTimeMicros >= seekMs * 1000));
        Assert.Contains(fromSeek, f => f.Header.Kind == MediaKind.Video && TestMedia.MarkerOf(f.Payload) == 15);

        // Mallory, with a valid session but not in the call, and anyone without one, learn nothing.
        using var asMallory = Http(mallory);
        Assert.DoesNotContain((await asMallory.GetFromJsonAsync<JsonElement>("/api/recordings", ct)).GetProperty("recordings").EnumerateArray(),
            r => r.GetProperty("id").GetInt64() == recordingId);
        foreach (var (method, path) in Forgeable(recordingId))
        {
            using var forged = await asMallory.SendAsync(new HttpRequestMessage(method, path), ct);
            Assert.Equal(HttpStatusCode.NotFound, forged.StatusCode);
            Assert.Equal("application/problem+json", forged.Content.Headers.ContentType?.MediaType);
        }

        using var anonymous = new HttpClient { BaseAddress = fixture.RelayUri };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/recordings/{recordingId}", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/recordings/{recordingId}/export.avi?ticket=t1.{alice.UserId}.9999999999.forged", ct)).StatusCode);

        // An export ticket is for one recording: Alice's for this one does not open another id.
        var link = await (await asAlice.PostAsync($"/api/recordings/{recordingId}/export", null, ct)).Content.ReadFromJsonAsync<JsonElement>(ct);
        var url = link.GetProperty("url").GetString()!;
        using (var export = await anonymous.GetAsync(url, ct))
        {
            export.EnsureSuccessStatusCode();
            Assert.Equal("video/x-msvideo", export.Content.Headers.ContentType?.MediaType);
            var file = await export.Content.ReadAsByteArrayAsync(ct);
            Assert.Equal(export.Content.Headers.ContentLength, file.Length);
            var avi = AviFile.Parse(file);
            // Alice's video stream (the only sender of video) and the mixed audio.
            Assert.Equal(["vids", "auds"], avi.Streams.Select(static s => s.Type));
            var shown = avi.ChunksOf(0).Where(static c => c.Payload.Length > 0).Select(static c => TestMedia.MarkerOf(c.Payload.ToArray())).ToList();
            Assert.Equal(shown.Order(), shown);
            Assert.True(shown.Distinct().Count() >= 25, $"the export shows {shown.Count} of Alice's 30 frames: {string.Join(',', shown)}");
            var durationMs = row.GetProperty("durationMs").GetInt64();
            var slots = (int)Math.Ceiling(durationMs * 15 / 1000.0);
            var audioChunks = (int)Math.Ceiling(durationMs / 100.0);
            Assert.InRange(avi.ChunksOf(0).Count, slots - 1, slots + 1);
            Assert.InRange(avi.ChunksOf(1).Count, audioChunks - 1, audioChunks + 1);
            Assert.Equal(avi.TotalFrames, avi.ChunksOf(0).Count);
        }

        var otherUrl = url.Replace($"/api/recordings/{recordingId}/", $"/api/recordings/{recordingId + 1000}/", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(otherUrl, ct)).StatusCode);

        // Bob deletes it: its partitions are gone at once, and so is it for Alice.
        using var asBob = Http(bob);
        Assert.Equal(HttpStatusCode.NoContent, (await asBob.DeleteAsync($"/api/recordings/{recordingId}", ct)).StatusCode);
        Assert.Equal(0, await fixture.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname IN ($1, $2)", $"recorded_video_frames_r{recordingId}", $"recorded_audio_frames_r{recordingId}"));
        Assert.Equal(HttpStatusCode.NotFound, (await asAlice.GetAsync($"/api/recordings/{recordingId}", ct)).StatusCode);
    }

    [Fact]
    public async Task Ending_the_call_stops_its_recording_and_an_active_recording_cannot_be_deleted()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(1), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        await bob.AckedAsync(Record("start", callId), ct);
        var recordingId = Recording(await alice.WaitForAsync(m => IsRecordedCall(m, callId), ct)).GetProperty("recordingId").GetInt64();

        using var asAlice = Http(alice);
        using var refused = await asAlice.DeleteAsync($"/api/recordings/{recordingId}", ct);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);

        await alice.HangupAsync(callId, ct);
        var ended = await bob.WaitForAsync(m => Calls.IsCall(m, callId, "ended"), ct);
        Assert.Equal(JsonValueKind.Null, ended.GetProperty("recording").ValueKind);
        Assert.Equal(1, await fixture.ScalarAsync<long>("SELECT count(*) FROM recordings WHERE id = $1 AND stopped_at IS NOT NULL AND stopped_by IS NULL", recordingId));
        Assert.Equal(ErrorCodes.InvalidState, Code(await bob.RequestAsync(Record("start", callId), ct)));
    }

    private static IEnumerable<(HttpMethod, string)> Forgeable(long id) =>
    [
        (HttpMethod.Get, $"/api/recordings/{id}"),
        (HttpMethod.Get, $"/api/recordings/{id}/media"),
        (HttpMethod.Post, $"/api/recordings/{id}/export"),
        (HttpMethod.Delete, $"/api/recordings/{id}"),
        (HttpMethod.Get, $"/api/recordings/{id + 1_000_000}"),
    ];

    private HttpClient Http(RelayTestClient client)
    {
        var http = new HttpClient { BaseAddress = fixture.RelayUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", client.Session.Token);
        return http;
    }

    private static async Task<List<ReceivedFrame>> ReplayAsync(HttpClient http, long recordingId, long fromMs, CancellationToken ct)
    {
        using var response = await http.GetAsync($"/api/recordings/{recordingId}/media?fromMs={fromMs}", ct);
        response.EnsureSuccessStatusCode();
        Assert.Equal("application/vnd.pgvideochat.replay", response.Content.Headers.ContentType?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        var frames = new List<ReceivedFrame>();
        for (var offset = 0; offset < bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(offset));
            var record = bytes.AsSpan(offset + 4, length);
            Assert.True(MediaFrameHeader.TryRead(record, out var header, out var headerLength, out var error), error);
            frames.Add(new ReceivedFrame(header, record[headerLength..].ToArray(), DateTime.UtcNow));
            offset += 4 + length;
        }

        return frames;
    }

    private static JsonObject Record(string action, long callId) => new() { ["type"] = $"call.record.{action}", ["callId"] = callId };

    private static string? Code(JsonElement reply) => reply.TryGetProperty("code", out var code) ? code.GetString() : null;

    private static bool IsRecordedCall(JsonElement message, long callId)
        => RelayTestClient.Type(message) == "call" && message.GetProperty("callId").GetInt64() == callId
            && message.TryGetProperty("recording", out var recording) && recording.ValueKind == JsonValueKind.Object;

    private static JsonElement Recording(JsonElement call) => call.GetProperty("recording");
}
