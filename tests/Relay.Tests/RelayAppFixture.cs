using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Npgsql;
using PgVideoChat.TestSupport;

namespace PgVideoChat.Relay.Tests;

/// <summary>
/// The real app model (Postgres with wal_level=logical, the relay, the web client) started through the AppHost's test
/// entry point (Aspire.Hosting.Testing), with the pgoutput protocol version under test. Shared by the test classes
/// of one collection (see <see cref="AppModelCollections"/>) unless a class restarts Postgres or kills a relay.
/// </summary>
public abstract class RelayAppFixture : IAsyncLifetime
{
    private DistributedApplication? _app;

    protected abstract int ProtocolVersion { get; }

    /// <summary>Extra AppHost arguments (e.g. relay settings) for a fixture variant.</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    /// <summary>The resources that must be healthy before a test runs.</summary>
    protected virtual IEnumerable<string> HealthyResources => ["relay", "webclient"];

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The fixture has not started.");

    /// <summary>Where clients reach "the relay": the relay itself, or the front door when there are several.</summary>
    public virtual Uri RelayUri => App.GetEndpoint("relay");

    public string ConnectionString { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        string[] args = [$"--Relay:PgOutputProtocolVersion={ProtocolVersion}", .. ExtraArguments];
        _app = await AppModel.StartAsync<Projects.AppHost>(args, HealthyResources);
        // Unpooled: tests restart Postgres, and a pooled connection would be dead afterwards.
        ConnectionString = new NpgsqlConnectionStringBuilder(await _app.GetConnectionStringAsync("videochat")) { Pooling = false }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The relay's warnings, errors and exceptions with the lines after them, for failure messages.</summary>
    public string RelayProblems(int maxLines = 120)
    {
        var lines = App.GetResourceLogs().GetLines("relay");
        var picked = new SortedSet<int>();
        for (var i = 0; i < lines.Count; i++)
        {
            var content = lines[i].Content;
            if ((content.Contains("warn", StringComparison.Ordinal) || content.Contains("fail", StringComparison.Ordinal)
                || content.Contains("crit", StringComparison.Ordinal) || content.Contains("Exception", StringComparison.Ordinal))
                && !lines[Math.Min(i + 1, lines.Count - 1)].Content.Contains("Health check", StringComparison.Ordinal))
            {
                for (var j = i; j < Math.Min(lines.Count, i + 25); j++)
                {
                    picked.Add(j);
                }
            }
        }

        return string.Join('\n', picked.TakeLast(maxLines).Select(i => lines[i].Content));
    }

    /// <summary>
    /// Starts a resource a test stopped or killed, if it is not running, and waits until it is healthy: what a test
    /// of a shared app model does in its <c>finally</c>, so that a failure does not break the classes after it.
    /// </summary>
    public async Task EnsureRunningAsync(string resource)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        if (App.ResourceNotifications.TryGetCurrentState(resource, out var current) && current.Snapshot.IsTerminal())
        {
            await App.StartResourceAsync(resource, cts.Token);
        }

        await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, cts.Token);
    }

    /// <summary>Waits until the relay reports itself healthy again (e.g. after a restart).</summary>
    public async Task WaitForRelayHealthyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = RelayUri };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                if ((await http.GetAsync("/health", cancellationToken)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The relay did not become healthy within 60 s.");
            }

            await Task.Delay(200, cancellationToken);
        }
    }
}

/// <summary>
/// For fault tests: a known signing key (to forge expired tokens), a fast slot watchdog, a 2-s send timeout, a small
/// <c>max_slot_wal_keep_size</c> so that a stopped relay's slot can be invalidated in seconds, and no connect limit.
/// </summary>
public sealed class FaultFixture : RelayAppFixture
{
    public string SigningKey { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(36));

    protected override int ProtocolVersion => 2;

    protected override IEnumerable<string> ExtraArguments =>
    [
        $"--Parameters:relay-signing-key={SigningKey}",
        "--Relay:AbandonedAfter=00:00:05",
        "--Relay:WatchdogInterval=00:00:01",
        "--Relay:FanOut:SendTimeout=00:00:02",
        "--Postgres:Settings:max_slot_wal_keep_size=64MB",
        // The connection storm and the fuzzer reconnect one user thousands of times a minute on purpose; the connect
        // limit has its own test on the default settings (ConnectLimitTests). Every other limit keeps its default.
        "--Relay:Limits:Connect:Burst=1000000",
        "--Relay:Limits:Connect:Tokens=1000000",
    ];

    /// <summary>The relay's own process (not the <c>dotnet run</c> DCP started it with), read fresh: a restart changes it.</summary>
    public int RelayProcessId => App.GetProcessId("relay") ?? throw new InvalidOperationException("The relay is not running.");
}

/// <summary>Three relay instances on one Postgres, each with its own slot, behind the front door; every relay's slot sends every frame.</summary>
public class ThreeRelaysFixture : RelayAppFixture
{
    public virtual bool ShardRouted => false;

    protected override int ProtocolVersion => 2;

    // Through the front door every test client signs in from its one address (127.0.0.1): no per-address limit here.
    protected override IEnumerable<string> ExtraArguments =>
        ["--Relay:Replicas=3", $"--Relay:Sharding:Enabled={ShardRouted}", "--Relay:Limits:SignIn:Burst=1000000", "--Relay:Limits:SignIn:Tokens=1000000"];

    protected override IEnumerable<string> HealthyResources => ["relay-0", "relay-1", "relay-2", "frontdoor", "webclient"];

    public override Uri RelayUri => App.GetEndpoint("frontdoor");

    public Uri Relay(int index) => App.GetEndpoint($"relay-{index}");
}

/// <summary>Three relays with shard routing: each relay's slot sends it only the frames of its own clients.</summary>
public sealed class ShardRoutedThreeRelaysFixture : ThreeRelaysFixture
{
    public override bool ShardRouted => true;
}

public sealed class PgOutputV1Fixture : RelayAppFixture
{
    protected override int ProtocolVersion => 1;
}

public sealed class PgOutputV2Fixture : RelayAppFixture
{
    protected override int ProtocolVersion => 2;
}

public sealed class PgOutputV3Fixture : RelayAppFixture
{
    protected override int ProtocolVersion => 3;
}
