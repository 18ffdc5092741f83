using System.Collections.Concurrent;
using System.Diagnostics;

namespace PgVideoChat.Hosting.Processes;

/// <summary>
/// Starts every child process from one long-lived thread.
/// </summary>
/// <remarks>
/// Children are started under <c>setpriv --pdeathsig</c> so that they are signalled when the orchestrator dies
/// abruptly. Linux delivers that signal when the <em>thread</em> that forked the child exits, not the process;
/// .NET forks on the calling thread, and thread-pool threads retire when idle. Forking from a dedicated thread
/// that lives as long as the orchestrator keeps the signal for the case it is meant for.
/// </remarks>
internal sealed class ProcessSpawner : IDisposable
{
    private readonly BlockingCollection<(ProcessStartInfo StartInfo, TaskCompletionSource<Process> Result)> _requests = new();
    private readonly Thread _thread;

    public ProcessSpawner()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "PgVideoChat process spawner" };
        _thread.Start();
    }

    public Task<Process> StartAsync(ProcessStartInfo startInfo)
    {
        ArgumentNullException.ThrowIfNull(startInfo);
        var result = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests.Add((startInfo, result));
        return result.Task;
    }

    private void Run()
    {
        foreach (var (startInfo, result) in _requests.GetConsumingEnumerable())
        {
            try
            {
                var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
                process.Start();
                result.SetResult(process);
            }
            catch (Exception ex)
            {
                result.SetException(ex);
            }
        }
    }

    public void Dispose()
    {
        // Ends the thread, which signals every child it started: dispose only after they have been stopped.
        _requests.CompleteAdding();
    }
}
