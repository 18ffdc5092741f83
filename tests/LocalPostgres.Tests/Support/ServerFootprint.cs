using System.Diagnostics;
using System.Globalization;
using PgVideoChat.Hosting.LocalPostgres;

namespace PgVideoChat.LocalPostgres.Tests.Support;

/// <summary>
/// What a running local server has on this machine: its wrapper, postmaster and the postmaster's children, its data
/// directory, and (unless persistent) its throwaway folder. A test captures it while the server runs and, after the
/// app is gone, asserts that none of it is left.
/// </summary>
internal sealed class ServerFootprint
{
    private ServerFootprint(LinuxProcess postmaster, LinuxProcess? wrapper, IReadOnlyList<LinuxProcess> children, string dataDirectory, string? throwawayRoot)
    {
        Postmaster = postmaster;
        Wrapper = wrapper;
        Children = children;
        DataDirectory = dataDirectory;
        ThrowawayRoot = throwawayRoot;
    }

    public LinuxProcess Postmaster { get; }

    public LinuxProcess? Wrapper { get; }

    public IReadOnlyList<LinuxProcess> Children { get; }

    public string DataDirectory { get; }

    public string? ThrowawayRoot { get; }

    public static int PostmasterPid(DistributedApplication app, string serverName)
    {
        Assert.True(app.ResourceNotifications.TryGetCurrentState(serverName, out var current), $"No state for '{serverName}'.");
        var property = Assert.Single(current.Snapshot.Properties, p => p.Name == LocalPostgresLifecycle.PostmasterPidProperty);
        return int.Parse(Assert.IsType<string>(property.Value), CultureInfo.InvariantCulture);
    }

    public static ServerFootprint Capture(DistributedApplication app, LocalPostgresServerResource server)
    {
        var postmaster = LinuxProcess.Read(PostmasterPid(app, server.Name)) ?? throw new InvalidOperationException("The postmaster is not running.");
        var wrapper = LinuxProcess.Read(postmaster.ParentPid);
        return new ServerFootprint(
            postmaster,
            wrapper is not null && wrapper.Arguments.Contains("postgres-wrapper") ? wrapper : null,
            postmaster.Children(),
            server.DataDirectory.Data,
            server.DataDirectory.IsThrowaway ? server.DataDirectory.Root : null);
    }

    /// <summary>Waits until every process is gone (and the throwaway folder with them); returns how long that took.</summary>
    public async Task<TimeSpan> AssertGoneWithinAsync(TimeSpan limit)
    {
        var waited = Stopwatch.StartNew();
        while (Survivors().Count > 0 || (ThrowawayRoot is not null && Directory.Exists(ThrowawayRoot)))
        {
            if (waited.Elapsed > limit)
            {
                Assert.Fail(
                    $"After {limit.TotalSeconds} s still there: {string.Join("; ", Survivors().Select(p => $"{p.Pid} {p.CommandLine}"))}"
                    + (ThrowawayRoot is not null && Directory.Exists(ThrowawayRoot) ? $"; folder {ThrowawayRoot}" : string.Empty));
            }

            await Task.Delay(100);
        }

        return waited.Elapsed;
    }

    private List<LinuxProcess> Survivors()
    {
        // The recorded processes, plus anything that names the data directory (a postmaster started after the capture).
        var recorded = new[] { Postmaster, Wrapper }.OfType<LinuxProcess>().Concat(Children).Where(p => p.IsAlive);
        var naming = LinuxProcess.All().Where(p => p.Arguments.Contains(DataDirectory));
        return [.. recorded.Concat(naming).DistinctBy(p => p.Pid)];
    }
}
