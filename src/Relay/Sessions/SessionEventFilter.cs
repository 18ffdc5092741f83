using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Sessions;

/// <summary>
/// Keeps a session from receiving a call or chat event twice. A session is registered before its <c>hello</c> snapshot
/// is read, so nothing committed in between is missed; events that arrive meanwhile wait here and are let through
/// after the <c>hello</c> minus what the snapshot already holds. After that, a call event passes only if its version is
/// newer than the session's, and a chat event only if the snapshot did not carry it (slot replays after a restart).
/// Thread-safe; <paramref name="send"/> is called under its lock, so the order of events is the order they are let through.
/// </summary>
internal sealed class SessionEventFilter(Action<byte[]> send)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, long> _callVersions = [];
    private readonly HashSet<long> _snapshotChatIds = [];
    private readonly List<(bool IsCall, long Id, long Version, byte[] Message)> _beforeSnapshot = [];
    private long _snapshotMaxChatId;
    private bool _started;

    /// <summary>Records the snapshot, sends the <c>hello</c> (<paramref name="sendHello"/>), then what waited and is not in the snapshot.</summary>
    public void Start(HelloMessage hello, Action sendHello)
    {
        ArgumentNullException.ThrowIfNull(hello);
        ArgumentNullException.ThrowIfNull(sendHello);
        lock (_gate)
        {
            foreach (var call in hello.Calls)
            {
                _callVersions[call.CallId] = call.Version;
            }

            foreach (var chat in hello.Chat)
            {
                _snapshotChatIds.Add(chat.Id);
                _snapshotMaxChatId = Math.Max(_snapshotMaxChatId, chat.Id);
            }

            sendHello();
            foreach (var (isCall, id, version, message) in _beforeSnapshot)
            {
                if (isCall ? IsNewCallVersion(id, version) : !InSnapshot(id))
                {
                    send(message);
                }
            }

            _beforeSnapshot.Clear();
            _started = true;
        }
    }

    /// <summary>Sends a <c>call</c> event unless the session already has that version or a newer one.</summary>
    public void Call(long callId, long version, byte[] message)
    {
        lock (_gate)
        {
            if (!_started)
            {
                _beforeSnapshot.Add((true, callId, version, message));
            }
            else if (IsNewCallVersion(callId, version))
            {
                send(message);
            }
        }
    }

    /// <summary>Sends a <c>chat</c> event unless the snapshot already carried it.</summary>
    public void Chat(long chatId, byte[] message)
    {
        lock (_gate)
        {
            if (!_started)
            {
                _beforeSnapshot.Add((false, chatId, 0, message));
            }
            else if (!InSnapshot(chatId))
            {
                send(message);
            }
        }
    }

    private bool IsNewCallVersion(long callId, long version)
    {
        if (_callVersions.TryGetValue(callId, out var known) && known >= version)
        {
            return false;
        }

        _callVersions[callId] = version;
        return true;
    }

    private bool InSnapshot(long chatId) => chatId <= _snapshotMaxChatId && _snapshotChatIds.Contains(chatId);
}
