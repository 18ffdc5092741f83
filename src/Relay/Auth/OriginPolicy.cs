using Microsoft.Extensions.Options;

namespace PgVideoChat.Relay.Auth;

/// <summary>Which page origins may open a WebSocket (and call the sign-in endpoint).</summary>
internal sealed class OriginPolicy(IOptions<RelayOptions> options)
{
    private readonly HashSet<string> _allowed = new(
        options.Value.AllowedOrigins.Select(Normalize).Where(static o => o.Length > 0),
        StringComparer.OrdinalIgnoreCase);

    /// <summary>A request without <c>Origin</c> is not from a browser page and is allowed (the token still applies).</summary>
    public bool IsAllowed(string? origin) => string.IsNullOrEmpty(origin) || _allowed.Contains(Normalize(origin));

    private static string Normalize(string origin) => origin.Trim().TrimEnd('/');
}
