using PgVideoChat.Protocol;
using PgVideoChat.Relay.Tests.Reliability;
using PgVideoChat.TestSupport;

namespace PgVideoChat.Relay.Tests;

/// <summary>
/// Several relays on one Postgres: each has its own slot, and a call spans relays. Every test runs with
/// fan-out-to-all (every slot sends every frame) and with shard routing (each slot sends only its clients' frames).
/// </summary>
public abstract class ScaleOutTests<TFixture>(TFixture fixture)
    where TFixture : ThreeRelaysFixture
{
    private const string Rows = "pgvideochat_replication_rows_total";
    private const string Skipped = "pgvideochat_replication_frames_skipped_total";
    private const string Forwarded = "pgvideochat_frames_forwarded_total";

    protected TFixture Fixture => fixture;

    [Theory]
    [InlineData("/no/such/page", null, 404, "not-found")]
    [InlineData("/api/sessions", "{\"displayName\":", 400, "invalid-request")]
    public async Task The_front_door_answers_errors_as_problems_without_internals(string path, string? body, int status, string type)
    {
        using var http = new HttpClient { BaseAddress = fixture.RelayUri };
        using var response = body is null
            ? await http.GetAsync(path)
            : await http.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{path}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"\"urn:pgvideochat:problem:{type}\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_group_call_across_three_relays_reaches_everyone_and_survives_losing_one_relay()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = cts.Token;
        var slots = await fixture.ScalarAsync<string[]>("SELECT array_agg(slot_name::text ORDER BY slot_name) FROM pg_replication_slots WHERE active");
        Assert.Equal(["pgvideochat_relay_0", "pgvideochat_relay_1", "pgvideochat_relay_2"], slots);

        await using var alice = await RelayTestClient.ConnectAsync(fixture.Relay(0), "Alice", ct);
        var bob = await RelayTestClient.ConnectAsync(fixture.Relay(1), "Bob", ct);
        await using var carol = await RelayTestClient.ConnectAsync(fixture.Relay(2), "Carol", ct);
        Assert.Equal("relay-1", bob.Hello.GetProperty("relayId").GetString());
        var callId = await Calls.EstablishAsync(alice, ct, bob, carol);

        await alice.SendFrameAsync(TestMedia.Video(callId, 1), TestMedia.Jpeg(20_000, 1), ct);
        await bob.SendFrameAsync(TestMedia.Video(callId, 2), TestMedia.Jpeg(20_000, 2), ct);
        await carol.SendFrameAsync(TestMedia.Video(callId, 3), TestMedia.Jpeg(20_000, 3), ct);
        foreach (var (client, expected) in new[] { (alice, new uint[] { 2, 3 }), (bob, [1, 3]), (carol, [1, 2]) })
        {
            var frames = await client.WaitForFramesAsync(2, _ => true, ct);
            Assert.Equal(expected, frames.Select(f => f.Header.Sequence).Order());
        }

        // Relay 1 dies: Bob reconnects through the front door, which no longer routes to it, and the call goes on.
        try
        {
            await fixture.App.KillResourceAsync("relay-1", ct);
            await bob.WaitForCloseAsync(ct);
            await bob.DisposeAsync();
            var bobAgain = await ConnectThroughFrontDoorAsync(bob.Session, ct);
            await using (bobAgain)
            {
                Assert.NotEqual("relay-1", bobAgain.Hello.GetProperty("relayId").GetString());
                Assert.Contains(bobAgain.Hello.GetProperty("calls").EnumerateArray(), c => c.GetProperty("callId").GetInt64() == callId);
                // With shard routing Alice's relay learns Bob's new relay from its slot a moment after his hello: media is
                // live, so the frames in between are simply not his. It must flow again within a few frame times.
                await SendUntilReceivedAsync(alice, bobAgain, callId, 10, ct);
                await SendUntilReceivedAsync(bobAgain, carol, callId, 20, ct);
                var chat = await bobAgain.ChatAsync(callId, "still here", ct);
                await alice.WaitForAsync(m => RelayTestClient.Type(m) == "chat" && m.GetProperty("id").GetInt64() == chat, ct);
            }

            await fixture.App.StartResourceAsync("relay-1", ct);
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("relay-1", ct);
        }
        finally
        {
            // The class's other tests expect three relays.
            await fixture.EnsureRunningAsync("relay-1");
        }
    }

    [Fact]
    public async Task Each_relay_gets_the_frames_its_clients_receive_and_with_shard_routing_only_those()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = cts.Token;
        await using var alice = await RelayTestClient.ConnectAsync(fixture.Relay(0), "Alice", ct);
        await using var bob = await RelayTestClient.ConnectAsync(fixture.Relay(2), "Bob", ct);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        var before = await SnapshotAsync(ct);

        const int Frames = 20;
        for (uint i = 1; i <= Frames; i++)
        {
            await alice.SendFrameAsync(TestMedia.Video(callId, i), TestMedia.Jpeg(20_000, (int)i), ct);
        }

        await bob.WaitForFramesAsync(Frames, _ => true, ct);
        // A barrier: a chat row committed after the frames reaches every relay, and a slot sends in commit order.
        await alice.ChatAsync(callId, "barrier", ct);
        for (var relay = 0; relay < 3; relay++)
        {
            var index = relay;
            await ProcessProbe.WaitUntilAsync(
                async () => await MetricAsync(index, Rows, "table=\"chat_messages\"", ct) > before[index].Chat,
                TimeSpan.FromSeconds(10), $"relay-{index} to read the barrier", ct);
        }

        var after = await SnapshotAsync(ct);
        Assert.Equal(Frames, after[2].Forwarded - before[2].Forwarded);
        Assert.Equal(Frames, after[2].Video - before[2].Video);
        Assert.Equal(0, after[2].Skipped - before[2].Skipped);
        for (var relay = 0; relay < 2; relay++)
        {
            if (fixture.ShardRouted)
            {
                // Alice's relay and the relay with no one in the call: their slots do not send them Alice's frames.
                Assert.Equal(0, after[relay].Video - before[relay].Video);
            }
            else
            {
                // Every slot sends every frame; a relay with no recipient skips the payload without copying it.
                Assert.Equal(Frames, after[relay].Video - before[relay].Video);
                Assert.Equal(Frames, after[relay].Skipped - before[relay].Skipped);
            }
        }

        var stored = await fixture.ScalarAsync<long>("SELECT recipient_shards FROM video_frames WHERE call_id = $1 ORDER BY sequence LIMIT 1", callId);
        Assert.Equal(fixture.ShardRouted ? 1L << 2 : -1L, stored);
    }

    private async Task<(double Video, double Skipped, double Forwarded, double Chat)[]> SnapshotAsync(CancellationToken ct)
    {
        var snapshot = new (double, double, double, double)[3];
        for (var relay = 0; relay < 3; relay++)
        {
            snapshot[relay] = (
                await MetricAsync(relay, Rows, "table=\"video_frames\"", ct),
                await MetricAsync(relay, Skipped, "kind=\"video\"", ct),
                await MetricAsync(relay, Forwarded, "kind=\"video\"", ct),
                await MetricAsync(relay, Rows, "table=\"chat_messages\"", ct));
        }

        return snapshot;
    }

    private Task<double> MetricAsync(int relay, string name, string labels, CancellationToken ct) => ProcessProbe.MetricAsync(fixture.Relay(relay), name, labels, ct);

    private static async Task SendUntilReceivedAsync(RelayTestClient sender, RelayTestClient receiver, long callId, uint firstSequence, CancellationToken ct)
    {
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pump = Task.Run(
            async () =>
            {
                for (var sequence = firstSequence; !sending.IsCancellationRequested; sequence++)
                {
                    await sender.SendFrameAsync(TestMedia.Video(callId, sequence), TestMedia.Jpeg(20_000, (int)sequence), sending.Token);
                    await Task.Delay(66, sending.Token);
                }
            },
            sending.Token);
        try
        {
            await receiver.WaitForFramesAsync(1, f => f.Header.Sequence >= firstSequence, ct, TimeSpan.FromSeconds(5));
        }
        finally
        {
            await sending.CancelAsync();
            await pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task<RelayTestClient> ConnectThroughFrontDoorAsync(SignInResponse session, CancellationToken ct)
    {
        // The front door's health checks need a moment to take the dead relay out; a client just retries, as the web client does.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var client = await RelayTestClient.ConnectAsync(fixture.RelayUri, session, ct);
                if (client.Hello.GetProperty("relayId").GetString() != "relay-1")
                {
                    return client;
                }

                await client.DisposeAsync();
            }
            catch (Exception ex) when (attempt < 30 && ex is System.Net.WebSockets.WebSocketException or InvalidOperationException)
            {
            }

            await Task.Delay(500, ct);
        }
    }
}

