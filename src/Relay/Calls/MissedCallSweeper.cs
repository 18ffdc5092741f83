using Microsoft.Extensions.Options;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Calls;

/// <summary>Turns ringing calls nobody answered into missed ones; idempotent, so every relay may run it.</summary>
internal sealed class MissedCallSweeper(
    CallStore calls, CallDirectory directory, RelayState state, IOptions<RelayOptions> options, ILogger<MissedCallSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!state.SchemaReady)
            {
                continue;
            }

            try
            {
                var missed = await calls.MarkMissedAsync(options.Value.RingTimeout, stoppingToken);
                if (missed > 0)
                {
                    Log.CallsMissed(logger, missed);
                }

                directory.Prune(DateTime.UtcNow.AddMinutes(-5));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.BackgroundFailed(logger, ex, nameof(MissedCallSweeper));
            }
        }
    }
}
