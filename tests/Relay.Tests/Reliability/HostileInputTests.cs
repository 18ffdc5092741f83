using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using PgVideoChat.Protocol;
using PgVideoChat.Protocol.Client;
using PgVideoChat.Relay.Auth;
using PgVideoChat.TestSupport;
using Xunit.Abstractions;

namespace PgVideoChat.Relay.Tests.Reliability;

/// <summary>Fuzzed frames, floods, forged and expired tokens, awkward chat text.</summary>
[Collection(AppModelCollections.Fault)]
public sealed class HostileInputTests(FaultFixture fixture, ITestOutputHelper output)
{
    private static readonly int[] DocumentedCloseCodes = [1000, 1007, CloseCodes.Malformed, CloseCodes.TooLarge, CloseCodes.Flooding];

    [Fact]
    public async Task Fuzzed_messages_never_crash_the_relay_write_no_row_and_leave_other_calls_alone()
    {
        var cases = int.TryParse(Environment.GetEnvironmentVariable("PGVIDEOCHAT_FUZZ_CASES"), out var n) ? n : 20_000;
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(10), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        var relayPid = fixture.RelayProcessId;
        var fuzzer = await RelayTestClient.SignInAsync(fixture.RelayUri, "Fuzzer", ct);
        var logStart = fixture.App.GetResourceLogs().GetLines("relay").Count;

        // The fuzzer is in no call, so no well-formed frame, call change or call chat of its may be stored either.
        var random = new Random(20261125);
        var fuzz = new MessageFuzzer(random, callId);
        var closes = new Dictionary<int, int>();
        var replies = new Dictionary<string, int>();
        var sent = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var reconnecting = TimeSpan.Zero;
        var fuzzClient = await RelayTestClient.ConnectAsync(fixture.RelayUri, fuzzer, ct);
        try
        {
            while (sent < cases)
            {
                var (bytes, type) = fuzz.Next();
                var before = fuzzClient.Messages.Count;
                await fuzzClient.SendAsync(bytes, type, ct);
                sent++;

                // A ping after every case: its ack proves the relay handled the case and kept the connection.
                try
                {
                    await fuzzClient.RequestAsync(new JsonObject { ["type"] = "ping" }, ct);
                    foreach (var reply in fuzzClient.Messages.Skip(before).Where(m => RelayTestClient.Type(m) == "error"))
                    {
                        var code = reply.GetProperty("code").GetString()!;
                        replies[code] = replies.GetValueOrDefault(code) + 1;
                        Assert.False(LeaksInternals(reply.GetProperty("message").GetString()), $"case {sent} ({Describe(bytes, type)}) was answered with {reply}");
                    }

                    // The test client keeps every message it got and scans them per wait: a fresh one keeps that short.
                    if (fuzzClient.Messages.Count < 400)
                    {
                        continue;
                    }

                }
                catch (TimeoutException ex)
                {
                    throw new TimeoutException($"case {sent} ({Describe(bytes, type)}) got neither a reply nor a close\n{string.Join('\n', fixture.App.GetResourceLogs().GetLines("relay").TakeLast(40).Select(l => l.Content))}", ex);
                }
                catch (Exception ex) when (ex is InvalidOperationException or WebSocketException)
                {
                    await fuzzClient.WaitForCloseAsync(ct);
                }

                if (fuzzClient.Closed)
                {
                    var closeCode = fuzzClient.CloseStatus is { } status ? (int)status : -1;
                    Assert.False(LeaksInternals(fuzzClient.CloseDescription), $"case {sent} ({Describe(bytes, type)}) closed with '{fuzzClient.CloseDescription}'");
                    closes[closeCode] = closes.GetValueOrDefault(closeCode) + 1;
                    // Invalid UTF-8 in a text frame is refused by .NET's WebSocket itself: it sends 1007 and drops the
                    // connection at once, so a client that keeps sending may lose that close frame (it sees 1006).
                    var invalidText = type == WebSocketMessageType.Text && !IsUtf8(bytes);
                    Assert.True(DocumentedCloseCodes.Contains(closeCode) || (invalidText && closeCode == -1), $"undocumented close {closeCode} '{fuzzClient.CloseDescription}' after case {sent} ({Describe(bytes, type)})\n{fixture.RelayProblems()}");
                }

                var reconnect = System.Diagnostics.Stopwatch.StartNew();
                await fuzzClient.DisposeAsync();
                fuzzClient = await RelayTestClient.ConnectAsync(fixture.RelayUri, fuzzer, ct);
                reconnecting += reconnect.Elapsed;
            }
        }
        finally
        {
            await fuzzClient.DisposeAsync();
        }

        Assert.True(ProcessProbe.IsAlive(relayPid), "the relay process died");
        Assert.Equal(relayPid, fixture.RelayProcessId);
        Assert.True(await ProcessProbe.IsHealthyAsync(fixture.RelayUri, ct));
        var rows = await fixture.ScalarAsync<long>("""
            SELECT (SELECT count(*) FROM video_frames WHERE sender_id = $1) + (SELECT count(*) FROM audio_frames WHERE sender_id = $1)
                 + (SELECT count(*) FROM chat_messages WHERE from_user = $1) + (SELECT count(*) FROM calls WHERE created_by = $1)
                 + (SELECT count(*) FROM call_participants WHERE user_id = $1)
            """, fuzzer.UserId);
        Assert.Equal(0L, rows);

        // Bad input has its documented answer and one warning line: no exception, no stack trace, no error entry.
        var log = fixture.App.GetResourceLogs().GetLines("relay").Skip(logStart).Select(l => l.Content).ToList();
        var unhandled = log.Where(l => l.Contains("Exception", StringComparison.Ordinal) || l.TrimStart().StartsWith("at ", StringComparison.Ordinal)
            || l.Contains("fail:", StringComparison.Ordinal) || l.Contains("crit:", StringComparison.Ordinal)).ToList();
        Assert.True(unhandled.Count == 0, $"{unhandled.Count} exception or error line(s) in the relay log during the fuzz:\n{string.Join('\n', unhandled.Take(60))}");

        // The call next door went on throughout.
        Assert.Null(alice.CloseStatus);
        Assert.Null(bob.CloseStatus);
        await alice.SendFrameAsync(TestMedia.Video(callId, 42), TestMedia.Jpeg(10_000, 42), ct);
        await bob.WaitForFramesAsync(1, f => f.Header.Sequence == 42, ct);
        output.WriteLine($"fuzz: {sent:N0} cases ({fuzz.Summary}) in {clock.Elapsed.TotalSeconds:F0} s ({reconnecting.TotalSeconds:F0} s of it reconnecting), 0 crashes, {rows} rows written, {log.Count:N0} relay log lines and 0 exceptions; " +
            $"errors by code: {string.Join(", ", replies.OrderBy(c => c.Key).Select(c => $"{c.Key}×{c.Value}"))}; closes by code: {string.Join(", ", closes.OrderBy(c => c.Key).Select(c => $"{c.Key}×{c.Value}"))}");
    }

