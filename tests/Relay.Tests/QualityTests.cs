using System.Text.Json;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Tests.Reliability;

namespace PgVideoChat.Relay.Tests;

/// <summary>A sender whose frames a receiver's queue drops is asked to step its video down, and back up once it is calm.</summary>
[Collection(AppModelCollections.PgOutputV2)]
public sealed class QualityTests(PgOutputV2Fixture fixture)
{
    [Fact]
    public async Task A_receiver_that_stops_reading_makes_its_peer_step_down_and_reading_again_brings_it_back_up()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(2), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        var stepsDown = await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_quality_steps_total", "down", ct);
        var stepsUp = await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_quality_steps_total", "up", ct);

        // Bob's queue fills (30 frames) and then drops Alice's oldest: 100 KB at 25 fps until she hears of it.
        bob.PauseReading();
        var payload = TestMedia.Jpeg(100_000, 3);
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sender = Task.Run(async () =>
        {
            for (uint i = 0; !sending.IsCancellationRequested; i++)
            {
                await alice.SendFrameAsync(TestMedia.Video(callId, i), payload, sending.Token);
                await Task.Delay(40, sending.Token);
            }
        }, CancellationToken.None);
        var down = await alice.WaitForAsync(m => IsQuality(m, callId) && m.GetProperty("level").GetInt32() >= 1, ct, TimeSpan.FromSeconds(20));
        await sending.CancelAsync();
        await sender.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);

        Assert.Equal(1, down.GetProperty("level").GetInt32());
        Assert.Equal(MediaQuality.Caps(1).MaxJpegQuality, down.GetProperty("maxJpegQuality").GetDouble());
        Assert.Equal(JsonValueKind.Null, down.GetProperty("maxWidth").ValueKind);
        Assert.Equal("frames_dropped", down.GetProperty("reason").GetString());
        Assert.False(string.IsNullOrEmpty(down.GetProperty("relayId").GetString()));
        Assert.Empty(bob.MessagesOfType("media.quality"));

        // Bob reads again and Alice sends nothing more: calm for 5 s, one step back up to her own choice.
        bob.ResumeReading();
        var up = await alice.WaitForAsync(m => IsQuality(m, callId) && m.GetProperty("level").GetInt32() == 0, ct, TimeSpan.FromSeconds(20));
        Assert.Equal("calm", up.GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, up.GetProperty("maxJpegQuality").ValueKind);

        // The steps went through Postgres (the row is the publish) and are counted.
        Assert.True(await fixture.ScalarAsync<long>("SELECT count(*) FROM media_quality WHERE call_id = $1 AND sender_id = $2", callId, alice.UserId) >= 2);
        Assert.True(await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_quality_steps_total", "down", ct) > stepsDown);
        Assert.True(await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_quality_steps_total", "up", ct) > stepsUp);
    }

    private static bool IsQuality(JsonElement message, long callId)
        => RelayTestClient.Type(message) == "media.quality" && message.GetProperty("callId").GetInt64() == callId;
}
