using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PgVideoChat.Hosting.Processes;

namespace PgVideoChat.Hosting.Postgres;

/// <summary>
/// A PostgreSQL server run from this machine's binaries: initdb into a throwaway (or persistent) data directory,
/// listening on 127.0.0.1 only, scram-sha-256 with a generated password, <c>wal_level=logical</c>. The AppHost's
/// <c>postgres</c> resource and every test fixture start Postgres through this class.
/// </summary>
public sealed partial class LocalPostgresServer : IAsyncDisposable
{
    public const string Host = "127.0.0.1";
    public const string SuperUser = "postgres";
    private const int MaxRecentLines = 200;

    private readonly LocalPostgresOptions _options;
    private readonly PostgresBinaries _binaries;
    private readonly ProcessSpawner _spawner;
    private readonly bool _ownsSpawner;
    private readonly ILogger _logger;
    private readonly string? _throwawayRoot;
    private readonly string? _runAsUser;
    private readonly Queue<string> _recentLines = new();
    private ChildProcess? _process;

    private LocalPostgresServer(LocalPostgresOptions options, PostgresBinaries binaries, ProcessSpawner spawner, bool ownsSpawner, ILogger logger)
    {
        _options = options;
        _binaries = binaries;
        _spawner = spawner;
        _ownsSpawner = ownsSpawner;
        _logger = logger;
        _runAsUser = OsUser.IsRoot ? SuperUser : null;
        if (options.DataDirectory is null)
        {
            _throwawayRoot = ThrowawayDirectories.Create();
            DataDirectory = Path.Combine(_throwawayRoot, "data");
            SocketDirectory = Path.Combine(_throwawayRoot, "socket");
        }
        else
        {
            DataDirectory = Path.GetFullPath(options.DataDirectory);
            SocketDirectory = DataDirectory;
        }

        Password = options.Password ?? string.Empty;
    }

    public int Port { get; private set; }

    public string Password { get; private set; }

    public string DataDirectory { get; }

    public string SocketDirectory { get; }

    public PostgresBinaries Binaries => _binaries;

    public bool IsThrowaway => _throwawayRoot is not null;

    public int? ProcessId => _process is { HasExited: false } process ? process.Id : null;

    /// <summary>Completes when the server process exits (whether asked to or not).</summary>
    public Task Exited => _process?.Exited ?? Task.CompletedTask;

    /// <summary>Starts a server as <paramref name="options"/> say and waits until it accepts connections.</summary>
    public static Task<LocalPostgresServer> StartAsync(LocalPostgresOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
        => StartAsync(options, spawner: null, logger, cancellationToken);

    internal static async Task<LocalPostgresServer> StartAsync(LocalPostgresOptions options, ProcessSpawner? spawner, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var binaries = PostgresBinaries.Locate(options.BinDirectory);
        if (OsUser.IsRoot && !OsUser.Exists(SuperUser))
        {
            throw new DistributedApplicationException(
                "Postgres refuses to run as root and there is no 'postgres' OS user to run it as. Create one (useradd --system --user-group postgres) or run as a normal user.");
        }

        var server = new LocalPostgresServer(options, binaries, spawner ?? new ProcessSpawner(), spawner is null, logger ?? NullLogger.Instance);
        try
        {
            await server.InitializeAsync(cancellationToken).ConfigureAwait(false);
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A connection string in the form an Aspire AppHost injects (<c>Host=…;Port=…;Username=postgres;Password=…</c>).</summary>
    public string GetConnectionString(string? database = null)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = "localhost",
            Port = Port,
            Username = SuperUser,
            Password = Password,
        };
        if (database is not null)
        {
            builder.Database = database;
        }

        return builder.ConnectionString;
    }

    /// <summary>Creates a database, doing nothing if it exists.</summary>
    public async Task CreateDatabaseAsync(string database, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(database);
        await using var connection = new NpgsqlConnection(GetConnectionString("postgres"));
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
        }
    }

    /// <summary>(Re)starts the server on its data directory and port, and waits until it accepts connections.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_process is { HasExited: false })
        {
            return;
        }

        var pickPort = _options.Port == 0 && Port == 0;
        for (var attempt = 1; ; attempt++)
        {
            if (Port == 0)
            {
                Port = _options.Port != 0 ? _options.Port : PortAllocator.GetFreePort();
            }

            try
            {
                await StartOnceAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (DistributedApplicationException) when (pickPort && attempt < 3 && RecentLogMentions("Address already in use"))
            {
                // Another program took the free port between our probe and the server's bind.
                Port = 0;
            }
        }
    }

    private async Task StartOnceAsync(CancellationToken cancellationToken)
    {
        lock (_recentLines)
        {
            _recentLines.Clear();
        }

        var arguments = new List<string> { "-D", DataDirectory };
        foreach (var (name, value) in EffectiveSettings())
        {
            arguments.Add("-c");
            arguments.Add($"{name}={value}");
        }

        _process = await ChildProcess.StartAsync(_spawner, new ChildProcessOptions
        {
            FileName = _binaries.Postgres,
            Arguments = arguments,
            WorkingDirectory = DataDirectory,
            RunAsUser = _runAsUser,
            StopSignal = Signals.SIGINT,
            OnOutput = (line, _) => OnServerOutput(line),
            Environment = new Dictionary<string, string?> { ["LC_ALL"] = "C.UTF-8", ["PGPASSWORD"] = null },
        }).ConfigureAwait(false);

        await WaitUntilAcceptingConnectionsAsync(_process, cancellationToken).ConfigureAwait(false);
        Log.ServerStarted(_logger, _binaries.MajorVersion, Host, Port, DataDirectory);
    }

