using Npgsql;
using PgVideoChat.Relay.Calls;
using PgVideoChat.Relay.Sharding;

namespace PgVideoChat.Relay.Replication;

/// <summary>
/// What the relay keeps in memory and the slot keeps current (open calls; which relays online users are on): read
/// from the tables before the stream starts, and again after a slot is recreated, since the stream then misses what
/// happened in between.
/// </summary>
internal sealed class ReplicatedCaches(NpgsqlDataSource dataSource, CallDirectory calls, RecipientShards recipientShards)
{
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await CallRows.LoadOpenCallsAsync(dataSource, calls, cancellationToken);
        await recipientShards.LoadAsync(dataSource, cancellationToken);
    }
}
