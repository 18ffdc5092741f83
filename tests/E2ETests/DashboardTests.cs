using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using Npgsql;
using PgVideoChat.Hosting;
using PgVideoChat.Hosting.Testing;
using static Microsoft.Playwright.Assertions;

namespace PgVideoChat.E2ETests;

/// <summary>The AppHost dashboard of a running app model, driven in Chromium: resources, live logs, slot lag.</summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public DistributedApplication App { get; private set; } = null!;

    public IPage Page { get; private set; } = null!;

    public string ConnectionString { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var chromium = Chromium.Resolve();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>([], cts.Token);
        builder.Options.DisableDashboard = false;
        App = await builder.BuildAsync(cts.Token);
        await App.StartAsync(cts.Token);
        await App.ResourceNotifications.WaitForResourceHealthyAsync("webclient", cts.Token);
        ConnectionString = new NpgsqlConnectionStringBuilder(await App.GetConnectionStringAsync("videochat", cts.Token)) { Pooling = false }.ConnectionString;
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1100 } });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (App is not null)
        {
            await App.DisposeAsync();
        }
    }
}

public sealed class DashboardTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private const string Slot = "pgvideochat_relay_0";

    [Fact]
    public async Task Every_resource_shows_Running_and_the_relays_console_is_live()
    {
        var page = fixture.Page;
        await page.GotoAsync(new Uri(fixture.App.DashboardUrl!, "#resources").ToString());
        foreach (var name in new[] { "postgres", "videochat", "relay", "webclient" })
        {
            await Expect(page.GetByTestId($"resource-{name}")).ToContainTextAsync("Running", new() { Timeout = 20_000 });
        }

        await page.GetByTestId("logs-relay").ClickAsync();
        await Expect(page.GetByTestId("page-console")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("console-lines")).ToContainTextAsync("Replication stream started", new() { Timeout = 20_000 });
        await page.GetByTestId("console-filter").FillAsync("Schema is at version");
        var visible = page.GetByTestId("console-lines").Locator("span:visible");
        await Expect(visible.First).ToContainTextAsync("Schema is at version");
        Assert.All(await visible.AllTextContentsAsync(), line => Assert.Contains("Schema is at version", line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_slot_lag_chart_shows_live_lag_under_load_and_returns_to_about_zero_after_it()
    {
        var page = fixture.Page;
        await page.GotoAsync(new Uri(fixture.App.DashboardUrl!, "#metrics").ToString());
        await Expect(page.GetByTestId($"slot-{Slot}")).ToContainTextAsync("active", new() { Timeout = 20_000 });

        // Load: 200 KB frames written as fast as one connection can, for a while; the relay decodes every one from its slot.
        using var load = new CancellationTokenSource(TimeSpan.FromSeconds(12));
        var writing = WriteFramesAsync(fixture.ConnectionString, load.Token);
        double peak = 0;
        while (!load.IsCancellationRequested && peak <= 0)
        {
            peak = await ChartValueAsync(page, "peak");
            await Task.Delay(500);
        }

        if (Environment.GetEnvironmentVariable("PGVIDEOCHAT_DOCS_SCREENSHOTS") is { Length: > 0 } directory)
        {
            await Task.Delay(3000);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, "dashboard-metrics.png"), FullPage = true });
        }

        var rows = await writing;
        Assert.True(peak > 0, $"the slot-lag chart never showed lag while {rows} frames were written");

        var deadline = DateTime.UtcNow.AddSeconds(20);
        double latest;
        do
        {
            await Task.Delay(500);
            latest = await ChartValueAsync(page, "latest");
        }
        while (latest > 64 * 1024 && DateTime.UtcNow < deadline);
        Assert.True(latest <= 64 * 1024, $"slot lag still {latest:N0} bytes 20 s after the load (peak {peak:N0})");
    }

    [Fact]
    public async Task A_stopped_relay_shows_its_slot_inactive_with_retained_WAL_growing_under_writes()
    {
        var page = fixture.Page;
        await page.GotoAsync(new Uri(fixture.App.DashboardUrl!, "#resources").ToString());
        await page.GetByTestId("stop-relay").ClickAsync();
        await Expect(page.GetByTestId("resource-relay")).Not.ToContainTextAsync("Running", new() { Timeout = 30_000 });
        try
        {
            await page.GotoAsync(new Uri(fixture.App.DashboardUrl!, "#metrics").ToString());
            var row = page.GetByTestId($"slot-{Slot}");
            await Expect(row).ToContainTextAsync("INACTIVE", new() { Timeout = 20_000 });
            await Expect(page.GetByTestId("slot-alerts")).ToContainTextAsync(Slot);
            var before = await RetainedAsync(row);

            using var writes = new CancellationTokenSource(TimeSpan.FromSeconds(4));
            await WriteFramesAsync(fixture.ConnectionString, writes.Token);
            var deadline = DateTime.UtcNow.AddSeconds(15);
            long after;
            do
            {
                await Task.Delay(500);
                after = await RetainedAsync(row);
            }
            while (after <= before + 1024 * 1024 && DateTime.UtcNow < deadline);
            Assert.True(after > before + 1024 * 1024, $"retained WAL did not grow: {before:N0} → {after:N0} bytes");
            await Expect(page.GetByTestId("slot-alerts")).ToContainTextAsync("no active consumer");
        }
        finally
        {
            await fixture.App.StartResourceAsync("relay");
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("relay");
        }
    }

    private static async Task<double> ChartValueAsync(IPage page, string which)
    {
        var json = await page.GetByTestId("chart-slot-lag").GetAttributeAsync($"data-{which}") ?? "{}";
        using var document = JsonDocument.Parse(json);
        return document.RootElement.TryGetProperty(Slot, out var value) ? value.GetDouble() : 0;
    }

    private static async Task<long> RetainedAsync(ILocator row)
    {
        var text = (await row.Locator("td").Nth(6).TextContentAsync())!.Trim();
        var parts = text.Split(' ');
        var number = double.Parse(parts[0], CultureInfo.InvariantCulture);
        return (long)(number * parts[1] switch { "GiB" => 1 << 30, "MiB" => 1 << 20, "KiB" => 1024, _ => 1 });
    }

    private static async Task<int> WriteFramesAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(CancellationToken.None);
        var payload = new byte[200_000];
        Random.Shared.NextBytes(payload);
        payload[0] = 0xFF;
        payload[1] = 0xD8;
        var rows = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            await using var batch = new NpgsqlBatch(connection);
            for (var i = 0; i < 10; i++)
            {
                var command = new NpgsqlBatchCommand("INSERT INTO video_frames (call_id, sender_id, sequence, capture_us, received_us, width, height, payload) VALUES (0, 0, $1, 0, 0, 640, 360, $2)");
                command.Parameters.Add(new NpgsqlParameter { Value = (long)rows + i });
                command.Parameters.Add(new NpgsqlParameter { Value = payload });
                batch.BatchCommands.Add(command);
            }

            await batch.ExecuteNonQueryAsync(CancellationToken.None);
            rows += 10;
        }

        return rows;
    }
}
