using System.Net.WebSockets;
using PgVideoChat.Protocol.Client;
using Xunit.Abstractions;

namespace PgVideoChat.Relay.Tests.Reliability;

/// <summary>Hundreds of connects and disconnects per second: nothing leaks.</summary>
[Collection(AppModelCollections.Fault)]
public sealed class ConnectionStormTests(FaultFixture fixture, ITestOutputHelper output)
{
    /// <summary>
    /// The rate asserted. Measured 2000 storms (16 workers) on 2 cores with relay, Postgres and test host on the same box:
    /// see docs/reliability.md. The floor leaves room for Debug builds and for CI running other suites at the same time.
    /// </summary>
    private const double MinimumRatePerSecond = 200;

    private readonly List<string> _reasons = [];

    [Fact]
    public async Task A_connection_storm_leaves_connections_memory_and_file_handles_at_baseline()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = cts.Token;
        var sessions = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => RelayTestClient.SignInAsync(fixture.RelayUri, $"Storm {i}", ct)));
        var pid = fixture.RelayProcessId;
        var postgresPid = ProcessProbe.ParentOf(await fixture.ScalarAsync<int>("SELECT pg_backend_pid()"));

        // Warm up once so that pools and JIT are in the baseline.
        await StormAsync(sessions, 100, ct);
        await SettleAsync(ct);
        var rssBaseline = ProcessProbe.RssBytes(pid);
        var filesBaseline = ProcessProbe.OpenFiles(pid);

        const int Total = 2000;
        var relayCpu = ProcessProbe.CpuTime(pid);
        var postgresCpu = ProcessProbe.CpuTimeOfTree(postgresPid);
        var testCpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var started = DateTime.UtcNow;
        var (opened, rejected) = await StormAsync(sessions, Total, ct);
        var seconds = (DateTime.UtcNow - started).TotalSeconds;
        // CPU per connect+disconnect: what the rate is made of on a shared box (disconnects finish just after the storm).
        await SettleAsync(ct);
        relayCpu = ProcessProbe.CpuTime(pid) - relayCpu;
        postgresCpu = ProcessProbe.CpuTimeOfTree(postgresPid) - postgresCpu;
        testCpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - testCpu;
        var rate = opened / seconds;

        var rss = ProcessProbe.RssBytes(pid);
        var files = ProcessProbe.OpenFiles(pid);
        output.WriteLine($"storm: {opened} connects+disconnects in {seconds:F1} s ({rate:F0}/s), {rejected} refused; " +
            $"RSS {rssBaseline / 1048576} → {rss / 1048576} MB, fds {filesBaseline} → {files}; CPU per connect+disconnect: " +
            $"relay {relayCpu.TotalMilliseconds / Total:F2} ms, Postgres {postgresCpu.TotalMilliseconds / Total:F2} ms, test host {testCpu.TotalMilliseconds / Total:F2} ms " +
            $"(the 1 s settle included; {Environment.ProcessorCount} cores)");
        Assert.Equal(Total, opened + rejected);
        Assert.True(rejected == 0, $"{rejected} connections failed: {string.Join("; ", _reasons.Distinct())}\n{fixture.RelayProblems()}");
        Assert.True(rate >= MinimumRatePerSecond, $"{rate:F0} connects+disconnects/s, expected at least {MinimumRatePerSecond}");
        Assert.Equal(0L, await fixture.ScalarAsync<long>("SELECT count(*) FROM connections"));
        Assert.Equal(0, await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_clients_connected", null, ct));
        Assert.Equal(1L, await fixture.ScalarAsync<long>("SELECT count(*) FROM pg_replication_slots"));
        Assert.True(files <= filesBaseline + 10, $"file handles {filesBaseline} → {files}");
        Assert.True(rss - rssBaseline < 60L * 1024 * 1024, $"RSS grew {(rss - rssBaseline) / 1048576} MB");
    }

    private async Task<(int Opened, int Rejected)> StormAsync(IReadOnlyList<PgVideoChat.Protocol.SignInResponse> sessions, int total, CancellationToken ct)
    {
        var opened = 0;
        var rejected = 0;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < total)
            {
                var session = sessions[next % sessions.Count];
                var stage = "connect";
                try
                {
                    using var socket = new ClientWebSocket();
                    await socket.ConnectAsync(RelaySessions.WebSocketUri(fixture.RelayUri, session.Token), ct);
                    stage = "hello";
                    var result = await socket.ReceiveAsync(new byte[64 * 1024], ct); // the hello (or a close)
                    stage = "close";
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        Interlocked.Increment(ref rejected);
                        lock (_reasons)
                        {
                            _reasons.Add($"close {(int?)result.CloseStatus} {result.CloseStatusDescription}");
                        }

                        continue;
                    }

                    // Half leave politely, half just drop the TCP connection.
                    if (next % 2 == 0)
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", ct);
                    }
                    else
                    {
                        socket.Abort();
                    }

                    Interlocked.Increment(ref opened);
                }
                catch (WebSocketException ex)
                {
                    Interlocked.Increment(ref rejected);
                    lock (_reasons)
                    {
                        _reasons.Add($"{stage}: {ex.Message}");
                    }
                }
            }
        }));
        return (opened, rejected);
    }

    private async Task SettleAsync(CancellationToken ct)
    {
        await ProcessProbe.WaitUntilAsync(async () => await fixture.ScalarAsync<long>("SELECT count(*) FROM connections") == 0
            && await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_clients_connected", null, ct) == 0,
            TimeSpan.FromSeconds(30), "every connection is gone", ct);
        GC.Collect();
        await Task.Delay(1000, ct);
    }
}