public sealed class ScaleOutTestsFanOutToAll(ThreeRelaysFixture fixture) : ScaleOutTests<ThreeRelaysFixture>(fixture), IClassFixture<ThreeRelaysFixture>;

public sealed class ScaleOutTestsShardRouted(ShardRoutedThreeRelaysFixture fixture) : ScaleOutTests<ShardRoutedThreeRelaysFixture>(fixture), IClassFixture<ShardRoutedThreeRelaysFixture>
{
    [Fact]
    public async Task A_slot_older_than_its_media_publication_is_recreated_and_the_relay_serves_again()
    {
        // What turning shard routing on for an existing relay looks like: its slot predates pgvideochat_media_1, and
        // pgoutput cannot read a publication as of WAL from before it existed.
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = cts.Token;
        var recreatedBefore = await ProcessProbe.MetricAsync(Fixture.Relay(1), "pgvideochat_replication_slot_recreated_total", null, ct);
        try
        {
            await Fixture.App.StopResourceAsync("relay-1", ct);
            await Fixture.ExecuteAsync("DROP PUBLICATION pgvideochat_media_1");
            // A connect writes rows the old slot must decode.
            await (await RelayTestClient.ConnectAsync(Fixture.Relay(0), "Alice", ct)).DisposeAsync();

            await Fixture.App.StartResourceAsync("relay-1", ct);
            await ProcessProbe.WaitUntilAsync(
                async () => await ProcessProbe.IsHealthyAsync(Fixture.Relay(1), ct)
                    && await ProcessProbe.MetricAsync(Fixture.Relay(1), "pgvideochat_replication_slot_recreated_total", null, ct) > recreatedBefore,
                TimeSpan.FromSeconds(60), "relay-1 to recreate its slot and become healthy", ct);
            Assert.Equal(1L, await Fixture.ScalarAsync<long>("SELECT count(*) FROM pg_publication WHERE pubname = 'pgvideochat_media_1'"));

            await using var carol = await RelayTestClient.ConnectAsync(Fixture.Relay(0), "Carol", ct);
            await using var dave = await RelayTestClient.ConnectAsync(Fixture.Relay(1), "Dave", ct);
            var callId = await Calls.EstablishAsync(carol, ct, dave);
            await carol.SendFrameAsync(TestMedia.Video(callId, 1), TestMedia.Jpeg(20_000, 1), ct);
            await dave.WaitForFramesAsync(1, f => f.Header.Sequence == 1, ct);
        }
        finally
        {
            await Fixture.EnsureRunningAsync("relay-1");
        }
    }
}
