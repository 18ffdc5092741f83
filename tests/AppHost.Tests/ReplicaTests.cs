using System.Net;
using PgVideoChat.Hosting;

namespace PgVideoChat.AppHost.Tests;

/// <summary>WithReplicas: several instances of one project, each with its own port, all discoverable.</summary>
public sealed class ReplicaTests
{
    [Fact]
    public async Task Each_replica_runs_on_its_own_port_and_referencing_projects_discover_all_of_them()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions { RandomizePorts = true, DisableDashboard = true, EchoResourceOutput = false });
        var web = builder.AddProject<Projects.WebClient>("web")
            .WithReplicas(3)
            .WithEnvironment(context => context.EnvironmentVariables["REPLICA_NAME"] = context.InstanceName);
        builder.AddProject<Projects.WebClient>("consumer").WithReference(web).WaitFor(web);
        await using var app = builder.Build();

        await app.StartAsync(cts.Token);
        var consumer = await app.ResourceNotifications.WaitForResourceHealthyAsync("consumer", cts.Token);

        var ports = new HashSet<int>();
        for (var i = 0; i < 3; i++)
        {
            var replica = app.ResourceNotifications.TryGet($"web-{i}")!;
            Assert.True(replica.IsHealthy);
            Assert.Equal($"web-{i}", replica.Environment["REPLICA_NAME"]);
            var url = app.GetEndpoint($"web-{i}");
            Assert.True(ports.Add(url.Port));
            Assert.Equal(url.ToString().TrimEnd('/'), consumer.Environment[$"services__web__http__{i}"]);
            using var http = new HttpClient { BaseAddress = url };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", cts.Token)).StatusCode);
        }

        Assert.Null(app.ResourceNotifications.TryGet("web"));
    }
}
