using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;

namespace PgVideoChat.AppHost.Tests;

/// <summary>
/// One run of the built AppHost, as a user who passes the secrets on the command line and turns logging up to Trace
/// would run it: Postgres's password and the relay's signing key are values this run chose, so the tests can look for
/// them. While it runs, the run proves both were used (a sign-in whose token is signed with the key, a connection
/// with the password) and sends every endpoint the AppHost serves requests with a foreign <c>Host</c> (what a page
/// on a DNS-rebinding domain sends); then it stops the AppHost with Ctrl+C and keeps all it printed. Starting an
/// AppHost costs 15–40 s on two cores, so both tests share this one run and only look at what it recorded.
/// </summary>
public sealed partial class HostileHostRun : IAsyncLifetime
{
    /// <summary>What a browser on a rebinding domain sends as <c>Host</c>: the name it resolved, with our port.</summary>
    public const string ForeignHostName = "evil.example";

    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(30);

    // Letters and digits only: the password goes into a connection string and a URI without escaping, so the
    // output is searched for exactly these characters.
    public string Password { get; } = "Pw" + Guid.NewGuid().ToString("N");

    // 44 characters, like the generated one (GenerateParameterDefault { MinLength = 44 }).
    public string SigningKey { get; } = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N")[..12];

    public HttpStatusCode SignInStatus { get; private set; }

    public string? Token { get; private set; }

    /// <summary>Null when a connection with <see cref="Password"/> opened; the error otherwise.</summary>
    public string? PasswordConnectionError { get; private set; } = "not tried";

    /// <summary>The dashboard's browser token and the OTLP, resource-service and API keys Aspire generated for this run.</summary>
    public IReadOnlyDictionary<string, string> GeneratedKeys { get; private set; } = new Dictionary<string, string>();

    public IReadOnlyList<Probe> Probes { get; private set; } = [];

    /// <summary>Everything the AppHost printed, stdout and stderr, from its start to its exit.</summary>
    public IReadOnlyList<string> Output { get; private set; } = [];

    public int? ExitCode { get; private set; }

