using System.Text.Json.Nodes;
using PgVideoChat.Protocol;
using PgVideoChat.TestSupport;

namespace PgVideoChat.Relay.Tests.Reliability;

/// <summary>Postgres restarted under a running call, with a fast and with an immediate (crash-like) shutdown.</summary>
public sealed class PostgresRestartTests(FaultFixture fixture) : IClassFixture<FaultFixture>
{
    [Theory]
    [InlineData("fast")]
    [InlineData("immediate")]
    public async Task The_relay_reports_unhealthy_refuses_with_a_clear_error_and_resumes_without_losing_acknowledged_chat(string shutdown)
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(3), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        var acked = await alice.ChatAsync(callId, $"before the {shutdown} restart", ct);
        var pid = fixture.RelayProcessId;
        var rssBefore = ProcessProbe.RssBytes(pid);

        if (shutdown == "fast")
        {
            await fixture.App.StopResourceAsync("postgres", ct);
        }
        else
        {
            await fixture.App.KillResourceAsync("postgres", ct);
        }

        await ProcessProbe.WaitUntilAsync(async () => !await ProcessProbe.IsHealthyAsync(fixture.RelayUri, ct), TimeSpan.FromSeconds(30), "the relay reports unhealthy", ct);

        // While the database is away: requests get `unavailable`, frames are refused, memory stays flat.
        var refused = await alice.RequestAsync(new JsonObject { ["type"] = "chat.send", ["callId"] = callId, ["text"] = "into the void" }, ct);
        Assert.Equal(ErrorCodes.Unavailable, refused.GetProperty("code").GetString());
        var payload = TestMedia.Jpeg(100_000, 1);
        var started = DateTime.UtcNow;
        for (uint i = 0; i < 150; i++)
        {
            await alice.SendFrameAsync(TestMedia.Video(callId, i), payload, ct);
            var due = started + TimeSpan.FromMilliseconds(34 * (i + 1));
            if (due > DateTime.UtcNow)
            {
                await Task.Delay(due - DateTime.UtcNow, ct);
            }
        }

        var rssDuring = ProcessProbe.RssBytes(pid);
        await fixture.App.StartResourceAsync("postgres", ct);
        await ProcessProbe.WaitUntilAsync(() => ProcessProbe.IsHealthyAsync(fixture.RelayUri, ct), TimeSpan.FromSeconds(60), "the relay is healthy again", ct);

        Assert.True(rssDuring - rssBefore < 100L * 1024 * 1024, $"relay RSS grew {(rssDuring - rssBefore) / 1024 / 1024} MB during the outage");
        Assert.Equal(1L, await fixture.ScalarAsync<long>("SELECT count(*) FROM chat_messages WHERE id = $1", acked));
        Assert.Equal(0L, await fixture.ScalarAsync<long>("SELECT count(*) FROM chat_messages WHERE body = 'into the void'"));

        // The same sockets carry on: chat and media flow again through the resumed slot.
        var after = await RetryAsync(() => alice.RequestAsync(new JsonObject { ["type"] = "chat.send", ["callId"] = callId, ["text"] = $"after the {shutdown} restart" }, ct), ct);
        await bob.WaitForAsync(m => RelayTestClient.Type(m) == "chat" && m.GetProperty("id").GetInt64() == after.GetProperty("id").GetInt64(), ct, TimeSpan.FromSeconds(30));
        await alice.SendFrameAsync(TestMedia.Video(callId, 7777), TestMedia.Jpeg(10_000, 7777), ct);
        await bob.WaitForFramesAsync(1, f => f.Header.Sequence == 7777, ct, TimeSpan.FromSeconds(30));
    }

    private static async Task<System.Text.Json.JsonElement> RetryAsync(Func<Task<System.Text.Json.JsonElement>> request, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var reply = await request();
            if (RelayTestClient.Type(reply) == "ack" || attempt == 10)
            {
                Assert.True(RelayTestClient.Type(reply) == "ack", $"still refused after the restart: {reply}");
                return reply;
            }

            await Task.Delay(500, ct);
        }
    }
}
