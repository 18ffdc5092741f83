using System.Diagnostics;

namespace PgVideoChat.Hosting.Processes;

/// <summary>
/// One supervised child process: own session (so a terminal's Ctrl+C reaches only the orchestrator, which then
/// stops children in reverse dependency order), signalled if the orchestrator dies, output captured line by line.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly int _stopSignal;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process, int stopSignal)
    {
        _process = process;
        _stopSignal = stopSignal;
    }

    public int Id => _process.Id;

    public DateTimeOffset StartTime { get; } = DateTimeOffset.UtcNow;

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>Completes with the exit code when the process has exited and its output has been read.</summary>
    public Task<int> Exited => _exited.Task;

    public static async Task<ChildProcess> StartAsync(ProcessSpawner spawner, ChildProcessOptions options)
    {
        ArgumentNullException.ThrowIfNull(spawner);
        ArgumentNullException.ThrowIfNull(options);

        var startInfo = BuildStartInfo(options);
        var process = await spawner.StartAsync(startInfo).ConfigureAwait(false);
        var child = new ChildProcess(process, options.StopSignal);
        child.Pump(options.OnOutput);
        return child;
    }

    private static ProcessStartInfo BuildStartInfo(ChildProcessOptions options)
    {
        var startInfo = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = options.WorkingDirectory ?? Directory.GetCurrentDirectory(),
        };

        // setsid and setpriv both exec in place, so the pid we hold is the program's own.
        var wrap = OperatingSystem.IsLinux() && File.Exists("/usr/bin/setsid") && File.Exists("/usr/bin/setpriv");
        if (wrap)
        {
            startInfo.FileName = "/usr/bin/setsid";
            startInfo.ArgumentList.Add("/usr/bin/setpriv");
            if (options.RunAsUser is { } user)
            {
                startInfo.ArgumentList.Add($"--reuid={user}");
                startInfo.ArgumentList.Add($"--regid={user}");
                startInfo.ArgumentList.Add("--init-groups");
            }

            // After the uid change: the kernel clears the parent-death signal when credentials change.
            startInfo.ArgumentList.Add($"--pdeathsig={Signals.Name(options.StopSignal)}");
            startInfo.ArgumentList.Add("--");
            startInfo.ArgumentList.Add(options.FileName);
        }
        else
        {
            if (options.RunAsUser is not null)
            {
                throw new PlatformNotSupportedException($"Running a child as user '{options.RunAsUser}' needs setpriv (util-linux).");
            }

            startInfo.FileName = options.FileName;
        }

        foreach (var argument in options.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in options.Environment)
        {
            if (value is null)
            {
                startInfo.Environment.Remove(key);
            }
            else
            {
                startInfo.Environment[key] = value;
            }
        }

        return startInfo;
    }

    private void Pump(Action<string, bool>? onOutput)
    {
        var stdout = PumpAsync(_process.StandardOutput, line => onOutput?.Invoke(line, false));
        var stderr = PumpAsync(_process.StandardError, line => onOutput?.Invoke(line, true));
        _ = Task.Run(async () =>
        {
            await _process.WaitForExitAsync().ConfigureAwait(false);
            await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
            _exited.TrySetResult(_process.ExitCode);
        });
    }

    private static async Task PumpAsync(StreamReader reader, Action<string> onLine)
    {
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                onLine(line);
            }
        }
        catch (IOException)
        {
            // The pipe broke because the process died; whatever it wrote has been read.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Sends a signal to the process; false when it has already exited.</summary>
    public bool Signal(int signal)
    {
        if (HasExited)
        {
            return false;
        }

        return NativeMethods.Kill(_process.Id, signal) == 0;
    }

    /// <summary>Asks the process to stop with its stop signal (or <paramref name="signal"/>), then kills it after <paramref name="timeout"/>.</summary>
    public async Task<int> StopAsync(TimeSpan timeout, int? signal = null)
    {
        if (!HasExited)
        {
            Signal(signal ?? _stopSignal);
            try
            {
                return await Exited.WaitAsync(timeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Signal(Signals.SIGKILL);
            }
        }

        return await Exited.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _process.Dispose();
    }
}
