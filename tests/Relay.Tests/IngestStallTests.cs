using System.Diagnostics;
using Npgsql;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Tests.Reliability;

namespace PgVideoChat.Relay.Tests;

/// <summary>
/// A real-time stream rides out a Postgres stall by dropping what went stale while it waited, not by writing it late
/// nor by refusing what comes after it (issue 22): the writer is held by a lock on the frame table, as a slow WAL
/// flush would hold it.
/// </summary>
[Collection(AppModelCollections.PgOutputV2)]
public sealed class IngestStallTests(PgOutputV2Fixture fixture)
{
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Frames_that_waited_out_a_stall_are_dropped_unwritten_and_the_fresh_ones_flow_at_once()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(2), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        await alice.SendFrameAsync(TestMedia.Video(callId, 0), TestMedia.Jpeg(20_000, 0), ct);
        await bob.WaitForFramesAsync(1, f => f.Header.Sequence == 0, ct);
        var staleBefore = await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_frames_dropped_total", "reason=\"ingest_stale\"", ct);

        // The stall: no INSERT into the frame table gets through while this transaction holds its lock.
        var sentAt = new Dictionary<uint, TimeSpan>();
        var clock = Stopwatch.StartNew();
        uint sequence = 1;
        await using (var blocker = new NpgsqlConnection(fixture.ConnectionString))
        {
            await blocker.OpenAsync(ct);
            await using var stall = await blocker.BeginTransactionAsync(ct);
            await using (var command = new NpgsqlCommand("LOCK TABLE video_frames IN ACCESS EXCLUSIVE MODE", blocker, stall))
            {
                await command.ExecuteNonQueryAsync(ct);
            }

            var stallStarted = clock.Elapsed;
            while (clock.Elapsed - stallStarted < Stall)
            {
                await SendAsync();
            }

            await stall.CommitAsync(ct);
        }

        var unlockedAt = clock.Elapsed;
        var firstAfter = sequence;
        while (clock.Elapsed - unlockedAt < TimeSpan.FromSeconds(1))
        {
            await SendAsync();
        }

        var last = sequence - 1;
        await bob.WaitForFramesAsync(1, f => f.Header.Kind == MediaKind.Video && f.Header.Sequence == last, ct, TimeSpan.FromSeconds(20));
        var received = bob.Frames.Where(f => f.Header.Kind == MediaKind.Video).Select(f => f.Header.Sequence).ToHashSet();

        // Sent 1.5 s or more before the lock went: stale when the writer could take it (its age limit is 1 s). The first
        // frame of the stall may have been in the writer's hands already, which writes it when the lock goes.
        var stale = sentAt.Where(p => p.Key > 1 && p.Value < unlockedAt - TimeSpan.FromSeconds(1.5)).Select(p => p.Key).ToList();
        Assert.True(stale.Count >= 10, $"only {stale.Count} frames were sent early in the stall");
        Assert.DoesNotContain(stale, received.Contains);
        var staleAfter = await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_frames_dropped_total", "reason=\"ingest_stale\"", ct);
        Assert.True(staleAfter - staleBefore >= stale.Count, $"ingest_stale went from {staleBefore} to {staleAfter}; {stale.Count} frames were stale");

        // Everything sent after the stall arrives, and nobody was told the relay was unavailable.
        var missing = Enumerable.Range((int)firstAfter, (int)(last - firstAfter + 1)).Select(static i => (uint)i).Where(s => !received.Contains(s)).ToList();
        Assert.Empty(missing);
        Assert.Empty(alice.MessagesOfType("error"));

        async Task SendAsync()
        {
            sentAt[sequence] = clock.Elapsed;
            await alice.SendFrameAsync(TestMedia.Video(callId, sequence), TestMedia.Jpeg(20_000, (int)sequence), ct);
            sequence++;
            await Task.Delay(66, ct);
        }
    }
}
