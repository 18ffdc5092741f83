using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Npgsql;
using PgVideoChat.TestSupport;

namespace PgVideoChat.AppHost.Tests;

/// <summary>The AppHost's own default app model, started through Aspire.Hosting.Testing as the other suites start it.</summary>
[Collection(SingleRelayAppModel.Name)]
public sealed class AppModelTests(SingleRelayFixture fixture)
{
    private DistributedApplication App => fixture.App;

    [Fact]
    public async Task The_app_model_comes_up_healthy_with_logical_wal_and_every_service_answers()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        foreach (var name in SingleRelayFixture.AllResources)
        {
            var snapshot = (await App.ResourceNotifications.WaitForResourceHealthyAsync(name, cts.Token)).Snapshot;
            Assert.True(snapshot.IsRunning(), $"{name} is {snapshot.Describe()}");
        }

        await using (var connection = new NpgsqlConnection(await App.GetConnectionStringAsync("videochat", cts.Token)))
        {
            await connection.OpenAsync(cts.Token);
            await using var command = new NpgsqlCommand("SHOW wal_level", connection);
            Assert.Equal("logical", await command.ExecuteScalarAsync(cts.Token));
            Assert.Equal("videochat", connection.Database);
        }

        using var relay = App.CreateHttpClient("relay");
        Assert.Equal(HttpStatusCode.OK, (await relay.GetAsync("/health", cts.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await relay.GetAsync("/alive", cts.Token)).StatusCode);
        Assert.Contains("# TYPE", await relay.GetStringAsync("/metrics", cts.Token), StringComparison.Ordinal);

        using var webclient = App.CreateHttpClient("webclient");
        var page = await webclient.GetAsync("/", cts.Token);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("text/html", page.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var config = await webclient.GetFromJsonAsync<JsonElement>("/config.json", cts.Token);
        Assert.Equal(App.GetEndpoint("relay").ToString().TrimEnd('/'), config.GetProperty("relayUrl").GetString());
    }

    [Fact]
    public async Task Projects_get_the_environment_an_Aspire_AppHost_injects()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var relay = (await App.ResourceNotifications.WaitForResourceHealthyAsync("relay", cts.Token)).Snapshot.GetEnvironment();
        var webclient = (await App.ResourceNotifications.WaitForResourceHealthyAsync("webclient", cts.Token)).Snapshot.GetEnvironment();
        var videochat = new NpgsqlConnectionStringBuilder(await App.GetConnectionStringAsync("videochat", cts.Token));

        Assert.Equal(videochat.ConnectionString, relay["ConnectionStrings__videochat"]);
        Assert.Equal("localhost", new NpgsqlConnectionStringBuilder(relay["ConnectionStrings__videochat"]).Host);
        Assert.Equal("postgres", videochat.Username);
        Assert.True(videochat.Password!.Length >= 22);
        Assert.Equal(videochat.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), relay["VIDEOCHAT_PORT"]);
        Assert.Equal("videochat", relay["VIDEOCHAT_DATABASENAME"]);
        Assert.StartsWith("postgresql://postgres:", relay["VIDEOCHAT_URI"], StringComparison.Ordinal);
        Assert.Equal("relay", relay["OTEL_SERVICE_NAME"]);
        Assert.StartsWith("service.instance.id=", relay["OTEL_RESOURCE_ATTRIBUTES"], StringComparison.Ordinal);
        Assert.Equal(App.GetEndpoint("relay").ToString().TrimEnd('/'), relay["ASPNETCORE_URLS"]);
        Assert.Equal("relay-0", relay["Relay__InstanceId"]);
        Assert.True(relay["Relay__Auth__SigningKey"]!.Length >= 44);
        Assert.Equal(App.GetEndpoint("webclient").ToString().TrimEnd('/'), relay["Relay__AllowedOrigins__0"]);
        Assert.Equal(relay["Relay__AllowedOrigins__0"]!.Replace("localhost", "127.0.0.1", StringComparison.Ordinal), relay["Relay__AllowedOrigins__1"]);
        // Shutdown is not held up by an OTLP export to a dashboard that is already gone.
        Assert.Equal("1000", relay["OTEL_EXPORTER_OTLP_TIMEOUT"]);

        Assert.Equal(App.GetEndpoint("relay").ToString().TrimEnd('/'), webclient["services__relay__http__0"]);
        Assert.False(webclient.ContainsKey("ConnectionStrings__videochat"), "the web client does not reference the database");
        Assert.False(webclient.ContainsKey("Relay__Auth__SigningKey"), "the signing key is the relay's alone");
    }

    [Fact]
    public async Task A_relay_restart_keeps_its_port_and_comes_back_healthy_in_a_new_process()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var before = App.GetProcessId("relay") ?? throw new InvalidOperationException("The relay is not running.");
        var url = App.GetEndpoint("relay");
        var logs = App.GetResourceLogs();
        var linesBefore = logs.GetLines("relay").Count;

        await App.RestartResourceAsync("relay", cts.Token);
        await App.ResourceNotifications.WaitForResourceHealthyAsync("relay", cts.Token);

        var after = App.GetProcessId("relay");
        Assert.NotNull(after);
        Assert.NotEqual(before, after);
        Assert.False(ProcFs.IsAlive(before), $"the relay's old process {before} still runs");
        Assert.Equal(url, App.GetEndpoint("relay"));
        using var relay = App.CreateHttpClient("relay");
        Assert.Equal(HttpStatusCode.OK, (await relay.GetAsync("/health", cts.Token)).StatusCode);
        // The restarted process's lines join the same resource's log (failure messages show both runs).
        Assert.True(logs.GetLines("relay").Count > linesBefore, "no line of the restarted relay was collected");
    }
}
