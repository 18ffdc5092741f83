using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using PgVideoChat.TestSupport;

namespace PgVideoChat.AppHost.Tests;

/// <summary>
/// The AppHost as a user runs it: its built binary as a process of its own, with its dashboard, on free ports (the
/// <c>http</c> launch profile's settings, ports randomized so that it runs beside other tests). Everything it causes
/// to run (DCP, Postgres, the projects, the <c>dotnet run</c> launchers) inherits a marker variable, which is how a
/// test finds those processes afterwards, whatever session or parent each ended up with.
/// </summary>
internal sealed class RunningAppHost : IAsyncDisposable
{
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    private const string MarkerVariable = "PGVIDEOCHAT_APPHOST_TEST";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private readonly List<string> _output = [];
    private readonly string _marker;

    private RunningAppHost(Process process, string marker, int dashboardPort)
    {
        Process = process;
        _marker = marker;
        DashboardPort = dashboardPort;
    }

    public Process Process { get; }

    public int DashboardPort { get; }

    /// <summary>What the AppHost printed so far, stdout and stderr, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output.TakeLast(80));
            }
        }
    }

    /// <summary>Every line the AppHost printed so far, stdout and stderr, in order of arrival.</summary>
    public IReadOnlyList<string> AllOutput
    {
        get
        {
            lock (_output)
            {
                return [.. _output];
            }
        }
    }

    /// <summary>Every live process the AppHost caused to run (not the AppHost itself).</summary>
    public IReadOnlyList<int> Descendants => [.. ProcFs.WithEnvironmentVariable(MarkerVariable, _marker).Where(pid => pid != Process.Id)];

    /// <summary>The AppHost's binary next to its project, as <c>dotnet build</c> left it in this build's configuration.</summary>
    public static string BinaryPath()
    {
        var configuration = typeof(RunningAppHost).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var path = Path.Combine(Projects.AppHost.ProjectPath, "bin", configuration, "net10.0", "PgVideoChat.AppHost");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"The AppHost is not built at {path}: run `dotnet build src/AppHost -c {configuration}` (eng/test.sh builds the solution first).", path);
    }

    /// <summary>
    /// Starts the AppHost and waits until it says it started and the relay and web client answer;
    /// <paramref name="arguments"/> follow the AppHost's own on its command line, <paramref name="environment"/> is
    /// added to its environment.
    /// </summary>
    public static async Task<RunningAppHost> StartAsync(IEnumerable<string>? arguments = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var ports = FreePorts(3);
        var startInfo = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Projects.AppHost.ProjectPath,
        };

        // Like a terminal would: a test host started in the background inherits SIGINT as ignored, and .NET then
        // installs no SIGINT handler in its children. coreutils' env restores the default before running the AppHost.
        startInfo.ArgumentList.Add("--default-signal=INT");
        startInfo.ArgumentList.Add(BinaryPath());
        // DCP's random ports for the resources' endpoints, as Aspire.Hosting.Testing sets them.
        startInfo.ArgumentList.Add("--DcpPublisher:RandomizePorts=true");
        foreach (var argument in arguments ?? [])
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
        startInfo.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ports[0]}";
        startInfo.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{ports[1]}";
        startInfo.Environment["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://127.0.0.1:{ports[2]}";
        startInfo.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        var marker = Guid.NewGuid().ToString("N");
        startInfo.Environment[MarkerVariable] = marker;
        var apphost = new RunningAppHost(new Process { StartInfo = startInfo }, marker, ports[0]);
        try
        {
            await apphost.StartCoreAsync();
            return apphost;
        }
        catch
        {
            await apphost.DisposeAsync();
            throw;
        }
    }

    private async Task StartCoreAsync()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                started.TrySetException(new InvalidOperationException($"The AppHost exited before it started:\n{Output}"));
                return;
            }

            Remember(e.Data);
            if (e.Data.Contains("Distributed application started", StringComparison.Ordinal))
            {
                started.TrySetResult();
            }
        };
        Process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Remember(e.Data);
            }
        };
        Process.Start();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            await started.Task.WaitAsync(timeout.Token);
            await WaitForResourcesAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The AppHost did not bring up Postgres, the relay and the web client within {StartTimeout.TotalMinutes:F0} min:\n{Output}");
        }
    }

    /// <summary>The resources' applications (postmaster, relay, web client) once all three run and the projects answer.</summary>
    public ResourceProcesses Resources()
    {
        int? postmaster = null, relay = null, webclient = null;
        foreach (var pid in Descendants)
        {
            var argv = ProcFs.CommandLine(pid);
            var program = argv.Count > 0 ? Path.GetFileName(argv[0]) : string.Empty;
            if (program == "postgres" && argv.Contains("-D"))
            {
                postmaster = pid;
            }
            else if (program == "PgVideoChat.Relay" || argv.Any(a => a.EndsWith("PgVideoChat.Relay.dll", StringComparison.Ordinal)))
            {
                relay = pid;
            }
            else if (program == "PgVideoChat.WebClient" || argv.Any(a => a.EndsWith("PgVideoChat.WebClient.dll", StringComparison.Ordinal)))
            {
                webclient = pid;
            }
        }

        return new ResourceProcesses(postmaster, relay, webclient);
    }

    private async Task WaitForResourcesAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            var resources = Resources();
            if (resources is { Postmaster: not null, Relay: { } relay, WebClient: { } webclient }
                && await AnswersAsync(http, ListeningUrl(relay), "/health", cancellationToken)
                && await AnswersAsync(http, ListeningUrl(webclient), "/", cancellationToken))
            {
                return;
            }

            if (Process.HasExited)
            {
                throw new InvalidOperationException($"The AppHost exited with {Process.ExitCode} while its resources started:\n{Output}");
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    /// <summary>The Aspire dashboard's process (DCP runs it as an executable), once it runs.</summary>
    public int? Dashboard() => Descendants.Cast<int?>().FirstOrDefault(pid =>
        ProcFs.CommandLine(pid!.Value).Any(a => Path.GetFileName(a) is "Aspire.Dashboard" or "Aspire.Dashboard.dll"));

    /// <summary>The URL a project listens on (its ASPNETCORE_URLS, which DCP set).</summary>
    public static Uri? ListeningUrl(int pid) =>
        EnvironmentVariable(pid, "ASPNETCORE_URLS") is { } urls ? new Uri(urls.Split(';')[0]) : null;

    /// <summary>A variable of a process's environment as it was started; null when it has none or is gone.</summary>
    public static string? EnvironmentVariable(int pid, string name)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/environ").Split('\0')
                .FirstOrDefault(v => v.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..];
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The port Postgres listens on (its <c>-c port=</c> argument).</summary>
    public static int? PostgresPort(int postmaster) =>
        ProcFs.CommandLine(postmaster).FirstOrDefault(a => a.StartsWith("port=", StringComparison.Ordinal)) is { } setting
            ? int.Parse(setting["port=".Length..], CultureInfo.InvariantCulture)
            : null;

    /// <summary>The postmaster's data directory (its <c>-D</c> argument).</summary>
    public static string? DataDirectory(int postmaster) =>
        ProcFs.CommandLine(postmaster).SkipWhile(a => a != "-D").Skip(1).FirstOrDefault();

    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Signal(int signal)
    {
        if (Kill(Process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({Process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        // A failed test still stops its AppHost, and anything that outlived it (DCP stops the rest within seconds
        // once its AppHost is gone; this is for a test that failed because it did not).
        try
        {
            if (!Process.HasExited)
            {
                _ = Kill(Process.Id, SIGINT);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await Process.WaitForExitAsync(timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (!Process.HasExited)
                {
                    Process.Kill();
                }
            }

            var left = Descendants;
            if (left.Count > 0 && !await ProcFs.WaitUntilGoneAsync(left, TimeSpan.FromSeconds(30), CancellationToken.None))
            {
                foreach (var pid in left.Where(ProcFs.IsAlive))
                {
                    _ = Kill(pid, SIGKILL);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        Process.Dispose();
    }

    private void Remember(string line)
    {
        lock (_output)
        {
            _output.Add(line);
        }
    }

    private static async Task<bool> AnswersAsync(HttpClient http, Uri? baseUrl, string path, CancellationToken cancellationToken)
    {
        if (baseUrl is null)
        {
            return false;
        }

        try
        {
            using var response = await http.GetAsync(new Uri(baseUrl, path), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static int[] FreePorts(int count)
    {
        // All held at once, so that the same port is not handed out twice.
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(l => l.Dispose());
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

/// <summary>The applications behind the AppHost's three resources; null while one is not (yet) running.</summary>
internal sealed record ResourceProcesses(int? Postmaster, int? Relay, int? WebClient);
