using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Auth;
using PgVideoChat.Relay.Ingest;
using PgVideoChat.Relay.Limits;
using PgVideoChat.Relay.Presence;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Connections;

/// <summary><c>GET /ws?access_token=…</c>: origin check, token check, presence, <c>hello</c>, then the two loops.</summary>
internal static class WebSocketEndpoint
{
    public static IEndpointRouteBuilder MapClientWebSocket(this IEndpointRouteBuilder endpoints)
    {
        endpoints.Map("/ws", HandleAsync);
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("PgVideoChat.Relay.Connections");
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Results.Problem(statusCode: StatusCodes.Status400BadRequest, type: ProblemResponses.TypePrefix + "websocket-required", title: "WebSocket required",
                detail: "Open this endpoint with a WebSocket: /ws?access_token=<token from POST /api/sessions>.").ExecuteAsync(context);
            return;
        }

        var origin = context.Request.Headers.Origin.ToString();
        if (!services.GetRequiredService<OriginPolicy>().IsAllowed(origin))
        {
            Log.OriginRefused(logger, origin);
            await Results.Problem(statusCode: StatusCodes.Status403Forbidden, type: ProblemResponses.TypePrefix + "origin-not-allowed", title: "Origin not allowed",
                detail: "This page's origin is not in Relay:AllowedOrigins.").ExecuteAsync(context);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var state = services.GetRequiredService<RelayState>();
        var options = services.GetRequiredService<IOptions<RelayOptions>>().Value;
        if (!state.SchemaReady || !state.StreamConnected)
        {
            await CloseAsync(socket, CloseCodes.DatabaseUnavailable, "the relay has no replication stream yet; reconnect shortly");
            return;
        }

        var tokens = services.GetRequiredService<SessionTokenService>();
        if (!tokens.TryVerify(context.Request.Query["access_token"], out var identity, out var reason))
        {
            Log.TokenRefused(logger, reason);
            await CloseAsync(socket, CloseCodes.Unauthorized, reason);
            return;
        }

        var metrics = services.GetRequiredService<RelayMetrics>();
        var connects = services.GetRequiredService<UserRequestLimits>().TryAcquire(identity.UserId, RequestKind.Connect);
        if (!connects.Granted)
        {
            // A connect and its disconnect are presence events to everybody online: reconnecting in a loop is flooding.
            var retry = $"too many connects; retry in {Math.Ceiling(connects.RetryAfter.TotalSeconds):0} s";
            Log.ConnectRefused(logger, identity.UserId, retry);
            metrics.Disconnected(CloseCodes.Flooding);
            await CloseAsync(socket, CloseCodes.Flooding, retry);
            return;
        }

        var presence = services.GetRequiredService<PresenceStore>();
        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        var registry = services.GetRequiredService<ConnectionRegistry>();
        var handler = services.GetRequiredService<ClientMessageHandler>();
        var connection = new ClientConnection(registry.NextId(), socket, identity.UserId, options.FanOut, options.Limits.FloodRefusals, metrics, state, logger);

        // Registered before the snapshot is read, so no event committed in between is missed; the
        // connection's de-duplication drops what the snapshot already holds.
        if (!registry.TryAdd(connection, options.Limits.ConnectionsPerUser))
        {
            var tooMany = $"too many connections: at most {options.Limits.ConnectionsPerUser} per user";
            Log.ConnectRefused(logger, identity.UserId, tooMany);
            metrics.Disconnected(CloseCodes.Flooding);
            await CloseAsync(socket, CloseCodes.Flooding, tooMany);
            connection.Dispose();
            return;
        }

        using var stopping = lifetime.ApplicationStopping.Register(() => connection.RequestClose(CloseCodes.GoingAway, "relay shutting down"));
        using var aborted = context.RequestAborted.Register(() => connection.RequestClose(CloseCodes.GoingAway, "connection lost"));
        state.ClientConnected();
        long? presenceRow = null;
        try
        {
            // One round trip: the connections row (presence), then the hello's snapshot. Not cancelled when the client
            // leaves meanwhile: the row may already be committed, and its id is needed to delete it below.
            var connected = await services.GetRequiredService<HelloSnapshot>().ConnectAsync(options.InstanceId, identity.UserId, CancellationToken.None);
            if (connected is null)
            {
                connection.RequestClose(CloseCodes.Unauthorized, "unknown user");
                return;
            }

            presenceRow = connected.ConnectionRowId;
            connection.Start(connected.Hello);
            Log.ClientConnected(logger, connection.Id, connection.UserId);

            var sending = connection.SendLoopAsync(metrics);
            var receiving = connection.ReceiveLoopAsync(handler.HandleAsync);
            await Task.WhenAny(receiving, connection.WhenCloseRequested());
            connection.RequestClose(CloseCodes.Normal, "closed");
            await sending;
            await connection.CloseAsync();
            if (await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(2))) != receiving)
            {
                connection.Abort();
            }

            await receiving;
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            connection.RequestClose(CloseCodes.DatabaseUnavailable, "the relay lost its database");
        }
        finally
        {
            registry.Remove(connection);
            state.ClientDisconnected();
            await connection.CloseAsync();
            connection.Dispose();
            var (code, closeReason) = connection.CloseStatus;
            metrics.Disconnected(code);
            Log.ClientClosed(logger, connection.Id, connection.UserId, code, closeReason);
            if (presenceRow is { } row)
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
    }

    private static async Task CloseAsync(WebSocket socket, int code, string reason)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
    }
}
