using System.Net;
using System.Net.Sockets;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Npgsql;

namespace PgVideoChat.E2ETests;

/// <summary>
/// The app model with the Aspire dashboard on (the testing builder turns it off by default), signed in with the
/// run's browser token in one Chromium page.
/// </summary>
public sealed class AspireDashboardFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The fixture has not started.");

    public IPage Page { get; private set; } = null!;

    public Uri DashboardUrl { get; private set; } = null!;

    public string ConnectionString { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var chromium = Chromium.Resolve();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        // Free ports for the dashboard's own endpoints, so that it never collides with another app model on the machine.
        string[] args =
        [
            $"--ASPNETCORE_URLS=http://localhost:{FreePort()}",
            $"--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:{FreePort()}",
            $"--ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=http://localhost:{FreePort()}",
        ];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            args,
            static (options, _) =>
            {
                options.DisableDashboard = false;
                options.AllowUnsecuredTransport = true;
            },
            cts.Token);
        // Aspire echoes every resource's log lines to the test host's console; the dashboard shows them instead.
        builder.Services.AddLogging(logging => logging
            .AddFilter($"{builder.Environment.ApplicationName}.Resources", LogLevel.None)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));
        _app = await builder.BuildAsync(cts.Token);
        await _app.StartAsync(cts.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("webclient", cts.Token);
        ConnectionString = new NpgsqlConnectionStringBuilder(await _app.GetConnectionStringAsync("videochat", cts.Token)) { Pooling = false }.ConnectionString;

        // The testing builder randomizes ports (DcpPublisher:RandomizePorts), the dashboard's too: ask its resource.
        DashboardUrl = await DashboardUrlAsync(_app, cts.Token);
        var token = _app.Services.GetRequiredService<IConfiguration>()["AppHost:BrowserToken"]
            ?? throw new InvalidOperationException("The AppHost has no dashboard browser token (AppHost:BrowserToken).");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1100 } });
        Page.SetDefaultTimeout(30_000);

        // The dashboard takes a few seconds to come up after the app model; the login page sets the auth cookie.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                await Page.GotoAsync(new Uri(DashboardUrl, $"/login?t={token}").ToString());
                await Page.GetByRole(AriaRole.Row).Filter(new() { HasText = "webclient" }).First.WaitForAsync(new() { Timeout = 10_000 });
                break;
            }
            catch (PlaywrightException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(1000, cts.Token);
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 120 };
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T?> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull or null ? default : (T)value;
    }

    private static async Task<Uri> DashboardUrlAsync(DistributedApplication app, CancellationToken cancellationToken)
    {
        await foreach (var update in app.ResourceNotifications.WatchAsync(cancellationToken))
        {
            if (update.Resource.Name == "aspire-dashboard"
                && update.Snapshot.Urls.FirstOrDefault(u => u.Name is "http" or "https" && !u.IsInternal) is { } url)
            {
                return new Uri(url.Url);
            }
        }

        throw new InvalidOperationException("The app model has no running aspire-dashboard resource with an http URL.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
