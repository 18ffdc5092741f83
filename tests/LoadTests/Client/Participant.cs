using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using PgVideoChat.LoadTests.Stats;
using PgVideoChat.Protocol;
using PgVideoChat.Protocol.Client;

namespace PgVideoChat.LoadTests.Client;

/// <summary>Receives the media frames a participant gets (called on the participant's receive loop).</summary>
internal interface IMediaSink
{
    void OnFrame(Participant receiver, in MediaFrameHeader header, int payloadBytes, long receivedMicros);

    void OnError(Participant receiver, string code);
}

/// <summary>
/// One simulated participant on the shared <see cref="RelayConnection"/>: keeps the newest state of its calls for
/// waiters, and hands media frames (header-parsed only) to an <see cref="IMediaSink"/>.
/// </summary>
internal sealed class Participant : IRelayConnectionObserver, IAsyncDisposable
{
    private readonly ConcurrentDictionary<long, CallSnapshot> _calls = new();
    private readonly List<(Func<CallSnapshot, bool> Predicate, TaskCompletionSource<CallSnapshot> Done)> _callWaiters = [];
    private readonly Lock _callGate = new();
    private readonly IMediaSink _sink;
    private RelayConnection? _connection;
    private IReadOnlyDictionary<long, FlowTracker[]> _flows = new Dictionary<long, FlowTracker[]>();

    private Participant(SignInResponse session, IMediaSink sink)
    {
        Session = session;
        _sink = sink;
    }

    public SignInResponse Session { get; }

    public long UserId => Session.UserId;

    /// <summary>Per-sender, per-kind trackers of what this participant received (index 0 video, 1 audio); set once before media flows.</summary>
    public IReadOnlyDictionary<long, FlowTracker[]> Flows
    {
        get => Volatile.Read(ref _flows);
        set => Volatile.Write(ref _flows, value);
    }

    public WebSocketCloseStatus? CloseStatus => _connection?.CloseStatus;

    public string? CloseDescription => _connection?.CloseDescription;

    /// <summary>The connection ended while we did not close it.</summary>
    public bool LostUnexpectedly => _connection?.LostUnexpectedly ?? false;

    public long FramesReceived { get; private set; }

    public long BytesReceived { get; private set; }

    public bool IsOpen => _connection?.IsOpen ?? false;

    private RelayConnection Connection => _connection ?? throw new InvalidOperationException("Not connected.");

    public static Task<SignInResponse> SignInAsync(HttpClient http, string displayName, CancellationToken cancellationToken)
        => RelaySessions.SignInAsync(http, displayName, cancellationToken);

    public static async Task<Participant> ConnectAsync(Uri relay, SignInResponse session, IMediaSink sink, CancellationToken cancellationToken)
    {
        var participant = new Participant(session, sink);
        var options = new RelayConnectionOptions { KeepAliveInterval = TimeSpan.FromSeconds(30), CloseReason = "load test done" };
        participant._connection = await RelayConnection.ConnectAsync(relay, session, participant, options, cancellationToken);
        return participant;
    }

    /// <summary>Sends <c>call.invite</c> and returns the new call's id.</summary>
    public async Task<long> InviteAsync(IReadOnlyList<long> callees, CancellationToken cancellationToken)
    {
        var reply = await Connection.RequestAsync(RequestTypes.CallInvite, w =>
        {
            w.WriteStartArray("to");
            foreach (var callee in callees)
            {
                w.WriteNumberValue(callee);
            }

            w.WriteEndArray();
        }, cancellationToken);
        return reply.Ok && reply.CallId is { } callId ? callId : throw Refused(RequestTypes.CallInvite, reply);
    }

    public async Task AcceptAsync(long callId, CancellationToken cancellationToken)
    {
        var reply = await Connection.RequestAsync(RequestTypes.CallAccept, w => w.WriteNumber("callId", callId), cancellationToken);
        if (!reply.Ok)
        {
            throw Refused(RequestTypes.CallAccept, reply);
        }
    }

