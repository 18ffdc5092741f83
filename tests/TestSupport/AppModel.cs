using System.Globalization;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PgVideoChat.TestSupport;

/// <summary>
/// Builds, starts and waits for an AppHost's app model the way every fixture does, with a bound on the whole: Aspire's
/// waits run until cancelled and its errors name no cause, so a start that fails or hangs here ends in one exception
/// that lists every resource's state and the last lines of those that are not healthy. Nothing it started is left
/// running when it throws.
/// </summary>
public static class AppModel
{
    /// <summary>Generous for a cold start on 2 busy cores (initdb, three relays); measured 6–32 s.</summary>
    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromMinutes(3);

    private const int TailLines = 40;

    /// <summary>Starts the app model with AppHost arguments and waits until the named resources are healthy.</summary>
    public static Task<DistributedApplication> StartAsync<TEntryPoint>(IEnumerable<string> args, IEnumerable<string> healthyResources, CancellationToken cancellationToken = default)
        where TEntryPoint : class
    {
        ArgumentNullException.ThrowIfNull(healthyResources);
        return StartAsync<TEntryPoint>(args, _ => healthyResources, configure: null, DefaultStartTimeout, cancellationToken);
    }

    /// <summary>
    /// Starts the app model and waits until the resources <paramref name="healthyResources"/> picks from the built
    /// model are healthy (for names the model decides, such as <c>relay-0</c> … with replicas);
    /// <paramref name="configure"/> may change the builder before it builds.
    /// </summary>
    public static async Task<DistributedApplication> StartAsync<TEntryPoint>(
        IEnumerable<string> args,
        Func<DistributedApplicationModel, IEnumerable<string>> healthyResources,
        Action<IDistributedApplicationTestingBuilder>? configure,
        TimeSpan timeout,
        CancellationToken cancellationToken = default)
        where TEntryPoint : class
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(healthyResources);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<TEntryPoint>([.. args], bounded.Token);
        DistributedApplication? app = null;
        string? waitingFor = null;
        var stage = "building";
        Task? starting = null;
        try
        {
            builder.AddResourceLogCollector();
            builder.Services.AddLogging(logging => logging
                // Aspire forwards every resource line to the test host's console as well: the collector has them, and
                // a load test would spend a core printing them. So does every failed health probe while a test has
                // Postgres or a relay down on purpose; the snapshot keeps the latest result.
                .AddFilter($"{builder.Environment.ApplicationName}.Resources", LogLevel.None)
                .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));
            configure?.Invoke(builder);
            app = await builder.BuildAsync(bounded.Token);
            stage = "starting";
            // StartAsync returns only once every resource has started, so a relay that exits at once would keep it
            // waiting on the web client (which waits for that relay) until the timeout. The health waits run beside
            // it and end with an error as soon as a resource they wait for has ended.
            starting = app.StartAsync(bounded.Token);
            var healthy = WaitUntilHealthyAsync(app, healthyResources(app.Services.GetRequiredService<DistributedApplicationModel>()), name =>
            {
                waitingFor = name;
                stage = $"waiting for '{name}' to be healthy";
            }, bounded.Token);
            await await Task.WhenAny(starting, healthy);
            await Task.WhenAll(starting, healthy);
            return app;
        }
        catch (Exception ex)
        {
            if (starting is not null && !starting.IsCompleted)
            {
                await bounded.CancelAsync();
                await starting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            var timedOut = ex is OperationCanceledException && !cancellationToken.IsCancellationRequested;
            var message = app is null
                ? $"The app model could not be built: {ex.Message}"
                : Report(app, stage, waitingFor, timedOut ? $"not within {timeout.TotalSeconds:F0} s" : ex.Message);
            if (app is not null)
            {
                await app.DisposeAsync();
            }
            else
            {
                await builder.DisposeAsync();
            }

            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw timedOut ? new TimeoutException(message, ex) : new InvalidOperationException(message, ex);
        }
    }

    private static async Task WaitUntilHealthyAsync(DistributedApplication app, IEnumerable<string> names, Action<string> waitingFor, CancellationToken cancellationToken)
    {
        foreach (var name in names)
        {
            waitingFor(name);
            await app.ResourceNotifications.WaitForResourceHealthyAsync(name, cancellationToken);
        }
    }

    /// <summary>What a failed start looked like: every resource's state, and the last lines of each one not healthy.</summary>
    private static string Report(DistributedApplication app, string stage, string? waitingFor, string cause)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"The app model did not come up ({stage}): {cause}\nResources:\n");
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var troubled = new List<string>();
        foreach (var resource in model.Resources.Where(r => r is not ParameterResource))
        {
            if (app.ResourceNotifications.TryGetCurrentState(resource.Name, out var resourceEvent))
            {
                var snapshot = resourceEvent.Snapshot;
                if (snapshot.IsHidden)
                {
                    // Aspire's own helpers (a project's rebuilder): nothing a test waits for.
                    continue;
                }

                text.Append(CultureInfo.InvariantCulture, $"  {resource.Name}: {snapshot.Describe()}\n");
                if (!snapshot.IsRunning() || snapshot.HealthStatus is not Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
                {
                    troubled.Add(resource.Name);
                }
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"  {resource.Name}: no state published\n");
            }
        }

        var logs = app.GetResourceLogs();
        foreach (var name in troubled.Prepend(waitingFor ?? string.Empty).Distinct().Where(n => logs.GetLines(n).Count > 0))
        {
            text.Append(CultureInfo.InvariantCulture, $"Last lines of {name}:\n{logs.Tail(name, TailLines)}\n");
        }

        return text.ToString().TrimEnd();
    }
}
