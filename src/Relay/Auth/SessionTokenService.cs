using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace PgVideoChat.Relay.Auth;

/// <summary>A verified session: who the connection acts as.</summary>
internal readonly record struct SessionIdentity(long UserId, DateTimeOffset ExpiresAt);

/// <summary>
/// Issues and verifies session tokens: <c>v1.{userId}.{expiresUnixSeconds}.{HMAC-SHA256 base64url}</c>.
/// The user id comes only from a token this relay fleet signed, never from a client field.
/// </summary>
internal sealed class SessionTokenService
{
    private const string Prefix = "v1";
    private const string TicketPrefix = "t1";
    private readonly byte[] _key;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;

    public SessionTokenService(IOptions<RelayOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _key = Encoding.UTF8.GetBytes(options.Value.Auth.SigningKey);
        _lifetime = options.Value.Auth.TokenLifetime;
        _time = time;
    }

    public (string Token, DateTimeOffset ExpiresAt) Issue(long userId) => IssueCore(Prefix, string.Empty, userId, _lifetime);

    public bool TryVerify(string? token, out SessionIdentity identity, out string reason)
        => TryVerifyCore(token, Prefix, string.Empty, out identity, out reason);

    /// <summary>Verifies the request's <c>Authorization: Bearer</c> session token.</summary>
    public bool TryVerifyBearer(HttpRequest request, out SessionIdentity identity, out string reason)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
        return TryVerify(token, out identity, out reason);
    }

    /// <summary>
    /// A short-lived ticket that lets <paramref name="userId"/> do one thing (<paramref name="purpose"/>, e.g.
    /// <c>export.12</c>) without the session token: for a link the browser follows, which cannot carry a header.
    /// Its prefix differs from a session token's and its signature covers the purpose, so neither passes for the other
    /// and a ticket opens nothing but its purpose.
    /// </summary>
    public (string Ticket, DateTimeOffset ExpiresAt) IssueTicket(string purpose, long userId, TimeSpan lifetime)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        return IssueCore(TicketPrefix, purpose + ":", userId, lifetime);
    }

    /// <summary>Verifies a ticket of <see cref="IssueTicket"/> for <paramref name="purpose"/>; returns its user or null.</summary>
    public long? VerifyTicket(string purpose, string? ticket)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        return TryVerifyCore(ticket, TicketPrefix, purpose + ":", out var identity, out _) ? identity.UserId : null;
    }

    // {prefix}.{userId}.{expiresUnixSeconds}.{HMAC of scope + the first three parts}
    private (string Token, DateTimeOffset ExpiresAt) IssueCore(string prefix, string scope, long userId, TimeSpan lifetime)
    {
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(_time.GetUtcNow().Add(lifetime).ToUnixTimeSeconds());
        var body = string.Create(CultureInfo.InvariantCulture, $"{prefix}.{userId}.{expiresAt.ToUnixTimeSeconds()}");
        return ($"{body}.{Sign(scope + body)}", expiresAt);
    }

    private bool TryVerifyCore(string? token, string prefix, string scope, out SessionIdentity identity, out string reason)
    {
        identity = default;
        if (string.IsNullOrEmpty(token) || token.Length > 256)
        {
            reason = "missing token";
            return false;
        }

        var lastDot = token.LastIndexOf('.');
        var parts = token.Split('.');
        if (parts.Length != 4 || parts[0] != prefix
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var userId) || userId <= 0
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expiresUnix))
        {
            reason = "malformed token";
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(scope + token[..lastDot]));
        var actual = Encoding.ASCII.GetBytes(parts[3]);
        if (!CryptographicOperations.FixedTimeEquals(expected, actual))
        {
            reason = "invalid token signature";
            return false;
        }

        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(Math.Min(expiresUnix, 253402300799));
        if (expiresAt <= _time.GetUtcNow())
        {
            reason = "expired token";
            return false;
        }

        identity = new SessionIdentity(userId, expiresAt);
        reason = string.Empty;
        return true;
    }

    private string Sign(string body)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(body), mac);
        return Base64Url.EncodeToString(mac);
    }
}
