using System.Collections.Concurrent;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Routing;

namespace PgVideoChat.Relay.Calls;

/// <summary>
/// The calls this relay knows of, kept current from the slot (and loaded from the tables at start): fan-out
/// routes by it and ingest checks media against it without a database round trip per frame.
/// </summary>
internal sealed class CallDirectory
{
    private readonly ConcurrentDictionary<long, CallSnapshot> _calls = new();

    /// <summary>Applies a call row; an older version than the one known is ignored (replays after a restart).</summary>
    public bool Apply(CallSnapshot call)
    {
        ArgumentNullException.ThrowIfNull(call);
        while (true)
        {
            if (!_calls.TryGetValue(call.CallId, out var known))
            {
                if (_calls.TryAdd(call.CallId, call))
                {
                    return true;
                }

                continue;
            }

            if (known.Version >= call.Version)
            {
                return false;
            }

            if (_calls.TryUpdate(call.CallId, call, known))
            {
                return true;
            }
        }
    }

    public CallSnapshot? Find(long callId) => _calls.TryGetValue(callId, out var call) ? call : null;

    /// <summary>
    /// Whether <paramref name="userId"/> may send media into <paramref name="callId"/> right now (<see langword="null"/>:
    /// yes; otherwise the error code); <paramref name="call"/> is the snapshot it decided on, for routing the frame.
    /// </summary>
    public string? CheckMediaSender(long callId, long userId, out CallSnapshot? call)
    {
        if (!_calls.TryGetValue(callId, out call))
        {
            return ErrorCodes.NotParticipant;
        }

        if (!Audience.IsJoined(call, userId))
        {
            return ErrorCodes.NotParticipant;
        }

        return call.State == CallStates.Active ? null : ErrorCodes.InvalidState;
    }

    /// <summary>Forgets calls that ended long enough ago that no late event concerns them.</summary>
    public void Prune(DateTime olderThanUtc)
    {
        foreach (var (id, call) in _calls)
        {
            if (CallStates.IsTerminal(call.State) && call.UpdatedAt < olderThanUtc)
            {
                _calls.TryRemove(new KeyValuePair<long, CallSnapshot>(id, call));
            }
        }
    }
}
