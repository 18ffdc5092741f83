using Microsoft.Extensions.Options;
using Npgsql;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Storage;

/// <summary>
/// Every half partition width: creates the frame partitions the next minutes need and drops those past retention
/// (<see cref="FramePartitions"/>), so frames are freed by dropping a table rather than by deleting rows.
/// </summary>
internal sealed class PartitionRotation(NpgsqlDataSource dataSource, RelayState state, RelayMetrics metrics, IOptions<RelayOptions> options, ILogger<PartitionRotation> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var width = options.Value.FramePartitionWidth;
        var partitions = new FramePartitions(dataSource, width, options.Value.FrameRetention, metrics);
        await state.WhenStartedUp.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, width.TotalSeconds / 2)));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var (created, dropped) = await partitions.MaintainAsync(stoppingToken);
                if (created + dropped > 0)
                {
                    Log.PartitionsRotated(logger, created, dropped);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                Log.PartitionMaintenanceFailed(logger, ex);
            }
        }
    }
}
