using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Ingest;
using PgVideoChat.Relay.Presence;
using PgVideoChat.Relay.Sessions;
using PgVideoChat.Relay.Telemetry;
using PgVideoChat.Relay.Transport;

namespace PgVideoChat.Relay.Connections;

/// <summary>
/// The life of one client connection: admission, registration, the <c>connections</c> row (presence) and the
/// <c>hello</c>, the two loops until either side closes, then the close handshake and clean-up.
/// </summary>
internal sealed class ClientConnectionHandler(
    ConnectionAdmission admission,
    SessionRegistry sessions,
    SessionOpening opening,
    PresenceStore presence,
    ClientMessageHandler messages,
    RelayState state,
    RelayMetrics metrics,
    FrameDropTally drops,
    IOptions<RelayOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<ClientConnectionHandler> logger)
{
    private readonly RelayOptions _options = options.Value;

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (admission.CheckRequest(context) is { } problem)
        {
            await problem.ExecuteAsync(context);
            return;
        }

        // A small kernel buffer keeps a slow reader's backlog in the send queue, where old frames give way to new.
        if (_options.FanOut.SocketSendBufferBytes > 0 && context.Features.Get<IConnectionSocketFeature>()?.Socket is { } tcp)
        {
            tcp.SendBufferSize = _options.FanOut.SocketSendBufferBytes;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var admitted = admission.CheckSession(context);
        if (admitted.Reason is { } refusal)
        {
            await WebSocketTransport.RefuseAsync(socket, admitted.CloseCode, refusal);
            return;
        }

        using var transport = new WebSocketTransport(socket, _options.FanOut, metrics, state, drops);
        var session = new ClientSession(sessions.NextId(), admitted.UserId, transport, _options.Limits.FloodRefusals, TimeProvider.System);

        // Registered before the snapshot is read, so no event committed in between is missed; the
        // session's event filter drops what the snapshot already holds.
        if (!sessions.TryAdd(session, _options.Limits.ConnectionsPerUser))
        {
            var tooMany = $"too many connections: at most {_options.Limits.ConnectionsPerUser} per user";
            Log.ConnectRefused(logger, session.UserId, tooMany);
            metrics.Disconnected(CloseCodes.Flooding);
            await WebSocketTransport.RefuseAsync(socket, CloseCodes.Flooding, tooMany);
            return;
        }

        using var stopping = lifetime.ApplicationStopping.Register(() => transport.RequestClose(CloseCodes.GoingAway, "relay shutting down"));
        using var aborted = context.RequestAborted.Register(() => transport.RequestClose(CloseCodes.GoingAway, "connection lost"));
        state.ClientConnected();
        long? presenceRow = null;
        try
        {
            // One round trip: the connections row (presence), then the hello's snapshot. Not cancelled when the client
            // leaves meanwhile: the row may already be committed, and its id is needed to delete it below.
            var connected = await opening.OpenAsync(_options.InstanceId, session.UserId, CancellationToken.None);
            if (connected is null)
            {
                transport.RequestClose(CloseCodes.Unauthorized, "unknown user");
                return;
            }

            presenceRow = connected.ConnectionRowId;
            session.Start(connected.Hello);
            Log.ClientConnected(logger, session.Id, session.UserId);
            await RunLoopsAsync(session, transport);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            transport.RequestClose(CloseCodes.DatabaseUnavailable, "the relay lost its database");
        }
        finally
        {
            sessions.Remove(session);
            state.ClientDisconnected();
            await transport.CloseAsync();
            var (code, closeReason) = transport.CloseStatus;
            metrics.Disconnected(code);
            Log.ClientClosed(logger, session.Id, session.UserId, code, closeReason);
            if (presenceRow is { } row)
            {
                await RemoveConnectionRowAsync(row);
            }
        }
    }

    private async Task RunLoopsAsync(ClientSession session, WebSocketTransport transport)
    {
        var sending = transport.SendLoopAsync();
        var receiving = transport.ReceiveLoopAsync((type, message) => messages.HandleAsync(session, type, message));
        await Task.WhenAny(receiving, transport.WhenCloseRequested());
        transport.RequestClose(CloseCodes.Normal, "closed");
        await sending;
        await transport.CloseAsync();
        if (await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(2))) != receiving)
        {
            transport.Abort();
        }

        await receiving;
    }

    private async Task RemoveConnectionRowAsync(long row)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await presence.DisconnectAsync(row, timeout.Token);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or OperationCanceledException or TimeoutException)
        {
            // The row is removed when this relay next starts; presence shows the user a little longer.
        }
    }
}
