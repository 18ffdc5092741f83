using Npgsql;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Startup;

/// <summary>Once a second, this instance's heartbeat in <c>relay_instances</c> (see <see cref="InstanceRegistry"/>).</summary>
internal sealed class InstanceHeartbeat(InstanceRegistry instances, RelayState state, ILogger<InstanceHeartbeat> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await state.WhenStartedUp.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await instances.HeartbeatAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                Log.BackgroundFailed(logger, ex, nameof(InstanceHeartbeat));
            }
        }
    }
}
