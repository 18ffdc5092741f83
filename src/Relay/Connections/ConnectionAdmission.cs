using PgVideoChat.Protocol;
using PgVideoChat.Relay.Auth;
using PgVideoChat.Relay.Limits;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Connections;

/// <summary>
/// Who may open a session: before the upgrade a WebSocket request from an allowed origin (else an HTTP problem);
/// after it, a relay that has its stream, a valid token and a user under the connect limit (else a close code).
/// </summary>
internal sealed class ConnectionAdmission(
    OriginPolicy origins,
    SessionTokenService tokens,
    RelayState state,
    UserRequestLimits limits,
    RelayMetrics metrics,
    ILogger<ConnectionAdmission> logger)
{
    /// <summary>The HTTP problem that refuses the request before the upgrade, or <see langword="null"/> to accept it.</summary>
    public IResult? CheckRequest(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, type: ProblemResponses.TypePrefix + "websocket-required", title: "WebSocket required",
                detail: "Open this endpoint with a WebSocket: /ws?access_token=<token from POST /api/sessions>.");
        }

        var origin = context.Request.Headers.Origin.ToString();
        if (!origins.IsAllowed(origin))
        {
            Log.OriginRefused(logger, origin);
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, type: ProblemResponses.TypePrefix + "origin-not-allowed", title: "Origin not allowed",
                detail: "This page's origin is not in Relay:AllowedOrigins.");
        }

        return null;
    }

    /// <summary>After the upgrade: the signed-in user, or the close code and reason that refuse them.</summary>
    public Admission CheckSession(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!state.StartedUp || !state.StreamConnected)
        {
            return Admission.Refused(CloseCodes.DatabaseUnavailable, "the relay has no replication stream yet; reconnect shortly");
        }

        if (!tokens.TryVerify(context.Request.Query["access_token"], out var identity, out var reason))
        {
            Log.TokenRefused(logger, reason);
            return Admission.Refused(CloseCodes.Unauthorized, reason);
        }

        var connects = limits.TryAcquire(identity.UserId, RequestKind.Connect);
        if (!connects.Granted)
        {
            // A connect and its disconnect are presence events to everybody online: reconnecting in a loop is flooding.
            var retry = $"too many connects; retry in {Math.Ceiling(connects.RetryAfter.TotalSeconds):0} s";
            Log.ConnectRefused(logger, identity.UserId, retry);
            metrics.Disconnected(CloseCodes.Flooding);
            return Admission.Refused(CloseCodes.Flooding, retry);
        }

        return new Admission(identity.UserId, 0, null);
    }
}

/// <summary>The user a session is opened for, or (<see cref="Reason"/> set) the close code that refuses it.</summary>
internal readonly record struct Admission(long UserId, int CloseCode, string? Reason)
{
    public static Admission Refused(int closeCode, string reason) => new(0, closeCode, reason);
}
