namespace PgVideoChat.Relay.Tests;

/// <summary>
/// A test's cast: signed-in users connected to a relay, under one deadline, disconnected (and the deadline
/// disposed) together at the end. <c>await using var scenario = await Scenario.StartAsync(relay, timeout, "Alice", "Bob");</c>
/// </summary>
internal sealed class Scenario : IAsyncDisposable
{
    private readonly CancellationTokenSource _deadline;
    private readonly List<RelayTestClient> _users = [];

    private Scenario(TimeSpan timeout) => _deadline = new CancellationTokenSource(timeout);

    /// <summary>Cancelled when the test's time is up.</summary>
    public CancellationToken Token => _deadline.Token;

    /// <summary>The users in the order they were named.</summary>
    public RelayTestClient this[int index] => _users[index];

    /// <summary>Signs in and connects each name, one after another (so that each sees the ones before online).</summary>
    public static async Task<Scenario> StartAsync(Uri relay, TimeSpan timeout, params string[] names)
    {
        ArgumentNullException.ThrowIfNull(relay);
        var scenario = new Scenario(timeout);
        try
        {
            foreach (var name in names)
            {
                scenario._users.Add(await RelayTestClient.ConnectAsync(relay, name, scenario.Token));
            }

            return scenario;
        }
        catch
        {
            await scenario.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _users.Count - 1; i >= 0; i--)
        {
            await _users[i].DisposeAsync();
        }

        _deadline.Dispose();
    }
}
