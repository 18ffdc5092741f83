using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace PgVideoChat.AppHost.Tests;

/// <summary>
/// Issue 21 (hostile users): the AppHost's console is read by whoever sees the terminal, a CI log or a screen share,
/// and its endpoints by any page a browser opens (DNS rebinding gives a foreign page our loopback address under its
/// own name). Neither may give away Postgres's password or the relay's signing key.
/// </summary>
public sealed class AppHostSecretsTests(HostileHostRun run) : IClassFixture<HostileHostRun>
{
    [Fact]
    public void The_console_shows_neither_the_Postgres_password_nor_the_signing_key_even_at_Trace_level()
    {
        // Both secrets were in use, so anything that prints them had the chance to.
        Assert.Null(run.PasswordConnectionError);
        Assert.Equal(HttpStatusCode.OK, run.SignInStatus);
        Assert.True(IsSignedWith(run.Token, run.SigningKey), $"the relay's token {run.Token} is not signed with the signing key the AppHost was given");

        // The AppHost ran, logged at Trace and stopped by itself: the output is the whole run's, not a stub.
        var output = string.Join('\n', run.Output);
        Assert.Contains("Distributed application started", output, StringComparison.Ordinal);
        Assert.True(run.Output.Count(line => line.StartsWith("trce: ", StringComparison.Ordinal)) > 20, $"the AppHost did not log at Trace:\n{output}");
        Assert.Equal(0, run.ExitCode);

        // The keys Aspire generates for OTLP, the resource service and its API are secrets of the same kind. The
        // dashboard's browser token is not masked: the login link printed at start is how a user opens the dashboard.
        Assert.Contains($"/login?t={run.GeneratedKeys["dashboard browser token"]}", output, StringComparison.Ordinal);
        var secrets = run.GeneratedKeys.Where(k => k.Key != "dashboard browser token")
            .Append(new("Postgres password", run.Password))
            .Append(new("signing key", run.SigningKey))
            .ToList();
        var leaks = run.Output
            .Select((line, i) => (Line: line, Number: i + 1))
            .Where(l => secrets.Any(s => l.Line.Contains(s.Value, StringComparison.Ordinal)))
            .Select(l => $"{l.Number}: {secrets.Aggregate(l.Line, (line, s) => line.Replace(s.Value, $"<{s.Key}>", StringComparison.Ordinal))}")
            .ToList();
        Assert.True(leaks.Count == 0, $"{leaks.Count} of {run.Output.Count} lines of the AppHost's console show a secret:\n{string.Join('\n', leaks.Take(20))}");
    }

    [Fact]
    public void A_foreign_Host_gets_no_secret_and_the_dashboard_OTLP_and_resource_service_want_their_token_or_key()
    {
        Assert.NotEmpty(run.Probes);
        Assert.Equal(4, run.GeneratedKeys.Count);
        var secrets = new Dictionary<string, string>(run.GeneratedKeys)
        {
            ["Postgres password"] = run.Password,
            ["signing key"] = run.SigningKey,
        };
        foreach (var probe in run.Probes)
        {
            foreach (var (name, value) in secrets)
            {
                Assert.False(probe.Headers.Contains(value, StringComparison.Ordinal) || probe.Body.Contains(value, StringComparison.Ordinal), $"{probe} reveals the {name}");
            }
        }

        // The dashboard serves only its login page (and the files it needs) without the browser token's cookie.
        Assert.Equal(HttpStatusCode.Found, Find("dashboard /").Status);
        Assert.Contains("/login", Find("dashboard /").Headers, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Found, Find("dashboard /consolelogs").Status);
        Assert.DoesNotContain("Set-Cookie", Find("dashboard /login with a wrong token").Headers, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.Unauthorized, Find("dashboard telemetry API").Status);

        // OTLP and the resource service (which runs the dashboard's commands) refuse without their key; with it they
        // answer, so the refusals are the key's doing and not an endpoint that was never there.
        foreach (var probe in run.Probes.Where(p => p.Name.StartsWith("OTLP", StringComparison.Ordinal) || p.Name.StartsWith("resource service", StringComparison.Ordinal)))
        {
            Assert.True(probe.Name.EndsWith("with its key", StringComparison.Ordinal) ? probe.Status == HttpStatusCode.OK : probe.Status == HttpStatusCode.Unauthorized, $"{probe}\n{probe.Headers}");
        }

        Assert.Contains("grpc-status: 0", Find("OTLP logs with its key").Headers, StringComparison.Ordinal);
        Assert.Contains("grpc-status: 0", Find("resource service information with its key").Headers, StringComparison.Ordinal);

        // The web client is static files, its health and metrics, and the relay's address: nothing takes a POST.
        Assert.Equal(HttpStatusCode.OK, Find("web client /").Status);
        Assert.Equal(HttpStatusCode.OK, Find("web client /config.json").Status);
        Assert.StartsWith("{\"relayUrl\":\"http://", Find("web client /config.json").Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, Find("web client POST /config.json").Status);
        Assert.True(Find("web client POST /").Status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, Find("web client POST /").ToString());
    }

    private Probe Find(string name) => run.Probes.Single(p => p.Name == name);

    private static bool IsSignedWith(string? token, string key)
    {
        if (token is null || token.LastIndexOf('.') is var dot && dot < 0)
        {
            return false;
        }

        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.ASCII.GetBytes(token[..dot]));
        return System.Buffers.Text.Base64Url.EncodeToString(mac) == token[(dot + 1)..];
    }
}
