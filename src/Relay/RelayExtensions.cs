using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;
using Npgsql;
using PgVideoChat.Relay;
using PgVideoChat.Relay.Auth;
using PgVideoChat.Relay.Calls;
using PgVideoChat.Relay.Chat;
using PgVideoChat.Relay.Connections;
using PgVideoChat.Relay.FanOut;
using PgVideoChat.Relay.Ingest;
using PgVideoChat.Relay.Limits;
using PgVideoChat.Relay.Presence;
using PgVideoChat.Relay.Quality;
using PgVideoChat.Relay.Recordings;
using PgVideoChat.Relay.Replication;
using PgVideoChat.Relay.Sessions;
using PgVideoChat.Relay.Sharding;
using PgVideoChat.Relay.Startup;
using PgVideoChat.Relay.Storage;
using PgVideoChat.Relay.Telemetry;
using PgVideoChat.Relay.Transport;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers and maps the relay: ingest, replication, fan-out.</summary>
internal static class RelayExtensions
{
    public const string DatabaseName = "videochat";

    public static IHostApplicationBuilder AddRelay(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var connectionString = builder.Configuration.GetConnectionString(DatabaseName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{DatabaseName} is not configured. Run the relay through the AppHost (dotnet run --project src/AppHost), or set ConnectionStrings__{DatabaseName}.");
        }

        // Aspire.Npgsql: the data source with its health check, Npgsql's metrics and tracing (frame batches sampled).
        var tracing = new MediaTracing(builder.Configuration.GetValue(MediaTracing.RatioKey, MediaTracing.DefaultRatio));
        builder.AddNpgsqlDataSource(
            DatabaseName,
            static settings => settings.ConnectionString = RelayConnectionStrings.ForDataSource(settings.ConnectionString!),
            dataSource => dataSource.ConfigureTracing(tracing.Configure));
        var services = builder.Services;
        services.AddSingleton(new ReplicationConnectionString(RelayConnectionStrings.ForReplication(connectionString)));
        // Continuations of socket reads run on the I/O thread instead of hopping to the thread pool: a frame is
        // received, queued and sent without a context switch (the relay never blocks a socket continuation).
        services.Configure<SocketTransportOptions>(static sockets => sockets.UnsafePreferInlineScheduling = true);
        // Registered after Kestrel's own: the socket transport takes the last one, so a frame arrives in one or two reads.
        services.AddSingleton<IMemoryPoolFactory<byte>, FrameBlockMemoryPoolFactory>();
        services.AddOptions<RelayOptions>()
            .Bind(builder.Configuration.GetSection(RelayOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(static o => o.Auth.SigningKey.Length >= 32, "Relay:Auth:SigningKey must have at least 32 characters (the AppHost generates one; otherwise set Relay__Auth__SigningKey).")
            .Validate(static o => o.FrameRetention >= o.FramePartitionWidth, "Relay:FrameRetention must be at least Relay:FramePartitionWidth.")
            .Validate(
                static o => !o.Sharding.Enabled || o.Sharding.ResolveShard(o.InstanceId) is not null,
                $"Relay:Sharding:Enabled needs Relay:Sharding:Shard (0-{ShardingOptions.MaxShard}) or a Relay:InstanceId ending in that number (relay-2).")
            .ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<RelayState>();
        services.AddSingleton<RelayMetrics>();
        services.AddSingleton<SessionTokenService>();
        services.AddSingleton<OriginPolicy>();
        services.AddSingleton<SessionRegistry>();
        services.AddSingleton<CallDirectory>();
        services.AddSingleton<ShardPublications>();
        services.AddSingleton<RecipientShards>();
        services.AddSingleton<CallStore>();
        services.AddSingleton<ChatStore>();
        services.AddSingleton<RecordingStore>();
        services.AddSingleton<RecordingFrames>();
        services.AddSingleton<PresenceStore>();
        services.AddSingleton<SessionOpening>();
        services.AddSingleton<FrameDropTally>();
        services.AddSingleton<FanOutRouter>();
        services.AddSingleton<ReplicationRowDispatcher>();
        services.AddSingleton<UserRequestLimits>();
        services.AddSingleton<ClientMessageHandler>();
        services.AddSingleton<ConnectionAdmission>();
        services.AddSingleton<ClientConnectionHandler>();
        services.AddSingleton<MediaIngestPipeline>();
        services.AddHostedService(static sp => sp.GetRequiredService<MediaIngestPipeline>());
        services.AddSingleton(static sp => new ReplicationSlot(ReplicationSlot.NameFor(sp.GetRequiredService<IOptions<RelayOptions>>().Value.InstanceId)));
        services.AddSingleton<ReplicatedCaches>();
        services.AddSingleton<SlotRecovery>();
        services.AddSingleton<InstanceRegistry>();
        services.AddHostedService<RelayStartup>();
        services.AddHostedService<ReplicationStream>();
        services.AddHostedService<SlotLagSampler>();
        services.AddHostedService<InstanceHeartbeat>();
        services.AddHostedService<PartitionRotation>();
        services.AddHostedService<MissedCallSweeper>();
        services.AddHostedService<SlotWatchdog>();
        services.AddHostedService<QualityAdvisor>();

        services.AddHealthChecks().AddCheck<ReplicationHealthCheck>("Replication");
        services.AddOpenTelemetry().WithMetrics(static metrics => metrics.AddMeter(RelayMetrics.MeterName));
        services.AddSignInRateLimiting();
        // CORS for the sign-in endpoints allows exactly the origins the WebSocket accepts: one list, one check.
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<OriginPolicy>(static (cors, origins) =>
        {
            cors.AddPolicy(SessionEndpoints.CorsPolicyName, policy => policy
                .SetIsOriginAllowed(origins.IsAllowed)
                .WithMethods("POST")
                .WithHeaders("Content-Type", "Authorization"));
            cors.AddPolicy(RecordingEndpoints.CorsPolicyName, policy => policy
                .SetIsOriginAllowed(origins.IsAllowed)
                .WithMethods("GET", "POST", "DELETE")
                .WithHeaders("Authorization"));
        });
        services.ConfigureHttpJsonOptions(static json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, PgVideoChat.Protocol.ProtocolJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(1, RecordingJsonContext.Default);
        });
        return builder;
    }

    public static WebApplication MapRelay(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Behind the front door the client's address is in X-Forwarded-For; only a loopback proxy is believed.
        app.UseForwardedHeaders(new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor });
        app.UseCors();
        app.UseRateLimiter();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        app.MapSessionEndpoints();
        app.MapRecordingEndpoints();
        app.MapClientWebSocket();
        return app;
    }
}
