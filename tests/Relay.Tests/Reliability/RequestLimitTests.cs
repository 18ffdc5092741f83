using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using PgVideoChat.Protocol;
using Xunit.Abstractions;

namespace PgVideoChat.Relay.Tests.Reliability;

/// <summary>
/// One user floods every request kind that writes a row or notifies somebody, from two connections at once: the
/// per-user limit holds (not per connection), the flooder hears <c>rate_limited</c>, and the victim stays connected and
/// receives no more than the limit lets through. The limits are the relay's defaults (docs/protocol.md, section 3.3).
/// </summary>
[Collection(AppModelCollections.Fault)]
public sealed class RequestLimitTests(FaultFixture fixture, ITestOutputHelper output)
{
    public static TheoryData<string> Kinds => ["chat", "ring", "call-change", "history"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_flood_from_several_connections_of_one_user_is_held_to_the_user_limit_and_the_victim_stays_connected(string kind)
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(2), "Victim");
        var (ct, victim) = (scenario.Token, scenario[0]);
        var session = await RelayTestClient.SignInAsync(fixture.RelayUri, "Flooder", ct);
        await using var first = await RelayTestClient.ConnectAsync(fixture.RelayUri, session, ct);
        await using var second = await RelayTestClient.ConnectAsync(fixture.RelayUri, session, ct);
        var callId = kind == "call-change" ? await Calls.EstablishAsync(first, ct, victim) : 0;
        var text = new string('x', 4000);
        JsonObject Request(int i) => kind switch
        {
            "chat" => new JsonObject { ["type"] = "chat.send", ["to"] = victim.UserId, ["text"] = text, ["clientMsgId"] = $"f-{i}" },
            "ring" => new JsonObject { ["type"] = "call.invite", ["to"] = new JsonArray(victim.UserId) },
            "call-change" => new JsonObject { ["type"] = "media.state", ["callId"] = callId, ["audio"] = i % 2 == 0, ["video"] = true },
            _ => new JsonObject { ["type"] = "chat.history", ["with"] = victim.UserId },
        };
        var (burst, tokens, period) = kind switch
        {
            "chat" => (20, 5, 1.0),
            "ring" => (14, 1, 3.0),
            "call-change" => (20, 4, 1.0),
            _ => (10, 2, 1.0),
        };
        var victimCallEventsBefore = victim.MessagesOfType("call").Count();

        // 600 requests as fast as two sockets take them: far beyond any budget, and beyond the flood line too.
        var clock = Stopwatch.StartNew();
        var sent = await Task.WhenAll(FloodAsync(first, 0, 300, Request, ct), FloodAsync(second, 1000, 300, Request, ct));
        await Task.WhenAll(SettleAsync(first, ct), SettleAsync(second, ct));
        var elapsed = clock.Elapsed.TotalSeconds;
        var replies = first.Messages.Concat(second.Messages).Where(IsFloodReply).ToList();
        var acked = replies.Count(m => RelayTestClient.Type(m) == "ack");
        var limited = replies.Where(m => RelayTestClient.Type(m) == "error" && m.GetProperty("code").GetString() == ErrorCodes.RateLimited).ToList();
        var bound = burst + (tokens * (int)Math.Ceiling(elapsed / period)) + tokens;
        var closes = string.Join(", ", new[] { first, second }.Select(c => c.CloseStatus is { } s ? $"{(int)s} '{c.CloseDescription}'" : "open"));
        output.WriteLine($"{kind}: {sent.Sum()} sent in {elapsed:F1} s, {acked} acknowledged (bound {bound}), {limited.Count} rate_limited, connections: {closes}");

        Assert.InRange(acked, Math.Min(burst, 1), bound);
        Assert.NotEmpty(limited);
        Assert.All(limited, e => Assert.True(e.GetProperty("retryAfterMs").GetInt32() > 0, e.ToString()));
        // A connection that went on after being told is closed as flooding, never for anything else.
        Assert.All(new[] { first, second }, c => Assert.True(c.CloseStatus is null || (int)c.CloseStatus == CloseCodes.Flooding, closes));

        var written = kind switch
        {
            "chat" => await fixture.ScalarAsync<long>("SELECT count(*) FROM chat_messages WHERE from_user = $1", session.UserId),
            "ring" => await fixture.ScalarAsync<long>("SELECT count(*) FROM calls WHERE created_by = $1", session.UserId),
            _ => -1,
        };
        if (written >= 0)
        {
            Assert.Equal(acked, written);
        }

