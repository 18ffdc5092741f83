using System.Net.Http.Json;

namespace PgVideoChat.Protocol.Client;

/// <summary>The relay's HTTP session API and the WebSocket address a session connects to.</summary>
public static class RelaySessions
{
    /// <summary><c>POST /api/sessions</c>; a refusal throws with the status and the problem's body.</summary>
    public static async Task<SignInResponse> SignInAsync(HttpClient http, string displayName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var response = await http.PostAsJsonAsync("/api/sessions", new SignInRequest(displayName), ProtocolJsonContext.Default.SignInRequest, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"sign-in as '{displayName}' failed: {(int)response.StatusCode} {body}", null, response.StatusCode);
        }

        return await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.SignInResponse, cancellationToken)
            ?? throw new HttpRequestException("sign-in returned no session");
    }

    /// <summary><c>ws(s)://relay/ws?access_token=…</c>: browsers cannot set headers on a WebSocket, so the token rides in the query.</summary>
    public static Uri WebSocketUri(Uri relay, string token)
    {
        ArgumentNullException.ThrowIfNull(relay);
        ArgumentNullException.ThrowIfNull(token);
        var builder = new UriBuilder(relay)
        {
            Scheme = relay.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
            Path = "/ws",
            Query = "access_token=" + Uri.EscapeDataString(token),
        };
        return builder.Uri;
    }
}
