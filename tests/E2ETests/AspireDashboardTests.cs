using System.Globalization;
using System.Text.RegularExpressions;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace PgVideoChat.E2ETests;

/// <summary>
/// The Aspire dashboard of a running app model, in Chromium: the resources, the relay's slot-lag graph, and the
/// replication slot resources with their commands.
/// </summary>
public sealed partial class AspireDashboardTests(AspireDashboardFixture fixture) : IClassFixture<AspireDashboardFixture>
{
    private const string Slot = "pgvideochat_relay_0";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_resource_is_Running_and_healthy_and_the_relays_slot_is_Active()
    {
        await OpenResourcesAsync();
        foreach (var name in new[] { "postgres", "videochat", "relay", "webclient" })
        {
            // A running resource whose health checks fail reads "Running (Unhealthy)".
            await Expect(StateCell(name)).ToHaveAttributeAsync("aria-label", "Running", new() { Timeout = 30_000 });
        }

        await Expect(StateCell(Slot)).ToHaveAttributeAsync("aria-label", "Active", new() { Timeout = 30_000 });
    }

    [Fact]
    public async Task The_relays_slot_lag_graph_rises_under_WAL_load_and_returns_to_about_zero()
    {
        var page = fixture.Page;
        await page.GotoAsync(new Uri(fixture.DashboardUrl, "/metrics/resource/relay?meter=PgVideoChat.Relay&instrument=pgvideochat.replication.lag.bytes&duration=5").ToString());
        await page.GetByText("Table", new() { Exact = true }).ClickAsync();

        // Hundreds of megabytes of WAL that the relay's slot must decode (none of it is in its publication, so the
        // relay skips it: the lag is the decoding alone).
        try
        {
            await fixture.ExecuteAsync("CREATE TABLE dashboard_wal_load AS SELECT repeat('x', 1000) AS filler FROM generate_series(1, 300000)");
            var peak = await WaitForAsync(async () => (await LagValuesAsync()).DefaultIfEmpty().Max(), v => v > 1_000_000, "a slot lag above 1 MB in the graph's table");
            var latest = await WaitForAsync(async () => (await LagValuesAsync()).FirstOrDefault(-1), v => v is >= 0 and < 1_000_000, "the slot lag back under 1 MB");
            Assert.True(peak > latest, $"peak {peak} B, latest {latest} B");
        }
        finally
        {
            await fixture.ExecuteAsync("DROP TABLE IF EXISTS dashboard_wal_load");
        }
    }

