using Npgsql;
using PgVideoChat.Relay.Storage;

namespace PgVideoChat.Relay.Tests;

/// <summary>The schema the relay applies, its publication, and frame retention by partitions.</summary>
[Collection(AppModelCollections.PgOutputV2)]
public sealed class SchemaTests(PgOutputV2Fixture fixture)
{
    [Fact]
    public async Task Concurrent_migrations_do_not_race_and_apply_each_script_once()
    {
        await using var dataSource = NpgsqlDataSource.Create(fixture.ConnectionString);
        var applied = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => SchemaMigrator.MigrateAsync(dataSource, CancellationToken.None)));
        Assert.All(applied, count => Assert.Equal(0, count));
        Assert.Equal((long)SchemaMigrator.Migrations.Count, await fixture.ScalarAsync<long>("SELECT count(*) FROM schema_migrations"));
    }

    [Fact]
    public async Task The_publications_cover_the_event_tables_through_their_partition_roots()
    {
        var tables = await fixture.ScalarAsync<string[]>("SELECT array_agg(tablename::text ORDER BY tablename) FROM pg_publication_tables WHERE pubname = 'pgvideochat'");
        Assert.Equal(["audio_frames", "calls", "chat_messages", "media_quality", "presence", "video_frames"], tables);
        Assert.True(await fixture.ScalarAsync<bool>("SELECT pubviaroot FROM pg_publication WHERE pubname = 'pgvideochat'"));
        Assert.False(await fixture.ScalarAsync<bool>("SELECT pubdelete FROM pg_publication WHERE pubname = 'pgvideochat'"));

        // Shard routing's control publication: everything but media (a table in two of a slot's publications would
        // pass when either row filter does), plus where users are connected.
        var control = await fixture.ScalarAsync<string[]>("SELECT array_agg(tablename::text ORDER BY tablename) FROM pg_publication_tables WHERE pubname = 'pgvideochat_control'");
        Assert.Equal(["calls", "chat_messages", "connections", "media_quality", "presence"], control);
    }

    [Fact]
    public async Task Frame_partitions_store_payloads_without_compression_and_expired_ones_are_dropped()
    {
        // Every partition inherits STORAGE EXTERNAL: JPEG and PCM are not worth a pglz attempt.
        var storages = await fixture.ScalarAsync<string[]>("""
            SELECT array_agg(DISTINCT a.attstorage::text) FROM pg_inherits i JOIN pg_attribute a ON a.attrelid = i.inhrelid
            WHERE i.inhparent IN ('video_frames'::regclass, 'audio_frames'::regclass) AND a.attname = 'payload'
            """);
        Assert.Equal(["e"], storages);
        // Insert-only and dropped whole: never worth an autovacuum.
        var options = await fixture.ScalarAsync<string[]>("""
            SELECT array_agg(DISTINCT array_to_string(c.reloptions || t.reloptions, ',')) FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class t ON t.oid = c.reltoastrelid
            WHERE i.inhparent IN ('video_frames'::regclass, 'audio_frames'::regclass)
            """);
        Assert.Equal(["autovacuum_enabled=false,autovacuum_enabled=false"], options);

        var old = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds() / 10 * 10;
        await fixture.ExecuteAsync($"CREATE TABLE video_frames_p{old} PARTITION OF video_frames FOR VALUES FROM (to_timestamp({old})) TO (to_timestamp({old + 10}))");
        await using var dataSource = NpgsqlDataSource.Create(fixture.ConnectionString);
        var partitions = new FramePartitions(dataSource, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30));
        var (_, dropped) = await partitions.MaintainAsync(CancellationToken.None);

        Assert.True(dropped >= 1);
        Assert.Equal(0L, await fixture.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname = $1", $"video_frames_p{old}"));
        // Partitions cover the next two minutes, so an INSERT always finds one.
        var ahead = await fixture.ScalarAsync<long>("""
            SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'video_frames'::regclass
              AND substring(c.relname from 'p(\d+)$')::bigint > extract(epoch from now()) + 100
            """);
        Assert.True(ahead >= 1, "no partition exists for the time ahead");
        await fixture.ExecuteAsync("INSERT INTO video_frames (call_id, sender_id, sequence, capture_us, received_us, width, height, payload) VALUES (0, 0, 0, 0, 0, 1, 1, '\\xffd8')");
    }
}
