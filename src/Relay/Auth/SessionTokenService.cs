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

    public (string Token, DateTimeOffset ExpiresAt) Issue(long userId)
    {
        var expires = _time.GetUtcNow().Add(_lifetime);
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds());
        var body = string.Create(CultureInfo.InvariantCulture, $"{Prefix}.{userId}.{expiresAt.ToUnixTimeSeconds()}");
        return ($"{body}.{Sign(body)}", expiresAt);
    }

    public bool TryVerify(string? token, out SessionIdentity identity, out string reason)
    {
        identity = default;
        if (string.IsNullOrEmpty(token) || token.Length > 256)
        {
            reason = "missing token";
            return false;
        }

        var lastDot = token.LastIndexOf('.');
        var parts = token.Split('.');
        if (parts.Length != 4 || parts[0] != Prefix
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var userId) || userId <= 0
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expiresUnix))
        {
            reason = "malformed token";
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(token[..lastDot]));
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

    /// <summary>
    /// A short-lived ticket that lets <paramref name="userId"/> do one thing (<paramref name="purpose"/>, e.g.
    /// <c>export.12</c>) without the session token: for a link the browser follows, which cannot carry a header.
    /// Its prefix differs from a session token's, so neither passes for the other.
    /// </summary>
    public (string Ticket, DateTimeOffset ExpiresAt) IssueTicket(string purpose, long userId, TimeSpan lifetime)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(_time.GetUtcNow().Add(lifetime).ToUnixTimeSeconds());
        var body = string.Create(CultureInfo.InvariantCulture, $"t1.{userId}.{expiresAt.ToUnixTimeSeconds()}");
        return ($"{body}.{Sign(purpose + ":" + body)}", expiresAt);
    }

    /// <summary>Verifies a ticket of <see cref="IssueTicket"/> for <paramref name="purpose"/>; returns its user or null.</summary>
    public long? VerifyTicket(string purpose, string? ticket)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        if (string.IsNullOrEmpty(ticket) || ticket.Length > 256)
        {
            return null;
        }

        var parts = ticket.Split('.');
        if (parts.Length != 4 || parts[0] != "t1"
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var userId) || userId <= 0
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expiresUnix))
        {
            return null;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(purpose + ":" + ticket[..ticket.LastIndexOf('.')]));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(parts[3])))
        {
            return null;
        }

        return DateTimeOffset.FromUnixTimeSeconds(Math.Min(expiresUnix, 253402300799)) > _time.GetUtcNow() ? userId : null;
    }

    private string Sign(string body)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(body), mac);
        return Base64Url.EncodeToString(mac);
    }
}
