using System.Collections.Concurrent;
using Npgsql;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Routing;
using PgVideoChat.Relay.Sessions;

namespace PgVideoChat.Relay.Sharding;

/// <summary>
/// Which relay shards each online user is connected to, so that a frame's row can name the relays its recipients are
/// on (<c>recipient_shards</c>). Learnt from the <c>connections</c> table at start and then from the slot (a connect's
/// row, an offline presence row). A user's bits only grow while they stay online: a stale bit costs a relay a frame
/// it skips, a missing bit would lose frames.
/// </summary>
internal sealed class RecipientShards(ShardPublications publications, SessionRegistry registry)
{
    /// <summary>Every bit: every relay receives the row (no shard routing, or a recipient on a relay without it).</summary>
    public const long Everyone = -1;

    private readonly ConcurrentDictionary<long, long> _users = new();
    private DateTime _loadedAtUtc = DateTime.MinValue;

    public bool Enabled => publications.Shard is not null;

    public static long BitOf(int? shard) => shard is { } s ? 1L << s : Everyone;

    /// <summary>The shards of the other joined participants of the call a frame is sent to.</summary>
    public long For(CallSnapshot call, long senderId)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (!Enabled)
        {
            return Everyone;
        }

        var bits = 0L;
        foreach (var userId in Audience.Media(call, senderId))
        {
            if (_users.TryGetValue(userId, out var shards))
            {
                bits |= shards;
            }

            // A client that connected here a moment ago is known here before its row comes back through the slot.
            if (!registry.ForUser(userId).IsEmpty)
            {
                bits |= publications.Bit;
            }
        }

        return bits;
    }

    public void Connected(long userId, int? shard)
    {
        var bit = BitOf(shard);
        _users.AddOrUpdate(userId, bit, (_, bits) => bits | bit);
    }

    /// <summary>A user went offline; an event older than the table read at start (a replay after a restart) is already in it.</summary>
    public void Offline(long userId, DateTime commitTimeUtc)
    {
        if (commitTimeUtc > _loadedAtUtc)
        {
            _users.TryRemove(userId, out _);
        }
    }

    /// <summary>Reads where everyone is connected now; called before the stream starts (and after a slot is recreated).</summary>
    public async Task LoadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        if (!Enabled)
        {
            return;
        }

        // The clock is read after the connections' snapshot: an offline event it might wrongly ignore leaves a stale bit, never a missing one.
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "SELECT user_id, bit_or(CASE WHEN relay_shard IS NULL THEN -1 ELSE 1::bigint << relay_shard END) FROM connections GROUP BY user_id"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT clock_timestamp()"));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var bits = reader.GetInt64(1);
            _users.AddOrUpdate(reader.GetInt64(0), bits, (_, existing) => existing | bits);
        }

        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        _loadedAtUtc = reader.GetFieldValue<DateTime>(0);
    }
}
