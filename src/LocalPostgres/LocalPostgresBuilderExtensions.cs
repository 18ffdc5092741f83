using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using PgVideoChat.Hosting.LocalPostgres;

namespace Aspire.Hosting;

/// <summary>
/// Adds a PostgreSQL server that DCP runs from this machine's server binaries (the local counterpart of
/// Aspire.Hosting.PostgreSQL's <c>AddPostgres</c>, which needs a container runtime).
/// </summary>
public static class LocalPostgresBuilderExtensions
{
    // Runs postgres as a child so that DCP's SIGTERM becomes SIGINT, Postgres's fast shutdown: SIGTERM is its smart
    // shutdown, which waits for every client, and a relay keeps its replication connection open until DCP gives up
    // and SIGKILLs. The server's log goes to stdout (Postgres writes it to stderr, which the dashboard shows as errors).
    internal const string WrapperScript =
        """
        "$@" 2>&1 &
        child=$!
        trap 'kill -INT "$child" 2>/dev/null' INT TERM
        while :; do
          wait "$child"; status=$?
          kill -0 "$child" 2>/dev/null || exit "$status"
        done
        """;

    /// <summary>
    /// Adds a local PostgreSQL server: a free port on 127.0.0.1 (or <paramref name="port"/>), a generated password
    /// (or <paramref name="password"/>), a throwaway data directory, and a health check that connects.
    /// </summary>
    /// <param name="builder">The app model builder.</param>
    /// <param name="name">The resource name.</param>
    /// <param name="password">The <c>postgres</c> role's password; null generates one per run.</param>
    /// <param name="port">The port; null picks a free one when the app model is built.</param>
    /// <param name="binDirectory">The folder of initdb and postgres; null searches PATH, <c>pg_config --bindir</c> and the usual install folders.</param>
    /// <exception cref="DistributedApplicationException">No server binaries (15 or newer) were found, or the AppHost runs as root and there is no <c>postgres</c> OS user.</exception>
    public static IResourceBuilder<LocalPostgresServerResource> AddLocalPostgres(
        this IDistributedApplicationBuilder builder,
        [ResourceName] string name,
        IResourceBuilder<ParameterResource>? password = null,
        int? port = null,
        string? binDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);

        var binaries = PostgresBinaries.Locate(binDirectory);
        if (OsUser.IsRoot && !OsUser.Exists(LocalPostgresServerResource.SuperUser))
        {
            throw new DistributedApplicationException(
                "Postgres refuses to run as root and there is no 'postgres' OS user to run it as: create one (useradd --system --user-group postgres) or run the AppHost as a normal user.");
        }

        var passwordParameter = password?.Resource ?? new ParameterResource(
            $"{name}-password",
            d => builder.Configuration[$"Parameters:{name}-password"] ?? d?.GetDefaultValue() ?? throw new DistributedApplicationException($"No password for '{name}'."),
            secret: true)
        {
            // Per run, not kept in user secrets; no characters that need quoting in a connection string or URI.
            Default = new GenerateParameterDefault { MinLength = 24, Special = false },
        };

