using Npgsql;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers and maps the relay.</summary>
internal static class RelayExtensions
{
    public const string DatabaseName = "videochat";

    public static IHostApplicationBuilder AddRelay(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Aspire.Npgsql's AddNpgsqlDataSource("videochat"), from the packages it is built on.
        var connectionString = builder.Configuration.GetConnectionString(DatabaseName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{DatabaseName} is not configured. Run the relay through the AppHost (dotnet run --project src/AppHost), or set ConnectionStrings__{DatabaseName}.");
        }

        builder.Services.AddNpgsqlDataSource(connectionString);
        builder.Services.AddHealthChecks().AddNpgSql(name: "PostgreSql");
        builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddNpgsql());
        return builder;
    }

    public static WebApplication MapRelay(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app;
    }
}
