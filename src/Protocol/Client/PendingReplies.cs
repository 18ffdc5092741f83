using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;

namespace PgVideoChat.Protocol.Client;

/// <summary>Requests waiting for their <c>ack</c> or <c>error</c>, matched by <c>rid</c>.</summary>
internal sealed class PendingReplies
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<RelayReply>> _pending = new(StringComparer.Ordinal);
    private int _nextRid;

    /// <summary>A rid no earlier request of this connection used.</summary>
    public string NextRid() => "r" + Interlocked.Increment(ref _nextRid).ToString(CultureInfo.InvariantCulture);

    public Task<RelayReply> Track(string rid)
    {
        var reply = new TaskCompletionSource<RelayReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[rid] = reply;
        return reply.Task;
    }

    public void Forget(string rid) => _pending.TryRemove(rid, out _);

    /// <summary>Completes the request <paramref name="json"/> answers, when one waits for it.</summary>
    public void Settle(string rid, ReadOnlySpan<byte> json)
    {
        if (_pending.TryGetValue(rid, out var reply))
        {
            using var document = JsonDocument.Parse(json.ToArray());
            reply.TrySetResult(new RelayReply(document.RootElement.Clone()));
        }
    }

    public void FailAll(Func<WebSocketException> lost)
    {
        foreach (var reply in _pending.Values)
        {
            reply.TrySetException(lost());
        }
    }
}
