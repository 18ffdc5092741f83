using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using PgVideoChat.Hosting;
using PgVideoChat.Hosting.Orchestration;
using PgVideoChat.Hosting.Testing;

namespace PgVideoChat.AppHost.Tests;

/// <summary>The AppHost's own app model, started through the test entry point as Aspire.Hosting.Testing would.</summary>
public sealed class AppModelTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);
    private static readonly string[] AllResources = ["postgres", "videochat", "relay", "webclient"];

    [Fact]
    public async Task The_app_model_comes_up_healthy_with_logical_wal_and_goes_away_cleanly()
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(cts.Token);
        builder.Options.DisableDashboard = false;
        var app = await builder.BuildAsync(cts.Token);
        int[] pids;
        string dataDirectory;
        Uri[] urls;
        await using (app)
        {
            await app.StartAsync(cts.Token);
            foreach (var name in AllResources)
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(name, cts.Token);
            }

            await using (var connection = new NpgsqlConnection(await app.GetConnectionStringAsync("videochat", cts.Token)))
            {
                await connection.OpenAsync(cts.Token);
                await using var command = new NpgsqlCommand("SHOW wal_level", connection);
                Assert.Equal("logical", await command.ExecuteScalarAsync(cts.Token));
                Assert.Equal("videochat", connection.Database);
            }

            using var relay = app.CreateHttpClient("relay");
            Assert.Equal(HttpStatusCode.OK, (await relay.GetAsync("/health", cts.Token)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await relay.GetAsync("/alive", cts.Token)).StatusCode);
            var metrics = await relay.GetStringAsync("/metrics", cts.Token);
            Assert.Contains("# TYPE", metrics, StringComparison.Ordinal);
            using var webclient = app.CreateHttpClient("webclient");
            var page = await webclient.GetAsync("/", cts.Token);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("text/html", page.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            var config = await webclient.GetFromJsonAsync<JsonElement>("/config.json", cts.Token);
            Assert.Equal(app.GetEndpoint("relay").ToString().TrimEnd('/'), config.GetProperty("relayUrl").GetString());

            using var dashboard = new HttpClient { BaseAddress = app.DashboardUrl };
            var resources = await dashboard.GetFromJsonAsync<JsonElement>("/api/resources", cts.Token);
            foreach (var name in AllResources)
            {
                var resource = resources.EnumerateArray().Single(r => r.GetProperty("name").GetString() == name);
                Assert.Equal("Running", resource.GetProperty("state").GetString());
                Assert.Equal("Healthy", resource.GetProperty("health").GetString());
            }

            var postgres = resources.EnumerateArray().Single(r => r.GetProperty("name").GetString() == "postgres");
            Assert.Contains("Password=", postgres.GetProperty("connectionString").GetString(), StringComparison.Ordinal);
            Assert.True(postgres.GetProperty("pid").GetInt32() > 0);

            pids = [.. app.ResourceNotifications.Snapshots.Where(s => s.ProcessId is not null).Select(s => s.ProcessId!.Value)];
            Assert.Equal(3, pids.Length); // postgres, relay, webclient
            dataDirectory = ((PgVideoChat.Hosting.ApplicationModel.PostgresServerResource)app.Resources.Single(r => r.Name == "postgres")).Server!.DataDirectory;
            urls = [app.GetEndpoint("relay"), app.GetEndpoint("webclient")];
        }

        foreach (var pid in pids)
        {
            Assert.False(Directory.Exists($"/proc/{pid}"), $"process {pid} still runs after dispose");
        }

        Assert.False(Directory.Exists(dataDirectory), "the throwaway data directory was not removed");
        foreach (var url in urls)
        {
            using var probe = new System.Net.Sockets.TcpClient();
            await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => probe.ConnectAsync("127.0.0.1", url.Port));
        }
    }

    [Fact]
    public async Task Projects_get_the_environment_an_Aspire_AppHost_injects()
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        await using var app = await (await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(cts.Token)).BuildAsync(cts.Token);
        await app.StartAsync(cts.Token);
        var relay = (await app.ResourceNotifications.WaitForResourceHealthyAsync("relay", cts.Token)).Environment;
        var webclient = (await app.ResourceNotifications.WaitForResourceHealthyAsync("webclient", cts.Token)).Environment;
        var videochat = new NpgsqlConnectionStringBuilder(await app.GetConnectionStringAsync("videochat", cts.Token));

        Assert.Equal(videochat.ConnectionString, relay["ConnectionStrings__videochat"]);
        Assert.Equal("localhost", new NpgsqlConnectionStringBuilder(relay["ConnectionStrings__videochat"]).Host);
        Assert.Equal("postgres", videochat.Username);
        Assert.True(videochat.Password!.Length >= 22);
        Assert.Equal(videochat.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), relay["VIDEOCHAT_PORT"]);
        Assert.Equal("videochat", relay["VIDEOCHAT_DATABASENAME"]);
        Assert.StartsWith("postgresql://postgres:", relay["VIDEOCHAT_URI"], StringComparison.Ordinal);
        Assert.Equal("relay", relay["OTEL_SERVICE_NAME"]);
        Assert.StartsWith("service.instance.id=", relay["OTEL_RESOURCE_ATTRIBUTES"], StringComparison.Ordinal);
        Assert.Equal(app.GetEndpoint("relay").ToString().TrimEnd('/'), relay["ASPNETCORE_URLS"]);
        Assert.True(relay["Relay__Auth__SigningKey"].Length >= 44);
        Assert.Equal(app.GetEndpoint("webclient").ToString().TrimEnd('/'), relay["Relay__AllowedOrigins__0"]);

        Assert.Equal(app.GetEndpoint("relay").ToString().TrimEnd('/'), webclient["services__relay__http__0"]);
        Assert.Equal(webclient["services__relay__http__0"], webclient["RELAY_HTTP"]);
        Assert.False(webclient.ContainsKey("ConnectionStrings__videochat"), "the web client does not reference the database");
        Assert.False(webclient.ContainsKey("Relay__Auth__SigningKey"), "the signing key is the relay's alone");
    }

    [Fact]
    public async Task Scaled_out_relays_each_get_their_own_instance_id_behind_one_front_door()
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(["--Relay:Replicas=3"], cts.Token);
        await using var app = await builder.BuildAsync(cts.Token);
        await app.StartAsync(cts.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("webclient", cts.Token);

        var instanceIds = new HashSet<string>();
        for (var i = 0; i < 3; i++)
        {
            var relay = await app.ResourceNotifications.WaitForResourceHealthyAsync($"relay-{i}", cts.Token);
            Assert.True(instanceIds.Add(relay.Environment["Relay__InstanceId"]));
        }

        var frontDoor = await app.ResourceNotifications.WaitForResourceHealthyAsync("frontdoor", cts.Token);
        Assert.Equal(app.GetEndpoint("relay-2").ToString().TrimEnd('/'), frontDoor.Environment["services__relay__http__2"]);
        using var webclient = app.CreateHttpClient("webclient");
        var config = await webclient.GetFromJsonAsync<JsonElement>("/config.json", cts.Token);
        Assert.Equal(app.GetEndpoint("frontdoor").ToString().TrimEnd('/'), config.GetProperty("relayUrl").GetString());
    }

    [Fact]
    public async Task Two_app_models_at_once_do_not_collide()
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        await using var first = await (await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(cts.Token)).BuildAsync(cts.Token);
        await using var second = await (await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(cts.Token)).BuildAsync(cts.Token);
        await Task.WhenAll(first.StartAsync(cts.Token), second.StartAsync(cts.Token));
        await Task.WhenAll(
            first.ResourceNotifications.WaitForResourceHealthyAsync("webclient", cts.Token),
            second.ResourceNotifications.WaitForResourceHealthyAsync("webclient", cts.Token));

        Assert.NotEqual(first.GetEndpoint("relay"), second.GetEndpoint("relay"));
        Assert.NotEqual(await first.GetConnectionStringAsync("videochat"), await second.GetConnectionStringAsync("videochat"));
    }

    [Fact]
    public async Task A_relay_restart_through_the_app_model_keeps_its_port_and_comes_back_healthy()
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        await using var app = await (await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(cts.Token)).BuildAsync(cts.Token);
        await app.StartAsync(cts.Token);
        var before = await app.ResourceNotifications.WaitForResourceHealthyAsync("relay", cts.Token);

        await app.RestartResourceAsync("relay", cts.Token);
        var after = await app.ResourceNotifications.WaitForResourceHealthyAsync("relay", cts.Token);

        Assert.NotEqual(before.ProcessId, after.ProcessId);
        Assert.False(Directory.Exists($"/proc/{before.ProcessId}"));
        using var relay = app.CreateHttpClient("relay");
        Assert.Equal(HttpStatusCode.OK, (await relay.GetAsync("/health", cts.Token)).StatusCode);
    }

    [Fact]
    public async Task Missing_postgres_binaries_fail_the_start_with_the_fix_and_leave_nothing_running()
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(["--Postgres:BinDirectory=/nonexistent/bin"], cts.Token);
        await using var app = await builder.BuildAsync(cts.Token);

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync(cts.Token));

        Assert.Contains("Postgres__BinDirectory", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.All(app.ResourceNotifications.Snapshots, s => Assert.Null(s.ProcessId));
        Assert.Equal(ResourceStates.FailedToStart, app.ResourceNotifications.TryGet("postgres")!.State);
    }
}
