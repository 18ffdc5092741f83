using System.Diagnostics;

namespace PgVideoChat.Hosting.LocalPostgres;

/// <summary>
/// Runs a short-lived server tool (initdb) to completion, as the server's OS user when the AppHost is root:
/// initdb, like postgres, refuses to run as root.
/// </summary>
internal static class ToolProcess
{
    public static async Task<(int ExitCode, IReadOnlyList<string> Output)> RunAsync(
        string fileName, IEnumerable<string> arguments, string? runAsUser, string workingDirectory, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(runAsUser is null ? fileName : "setpriv")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        if (runAsUser is not null)
        {
            foreach (var argument in OsUser.SetprivArguments(runAsUser))
            {
                startInfo.ArgumentList.Add(argument);
            }

            startInfo.ArgumentList.Add(fileName);
        }

        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["LC_ALL"] = "C.UTF-8";
        startInfo.Environment.Remove("PGPASSWORD");

        var output = new List<string>();
        using var process = new Process { StartInfo = startInfo };
        DataReceivedEventHandler collect = (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (output)
                {
                    output.Add(line);
                }
            }
        };
        process.OutputDataReceived += collect;
        process.ErrorDataReceived += collect;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        lock (output)
        {
            return (process.ExitCode, output.ToList());
        }
    }
}
