using Npgsql;
using PgVideoChat.Relay.Schema;

namespace PgVideoChat.Relay.Ingest;

/// <summary>
/// Which database operations get a trace span. Every other command (sign-in, chat, calls, presence, maintenance) is
/// traced, but the frame writes are hundreds of batches a second under load: a span each would cost the relay CPU it
/// needs for frames and flood the dashboard's traces. Only a sampled share of them is traced
/// (<c>Relay:Telemetry:MediaBatchTraceRatio</c>), enough to see their timing next to everything else.
/// </summary>
internal sealed class MediaTracing(double mediaBatchRatio)
{
    public const string RatioKey = "Relay:Telemetry:MediaBatchTraceRatio";

    /// <summary>One frame batch in a thousand: a few spans a minute at light load, a few a second at 50 calls.</summary>
    public const double DefaultRatio = 0.001;

    public void Configure(NpgsqlTracingOptionsBuilder tracing)
    {
        ArgumentNullException.ThrowIfNull(tracing);
        tracing
            .ConfigureBatchFilter(batch => !IsMediaBatch(batch) || Sampled())
            .ConfigureCopyOperationFilter(command => !IsMediaCopy(command) || Sampled())
            .EnableFirstResponseEvent(false);
    }

    private bool Sampled() => mediaBatchRatio > 0 && Random.Shared.NextDouble() < mediaBatchRatio;

    // The writer's batches are built from its constant texts, so this is a reference comparison in practice.
    private static bool IsMediaBatch(NpgsqlBatch batch)
        => batch.BatchCommands.Count > 0 && batch.BatchCommands[0].CommandText is FrameSql.InsertVideo or FrameSql.InsertAudio;

    private static bool IsMediaCopy(string command) => command is FrameSql.CopyVideo or FrameSql.CopyAudio;
}