    [Fact]
    public async Task A_stopped_relay_leaves_an_inactive_slot_retaining_WAL_that_the_drop_command_removes()
    {
        var page = fixture.Page;
        await OpenResourcesAsync();
        try
        {
            await Row("relay").Locator("fluent-button[aria-label='Stop resource']").ClickAsync();
            // A stopped project reads "Project is no longer running." (Finished/Exited in the resource model).
            await Expect(StateCell("relay")).ToHaveAttributeAsync("aria-label", new Regex("Finished|Exited|no longer running"), new() { Timeout = 30_000 });
            await Expect(StateCell(Slot)).ToHaveAttributeAsync("aria-label", new Regex("^Inactive"), new() { Timeout = 30_000 });

            var before = RetainedWal();
            await fixture.ExecuteAsync("CREATE TABLE dashboard_retained AS SELECT repeat('x', 1000) AS filler FROM generate_series(1, 20000)");
            await WaitForAsync(() => Task.FromResult(RetainedWal()), retained => retained > before + 10_000_000, $"the slot's retained WAL to grow by 10 MB from {before} B");
            await Expect(StateCell(Slot)).ToHaveAttributeAsync("aria-label", "Inactive, retaining WAL", new() { Timeout = 30_000 });

            await OpenCommandAsync(Slot, "Drop slot");
            await Expect(page.GetByText($"Drop the replication slot {Slot}?")).ToBeVisibleAsync();
            await ConfirmAsync();

            await Expect(Row(Slot)).ToHaveCountAsync(0, new() { Timeout = 30_000 });
            Assert.Equal(0L, await fixture.ScalarAsync<long>($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{Slot}'"));
        }
        finally
        {
            await fixture.ExecuteAsync("DROP TABLE IF EXISTS dashboard_retained");
            if (fixture.App.ResourceNotifications.TryGetCurrentState("relay", out var relay) && relay.Snapshot.State?.Text != KnownResourceStates.Running)
            {
                await fixture.App.ResourceCommands.ExecuteCommandAsync("relay", KnownResourceCommands.StartCommand);
            }

            // The relay makes its slot again when it starts: the next test finds the app model as it was.
            using var cts = new CancellationTokenSource(Patience);
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("relay", cts.Token);
        }

        await Expect(StateCell(Slot)).ToHaveAttributeAsync("aria-label", "Active", new() { Timeout = 30_000 });
    }

    [Fact]
    public async Task The_relays_recreate_slot_command_gives_it_a_new_slot_at_the_current_WAL_position()
    {
        await OpenResourcesAsync();
        await Expect(StateCell(Slot)).ToHaveAttributeAsync("aria-label", "Active", new() { Timeout = 30_000 });
        var before = await fixture.ScalarAsync<string>($"SELECT restart_lsn::text FROM pg_replication_slots WHERE slot_name = '{Slot}'");
        var position = await fixture.ScalarAsync<string>("SELECT pg_current_wal_lsn()::text");

        await OpenCommandAsync("relay", "Recreate slot");
        await ConfirmAsync();

        var after = await WaitForAsync(
            () => fixture.ScalarAsync<string>($"SELECT restart_lsn::text FROM pg_replication_slots WHERE slot_name = '{Slot}' AND active AND restart_lsn >= '{position}'"),
            lsn => lsn is not null,
            "a new active slot whose restart_lsn is at or past the WAL position before the command");
        Assert.NotEqual(before, after);
        await Expect(StateCell(Slot)).ToHaveAttributeAsync("aria-label", "Active", new() { Timeout = 30_000 });
        using var cts = new CancellationTokenSource(Patience);
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("relay", cts.Token);
    }

    // The confirmation's buttons are Fluent web components whose label sits in a slot: found by their text.
    private ILocator ConfirmButton => fixture.Page.Locator("fluent-button").Filter(new() { HasTextRegex = YesPattern() });

    private Task ConfirmAsync() => ConfirmButton.ClickAsync();

    /// <summary>
    /// Opens a resource's actions menu and picks <paramref name="command"/> until its confirmation shows. A slot's row is
    /// rendered again every second (its properties refresh), and a click on a menu item the grid has just replaced does
    /// nothing: seen once in a full run, the menu stayed open with "Drop slot" in it and no confirmation came.
    /// </summary>
    private async Task OpenCommandAsync(string resource, string command)
    {
        for (var attempt = 1; ; attempt++)
        {
            await Row(resource).Locator("fluent-button[aria-label='Actions']").ClickAsync();
            await fixture.Page.GetByText(command, new() { Exact = true }).ClickAsync();
            try
            {
                await Expect(ConfirmButton).ToBeVisibleAsync(new() { Timeout = 5_000 });
                return;
            }
            catch (PlaywrightException) when (attempt < 3)
            {
                await fixture.Page.Keyboard.PressAsync("Escape");
            }
        }
    }

    private async Task OpenResourcesAsync()
    {
        await fixture.Page.GotoAsync(fixture.DashboardUrl.ToString());
        await Row("webclient").WaitForAsync();
    }

    // The dashboard's grid labels a row's first cell "<type>: <name>" and its state cell with the state's text.
    private ILocator Row(string name) =>
        fixture.Page.Locator("[role=row]").Filter(new() { Has = fixture.Page.Locator($"[role=gridcell][aria-label$=': {name}']") });

    private ILocator StateCell(string name) => Row(name).Locator("[role=gridcell]").Nth(1);

    private long RetainedWal() =>
        fixture.App.ResourceNotifications.TryGetCurrentState(Slot, out var slot)
        && slot.Snapshot.Properties.FirstOrDefault(p => p.Name == ReplicationSlotProperties.RetainedWalBytes)?.Value is long bytes
            ? bytes
            : throw new InvalidOperationException($"The slot resource {Slot} has no {ReplicationSlotProperties.RetainedWalBytes} property.");

    /// <summary>The values in the metric's table view, newest first.</summary>
    private async Task<List<long>> LagValuesAsync()
    {
        var values = new List<long>();
        foreach (var row in await fixture.Page.Locator("[role=row]").AllAsync())
        {
            var cells = await row.Locator("[role=gridcell]").AllInnerTextsAsync();
            if (cells.Count >= 2 && TimePattern().IsMatch(cells[0].Trim())
                && long.TryParse(cells[1].Trim().Replace(",", string.Empty, StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                values.Add(value);
            }
        }

        return values;
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        T value;
        while (!done(value = await read()))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {Patience.TotalSeconds:0} s for {what}; last read: {value}.");
            }

            await Task.Delay(500);
        }

        return value;
    }

    [GeneratedRegex(@"^\s*Yes\s*$")]
    private static partial Regex YesPattern();

    [GeneratedRegex(@"^\d{1,2}:\d{2}:\d{2}\s?[AP]M$")]
    private static partial Regex TimePattern();
}
