using System.Collections.Concurrent;

namespace PgVideoChat.Relay.Sessions;

/// <summary>Who is connected to this relay instance, by user: fan-out looks recipients up here.</summary>
internal sealed class SessionRegistry
{
    private readonly ConcurrentDictionary<long, ClientSession> _all = new();
    private readonly ConcurrentDictionary<long, ClientSession[]> _byUser = new();

    private long _lastId;

    public long NextId() => Interlocked.Increment(ref _lastId);

    public IEnumerable<ClientSession> All => _all.Values;

    /// <summary>Registers a session unless its user already has <paramref name="maxPerUser"/> on this relay.</summary>
    public bool TryAdd(ClientSession session, int maxPerUser)
    {
        ArgumentNullException.ThrowIfNull(session);
        while (true)
        {
            if (_byUser.TryGetValue(session.UserId, out var existing))
            {
                if (existing.Length >= maxPerUser)
                {
                    return false;
                }

                if (_byUser.TryUpdate(session.UserId, [.. existing, session], existing))
                {
                    break;
                }
            }
            else if (_byUser.TryAdd(session.UserId, [session]))
            {
                break;
            }
        }

        _all[session.Id] = session;
        return true;
    }

    public void Remove(ClientSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!_all.TryRemove(session.Id, out _))
        {
            return;
        }

        while (_byUser.TryGetValue(session.UserId, out var existing))
        {
            var remaining = existing.Where(c => c.Id != session.Id).ToArray();
            var done = remaining.Length == 0
                ? _byUser.TryRemove(new KeyValuePair<long, ClientSession[]>(session.UserId, existing))
                : _byUser.TryUpdate(session.UserId, remaining, existing);
            if (done)
            {
                return;
            }
        }
    }

    public ReadOnlySpan<ClientSession> ForUser(long userId)
        => _byUser.TryGetValue(userId, out var sessions) ? sessions : [];
}