    private Dictionary<string, string> EffectiveSettings()
    {
        var settings = new Dictionary<string, string>(LocalPostgresOptions.DefaultSettings, StringComparer.OrdinalIgnoreCase)
        {
            ["port"] = Port.ToString(CultureInfo.InvariantCulture),
            ["listen_addresses"] = Host,
            ["unix_socket_directories"] = SocketDirectory,
        };
        foreach (var (name, value) in _options.Settings)
        {
            settings[name] = value;
        }

        return settings;
    }

    /// <summary>Stops the server; <see cref="PostgresShutdownMode.Immediate"/> leaves crash recovery for the next start.</summary>
    public async Task StopAsync(PostgresShutdownMode mode = PostgresShutdownMode.Fast)
    {
        if (_process is not { } process)
        {
            return;
        }

        var signal = mode switch
        {
            PostgresShutdownMode.Smart => Signals.SIGTERM,
            PostgresShutdownMode.Immediate => Signals.SIGQUIT,
            _ => Signals.SIGINT,
        };
        await process.StopAsync(TimeSpan.FromSeconds(15), signal).ConfigureAwait(false);
        Log.ServerStopped(_logger, Port, mode);
    }

    /// <summary>Sends SIGKILL to the postmaster: the harshest crash a test can cause.</summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            process.Signal(Signals.SIGKILL);
            await process.Exited.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            await StopAsync().ConfigureAwait(false);
            await process.DisposeAsync().ConfigureAwait(false);
        }

        if (_throwawayRoot is not null)
        {
            ThrowawayDirectories.Delete(_throwawayRoot);
        }

        if (_ownsSpawner)
        {
            _spawner.Dispose();
        }
    }

    private void OnServerOutput(string line)
    {
        lock (_recentLines)
        {
            _recentLines.Enqueue(line);
            if (_recentLines.Count > MaxRecentLines)
            {
                _recentLines.Dequeue();
            }
        }

        if (_options.OnOutput is { } onOutput)
        {
            onOutput(line);
        }
        else
        {
            Log.ServerOutput(_logger, line);
        }
    }

    private bool RecentLogMentions(string text)
    {
        lock (_recentLines)
        {
            return _recentLines.Any(line => line.Contains(text, StringComparison.Ordinal));
        }
    }

    private string RecentErrors()
    {
        lock (_recentLines)
        {
            var errors = _recentLines.Where(l => l.Contains("FATAL", StringComparison.Ordinal) || l.Contains("ERROR", StringComparison.Ordinal) || l.Contains("could not", StringComparison.Ordinal)).ToList();
            return string.Join(" | ", (errors.Count > 0 ? errors : _recentLines.TakeLast(3)).Select(l => l.Trim()));
        }
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        Password = await DataDirectoryInitializer.InitializeAsync(
            _binaries, _spawner, DataDirectory, SocketDirectory, _runAsUser, _options.Password, IsThrowaway, cancellationToken).ConfigureAwait(false);
    }

    private async Task WaitUntilAcceptingConnectionsAsync(ChildProcess process, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.StartupTimeout);
        var connectionString = new NpgsqlConnectionStringBuilder(GetConnectionString("postgres")) { Timeout = 2, Pooling = false }.ConnectionString;
        while (true)
        {
            if (process.HasExited)
            {
                throw new DistributedApplicationException(
                    $"Postgres exited at start (port {Port}, data directory {DataDirectory}): {RecentErrors()}{Hint()}");
            }

            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(timeout.Token).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !timeout.IsCancellationRequested)
            {
                // 57P03 (starting up) or connection refused: not ready yet.
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new DistributedApplicationException(
                    $"Postgres did not accept connections within {_options.StartupTimeout.TotalSeconds:0} s (port {Port}): {RecentErrors()}");
            }

            try
            {
                await Task.WhenAny(process.Exited, Task.Delay(100, timeout.Token)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }
    }

    private string Hint()
    {
        if (RecentLogMentions("Address already in use"))
        {
            return $". Port {Port} is taken: stop what listens there or choose another port (Postgres__Port, 0 = any free port).";
        }

        if (RecentLogMentions("postmaster.pid"))
        {
            return $". The data directory is in use by another Postgres: stop that server (or AppHost), or use another data directory.";
        }

        return string.Empty;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "PostgreSQL {MajorVersion} is accepting connections on {Host}:{Port} (data directory {DataDirectory})")]
        public static partial void ServerStarted(ILogger logger, int majorVersion, string host, int port, string dataDirectory);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "PostgreSQL on port {Port} stopped ({Mode})")]
        public static partial void ServerStopped(ILogger logger, int port, PostgresShutdownMode mode);

        [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "postgres: {Line}")]
        public static partial void ServerOutput(ILogger logger, string line);
    }
}
