using Npgsql;
using PgVideoChat.TestSupport;

namespace PgVideoChat.Relay.Tests.Reliability;

/// <summary>Slots that go wrong: invalidated by max_slot_wal_keep_size, or abandoned by a relay that never returns.</summary>
[Collection(AppModelCollections.Fault)]
public sealed class SlotLifecycleTests(FaultFixture fixture)
{
    private const string Slot = "pgvideochat_relay_0";

    [Fact]
    public async Task An_invalidated_slot_is_recreated_and_clients_resync_without_a_crash_loop()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = cts.Token;
        var session = await RelayTestClient.SignInAsync(fixture.RelayUri, "Alice", ct);
        try
        {
            await fixture.App.StopResourceAsync("relay", ct);

            // 96 MB of WAL behind a stopped relay's back, then a checkpoint: past max_slot_wal_keep_size (64MB).
            await using (var connection = new NpgsqlConnection(fixture.ConnectionString))
            {
                await connection.OpenAsync(ct);
                await using var filler = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS wal_filler (b bytea); ALTER TABLE wal_filler ALTER COLUMN b SET STORAGE EXTERNAL", connection);
                await filler.ExecuteNonQueryAsync(ct);
                var chunk = new byte[1024 * 1024];
                for (var i = 0; i < 96; i++)
                {
                    Random.Shared.NextBytes(chunk);
                    await using var insert = new NpgsqlCommand("INSERT INTO wal_filler VALUES ($1)", connection);
                    insert.Parameters.Add(new NpgsqlParameter { Value = chunk });
                    await insert.ExecuteNonQueryAsync(ct);
                }

                await using var checkpoint = new NpgsqlCommand("DROP TABLE wal_filler; SELECT pg_switch_wal(); CHECKPOINT", connection);
                await checkpoint.ExecuteNonQueryAsync(ct);
            }

            Assert.Equal("lost", await fixture.ScalarAsync<string>("SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1", Slot));

            await fixture.App.StartResourceAsync("relay", ct);
            await ProcessProbe.WaitUntilAsync(() => ProcessProbe.IsHealthyAsync(fixture.RelayUri, ct), TimeSpan.FromSeconds(60), "the relay is healthy with a new slot", ct);
            Assert.Equal("reserved", await fixture.ScalarAsync<string>("SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1", Slot));
            Assert.Equal(1, await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_replication_slot_recreated_total", null, ct));

            // Clients resync from the tables and events flow through the new slot.
            await using var alice = await RelayTestClient.ConnectAsync(fixture.RelayUri, session, ct);
            await using var bob = await RelayTestClient.ConnectAsync(fixture.RelayUri, "Bob", ct);
            var callId = await Calls.EstablishAsync(alice, ct, bob);
            var chat = await alice.ChatAsync(callId, "through the new slot", ct);
            await bob.WaitForAsync(m => RelayTestClient.Type(m) == "chat" && m.GetProperty("id").GetInt64() == chat, ct);

            // No crash loop: the relay stays up and recreated the slot once.
            await Task.Delay(2000, ct);
            Assert.True(await ProcessProbe.IsHealthyAsync(fixture.RelayUri, ct));
            Assert.Equal(1, await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_replication_slot_recreated_total", null, ct));
        }
        finally
        {
            // The fault collection's other classes need the relay back, even after a failure here.
            await fixture.EnsureRunningAsync("relay");
            await fixture.ExecuteAsync("DROP TABLE IF EXISTS wal_filler");
        }
    }

    [Fact]
    public async Task The_watchdog_drops_only_the_slots_of_relay_instances_without_a_heartbeat()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(2), "Alice");
        var (ct, alice) = (scenario.Token, scenario[0]);
        var ghostUser = await RelayTestClient.SignInAsync(fixture.RelayUri, "Ghost's user", ct);

        try
        {
            // A relay that died an hour ago, one that is merely quiet (fresh heartbeat, no consumer), and a slot nobody registered.
            await fixture.ExecuteAsync("SELECT pg_create_logical_replication_slot('pgvideochat_ghost', 'pgoutput')");
            await fixture.ExecuteAsync("SELECT pg_create_logical_replication_slot('pgvideochat_quiet', 'pgoutput')");
            await fixture.ExecuteAsync("SELECT pg_create_logical_replication_slot('someone_elses_slot', 'pgoutput')");
            // One statement: the watchdog must never see the ghost registered without its connection.
            await fixture.ExecuteAsync("""
                WITH instances AS (
                    INSERT INTO relay_instances (relay_id, slot_name, heartbeat_at)
                    VALUES ('ghost', 'pgvideochat_ghost', now() - interval '1 hour'), ('quiet', 'pgvideochat_quiet', now() + interval '1 hour'))
                INSERT INTO connections (user_id, relay_id) VALUES ($1, 'ghost')
                """, ghostUser.UserId);
            await alice.WaitForAsync(m => RelayTestClient.Type(m) == "presence" && m.GetProperty("userId").GetInt64() == ghostUser.UserId && m.GetProperty("online").GetBoolean(), ct);

            await ProcessProbe.WaitUntilAsync(
                async () => await fixture.ScalarAsync<long>("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgvideochat_ghost'") == 0,
                TimeSpan.FromSeconds(20), "the ghost's slot is dropped", ct);

            Assert.Equal(0L, await fixture.ScalarAsync<long>("SELECT count(*) FROM relay_instances WHERE relay_id = 'ghost'"));
            Assert.Equal(1L, await fixture.ScalarAsync<long>("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgvideochat_quiet'"));
            Assert.Equal(1L, await fixture.ScalarAsync<long>("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'someone_elses_slot'"));
            Assert.Equal(1L, await fixture.ScalarAsync<long>("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND active", Slot));
            await alice.WaitForAsync(m => RelayTestClient.Type(m) == "presence" && m.GetProperty("userId").GetInt64() == ghostUser.UserId && !m.GetProperty("online").GetBoolean(), ct);
            Assert.True(await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_replication_slot_abandoned_total", null, ct) >= 1);
        }
        finally
        {
            // The fault collection's next class counts slots: leave only the relay's own.
            await fixture.ExecuteAsync("""
                SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                WHERE slot_name IN ('pgvideochat_ghost', 'pgvideochat_quiet', 'someone_elses_slot') AND NOT active
                """);
            await fixture.ExecuteAsync("DELETE FROM relay_instances WHERE relay_id IN ('ghost', 'quiet')");
        }
    }
}
