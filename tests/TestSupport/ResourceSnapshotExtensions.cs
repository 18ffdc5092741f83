using System.Globalization;
using Aspire.Hosting.ApplicationModel;

namespace PgVideoChat.TestSupport;

/// <summary>What tests read from a resource's snapshot, in the shapes they compare with.</summary>
public static class ResourceSnapshotExtensions
{
    /// <summary>
    /// The snapshot property DCP fills with the pid it started (<c>KnownProperties.Executable.Pid</c>, which Aspire
    /// keeps internal).
    /// </summary>
    public const string ProcessIdProperty = "executable.pid";

    /// <summary>
    /// The environment the process got, by name (what DCP reports it effectively ran with, inherited variables
    /// included), so that a test can index it like the stand-in's dictionary.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> GetEnvironment(this CustomResourceSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var variable in snapshot.EnvironmentVariables)
        {
            // A variable from the resource's spec wins over an inherited one of the same name, as in the process.
            if (variable.IsFromSpec || !environment.ContainsKey(variable.Name))
            {
                environment[variable.Name] = variable.Value;
            }
        }

        return environment;
    }

    /// <summary>True once the resource has ended (Finished, Exited, FailedToStart): nothing of it runs any more.</summary>
    public static bool IsTerminal(this CustomResourceSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return KnownResourceStates.TerminalStates.Contains(snapshot.State?.Text);
    }

    /// <summary>True while the resource's state is Running (health aside).</summary>
    public static bool IsRunning(this CustomResourceSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return snapshot.State?.Text == KnownResourceStates.Running;
    }

    /// <summary>The pid DCP started for the resource (for a project, its <c>dotnet run</c>); null before it has one.</summary>
    public static int? GetReportedProcessId(this CustomResourceSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var value = snapshot.Properties.LastOrDefault(p => p.Name == ProcessIdProperty)?.Value;
        return value switch
        {
            int pid => pid,
            long pid => (int)pid,
            string text when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) => pid,
            _ => null,
        };
    }

    /// <summary>"Running, Healthy, pid 1234" or "Exited, exit code 1" for failure messages.</summary>
    public static string Describe(this CustomResourceSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var parts = new List<string> { snapshot.State?.Text is { Length: > 0 } state ? state : "no state yet" };
        if (snapshot.HealthStatus is { } health)
        {
            parts.Add(health.ToString());
        }

        if (snapshot.GetReportedProcessId() is { } pid && !snapshot.IsTerminal())
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"pid {pid}"));
        }

        if (snapshot.ExitCode is { } exitCode)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"exit code {exitCode}"));
        }

        foreach (var report in snapshot.HealthReports.Where(r => r.Status != Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy))
        {
            parts.Add($"health check {report.Name}: {report.Status?.ToString() ?? "not run yet"}{(report.Description is { } d ? $" ({d})" : string.Empty)}");
        }

        return string.Join(", ", parts);
    }
}