    /// <summary>Whether a text meant for the client carries .NET internals (a stack frame or an exception's type).</summary>
    private static bool LeaksInternals(string? text)
        => text is not null && (text.Contains("Exception", StringComparison.Ordinal) || text.Contains("   at ", StringComparison.Ordinal)
            || text.Contains("System.", StringComparison.Ordinal) || text.Contains("Npgsql", StringComparison.Ordinal));

    private static string Describe(byte[] bytes, WebSocketMessageType type)
        => type == WebSocketMessageType.Text && IsUtf8(bytes)
            ? $"text '{Encoding.UTF8.GetString(bytes.AsSpan(0, Math.Min(bytes.Length, 160)))}', {bytes.Length} bytes"
            : $"{Convert.ToHexString(bytes.AsSpan(0, Math.Min(bytes.Length, 64)))}… {bytes.Length} bytes as {type}";

    [Fact]
    public async Task Frames_above_the_rate_limit_are_dropped_with_a_metric_and_persistent_flooding_disconnects()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(1), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        var droppedBefore = await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_frames_dropped_total", "reason=\"rate_limited\"", ct);

        // 80 frames at once: the bucket's 45 (1.5 s of 30/s) are stored, the rest dropped (below the flood line of 60 refused).
        var payload = TestMedia.Jpeg(2_000, 1);
        for (uint i = 0; i < 80; i++)
        {
            await alice.SendFrameAsync(TestMedia.Video(callId, i), payload, ct);
        }

        var error = await alice.WaitForAsync(m => RelayTestClient.Type(m) == "error" && m.GetProperty("code").GetString() == ErrorCodes.RateLimited, ct);
        await alice.AckedAsync(new JsonObject { ["type"] = "ping" }, ct);
        await Task.Delay(500, ct);
        var stored = await fixture.ScalarAsync<long>("SELECT count(*) FROM video_frames WHERE call_id = $1", callId);
        Assert.InRange(stored, 45, 50); // the bucket refills a little while the burst arrives
        Assert.True(await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_frames_dropped_total", "reason=\"rate_limited\"", ct) - droppedBefore >= 80 - stored);
        output.WriteLine($"flood: 80 frames in a burst, {stored} stored, error '{error.GetProperty("message").GetString()}'");

        await Task.Delay(1100, ct);
        for (uint i = 0; i < 200 && alice.CloseStatus is null; i++)
        {
            try
            {
                await alice.SendFrameAsync(TestMedia.Video(callId, 1000 + i), payload, ct);
            }
            catch (WebSocketException)
            {
                break;
            }
        }

        var (status, _) = await alice.WaitForCloseAsync(ct);
        Assert.Equal(CloseCodes.Flooding, (int?)status);
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_cut_off_after_the_send_timeout_and_the_call_goes_on()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(1), "Alice", "Bob", "Dave");
        var (ct, alice, bob, dave) = (scenario.Token, scenario[0], scenario[1], scenario[2]);
        var callId = await Calls.EstablishAsync(alice, ct, bob, dave);
        const string TooSlow = "code=\"4408\"";
        var cutBefore = await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_clients_disconnects_total", TooSlow, ct);
        dave.PauseReading();

        // 200 KB frames at 25 fps fill Dave's socket buffers within seconds; then one send waits, and after the
        // fixture's 2-s send timeout the relay aborts Dave's socket.
        var payload = TestMedia.Jpeg(200_000, 7);
        var started = DateTime.UtcNow;
        uint sequence = 0;
        var cut = cutBefore;
        while (cut == cutBefore && DateTime.UtcNow - started < TimeSpan.FromSeconds(30))
        {
            await alice.SendFrameAsync(TestMedia.Video(callId, sequence++), payload, ct);
            await Task.Delay(40, ct);
            if (sequence % 25 == 0)
            {
                cut = await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_clients_disconnects_total", TooSlow, ct);
            }
        }

        Assert.True(cut == cutBefore + 1, $"Dave was not cut off as too slow within 30 s ({sequence} frames sent; 4408 disconnects {cutBefore} -> {cut})");
        output.WriteLine($"send timeout: Dave cut off after {(DateTime.UtcNow - started).TotalSeconds:F1} s and {sequence} frames of 200 KB");

        // Bob never stopped reading: he still gets Alice's next frames, and Alice still gets his.
        var next = sequence + 1000;
        await alice.SendFrameAsync(TestMedia.Video(callId, next), TestMedia.Jpeg(5_000, 8), ct);
        await bob.SendFrameAsync(TestMedia.Video(callId, next + 1), TestMedia.Jpeg(5_000, 9), ct);
        await bob.WaitForFramesAsync(1, f => f.Header.Sequence == next, ct);
        await alice.WaitForFramesAsync(1, f => f.Header.Sequence == next + 1, ct);
        Assert.Null(bob.CloseStatus);
    }

    [Fact]
    public async Task Forged_and_expired_tokens_are_refused_with_4401()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = cts.Token;
        var session = await RelayTestClient.SignInAsync(fixture.RelayUri, "Alice", ct);
        var options = Options.Create(new RelayOptions { Auth = new AuthOptions { SigningKey = fixture.SigningKey, TokenLifetime = TimeSpan.FromMinutes(1) } });
        var (expired, _) = new SessionTokenService(options, new ShiftedTime(TimeSpan.FromHours(-2))).Issue(session.UserId);
        var (valid, _) = new SessionTokenService(options, TimeProvider.System).Issue(session.UserId);
        var forgedKey = Options.Create(new RelayOptions { Auth = new AuthOptions { SigningKey = new string('k', 44) } });
        var (forged, _) = new SessionTokenService(forgedKey, TimeProvider.System).Issue(session.UserId);
        var otherUser = valid.Replace($"v1.{session.UserId}.", $"v1.{session.UserId + 1}.", StringComparison.Ordinal);

        foreach (var (name, token) in new[] { ("expired", expired), ("forged key", forged), ("someone else's id", otherUser) })
        {
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(RelaySessions.WebSocketUri(fixture.RelayUri, token), ct);
            var result = await socket.ReceiveAsync(new byte[4096], ct);
            Assert.True(result.MessageType == WebSocketMessageType.Close && (int?)result.CloseStatus == CloseCodes.Unauthorized, $"{name}: {result.MessageType} {result.CloseStatus}");
        }

        // The key the test knows is the relay's: a token it signs now is accepted, so the refusals above were about the token.
        await using var client = await RelayTestClient.ConnectAsync(fixture.RelayUri, session with { Token = valid }, ct);
        Assert.Equal(session.UserId, client.Hello.GetProperty("user").GetProperty("userId").GetInt64());
    }

    [Fact]
    public async Task Chat_text_reaches_Postgres_as_a_parameter_and_is_stored_intact_or_refused_as_documented()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(1), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);

        var awkward = "'); DROP TABLE chat_messages; -- \"quoted\" \\backslash\\ $1 $$ 𝄞 é\t\r\n" + new string('x', 3900);
        var id = await alice.ChatAsync(callId, awkward, ct);
        Assert.Equal(awkward, await fixture.ScalarAsync<string>("SELECT body FROM chat_messages WHERE id = $1", id));
        var delivered = await bob.WaitForAsync(m => RelayTestClient.Type(m) == "chat" && m.GetProperty("id").GetInt64() == id, ct);
        Assert.Equal(awkward, delivered.GetProperty("text").GetString());

        var nul = await alice.RequestAsync(new JsonObject { ["type"] = "chat.send", ["callId"] = callId, ["text"] = "a\0b" }, ct);
        Assert.Equal(ErrorCodes.InvalidMessage, nul.GetProperty("code").GetString());
        var tooLong = await alice.RequestAsync(new JsonObject { ["type"] = "chat.send", ["callId"] = callId, ["text"] = new string('y', 4001) }, ct);
        Assert.Equal(ErrorCodes.InvalidMessage, tooLong.GetProperty("code").GetString());
        var count = await fixture.ScalarAsync<long>("SELECT count(*) FROM chat_messages WHERE call_id = $1", callId);

        // 100 KB of text is above the 64 KiB text frame limit: the connection closes with 4413, nothing is stored.
        await alice.SendTextAsync(new JsonObject { ["type"] = "chat.send", ["callId"] = callId, ["text"] = new string('z', 100_000) }.ToJsonString(), ct);
        var (status, _) = await alice.WaitForCloseAsync(ct);
        Assert.Equal(CloseCodes.TooLarge, (int?)status);
        Assert.Equal(count, await fixture.ScalarAsync<long>("SELECT count(*) FROM chat_messages WHERE call_id = $1", callId));
        Assert.Equal(1L, await fixture.ScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE tablename = 'chat_messages'"));
    }

    private static bool IsUtf8(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetCharCount(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private sealed class ShiftedTime(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }
}