    public async Task InitializeAsync()
    {
        await using var apphost = await RunningAppHost.StartAsync(
            [
                $"--Parameters:postgres-password={Password}",
                $"--Parameters:relay-signing-key={SigningKey}",
                // The most a user can turn up: every category of the AppHost, Aspire's and DCP's included.
                "--Logging:LogLevel:Default=Trace",
            ]);
        try
        {
            var resources = apphost.Resources();
            var relay = RunningAppHost.ListeningUrl(resources.Relay!.Value) ?? throw new InvalidOperationException("The relay has no ASPNETCORE_URLS.");
            await SignInAsync(relay);
            await ConnectWithPasswordAsync(RunningAppHost.PostgresPort(resources.Postmaster!.Value) ?? throw new InvalidOperationException("Postgres has no -c port= argument."));
            var webclient = new Uri(RunningAppHost.EnvironmentVariable(resources.Relay!.Value, "Relay__AllowedOrigins__0")
                ?? throw new InvalidOperationException("The relay was not given the web client's origin."));
            Probes = await ProbeAsync(apphost, webclient);
        }
        finally
        {
            apphost.Signal(RunningAppHost.SIGINT);
            using var timeout = new CancellationTokenSource(StopLimit);
            await apphost.Process.WaitForExitAsync(timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            ExitCode = apphost.Process.HasExited ? apphost.Process.ExitCode : null;
            Output = apphost.AllOutput;
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task SignInAsync(Uri relay)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.PostAsJsonAsync(new Uri(relay, "/api/sessions"), new { displayName = "Mallory" });
        SignInStatus = response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            Token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        }
    }

    private async Task ConnectWithPasswordAsync(int port)
    {
        var builder = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Username = "postgres", Password = Password, Database = "videochat", Pooling = false };
        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync();
            PasswordConnectionError = null;
        }
        catch (NpgsqlException ex)
        {
            PasswordConnectionError = ex.Message;
        }
    }

    private async Task<IReadOnlyList<Probe>> ProbeAsync(RunningAppHost apphost, Uri webclient)
    {
        var output = string.Join('\n', apphost.AllOutput);
        var dashboard = new Uri(DashboardUrl().Match(output) is { Success: true } d ? d.Groups[1].Value : throw new InvalidOperationException($"The AppHost printed no dashboard URL:\n{apphost.Output}"));
        var otlp = new Uri(OtlpUrl().Match(output) is { Success: true } o ? o.Groups[1].Value : throw new InvalidOperationException($"The AppHost printed no OTLP URL:\n{apphost.Output}"));
        var dashboardPid = apphost.Dashboard() ?? throw new InvalidOperationException("The dashboard does not run.");
        string Setting(string name) => RunningAppHost.EnvironmentVariable(dashboardPid, name) ?? throw new InvalidOperationException($"The dashboard was started without {name}.");
        var resourceService = new Uri(Setting("ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"));
        var otlpKey = Setting("DASHBOARD__OTLP__PRIMARYAPIKEY");
        var resourceServiceKey = Setting("DASHBOARD__RESOURCESERVICECLIENT__APIKEY");
        GeneratedKeys = new Dictionary<string, string>
        {
            ["dashboard browser token"] = Setting("DASHBOARD__FRONTEND__BROWSERTOKEN"),
            ["OTLP API key"] = otlpKey,
            ["resource service API key"] = resourceServiceKey,
            ["dashboard API key"] = Setting("DASHBOARD__API__PRIMARYAPIKEY"),
        };

        // No redirects (a rebinding page would not follow them to us either) and no cookies: the browser of a
        // foreign origin has none of the dashboard's.
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var probes = new List<Probe>();
        async Task Send(string name, HttpMethod method, Uri baseUrl, string path, bool grpc = false, (string Name, string Value)? header = null)
        {
            using var request = new HttpRequestMessage(method, new Uri(baseUrl, path));
            request.Headers.Host = $"{ForeignHostName}:{baseUrl.Port}";
            request.Headers.TryAddWithoutValidation("Origin", $"http://{ForeignHostName}:{baseUrl.Port}");
            if (header is var (headerName, value))
            {
                request.Headers.TryAddWithoutValidation(headerName, value);
            }

            if (grpc)
            {
                // Both gRPC services are HTTP/2 only, without TLS (h2c). One empty message: a valid request of
                // every method called here.
                request.Version = HttpVersion.Version20;
                request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
                request.Headers.TryAddWithoutValidation("te", "trailers");
                request.Content = new ByteArrayContent(new byte[5]);
                request.Content.Headers.ContentType = new("application/grpc");
            }
            else if (method == HttpMethod.Post)
            {
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            }

            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var headers = string.Join('\n', response.Headers.Concat(response.Content.Headers).Concat(response.TrailingHeaders)
                .Select(h => $"{h.Key}: {string.Join(", ", h.Value)}"));
            probes.Add(new Probe(name, $"{method} {request.RequestUri}", response.StatusCode, headers, body));
        }

        await Send("dashboard /", HttpMethod.Get, dashboard, "/");
        await Send("dashboard /login", HttpMethod.Get, dashboard, "/login");
        await Send("dashboard /login with a wrong token", HttpMethod.Get, dashboard, "/login?t=0123456789abcdef0123456789abcdef");
        await Send("dashboard /consolelogs", HttpMethod.Get, dashboard, "/consolelogs/resource/relay");
        await Send("dashboard telemetry API", HttpMethod.Get, dashboard, "/api/telemetry/resources");
        await Send("dashboard Blazor negotiate", HttpMethod.Post, dashboard, "/_blazor/negotiate?negotiateVersion=1");
        await Send("web client /", HttpMethod.Get, webclient, "/");
        await Send("web client /config.json", HttpMethod.Get, webclient, "/config.json");
        await Send("web client /health", HttpMethod.Get, webclient, "/health");
        await Send("web client /alive", HttpMethod.Get, webclient, "/alive");
        await Send("web client /metrics", HttpMethod.Get, webclient, "/metrics");
        await Send("web client POST /", HttpMethod.Post, webclient, "/");
        await Send("web client POST /config.json", HttpMethod.Post, webclient, "/config.json");
        await Send("OTLP logs without key", HttpMethod.Post, otlp, "/opentelemetry.proto.collector.logs.v1.LogsService/Export", grpc: true);
        await Send("OTLP traces without key", HttpMethod.Post, otlp, "/opentelemetry.proto.collector.trace.v1.TraceService/Export", grpc: true);
        await Send("OTLP metrics without key", HttpMethod.Post, otlp, "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", grpc: true);
        await Send("OTLP logs with a wrong key", HttpMethod.Post, otlp, "/opentelemetry.proto.collector.logs.v1.LogsService/Export", grpc: true, ("x-otlp-api-key", "0123456789abcdef0123456789abcdef"));
        await Send("OTLP logs with its key", HttpMethod.Post, otlp, "/opentelemetry.proto.collector.logs.v1.LogsService/Export", grpc: true, ("x-otlp-api-key", otlpKey));
        await Send("resource service information without key", HttpMethod.Post, resourceService, "/aspire.v1.DashboardService/GetApplicationInformation", grpc: true);
        await Send("resource service resources without key", HttpMethod.Post, resourceService, "/aspire.v1.DashboardService/WatchResources", grpc: true);
        await Send("resource service command without key", HttpMethod.Post, resourceService, "/aspire.v1.DashboardService/ExecuteResourceCommand", grpc: true);
        await Send("resource service information with a wrong key", HttpMethod.Post, resourceService, "/aspire.v1.DashboardService/GetApplicationInformation", grpc: true, ("x-resource-service-api-key", "0123456789abcdef0123456789abcdef"));
        await Send("resource service information with its key", HttpMethod.Post, resourceService, "/aspire.v1.DashboardService/GetApplicationInformation", grpc: true, ("x-resource-service-api-key", resourceServiceKey));
        return probes;
    }

    [GeneratedRegex(@"- Dashboard:\s+(http://\S+)")]
    private static partial Regex DashboardUrl();

    [GeneratedRegex(@"OTLP/gRPC:\s+(http://\S+)")]
    private static partial Regex OtlpUrl();
}

/// <summary>One request with a foreign Host and Origin, and what came back.</summary>
public sealed record Probe(string Name, string Request, HttpStatusCode Status, string Headers, string Body)
{
    public override string ToString() => $"{Name}: {Request} → {(int)Status}";
}
