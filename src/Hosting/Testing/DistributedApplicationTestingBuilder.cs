using System.Diagnostics;
using System.Reflection;

namespace PgVideoChat.Hosting.Testing;

/// <summary>
/// Builds an AppHost's own app model for a test (Aspire.Hosting.Testing's builder of the same name): it runs the
/// AppHost's entry point up to <c>Build()</c>, takes the model it declared, and runs it on free ports with the
/// dashboard off and resource output kept in <see cref="Orchestration.ResourceLoggerService"/> instead of the console.
/// </summary>
public static class DistributedApplicationTestingBuilder
{
    private static readonly AsyncLocal<Capture?> CurrentCapture = new();

    public static Task<IDistributedApplicationTestingBuilder> CreateAsync<TEntryPoint>(CancellationToken cancellationToken = default)
        where TEntryPoint : class => CreateAsync<TEntryPoint>([], cancellationToken);

    public static Task<IDistributedApplicationTestingBuilder> CreateAsync<TEntryPoint>(string[] args, CancellationToken cancellationToken = default)
        where TEntryPoint : class
    {
        ArgumentNullException.ThrowIfNull(args);
        var entryPoint = typeof(TEntryPoint).Assembly.EntryPoint
            ?? throw new InvalidOperationException($"{typeof(TEntryPoint).Assembly.GetName().Name} has no entry point; pass a type from the AppHost project.");
        var result = new TaskCompletionSource<IDistributedApplicationTestingBuilder>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() => RunEntryPoint(entryPoint, args, result)) { IsBackground = true, Name = "AppHost entry point" };
        thread.Start();
        return result.Task.WaitAsync(cancellationToken);
    }

    private static void RunEntryPoint(MethodInfo entryPoint, string[] args, TaskCompletionSource<IDistributedApplicationTestingBuilder> result)
    {
        var capture = new Capture();
        CurrentCapture.Value = capture;
        using var subscription = DiagnosticListener.AllListeners.Subscribe(new ListenerObserver());
        try
        {
            entryPoint.Invoke(null, entryPoint.GetParameters().Length == 0 ? null : [args]);
            result.TrySetException(new InvalidOperationException("The AppHost's entry point returned without calling Build() on its builder."));
        }
        catch (TargetInvocationException ex) when (ex.InnerException is StopTheHostException && capture.Builder is not null)
        {
            result.TrySetResult(new TestingBuilder(capture.Builder));
        }
        catch (TargetInvocationException ex)
        {
            result.TrySetException(ex.InnerException ?? ex);
        }
    }

    private sealed class Capture
    {
        public DistributedApplicationBuilder? Builder { get; set; }
    }

    private sealed class StopTheHostException : Exception
    {
        public StopTheHostException()
            : base("The testing builder took over the app model.")
        {
        }
    }

    private sealed class ListenerObserver : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
    {
        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == DistributedApplicationBuilder.DiagnosticListenerName)
            {
                value.Subscribe(this);
            }
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            // Another test's AppHost may build on another thread at the same time: only ours counts.
            if (CurrentCapture.Value is not { } capture || value.Value is not DistributedApplicationBuilder builder)
            {
                return;
            }

            if (value.Key == DistributedApplicationBuilder.BuilderCreatedEvent)
            {
                builder.Options.RandomizePorts = true;
                builder.Options.DisableDashboard = true;
                builder.Options.EchoResourceOutput = false;
            }
            else if (value.Key == DistributedApplicationBuilder.BuildingEvent)
            {
                capture.Builder = builder;
                throw new StopTheHostException();
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }
    }

    private sealed class TestingBuilder(DistributedApplicationBuilder inner) : IDistributedApplicationTestingBuilder
    {
        public Microsoft.Extensions.Configuration.ConfigurationManager Configuration => inner.Configuration;

        public Microsoft.Extensions.DependencyInjection.IServiceCollection Services => inner.Services;

        public DistributedApplicationOptions Options => inner.Options;

        public IReadOnlyList<ApplicationModel.Resource> Resources => inner.Resources;

        public IResourceBuilder<T> AddResource<T>(T resource)
            where T : ApplicationModel.Resource => inner.AddResource(resource);

        public DistributedApplication Build() => inner.BuildCore();

        public Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken = default) => Task.FromResult(inner.BuildCore());
    }
}

/// <summary>The builder a test gets: the AppHost's model, which it may still change before building.</summary>
public interface IDistributedApplicationTestingBuilder : IDistributedApplicationBuilder
{
    Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken = default);
}