    public Task<RelayReply> HangupAsync(long callId, CancellationToken cancellationToken)
        => Connection.RequestAsync(RequestTypes.CallHangup, w => w.WriteNumber("callId", callId), cancellationToken);

    /// <summary>Sends <c>call.record.start</c> (docs/protocol.md 3.2); throws when the relay refuses.</summary>
    public async Task RecordStartAsync(long callId, CancellationToken cancellationToken)
    {
        var reply = await Connection.RequestAsync(RequestTypes.CallRecordStart, w => w.WriteNumber("callId", callId), cancellationToken);
        if (!reply.Ok)
        {
            throw Refused(RequestTypes.CallRecordStart, reply);
        }
    }

    public Task<RelayReply> RecordStopAsync(long callId, CancellationToken cancellationToken)
        => Connection.RequestAsync(RequestTypes.CallRecordStop, w => w.WriteNumber("callId", callId), cancellationToken);

    /// <summary>Waits for a <c>call</c> event (one already received counts) that satisfies <paramref name="predicate"/>.</summary>
    public Task<CallSnapshot> WaitForCallAsync(long callId, Func<CallSnapshot, bool> predicate, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<CallSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool Matches(CallSnapshot call) => call.CallId == callId && predicate(call);
        lock (_callGate)
        {
            if (Connection.Closed)
            {
                return Task.FromException<CallSnapshot>(new WebSocketException($"the connection closed ({CloseStatus} {CloseDescription})"));
            }

            if (_calls.TryGetValue(callId, out var known) && Matches(known))
            {
                return Task.FromResult(known);
            }

            _callWaiters.Add((Matches, done));
        }

        return done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Sends one media frame (header and payload already in <paramref name="message"/>) on the connection's fast path.</summary>
    public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
        => Connection.SendMediaAsync(message, cancellationToken);

    private static InvalidOperationException Refused(string type, RelayReply reply) => new($"{type} was refused: {reply.Code} {reply.ErrorMessage}");

    void IRelayConnectionObserver.OnFrame(RelayConnection connection, in MediaFrameHeader header, ReadOnlySpan<byte> payload, int messageBytes)
    {
        FramesReceived++;
        BytesReceived += messageBytes;
        _sink.OnFrame(this, header, payload.Length, Clock.NowMicros);
    }

    void IRelayConnectionObserver.OnMalformedFrame(RelayConnection connection, string reason) => _sink.OnError(this, "malformed_frame_from_relay");

    void IRelayConnectionObserver.OnControl(RelayConnection connection, string? type, ReadOnlySpan<byte> json)
    {
        switch (type)
        {
            case "error":
                {
                    // Replies reach their requester through the connection; only an error that answers no request is counted here.
                    var error = JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.ErrorMessage);
                    if (error is { Rid: null })
                    {
                        _sink.OnError(this, error.Code);
                    }

                    break;
                }

            case "call":
                {
                    var call = JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.CallSnapshot);
                    if (call is not null)
                    {
                        OnCall(call);
                    }

                    break;
                }

            default:
                // hello, ack, presence, chat: not used by the load scenario.
                break;
        }
    }

    void IRelayConnectionObserver.OnClosed(RelayConnection connection)
    {
        lock (_callGate)
        {
            foreach (var (_, done) in _callWaiters)
            {
                done.TrySetException(new WebSocketException($"the connection closed ({CloseStatus} {CloseDescription})"));
            }

            _callWaiters.Clear();
        }
    }

    private void OnCall(CallSnapshot call)
    {
        lock (_callGate)
        {
            if (_calls.TryGetValue(call.CallId, out var known) && known.Version >= call.Version)
            {
                return;
            }

            _calls[call.CallId] = call;
            for (var i = _callWaiters.Count - 1; i >= 0; i--)
            {
                if (_callWaiters[i].Predicate(call))
                {
                    _callWaiters[i].Done.TrySetResult(call);
                    _callWaiters.RemoveAt(i);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }

    public override string ToString() => $"user {UserId} ({Session.DisplayName})";

    internal static string Describe(Exception ex) => ex is AggregateException { InnerException: { } inner } ? Describe(inner) : ex.GetType().Name + ": " + ex.Message;
}
