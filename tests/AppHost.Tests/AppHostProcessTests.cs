using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace PgVideoChat.AppHost.Tests;

/// <summary>The AppHost as a user runs it: a process that is stopped with Ctrl+C or dies abruptly.</summary>
public sealed partial class AppHostProcessTests
{
    private const int SIGINT = 2;
    private const int SIGKILL = 9;

    [Fact]
    public async Task Ctrl_C_stops_every_resource_within_ten_seconds_and_frees_the_ports()
    {
        await using var apphost = await RunningAppHost.StartAsync();
        var (pids, ports) = await apphost.ResourceProcessesAsync();

        var stopwatch = Stopwatch.StartNew();
        Assert.Equal(0, Kill(apphost.Process.Id, SIGINT));
        await apphost.Process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
        Assert.All(pids, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"process {pid} survived Ctrl+C"));
        Assert.All(ports, port => Assert.True(IsFree(port), $"port {port} is still taken"));
        Assert.False(Directory.Exists(apphost.PostgresDataDirectory));
    }

    [Fact]
    public async Task Children_of_an_apphost_that_dies_abruptly_stop_and_its_data_is_cleaned_at_the_next_start()
    {
        await using var apphost = await RunningAppHost.StartAsync();
        var (pids, _) = await apphost.ResourceProcessesAsync();

        Assert.Equal(0, Kill(apphost.Process.Id, SIGKILL));
        await apphost.Process.WaitForExitAsync();

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (pids.Any(pid => Directory.Exists($"/proc/{pid}")) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.All(pids, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"process {pid} outlived its AppHost"));
        Assert.True(Directory.Exists(apphost.PostgresDataDirectory), "nothing was left to clean up: the test proves nothing");

        // Any later start of a local server sweeps directories whose owner is gone.
        await using var next = await PgVideoChat.Hosting.Postgres.LocalPostgresServer.StartAsync(new());
        Assert.False(Directory.Exists(Path.GetDirectoryName(apphost.PostgresDataDirectory)), "the stale throwaway directory is still there");
    }

    [Fact]
    public async Task A_taken_dashboard_port_is_a_one_line_error_and_nothing_is_started()
    {
        using var blocker = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        blocker.Start();
        var port = ((System.Net.IPEndPoint)blocker.LocalEndpoint).Port;

        using var process = RunningAppHost.Launch($"--Dashboard:Url=http://127.0.0.1:{port}", "--AppHost:RandomizePorts=true");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

        Assert.Equal(1, process.ExitCode);
        var error = (await stderr).Trim();
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), error, StringComparison.Ordinal);
        Assert.Contains("Dashboard__Url", error, StringComparison.Ordinal);
        Assert.Single(error.Split('\n'));
        Assert.DoesNotContain("postgres", await stdout, StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"Dashboard: (http://\S+)")]
    private static partial Regex DashboardLine();

    private sealed class RunningAppHost : IAsyncDisposable
    {
        private readonly List<string> _output = [];

        private RunningAppHost(Process process) => Process = process;

        public Process Process { get; }

        public Uri? Dashboard { get; private set; }

        public string PostgresDataDirectory { get; private set; } = string.Empty;

        public static Process Launch(params string[] args)
        {
            // Like a terminal would: a test host started in the background inherits SIGINT as ignored, and .NET then
            // installs no SIGINT handler in its children. coreutils' env restores the default before running dotnet.
            var startInfo = new ProcessStartInfo("env")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            startInfo.ArgumentList.Add("--default-signal=INT");
            startInfo.ArgumentList.Add("dotnet");
            startInfo.ArgumentList.Add(new Projects.AppHost().TargetPath);
            foreach (var arg in args)
            {
                startInfo.ArgumentList.Add(arg);
            }

            startInfo.Environment["NO_COLOR"] = "1";
            return Process.Start(startInfo)!;
        }

        public static async Task<RunningAppHost> StartAsync()
        {
            var apphost = new RunningAppHost(Launch("--AppHost:RandomizePorts=true"));
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            apphost.Process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    started.TrySetException(new InvalidOperationException("The AppHost exited before it started: " + string.Join('\n', apphost._output)));
                    return;
                }

                lock (apphost._output)
                {
                    apphost._output.Add(e.Data);
                }

                if (DashboardLine().Match(e.Data) is { Success: true } match)
                {
                    apphost.Dashboard = new Uri(match.Groups[1].Value);
                }

                if (e.Data.Contains("Distributed application started", StringComparison.Ordinal))
                {
                    started.TrySetResult();
                }
            };
            apphost.Process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (apphost._output)
                    {
                        apphost._output.Add(e.Data);
                    }
                }
            };
            apphost.Process.BeginOutputReadLine();
            apphost.Process.BeginErrorReadLine();
            await started.Task.WaitAsync(TimeSpan.FromMinutes(2));
            return apphost;
        }

        public async Task<(int[] Pids, int[] Ports)> ResourceProcessesAsync()
        {
            using var http = new HttpClient { BaseAddress = Dashboard ?? throw new InvalidOperationException("No dashboard line in the AppHost's output.") };
            var resources = await http.GetFromJsonAsync<JsonElement>("/api/resources");
            var pids = new List<int>();
            var ports = new List<int>();
            foreach (var resource in resources.EnumerateArray())
            {
                Assert.Equal("Running", resource.GetProperty("state").GetString());
                if (resource.GetProperty("pid").ValueKind == JsonValueKind.Number)
                {
                    pids.Add(resource.GetProperty("pid").GetInt32());
                }

                foreach (var endpoint in resource.GetProperty("endpoints").EnumerateArray())
                {
                    ports.Add(new Uri(endpoint.GetProperty("url").GetString()!).Port);
                }

                if (resource.GetProperty("name").GetString() == "postgres")
                {
                    var pid = resource.GetProperty("pid").GetInt32();
                    PostgresDataDirectory = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0').SkipWhile(a => a != "-D").Skip(1).First();
                }
            }

            Assert.Equal(3, pids.Count);
            return ([.. pids], [.. ports]);
        }

        public async ValueTask DisposeAsync()
        {
            if (!Process.HasExited)
            {
                _ = Kill(Process.Id, SIGINT);
                await Process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
            }

            Process.Dispose();
        }
    }
}
