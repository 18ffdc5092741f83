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

    private string Sign(string body)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(body), mac);
        return Base64Url.EncodeToString(mac);
    }
}