        // The victim was not knocked off and got what was let through, and no more.
        await victim.AckedAsync(new JsonObject { ["type"] = "ping" }, ct);
        Assert.Null(victim.CloseStatus);
        var received = kind switch
        {
            "chat" => await CountEventuallyAsync(victim, "chat", acked, ct),
            "ring" => victim.MessagesOfType("call").Select(m => m.GetProperty("callId").GetInt64()).Distinct().Count(),
            "call-change" => victim.MessagesOfType("call").Count() - victimCallEventsBefore,
            _ => 0,
        };
        output.WriteLine($"{kind}: the victim received {received} event(s) and is still connected");
        Assert.InRange(received, 0, bound);
        if (kind == "chat")
        {
            Assert.Equal(acked, received);
        }
    }

    [Fact]
    public async Task A_sustained_chat_flood_below_the_flood_line_gets_the_burst_then_five_a_second()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(1), "Victim");
        var (ct, victim) = (scenario.Token, scenario[0]);
        var session = await RelayTestClient.SignInAsync(fixture.RelayUri, "Chatterbox", ct);
        await using var first = await RelayTestClient.ConnectAsync(fixture.RelayUri, session, ct);
        await using var second = await RelayTestClient.ConnectAsync(fixture.RelayUri, session, ct);

        // 20 a second on each connection for 4 s: four times the rate, but each connection's refusals stay under 50/s.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 80; i++)
        {
            foreach (var (client, offset) in new[] { (first, 0), (second, 1000) })
            {
                await client.SendTextAsync(new JsonObject { ["type"] = "chat.send", ["to"] = victim.UserId, ["text"] = $"m{i}", ["rid"] = $"flood-{offset + i}" }.ToJsonString(), ct);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50 * (i + 1)) - clock.Elapsed is { Ticks: > 0 } wait ? wait : TimeSpan.Zero, ct);
        }

        await Task.WhenAll(SettleAsync(first, ct), SettleAsync(second, ct));
        var elapsed = clock.Elapsed.TotalSeconds;
        var acked = first.Messages.Concat(second.Messages).Count(m => IsFloodReply(m) && RelayTestClient.Type(m) == "ack");
        output.WriteLine($"sustained: 160 sent in {elapsed:F1} s, {acked} acknowledged");
        Assert.Null(first.CloseStatus);
        Assert.Null(second.CloseStatus);
        Assert.InRange(acked, 20 + (5 * ((int)elapsed - 1)), 20 + (5 * (int)Math.Ceiling(elapsed)) + 5);
        Assert.Equal(acked, await CountEventuallyAsync(victim, "chat", acked, ct));
    }

    [Fact]
    public async Task A_legitimate_burst_typing_fast_and_a_group_of_eight_never_hits_a_limit()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = cts.Token;
        var people = new List<RelayTestClient>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                people.Add(await RelayTestClient.ConnectAsync(fixture.RelayUri, $"Member {i}", ct));
            }

            var callId = await Calls.EstablishAsync(people[0], ct, [.. people.Skip(1)]);
            // Everybody types ten messages in quick succession and toggles their camera twice.
            await Task.WhenAll(people.Select(async p =>
            {
                for (var m = 0; m < 10; m++)
                {
                    await p.AckedAsync(new JsonObject { ["type"] = "chat.send", ["callId"] = callId, ["text"] = $"message {m}" }, ct);
                }

                await p.AckedAsync(new JsonObject { ["type"] = "media.state", ["callId"] = callId, ["audio"] = true, ["video"] = false }, ct);
                await p.AckedAsync(new JsonObject { ["type"] = "media.state", ["callId"] = callId, ["audio"] = true, ["video"] = true }, ct);
            }));
            Assert.Equal(80L, await fixture.ScalarAsync<long>("SELECT count(*) FROM chat_messages WHERE call_id = $1", callId));
        }
        finally
        {
            foreach (var person in people)
            {
                await person.DisposeAsync();
            }
        }
    }

    private static async Task<int> FloodAsync(RelayTestClient client, int first, int count, Func<int, JsonObject> request, CancellationToken ct)
    {
        var sent = 0;
        for (var i = first; i < first + count && client.CloseStatus is null && !client.Closed; i++)
        {
            var message = request(i);
            message["rid"] = $"flood-{i}";
            try
            {
                await client.SendTextAsync(message.ToJsonString(), ct);
                sent++;
            }
            catch (Exception ex) when (ex is WebSocketException or InvalidOperationException)
            {
                break; // closed as flooding while sending
            }
        }

        return sent;
    }

    /// <summary>Waits until the client is closed or a ping sent after the flood is answered (every reply before it arrived).</summary>
    private static async Task SettleAsync(RelayTestClient client, CancellationToken ct)
    {
        if (client.Closed)
        {
            return;
        }

        try
        {
            await client.RequestAsync(new JsonObject { ["type"] = "ping" }, ct);
        }
        catch (Exception ex) when (ex is WebSocketException or InvalidOperationException or TimeoutException)
        {
            await client.WaitForCloseAsync(ct);
        }
    }

    private static bool IsFloodReply(JsonElement message)
        => RelayTestClient.Type(message) is "ack" or "error" && message.TryGetProperty("rid", out var rid)
            && rid.ValueKind == JsonValueKind.String && rid.GetString()!.StartsWith("flood-", StringComparison.Ordinal);

    private static async Task<int> CountEventuallyAsync(RelayTestClient client, string type, int expected, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (client.MessagesOfType(type).Count() < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, ct);
        }

        await Task.Delay(500, ct); // anything beyond the expected count would have arrived by now
        return client.MessagesOfType(type).Count();
    }
}
