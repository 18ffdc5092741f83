using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace PgVideoChat.TestSupport;

/// <summary>Puts a <see cref="ResourceLogCollector"/> into an app model and finds it again in the built app.</summary>
public static class ResourceLogCollectorExtensions
{
    /// <summary>
    /// Collects every resource's lines from the start. Call it on the builder, before <c>BuildAsync</c>:
    /// the collector lives in the app's services (disposed with it) and starts watching in <c>BeforeStartEvent</c>.
    /// </summary>
    public static TBuilder AddResourceLogCollector<TBuilder>(this TBuilder builder)
        where TBuilder : IDistributedApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(services => new ResourceLogCollector(services.GetRequiredService<ResourceLoggerService>()));
        // Subscribed after Aspire's own BeforeStartEvent handlers (added when the builder was made), so the DCP
        // instance names that WatchAsync(IResource) resolves exist by the time this runs.
        builder.Eventing.Subscribe<BeforeStartEvent>((@event, _) =>
        {
            @event.Services.GetRequiredService<ResourceLogCollector>().WatchAll(@event.Model);
            return Task.CompletedTask;
        });
        return builder;
    }

    /// <summary>The app's collector; <see cref="AppModel.StartAsync{TEntryPoint}(IEnumerable{string}, IEnumerable{string}, CancellationToken)"/> adds one.</summary>
    public static ResourceLogCollector GetResourceLogs(this DistributedApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetService<ResourceLogCollector>()
            ?? throw new InvalidOperationException("This app model collects no resource logs: call AddResourceLogCollector() on its builder before BuildAsync (AppModel.StartAsync does).");
    }
}
