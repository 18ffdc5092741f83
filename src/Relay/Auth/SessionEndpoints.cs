using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Auth;

/// <summary><c>POST /api/sessions</c> (sign in with a display name) and <c>POST /api/sessions/refresh</c>.</summary>
internal static class SessionEndpoints
{
    public const string CorsPolicyName = "relay-origins";

    public const string InvalidDisplayName = ProblemResponses.TypePrefix + "invalid-display-name";

    public static IEndpointRouteBuilder MapSessionEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/sessions").RequireCors(CorsPolicyName);
        group.MapPost("/", SignInAsync).RequireRateLimiting(SignInRateLimiting.SignInPolicy);
        group.MapPost("/refresh", RefreshAsync).RequireRateLimiting(SignInRateLimiting.RefreshPolicy);
        return endpoints;
    }

    private static async Task<Results<Ok<SignInResponse>, ProblemHttpResult>> SignInAsync(
        SignInRequest? request, NpgsqlDataSource dataSource, SessionTokenService tokens, RelayState state, CancellationToken cancellationToken)
    {
        var displayName = request?.DisplayName?.Trim();
        if (string.IsNullOrEmpty(displayName) || ProtocolText.CodePoints(displayName) > ProtocolLimits.MaxDisplayNameLength
            || ProtocolText.HasControlCharacter(displayName))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                type: InvalidDisplayName,
                title: "Invalid display name",
                detail: $"displayName must have 1..{ProtocolLimits.MaxDisplayNameLength} characters after trimming and no control characters.");
        }

        if (!state.StartedUp)
        {
            return Unavailable();
        }

        await using var command = dataSource.CreateCommand("INSERT INTO users (display_name) VALUES ($1) RETURNING id");
        command.Parameters.Add(new NpgsqlParameter { Value = displayName });
        var userId = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        var (token, expiresAt) = tokens.Issue(userId);
        return TypedResults.Ok(new SignInResponse(userId, displayName, token, expiresAt.UtcDateTime));
    }

    private static async Task<Results<Ok<SignInResponse>, ProblemHttpResult>> RefreshAsync(
        HttpRequest request, NpgsqlDataSource dataSource, SessionTokenService tokens, CancellationToken cancellationToken)
    {
        if (!tokens.TryVerifyBearer(request, out var identity, out var reason))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, type: ProblemResponses.Unauthorized, title: "Sign in again", detail: reason);
        }

        await using var command = dataSource.CreateCommand("SELECT display_name FROM users WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = identity.UserId });
        if (await command.ExecuteScalarAsync(cancellationToken) is not string displayName)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, type: ProblemResponses.Unauthorized, title: "Sign in again", detail: "unknown user");
        }

        var (fresh, expiresAt) = tokens.Issue(identity.UserId);
        return TypedResults.Ok(new SignInResponse(identity.UserId, displayName, fresh, expiresAt.UtcDateTime));
    }

    private static ProblemHttpResult Unavailable() => TypedResults.Problem(
        statusCode: StatusCodes.Status503ServiceUnavailable,
        type: ProblemResponses.Unavailable,
        title: "The relay is starting",
        detail: "The relay has not reached its database yet; retry shortly.");
}