        var server = new LocalPostgresServerResource(name, binaries, passwordParameter, LocalDataDirectory.Throwaway());
        var endpointPort = port ?? PgVideoChat.Hosting.LocalPostgres.PortAllocator.GetFreePort();
        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey,
            _ => new PostgresConnectHealthCheck(async ct => await server.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false) + ";Database=postgres"),
            failureStatus: null,
            tags: null));

        return builder.AddResource(server)
            .WithEndpoint(LocalPostgresServerResource.PrimaryEndpointName, endpoint =>
            {
                // Postgres binds the port itself, so DCP must not put a proxy in front of it.
                endpoint.UriScheme = "tcp";
                endpoint.Port = endpointPort;
                endpoint.TargetPort = endpointPort;
                endpoint.IsProxied = false;
            })
            .WithIconName("DatabaseMultiple")
            .WithArgs(context => AddServerArguments(server, endpointPort, context.Args))
            .WithEnvironment("LC_ALL", "C.UTF-8")
            .WithHealthCheck(healthCheckKey)
            .OnInitializeResource((resource, @event, _) =>
            {
                LocalPostgresLifecycle.Start(resource, @event.Services);
                return Task.CompletedTask;
            })
            .OnBeforeResourceStarted((resource, @event, ct) => LocalPostgresLifecycle.PrepareDataDirectoryAsync(resource, @event.Services, ct));
    }

    /// <summary>Sets a server setting (<c>-c name=value</c>), e.g. <c>WithSetting("wal_level", "logical")</c>.</summary>
    public static IResourceBuilder<LocalPostgresServerResource> WithSetting(this IResourceBuilder<LocalPostgresServerResource> builder, string name, string value)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        if (IsManagedSetting(name))
        {
            throw new ArgumentException($"'{name}' is set by the local server itself (port, loopback-only listening, its socket folder).", nameof(name));
        }

        builder.Resource.MutableSettings[name] = value;
        return builder;
    }

    /// <summary>
    /// Keeps the cluster in <paramref name="path"/> across runs (the local counterpart of <c>WithDataVolume</c>): initdb
    /// runs only when it holds none. Unless a password parameter was given, the generated password is kept beside it
    /// in <c>&lt;path&gt;.password</c> (mode 0600), since the cluster keeps the password it was made with.
    /// </summary>
    public static IResourceBuilder<LocalPostgresServerResource> WithDataDirectory(this IResourceBuilder<LocalPostgresServerResource> builder, string path)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var directory = LocalDataDirectory.Persistent(path);
        builder.Resource.DataDirectory = directory;
        if (builder.Resource.PasswordParameter.Default is GenerateParameterDefault generate)
        {
            builder.Resource.PasswordParameter.Default = new PasswordFileParameterDefault(directory.PasswordFile, generate);
        }

        return builder.WithWorkingDirectory(directory.Root);
    }

    /// <summary>Adds a database that is created (if it does not exist) whenever the server becomes ready.</summary>
    public static IResourceBuilder<LocalPostgresDatabaseResource> AddDatabase(this IResourceBuilder<LocalPostgresServerResource> builder, [ResourceName] string name, string? databaseName = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var database = new LocalPostgresDatabaseResource(name, databaseName ?? name, builder.Resource);
        builder.Resource.AddDatabase(name, database.DatabaseName);
        var healthCheckKey = $"{name}_check";
        builder.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey,
            _ => new PostgresConnectHealthCheck(ct => database.ConnectionStringExpression.GetValueAsync(ct)),
            failureStatus: null,
            tags: null));
        return builder.ApplicationBuilder.AddResource(database)
            .WithIconName("Database")
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "PostgresDatabase",
                State = KnownResourceStates.NotStarted,
                Properties = [new ResourcePropertySnapshot(CustomResourceKnownProperties.Source, database.DatabaseName)],
            })
            .WithHealthCheck(healthCheckKey);
    }

    private static bool IsManagedSetting(string name) =>
        name.Equals("port", StringComparison.OrdinalIgnoreCase)
        || name.Equals("listen_addresses", StringComparison.OrdinalIgnoreCase)
        || name.Equals("unix_socket_directories", StringComparison.OrdinalIgnoreCase);

    // A socket's path must fit in sun_path (108 bytes on Linux, 104 on macOS, with the NUL); Postgres stops with
    // "could not create any Unix-domain sockets" otherwise. Everything here connects over TCP, so a data directory
    // too deep for one gets no socket rather than no server.
    private static bool SocketFits(string directory, int port) =>
        System.Text.Encoding.UTF8.GetByteCount(Path.Combine(directory, $".s.PGSQL.{port.ToString(CultureInfo.InvariantCulture)}")) < (OperatingSystem.IsMacOS() ? 104 : 108);

    private static void AddServerArguments(LocalPostgresServerResource server, int port, IList<object> args)
    {
        args.Add("-c");
        args.Add(WrapperScript);
        args.Add("postgres-wrapper"); // $0 of the script
        if (OperatingSystem.IsLinux())
        {
            // setpriv execs in place: the wrapper's child is the postmaster itself. A postmaster whose wrapper is
            // killed (DCP's last resort) gets SIGINT, so it never outlives the app model.
            args.Add("setpriv");
            if (server.RunAsUser is { } user)
            {
                foreach (var argument in OsUser.SetprivArguments(user).SkipLast(1))
                {
                    args.Add(argument);
                }
            }

            args.Add("--pdeathsig=INT");
            args.Add("--");
        }

        args.Add(server.Binaries.Postgres);
        args.Add("-D");
        args.Add(server.DataDirectory.Data);
        var settings = new Dictionary<string, string>(server.Settings, StringComparer.OrdinalIgnoreCase)
        {
            ["port"] = port.ToString(CultureInfo.InvariantCulture),
            ["listen_addresses"] = "127.0.0.1",
            ["unix_socket_directories"] = SocketFits(server.DataDirectory.Socket, port) ? server.DataDirectory.Socket : string.Empty,
        };
        foreach (var (name, value) in settings)
        {
            args.Add("-c");
            args.Add($"{name}={value}");
        }
    }
}
