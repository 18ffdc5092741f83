using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using PgVideoChat.TestSupport;

namespace PgVideoChat.AppHost.Tests;

/// <summary>App models of their own: three relays, two at once, and one that cannot find Postgres.</summary>
public sealed class AppModelVariantTests
{
    [Fact]
    public async Task Scaled_out_relays_are_separate_resources_with_their_own_instance_id_behind_one_front_door()
    {
        using var cts = new CancellationTokenSource(AppModel.DefaultStartTimeout);
        string[] relays = ["relay-0", "relay-1", "relay-2"];
        await using var app = await AppModel.StartAsync<Projects.AppHost>(["--Relay:Replicas=3"], [.. relays, "frontdoor", "webclient"], cts.Token);

        Assert.False(app.ResourceNotifications.TryGetCurrentState("relay", out _), "with replicas there is no resource named plain 'relay'");
        var ports = new HashSet<int>();
        for (var i = 0; i < relays.Length; i++)
        {
            var relay = (await app.ResourceNotifications.WaitForResourceHealthyAsync(relays[i], cts.Token)).Snapshot.GetEnvironment();
            Assert.Equal($"relay-{i}", relay["Relay__InstanceId"]);
            Assert.True(ports.Add(app.GetEndpoint(relays[i]).Port));
            using var http = app.CreateHttpClient(relays[i]);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", cts.Token)).StatusCode);
        }

        var frontDoor = (await app.ResourceNotifications.WaitForResourceHealthyAsync("frontdoor", cts.Token)).Snapshot.GetEnvironment();
        for (var i = 0; i < relays.Length; i++)
        {
            Assert.Equal(app.GetEndpoint(relays[i]).ToString().TrimEnd('/'), frontDoor[$"services__relay__http__{i}"]);
        }

        using var webclient = app.CreateHttpClient("webclient");
        var config = await webclient.GetFromJsonAsync<JsonElement>("/config.json", cts.Token);
        Assert.Equal(app.GetEndpoint("frontdoor").ToString().TrimEnd('/'), config.GetProperty("relayUrl").GetString());
    }

    [Fact]
    public async Task Two_app_models_at_once_do_not_collide_and_each_leaves_nothing_behind()
    {
        using var cts = new CancellationTokenSource(AppModel.DefaultStartTimeout);
        string[] healthy = ["relay", "webclient"];
        var starting = new[] { AppModel.StartAsync<Projects.AppHost>([], healthy, cts.Token), AppModel.StartAsync<Projects.AppHost>([], healthy, cts.Token) };
        try
        {
            await Task.WhenAll(starting);
        }
        catch
        {
            // One failed start must not leave the other running.
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await (await started).DisposeAsync();
            }

            throw;
        }

        var first = await starting[0];
        var second = await starting[1];
        var processes = new List<int>();
        var ports = new List<int>();
        var dataDirectories = new List<string>();
        await using (first)
        await using (second)
        {
            Assert.NotEqual(first.GetEndpoint("relay"), second.GetEndpoint("relay"));
            Assert.NotEqual(first.GetEndpoint("webclient"), second.GetEndpoint("webclient"));
            Assert.NotEqual(await first.GetConnectionStringAsync("videochat", cts.Token), await second.GetConnectionStringAsync("videochat", cts.Token));
            foreach (var app in new[] { first, second })
            {
                using var relay = app.CreateHttpClient("relay");
                Assert.Equal(HttpStatusCode.OK, (await relay.GetAsync("/health", cts.Token)).StatusCode);
                foreach (var name in new[] { "postgres", "relay", "webclient" })
                {
                    app.ResourceNotifications.TryGetCurrentState(name, out var resourceEvent);
                    processes.AddRange(ProcFs.TreeOf(resourceEvent!.Snapshot.GetReportedProcessId() ?? throw new InvalidOperationException($"{name} has no pid.")));
                }

                ports.Add(app.GetEndpoint("relay").Port);
                ports.Add(app.GetEndpoint("webclient").Port);
                ports.Add(new Npgsql.NpgsqlConnectionStringBuilder(await app.GetConnectionStringAsync("videochat", cts.Token)).Port);
                dataDirectories.Add(DataDirectory(app));
            }

            Assert.NotEqual(dataDirectories[0], dataDirectories[1]);
        }

        Assert.True(await ProcFs.WaitUntilGoneAsync(processes, TimeSpan.FromSeconds(10), CancellationToken.None),
            $"still running after dispose: {string.Join("; ", processes.Where(ProcFs.IsAlive).Select(ProcFs.Describe))}");
        Assert.All(ports, port => Assert.True(IsFree(port), $"port {port} is still taken after dispose"));
        Assert.All(dataDirectories, directory => Assert.False(Directory.Exists(directory), $"the throwaway data directory {directory} was not removed"));
    }

    [Fact]
    public async Task Missing_local_postgres_binaries_fail_the_build_with_the_fix_in_one_line()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
                ["--Postgres:Mode=Local", "--Postgres:BinDirectory=/nonexistent/bin"], cts.Token);
        });

        var cause = Flatten(error).OfType<DistributedApplicationException>().FirstOrDefault();
        Assert.True(cause is not null, $"expected a DistributedApplicationException, got {error}");
        Assert.Contains("Postgres__BinDirectory", cause.Message, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/bin", cause.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', cause.Message);
    }

    private static string DataDirectory(DistributedApplication app)
    {
        app.ResourceNotifications.TryGetCurrentState("postgres", out var resourceEvent);
        var postmaster = app.GetProcessId("postgres") ?? throw new InvalidOperationException($"Postgres is {resourceEvent?.Snapshot.Describe()}.");
        var argv = ProcFs.CommandLine(postmaster);
        return argv.SkipWhile(a => a != "-D").Skip(1).FirstOrDefault() ?? throw new InvalidOperationException($"Postgres ({ProcFs.Describe(postmaster)}) has no -D argument.");
    }

    private static IEnumerable<Exception> Flatten(Exception error)
    {
        for (Exception? current = error; current is not null; current = current.InnerException)
        {
            yield return current;
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
                {
                    yield return inner;
                }
            }
        }
    }

    private static bool IsFree(int port) => RunningAppHost.IsFree(port);
}
