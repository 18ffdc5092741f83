using System.Collections.Concurrent;

namespace PgVideoChat.Relay.Connections;

/// <summary>Who is connected to this relay instance, by user: fan-out looks recipients up here.</summary>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<long, ClientConnection> _all = new();
    private readonly ConcurrentDictionary<long, ClientConnection[]> _byUser = new();

    private long _lastId;

    public int Count => _all.Count;

    public long NextId() => Interlocked.Increment(ref _lastId);

    public IEnumerable<ClientConnection> All => _all.Values;

    /// <summary>Registers a connection unless its user already has <paramref name="maxPerUser"/> on this relay.</summary>
    public bool TryAdd(ClientConnection connection, int maxPerUser)
    {
        ArgumentNullException.ThrowIfNull(connection);
        while (true)
        {
            if (_byUser.TryGetValue(connection.UserId, out var existing))
            {
                if (existing.Length >= maxPerUser)
                {
                    return false;
                }

                if (_byUser.TryUpdate(connection.UserId, [.. existing, connection], existing))
                {
                    break;
                }
            }
            else if (_byUser.TryAdd(connection.UserId, [connection]))
            {
                break;
            }
        }

        _all[connection.Id] = connection;
        return true;
    }

    public void Remove(ClientConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!_all.TryRemove(connection.Id, out _))
        {
            return;
        }

        while (_byUser.TryGetValue(connection.UserId, out var existing))
        {
            var remaining = existing.Where(c => c.Id != connection.Id).ToArray();
            var done = remaining.Length == 0
                ? _byUser.TryRemove(new KeyValuePair<long, ClientConnection[]>(connection.UserId, existing))
                : _byUser.TryUpdate(connection.UserId, remaining, existing);
            if (done)
            {
                return;
            }
        }
    }

    public ReadOnlySpan<ClientConnection> ForUser(long userId)
        => _byUser.TryGetValue(userId, out var connections) ? connections : [];
}
