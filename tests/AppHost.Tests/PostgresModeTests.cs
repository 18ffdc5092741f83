using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace PgVideoChat.AppHost.Tests;

// GetArgumentValuesAsync/GetEnvironmentVariableValuesAsync are marked obsolete in favour of ExecutionConfigurationBuilder,
// but they are still the one-call way to evaluate a model's arguments and environment without starting it.
#pragma warning disable CS0618

/// <summary>
/// The three ways the AppHost gets its Postgres, checked on the built app model (names, images, arguments,
/// references) without starting it: no container runtime exists on the machines this runs on, so the container
/// mode is never started here.
/// </summary>
public sealed class PostgresModeTests
{
    [Fact]
    public async Task Container_mode_runs_the_Postgres_image_with_the_same_server_settings_behind_the_same_names()
    {
        // One model for every container check: building one waits ~30 s for the (absent) container runtime.
        var directory = Path.Combine(Path.GetTempPath(), "pgvc-container-data");
        var model = await BuildModelAsync("--Postgres:Mode=Container", "--Postgres:Settings:max_wal_size=8GB", $"--Postgres:DataDirectory={directory}");

        var server = Assert.IsType<PostgresServerResource>(model.Resources.Single(r => r.Name == "postgres"));
        Assert.True(server.TryGetContainerImageName(out var image), "the server has a container image");
        Assert.Contains("postgres", image, StringComparison.Ordinal);
        var args = await ArgumentsAsync(server);
        Assert.Contains("wal_level=logical", Settings(args));
        Assert.Contains("max_slot_wal_keep_size=2GB", Settings(args));
        Assert.Contains("max_wal_size=8GB", Settings(args));
        Assert.DoesNotContain("max_wal_size=2GB", Settings(args));

        // Postgres:DataDirectory becomes a bind mount of the image's data folder (Aspire 13.6 mounts PGDATA's parent,
        // the postgres 18 image's layout).
        var mount = Assert.Single(server.Annotations.OfType<ContainerMountAnnotation>());
        Assert.Equal(ContainerMountType.BindMount, mount.Type);
        Assert.Equal(directory, mount.Source);
        Assert.Equal("/var/lib/postgresql", mount.Target);

        var database = Assert.IsType<PostgresDatabaseResource>(model.Resources.Single(r => r.Name == "videochat"));
        Assert.Same(server, database.Parent);
        Assert.Equal("videochat", database.DatabaseName);
        await AssertRelayReferencesAsync(model, database);
    }

    [Fact]
    public async Task Local_mode_is_the_default_where_server_binaries_are_installed()
    {
        var model = await BuildModelAsync("--Postgres:Settings:max_wal_size=8GB");

        var server = Assert.IsType<LocalPostgresServerResource>(model.Resources.Single(r => r.Name == "postgres"));
        Assert.Equal("logical", server.Settings["wal_level"]);
        Assert.Equal("8GB", server.Settings["max_wal_size"]);
        var args = await ArgumentsAsync(server);
        Assert.Contains(server.Binaries.Postgres, args);
        Assert.Contains("listen_addresses=127.0.0.1", Settings(args));

        var database = Assert.IsType<LocalPostgresDatabaseResource>(model.Resources.Single(r => r.Name == "videochat"));
        Assert.Same(server, database.Parent);
        await AssertRelayReferencesAsync(model, database);
    }

    [Fact]
    public async Task Existing_mode_uses_the_configured_server_and_names_the_database_on_it()
    {
        var model = await BuildModelAsync("--ConnectionStrings:postgres=Host=db.invalid;Port=5432;Username=app;Password=secret");

        Assert.DoesNotContain(model.Resources, r => r is LocalPostgresServerResource or PostgresServerResource);
        var database = Assert.IsAssignableFrom<IResourceWithConnectionString>(model.Resources.Single(r => r.Name == "videochat"));
        var connectionString = await database.ConnectionStringExpression.GetValueAsync(default);
        Assert.Equal("Host=db.invalid;Port=5432;Username=app;Password=secret;Database=videochat", connectionString);
        await AssertRelayReferencesAsync(model, database);
    }

    [Fact]
    public async Task An_unknown_mode_is_a_clear_error()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => BuildModelAsync("--Postgres:Mode=Cloud"));
        Assert.Contains("Postgres:Mode is 'Cloud'; use Local, Container or Existing.", Flatten(error), StringComparison.Ordinal);
    }

    private static async Task AssertRelayReferencesAsync(DistributedApplicationModel model, IResource database)
    {
        var relay = Assert.IsAssignableFrom<IResourceWithEnvironment>(model.Resources.Single(r => r.Name == "relay"));
        var environment = await relay.GetEnvironmentVariableValuesAsync(DistributedApplicationOperation.Publish);
        Assert.Equal("{videochat.connectionString}", environment["ConnectionStrings__videochat"]);
        Assert.Equal("relay-0", environment["Relay__InstanceId"]);
        Assert.Contains(relay.Annotations.OfType<WaitAnnotation>(), w => w.Resource == database);
    }

    private static async Task<DistributedApplicationModel> BuildModelAsync(params string[] args)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(args);
        var app = await builder.BuildAsync();
        await using (app)
        {
            return app.Services.GetRequiredService<DistributedApplicationModel>();
        }
    }

    private static async Task<List<string>> ArgumentsAsync(IResourceWithArgs resource)
        => [.. await resource.GetArgumentValuesAsync(DistributedApplicationOperation.Publish)];

    private static List<string> Settings(List<string> args)
        => [.. args.Select((a, i) => (a, i)).Where(x => x.i > 0 && args[x.i - 1] == "-c").Select(x => x.a)];

    private static string Flatten(Exception error) => error is AggregateException or System.Reflection.TargetInvocationException && error.InnerException is { } inner
        ? error.Message + " | " + Flatten(inner)
        : error.InnerException is { } next ? error.Message + " | " + Flatten(next) : error.Message;
}
