using Microsoft.Extensions.Options;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Calls;

/// <summary>
/// Turns ringing calls nobody answered into missed ones, and takes participants who have been offline too long out of
/// active calls; both are idempotent under the call's row lock, so every relay may run them.
/// </summary>
internal sealed class MissedCallSweeper(
    CallStore calls, CallDirectory directory, RelayState state, IOptions<RelayOptions> options, ILogger<MissedCallSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!state.StartedUp)
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

                var left = await calls.LeaveAbandonedAsync(options.Value.AbandonedParticipantAfter, stoppingToken);
                if (left > 0)
                {
                    Log.AbandonedParticipantsLeft(logger, left, options.Value.AbandonedParticipantAfter);
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
