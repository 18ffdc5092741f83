using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using PgVideoChat.Protocol;
using PgVideoChat.Protocol.Client;

namespace PgVideoChat.Relay.Tests.Reliability;

/// <summary>
/// Every HTTP error of the relay is a problem+json with a stable type and no .NET internals, although the relay runs in
/// Development under the AppHost (where ASP.NET Core would show the developer exception page); sign-ins are limited
/// per client address; an oversized token is refused as docs/protocol.md says.
/// </summary>
[Collection(AppModelCollections.PgOutputV2)]
public sealed class HttpProblemTests(PgOutputV2Fixture fixture)
{
    public static TheoryData<string, string, string?, string, HttpStatusCode, string> BadRequests => new()
    {
        { "POST", "/api/sessions", "application/json", "{\"displayName\":", HttpStatusCode.BadRequest, "invalid-request" },
        { "POST", "/api/sessions", "application/json", "[1,2]", HttpStatusCode.BadRequest, "invalid-request" },
        { "POST", "/api/sessions", "application/json", "{\"displayName\":5}", HttpStatusCode.BadRequest, "invalid-request" },
        { "POST", "/api/sessions", "application/json", "{\"displayName\":\"a\\ud800\"}", HttpStatusCode.BadRequest, "invalid-request" },
        { "POST", "/api/sessions", "application/json", string.Empty, HttpStatusCode.BadRequest, "invalid-display-name" },
        { "POST", "/api/sessions", "application/json", "{\"displayName\":\"  \"}", HttpStatusCode.BadRequest, "invalid-display-name" },
        { "POST", "/api/sessions", "application/json", "{\"displayName\":\"a\\u0007b\"}", HttpStatusCode.BadRequest, "invalid-display-name" },
        { "POST", "/api/sessions", "text/plain", "{\"displayName\":\"Eve\"}", HttpStatusCode.UnsupportedMediaType, "unsupported-media-type" },
        { "POST", "/api/sessions/refresh", null, string.Empty, HttpStatusCode.Unauthorized, "unauthorized" },
        { "GET", "/api/sessions", null, string.Empty, HttpStatusCode.MethodNotAllowed, "method-not-allowed" },
        { "GET", "/no/such/page", null, string.Empty, HttpStatusCode.NotFound, "not-found" },
        { "GET", "/ws", null, string.Empty, HttpStatusCode.BadRequest, "websocket-required" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_request_gets_a_problem_with_a_stable_type_and_no_internals(string method, string path, string? contentType, string body, HttpStatusCode status, string type)
    {
        using var http = new HttpClient { BaseAddress = fixture.RelayUri };
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (contentType is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, contentType);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{method} {path} {body}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal("urn:pgvideochat:problem:" + type, problem.RootElement.GetProperty("type").GetString());
        Assert.True(problem.RootElement.TryGetProperty("traceId", out _), text);
        AssertNoInternals(text);
    }

    [Fact]
    public async Task Sign_ins_are_limited_per_client_address_and_refused_ones_write_no_user()
    {
        using var http = new HttpClient { BaseAddress = fixture.RelayUri };
        var address = $"192.0.2.{Random.Shared.Next(1, 255)}";
        var marker = $"Limit {Guid.NewGuid():N}"[..30];
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 32; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/sessions") { Content = JsonContent.Create(new { displayName = $"{marker} {i}" }) };
            request.Headers.Add("X-Forwarded-For", address);
            var response = await http.SendAsync(request);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused ??= response;
            }
        }

        Assert.Equal(30, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.All(statuses.Skip(30), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        Assert.NotNull(refused);
        Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        var text = await refused.Content.ReadAsStringAsync();
        using (var problem = JsonDocument.Parse(text))
        {
            Assert.Equal("urn:pgvideochat:problem:rate-limited", problem.RootElement.GetProperty("type").GetString());
        }

        AssertNoInternals(text);
        Assert.Equal(30L, await fixture.ScalarAsync<long>("SELECT count(*) FROM users WHERE display_name LIKE $1", marker + " %"));

        // Another address is somebody else.
        using var other = new HttpRequestMessage(HttpMethod.Post, "/api/sessions") { Content = JsonContent.Create(new { displayName = "Neighbour" }) };
        other.Headers.Add("X-Forwarded-For", "198.51.100.7");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(other)).StatusCode);
    }

    [Fact]
    public async Task A_token_that_fits_the_request_line_is_closed_4401_and_a_longer_request_line_gets_414()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using (var socket = new ClientWebSocket())
        {
            await socket.ConnectAsync(RelaySessions.WebSocketUri(fixture.RelayUri, "v1." + new string('A', 7_000)), cts.Token);
            var result = await socket.ReceiveAsync(new byte[1024], cts.Token);
            Assert.Equal(CloseCodes.Unauthorized, (int?)result.CloseStatus);
        }

        using var http = new HttpClient { BaseAddress = fixture.RelayUri };
        using var response = await http.GetAsync("/ws?access_token=" + new string('A', 9_000), cts.Token);
        Assert.Equal(HttpStatusCode.RequestUriTooLong, response.StatusCode);
        AssertNoInternals(await response.Content.ReadAsStringAsync(cts.Token));
    }

    private static void AssertNoInternals(string text)
    {
        foreach (var marker in new[] { "   at ", "Exception", "System.", "Microsoft.AspNetCore", "Npgsql" })
        {
            Assert.False(text.Contains(marker, StringComparison.Ordinal), $"the response shows '{marker}': {text}");
        }
    }
}
