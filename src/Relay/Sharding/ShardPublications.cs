using Microsoft.Extensions.Options;
using Npgsql;
using PgVideoChat.Relay.Schema;

namespace PgVideoChat.Relay.Sharding;

/// <summary>
/// The publications this relay's slot reads: the one publication of every event table, or with shard routing the
/// control publication plus this shard's media publication, whose row filter passes only frames with this shard's bit.
/// </summary>
internal sealed class ShardPublications
{
    // Any constant the other advisory locks (migrations, watchdog) do not use.

    public ShardPublications(IOptions<RelayOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var relay = options.Value;
        Shard = relay.Sharding.ResolveShard(relay.InstanceId);
        MediaPublicationName = Shard is { } shard ? Publications.MediaPrefix + shard : null;
        Names = MediaPublicationName is null ? [Publications.All] : [Publications.Control, MediaPublicationName];
    }

    /// <summary>This relay's shard; <see langword="null"/> without shard routing.</summary>
    public int? Shard { get; }

    public string? MediaPublicationName { get; }

    public IReadOnlyList<string> Names { get; }

    /// <summary>The bit of this relay's shard in a frame's <c>recipient_shards</c>; -1 (every relay) without shard routing.</summary>
    public long Bit => RecipientShards.BitOf(Shard);

    public async Task<bool> AllExistAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM pg_publication WHERE pubname = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. Names] });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! == Names.Count;
    }

    /// <summary>Creates this shard's media publication if it is missing; before the slot, which can only read publications older than itself.</summary>
    public async Task EnsureAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        if (MediaPublicationName is null)
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var locked = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
        {
            locked.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AdvisoryLocks.ShardPublicationSetup });
            await locked.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var exists = new NpgsqlCommand("SELECT count(*) FROM pg_publication WHERE pubname = $1", connection, transaction))
        {
            exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = MediaPublicationName });
            if ((long)(await exists.ExecuteScalarAsync(cancellationToken))! > 0)
            {
                return;
            }
        }

        // DDL takes no parameters; the name is validated configuration and the bit a number.
        var filter = $"WHERE ((recipient_shards & {Bit}::bigint) <> 0)";
        await using (var create = new NpgsqlCommand($"""
            CREATE PUBLICATION "{MediaPublicationName}" FOR TABLE video_frames {filter}, audio_frames {filter}
                WITH (publish = 'insert', publish_via_partition_root = true)
            """, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
