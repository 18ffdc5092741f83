using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using PgVideoChat.TestSupport;

namespace PgVideoChat.E2ETests;

/// <summary>
/// The app model with three relay replicas (relay-0, relay-1, relay-2) behind the front door; the web client's pages
/// are told the front door's URL as the relay's, as in a scaled-out deployment.
/// </summary>
public sealed class ThreeRelaysVideoChatFixture : VideoChatFixture
{
    /// <summary>The front door's session-affinity cookie (src/FrontDoor/RelayFrontDoorExtensions.cs).</summary>
    public const string AffinityCookieName = ".PgVideoChat.Relay";

    // The placement probe below connects one user up to 60 times in a row, far beyond the per-user connect limit.
    protected override IEnumerable<string> AppHostArguments => ["--Relay:Replicas=3", "--Relay:Limits:Connect:Burst=1000", "--Relay:Limits:Connect:Tokens=1000"];

    /// <summary>
    /// The resource (<c>relay-0</c> …) whose process runs as the relay with this instance id (what a page's hello
    /// names), from the environment the resource was started with rather than from the naming convention.
    /// </summary>
    public string RelayResourceOf(string instanceId)
    {
        foreach (var project in App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ProjectResource>())
        {
            if (App.ResourceNotifications.TryGetCurrentState(project.Name, out var resourceEvent)
                && resourceEvent.Snapshot.GetEnvironment().GetValueOrDefault("Relay__InstanceId") == instanceId)
            {
                return project.Name;
            }
        }

        throw new InvalidOperationException($"No resource of the app model runs the relay '{instanceId}'.");
    }

    /// <summary>The relay URL the web client gives its pages (its /config.json): the front door.</summary>
    public async Task<Uri> PageRelayUrlAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = WebClientUrl, Timeout = TimeSpan.FromSeconds(30) };
        var config = await http.GetFromJsonAsync<JsonElement>("config.json", cancellationToken);
        return new Uri(config.GetProperty("relayUrl").GetString() ?? throw new InvalidOperationException($"config.json has no relayUrl: {config}"));
    }

    /// <summary>
    /// The affinity cookie that pins a browser to each relay, learnt from the front door itself: a throwaway user's
    /// WebSocket handshakes through it, each answered with the cookie for the relay that took the connection, and
    /// that relay's id in its hello. What the front door does to a browser that has visited before, without knowing
    /// how it encodes the cookie.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> LearnAffinityCookiesAsync(Uri frontDoor, int relays, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(frontDoor);
        using var http = new HttpClient { BaseAddress = frontDoor, Timeout = TimeSpan.FromSeconds(30) };
        using var signIn = await http.PostAsJsonAsync("/api/sessions", new { displayName = "Placement probe" }, cancellationToken);
        signIn.EnsureSuccessStatusCode();
        var token = (await signIn.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("token").GetString()!;
        var socketUri = new UriBuilder(frontDoor) { Scheme = frontDoor.Scheme == "https" ? "wss" : "ws", Path = "/ws", Query = "access_token=" + Uri.EscapeDataString(token) }.Uri;

        var cookies = new Dictionary<string, string>(StringComparer.Ordinal);
        // The front door picks among healthy relays at random (power of two choices): 60 handshakes miss one of three
        // relays with a probability of about 1e-10.
        for (var attempt = 0; attempt < 60 && cookies.Count < relays; attempt++)
        {
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            await socket.ConnectAsync(socketUri, cancellationToken);
            var relayId = (await ReceiveTextAsync(socket, cancellationToken)).GetProperty("relayId").GetString()!;
            var cookie = socket.HttpResponseHeaders?
                .Where(h => h.Key.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase))
                .SelectMany(h => h.Value)
                .Select(v => v.Split(';', 2)[0].Split('=', 2))
                .FirstOrDefault(kv => kv.Length == 2 && kv[0].Trim() == AffinityCookieName)?[1].Trim();
            if (cookie is null)
            {
                throw new InvalidOperationException($"The front door's handshake response (served by {relayId}) set no {AffinityCookieName} cookie: is session affinity off?");
            }

            cookies.TryAdd(relayId, cookie);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "placement probe done", cancellationToken);
        }

        Log($"affinity cookies learnt for {string.Join(", ", cookies.Keys.Order(StringComparer.Ordinal))}");
        return cookies;
    }

    /// <summary>The affinity cookie as the browser would have kept it from the front door's answer.</summary>
    public static Cookie BrowserCookie(Uri frontDoor, string value) => new()
    {
        Name = AffinityCookieName,
        Value = value,
        Url = frontDoor.GetLeftPart(UriPartial.Authority),
        HttpOnly = true,
        SameSite = SameSiteAttribute.Lax,
    };

    private static async Task<JsonElement> ReceiveTextAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"The relay closed the probe's socket: {result.CloseStatus} {result.CloseStatusDescription}");
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                if (result.MessageType == WebSocketMessageType.Text)
                {
                    using var document = JsonDocument.Parse(message.ToArray());
                    return document.RootElement.Clone();
                }

                message.SetLength(0);
            }
        }
    }
}
